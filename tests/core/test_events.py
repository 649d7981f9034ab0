"""Events: ``kitaru.receive()`` in a flow body, ``executions.send`` / ``kitaru executions send`` (issue 16).

Real flows (tests/core/flows/event_flows.py, copied into a project directory
as a user's module would be) run in their own processes; events are sent with
the real ``kitaru`` CLI or the client in another process. A flow is held
before its receive by a checkpoint that waits for a file the test creates, so
"sent before receive" never depends on timing. Each test has its own store.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru.errors import KitaruContextError, KitaruUsageError
from kitaru.execution.events import MAX_STORED_CHARACTERS, encode_value, new_message, validate_topic
from kitaru.execution.scope import CheckpointScope, FlowScope, checkpoint_scope, flow_scope
from tests.conftest import subprocess_env

FLOWS_FILE = Path(__file__).parent / "flows" / "event_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Project:
    """A user project directory holding the flows, with its own store, counters and release file."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.counters = root / "counters"
        self.counters.mkdir()
        self.release = root / "release"
        self.fail = root / "fail"
        shutil.copy(FLOWS_FILE, root / "event_flows.py")
        (root / "run_events.py").write_text("import event_flows\nevent_flows.main()\n")

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "KITARU_WAIT_POLL_INTERVAL": "0.2",
            "KITARU_TEST_COUNTER_DIR": str(self.counters),
            "KITARU_TEST_RELEASE": str(self.release),
            "KITARU_TEST_FAIL": str(self.fail),
            "KITARU_TEST_RECEIVE_TIMEOUT": "2",
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        values.update(extra)
        return subprocess_env(self.config_dir, **values)

    def count(self, counter: str) -> int:
        path = self.counters / counter
        return int(path.read_text()) if path.exists() else 0

    def run_flow(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "run_events.py", *args], env)

    def start_flow(self, *args: str, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
        """Start a flow in the background; its stdout lines collect in the returned list."""
        process = subprocess.Popen(
            [sys.executable, "run_events.py", *args],
            cwd=self.root,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True).start()
        return process, lines

    def kitaru(self, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(KITARU), *args], env, cwd=cwd)

    def python(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-c", code, *args], {})

    def _run(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=cwd or self.root, env=self.env(**env), capture_output=True, text=True, timeout=300
        )

    def wait_for_file(self, name: str, process: subprocess.Popen[str], lines: list[str]) -> None:
        deadline = time.monotonic() + 120
        while not (self.counters / name).exists():
            assert process.poll() is None, lines
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)

    def wait_for_line(self, prefix: str, process: subprocess.Popen[str], lines: list[str], count: int = 1) -> None:
        deadline = time.monotonic() + 120
        while sum(line.startswith(prefix) for line in lines) < count:
            assert process.poll() is None, lines
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)

    def wait_for_pending_wait(self, exec_id: str, name: str, process: subprocess.Popen[str], lines: list[str]) -> None:
        """Poll ``executions get`` until the execution records the pending wait ``name`` (the line comes earlier)."""
        deadline = time.monotonic() + 120
        while True:
            pending = self.get(exec_id).get("pending_wait")
            if pending is not None and pending["name"] == name:
                return
            assert process.poll() is None, lines
            assert time.monotonic() < deadline, (pending, lines)
            time.sleep(0.2)

    def running_exec_id(self) -> str:
        listed = json.loads(ok(self.kitaru("executions", "list", "--limit", "1", "-o", "json")))
        return str(listed["items"][0]["exec_id"])

    def get(self, exec_id: str) -> dict[str, Any]:
        return dict(json.loads(ok(self.kitaru("executions", "get", exec_id, "-o", "json")))["item"])

    def send(self, exec_id: str, topic: str, value: str, *extra: str) -> dict[str, Any]:
        sent = self.kitaru("executions", "send", exec_id, topic, "--value", value, *extra, "-o", "json")
        return dict(json.loads(ok(sent))["item"])


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    return result.stdout


def json_error(result: subprocess.CompletedProcess[str]) -> str:
    """The message of a ``-o json`` CLI error (exit 1, JSON on stderr)."""
    assert result.returncode == 1, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    assert result.stdout == ""
    return str(json.loads(result.stderr)["error"]["message"])


def exec_id_of(lines: list[str] | str) -> str:
    text = lines if isinstance(lines, str) else "".join(lines)
    match = re.search(rf"^EXEC ({UUID})$", text, re.M)
    assert match, text
    return match.group(1)


def result_of(text: str) -> Any:
    match = re.search(r"^RESULT (.*)$", text, re.M)
    assert match, text
    return json.loads(match.group(1))


@pytest.fixture
def project(tmp_path: Path, fresh_config_dir: Path) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root, fresh_config_dir)


# -- delivery across processes --------------------------------------------------------------


@pytest.mark.slow
def test_event_sent_before_receive_is_delivered_exactly_once_also_on_retry(project: Project) -> None:
    project.fail.touch()  # the step after the second receive fails the first time
    process, lines = project.start_flow("event_twice_flow", KITARU_TEST_RECEIVE_TIMEOUT="120")
    try:
        project.wait_for_file("holding", process, lines)  # the body is held before its receives
        exec_id = project.running_exec_id()
        early = project.send(exec_id, "orders", '{"n": 1}')
        assert early["continued_receive"] is False and early["status"] == "running"
        assert early["next_step"] == "The execution takes the event at its next kitaru.receive('orders')."
        project.release.touch()

        # The first receive takes the stored message; the second one has none and waits in process.
        project.wait_for_line("Waiting for an event on topic `orders`", process, lines)
        # The line is printed before the wait is recorded: wait for the record itself.
        project.wait_for_pending_wait(exec_id, "receive:orders:1", process, lines)
        shown = project.get(exec_id)
        assert shown["status"] == "waiting"
        assert shown["pending_wait"]["name"] == "receive:orders:1"
        polled = project.send(exec_id, "orders", '{"n": 2}')
        assert polled["continued_receive"] is True
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    output = "".join(lines)
    assert exec_id_of(output) == exec_id
    assert "STATUS failed" in output, output  # event_maybe_fail failed on purpose
    assert not any(line.startswith("Pausing execution") for line in lines), output
    assert project.count("use") == 1 and project.count("maybe_fail") == 1

    refused = json_error(project.kitaru("executions", "send", exec_id, "orders", "--value", "3", "-o", "json"))
    assert refused == (
        f"Cannot send an event to execution {exec_id}: it is failed, and a finished execution receives no more "
        f"events. The event was not stored. Retry it with `kitaru executions retry {exec_id}` and send the "
        "event while it runs or waits, or start a new execution."
    )

    project.fail.unlink()
    retried = project.kitaru("executions", "retry", exec_id, cwd=project.root.parent)
    assert "completed" in ok(retried)
    result = json.loads(project.python(RESULT, exec_id).stdout)
    # The retried body got the same message at each receive, and no message twice.
    assert result == {"first": {"n": 1}, "second": {"n": 2}, "used": {"n": 1}, "checked": {"n": 2}}
    assert project.count("hold") == 1 and project.count("use") == 1 and project.count("maybe_fail") == 2


RESULT = """
import json, sys
from kitaru.flows import FlowHandle
print(json.dumps(FlowHandle(sys.argv[1]).wait(timeout=60)))
"""


SKEWED_SEND = """
import sys
from kitaru.execution.events import event_key, messages_of, run_metadata, write
exec_id = sys.argv[1]
[taken] = messages_of(run_metadata(exec_id), "orders")
sent_ns, message_id = taken.sent_ns - 1_000_000, "0" * 32
record = {"id": message_id, "topic": "orders", "sent_at": "then", "sent_ns": sent_ns, "value": '{"n": 0}'}
write(exec_id, event_key("orders", sent_ns, message_id), record)
"""


@pytest.mark.slow
def test_after_kill_9_a_retry_gets_the_same_message_at_the_same_receive(project: Project) -> None:
    process, lines = project.start_flow("event_twice_flow", KITARU_TEST_RECEIVE_TIMEOUT="120")
    try:
        project.wait_for_file("holding", process, lines)
        exec_id = project.running_exec_id()
        project.send(exec_id, "orders", '{"n": 1}')
        project.release.touch()
        project.wait_for_line("Waiting for an event on topic `orders`", process, lines)  # receive 0 took n=1
        # A sender whose clock is behind: its message sorts before the one receive 0 took.
        ok(project.python(SKEWED_SEND, exec_id))
        process.kill()  # SIGKILL: the process dies with receive 1 waiting
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert project.get(exec_id)["status"] == "failed"  # the dead process is detected

    retried = project.kitaru("executions", "retry", exec_id, cwd=project.root.parent)
    assert "completed" in ok(retried)
    result = json.loads(project.python(RESULT, exec_id).stdout)
    # Receive 0 gets what it took before the crash; the earlier-sorted message goes to receive 1.
    assert result == {"first": {"n": 1}, "second": {"n": 0}, "used": {"n": 1}, "checked": {"n": 0}}


@pytest.mark.slow
def test_receive_timeout_pauses_then_send_and_resume_complete(project: Project) -> None:
    first = project.run_flow("event_one_flow")
    output = ok(first)
    exec_id = exec_id_of(output)
    assert "STATUS waiting" in output
    assert (
        f"Pausing execution `{exec_id}`: waiting for an event on topic `payment`. Send it with "
        f"`kitaru executions send {exec_id} payment --value JSON`, then `kitaru executions resume {exec_id}`."
    ) in output
    shown = project.get(exec_id)
    assert shown["status"] == "waiting"
    assert shown["pending_wait"]["name"] == "receive:payment:0"
    assert shown["pending_wait"]["question"] == "Waiting for an event on topic `payment`."
    text = ok(project.kitaru("executions", "get", exec_id))
    assert f"Send the event with: kitaru executions send {exec_id} payment --value <JSON>" in text

    other = project.send(exec_id, "refund", '"not this one"')  # another topic does not continue it
    assert other["continued_receive"] is False
    assert other["next_step"] == "The execution stays paused: it waits for an event on topic `payment`, not `refund`."
    too_early = json_error(project.kitaru("executions", "resume", exec_id, "-o", "json"))
    assert "receive:payment:0" in too_early
    # The command it names is the one that works: send, not input (which refuses a receive's wait).
    assert f"Send it an event with `kitaru executions send {exec_id} payment --value JSON`." in too_early
    assert "executions input" not in too_early
    for value in ('{"amount": 1}', "null"):
        refused = json_error(project.kitaru("executions", "input", exec_id, "--value", value, "-o", "json"))
        assert "is a kitaru.receive() waiting for an event on topic `payment`; it takes no input" in refused
        assert f"`kitaru executions send {exec_id} payment --value JSON`" in refused
    assert project.get(exec_id)["pending_wait"]["name"] == "receive:payment:0"  # nothing was answered

    sent = json.loads(ok(project.python(SEND, exec_id, "payment", '{"amount": 42}')))
    assert sent["continued_receive"] is True and sent["resumed"] is False
    assert sent["next_step"] == f"The execution is paused; continue it with `kitaru executions resume {exec_id}`."
    assert project.get(exec_id)["pending_wait"] is None

    resumed = project.kitaru("executions", "resume", exec_id, cwd=project.root.parent)
    assert "completed" in ok(resumed)
    assert json.loads(project.python(RESULT, exec_id).stdout) == {"amount": 42}
    assert project.count("use") == 1

    finished = json_error(project.kitaru("executions", "send", exec_id, "payment", "--value", "1", "-o", "json"))
    assert finished == (
        f"Cannot send an event to execution {exec_id}: it is completed, and a finished execution receives no "
        "more events. The event was not stored. Start a new execution of the flow and send the event to it."
    )


SEND = """
import json, sys
from kitaru import KitaruClient
from kitaru.jsonable import to_jsonable
sent = KitaruClient().executions.send(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
print(json.dumps(to_jsonable(sent)))
"""


@pytest.mark.slow
def test_two_topics_do_not_mix_and_send_resume_continues(project: Project) -> None:
    process, lines = project.start_flow("event_topics_flow")
    try:
        project.wait_for_file("holding", process, lines)
        exec_id = project.running_exec_id()
        # Two senders at once, on the topic received second: neither overwrites the other.
        senders = [
            subprocess.Popen(
                [str(KITARU), "executions", "send", exec_id, "b", "--value", f'"B{n}"'],
                cwd=project.root,
                env=project.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in (1, 2)
        ]
        for sender in senders:
            out, err = sender.communicate(timeout=120)
            assert sender.returncode == 0, out + err
        project.release.touch()
        assert process.wait(timeout=120) == 0  # `a` has no message: it pauses after its timeout
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    output = "".join(lines)
    assert "STATUS waiting" in output and "waiting for an event on topic `a`" in output
    assert project.get(exec_id)["pending_wait"]["name"] == "receive:a:0"

    sent = project.kitaru(
        "executions", "send", exec_id[:8], "a", "--value", '"A1"', "--resume", cwd=project.root.parent
    )
    text = ok(sent)
    assert f"Sent event on topic `a` to execution {exec_id}." in text
    assert "Resumed the execution; it is now completed." in text
    result = json.loads(project.python(RESULT, exec_id).stdout)
    assert result["a"] == "A1" and sorted(result["b"]) == ["B1", "B2"]


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_bad_values_topics_and_executions_are_refused_clearly(project: Project) -> None:
    some_id = "0b6f3c1e-1111-2222-3333-444455556666"
    bad_json = json_error(project.kitaru("executions", "send", some_id, "t", "--value", "yes", "-o", "json"))
    assert bad_json.startswith("--value is not valid JSON: Expecting value (line 1, column 1).")
    bad_topic = json_error(project.kitaru("executions", "send", some_id, "a:b", "--value", "1", "-o", "json"))
    assert bad_topic == (
        "Invalid topic 'a:b': a topic is 1 to 64 characters: letters, digits, '_', '.' and '-', starting with a "
        "letter or digit (e.g. 'approval', 'orders.new'). Use the same topic in kitaru.receive() and in send."
    )
    missing = json_error(project.kitaru("executions", "send", some_id, "t", "--value", "1", "-o", "json"))
    assert some_id in missing and "not found" in missing.lower()
    no_value = project.kitaru("executions", "send", some_id, "t")
    assert no_value.returncode == 1 and "Missing option '--value'" in no_value.stderr

    bad = ok(project.run_flow("event_bad_topic_flow"))
    assert "STATUS failed" in bad
    assert "Invalid topic 'no spaces allowed': a topic is" in project.get(exec_id_of(bad))["failure"]["message"]
    inside = ok(project.run_flow("event_in_checkpoint_flow"))
    assert "STATUS failed" in inside
    assert "receive() cannot be called inside a @checkpoint" in project.get(exec_id_of(inside))["failure"]["message"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({1, 2}, "the value is a set"),
        (float("nan"), "the value is nan, which JSON cannot hold"),
        ({"ok": [1, {"when": object()}]}, "the value['ok'][1]['when'] is a object"),
        ({1: "int key"}, "the value has the key 1; JSON object keys are strings"),
    ],
)
def test_values_that_are_not_json_data_are_usage_errors(value: Any, problem: str) -> None:
    with pytest.raises(KitaruUsageError, match=re.escape(problem)):
        encode_value(value)


def test_json_values_and_sizes() -> None:
    assert encode_value({"a": [1, 2.5, None, True, "x"]}) == '{"a":[1,2.5,null,true,"x"]}'
    assert encode_value(None) == "null"
    key, record, message = new_message("orders", {"n": 1})
    assert key == f"kitaru_event/orders/{message.sent_ns:020d}/{message.id}"
    assert record["value"] == '{"n":1}' and ":" not in key
    with pytest.raises(KitaruUsageError, match=f"at most {MAX_STORED_CHARACTERS}.*Send a reference"):
        new_message("orders", "x" * MAX_STORED_CHARACTERS)


@pytest.mark.parametrize("topic", ["", " ", "a b", "a:b", "a/b", "-lead", "x" * 65, 3, None])
def test_bad_topics_are_usage_errors(topic: Any) -> None:
    with pytest.raises(KitaruUsageError, match="a topic is 1 to 64 characters"):
        validate_topic(topic)


@pytest.mark.parametrize("topic", ["a", "orders.new", "A_1-b", "9", "x" * 64])
def test_good_topics(topic: str) -> None:
    assert validate_topic(topic) == topic


def test_receive_outside_a_flow_or_in_a_checkpoint_is_a_context_error() -> None:
    with pytest.raises(KitaruContextError, match=r"^receive\(\) can only run inside a @flow body\.$"):
        kitaru.receive("orders")
    scope = CheckpointScope(name="c", type=None, execution_id=None, checkpoint_id=None)
    with checkpoint_scope(scope), pytest.raises(KitaruContextError, match="cannot be called inside a @checkpoint"):
        kitaru.receive("orders")


def test_receive_arguments_are_checked_first() -> None:
    scope = FlowScope(name="f", flow_id=None, execution_id=None)
    with flow_scope(scope):
        with pytest.raises(KitaruUsageError, match="a topic is"):
            kitaru.receive("bad topic")
        with pytest.raises(KitaruUsageError, match="timeout"):
            kitaru.receive("ok", timeout=-1)


@kitaru.flow(cache=False)
def _one_step_flow() -> int:
    return 1


def test_a_record_overwritten_by_another_writer_is_not_taken_as_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """``write`` compares what the store holds with what it wrote, not only that the key exists."""
    from kitaru.engine import get_engine
    from kitaru.errors import KitaruBackendError
    from kitaru.execution.events import received_key, write

    exec_id = _one_step_flow.run().exec_id
    runs = get_engine().runs
    key = received_key("orders", 0)
    write(exec_id, key, "a" * 32)  # this writer's record, read back as written
    real_log = runs.log_run_metadata

    def another_writer_right_after(run_id: str, metadata: Any) -> None:
        real_log(run_id, metadata)
        real_log(run_id, {key: "b" * 32})  # a second process takes the same receive at the same moment

    monkeypatch.setattr(runs, "log_run_metadata", another_writer_right_after)
    with pytest.raises(KitaruBackendError, match=f"holds another record under `{key}` than this process wrote"):
        write(exec_id, key, "c" * 32)


def test_positions_count_per_label_and_per_run_of_the_body() -> None:
    first = FlowScope(name="f", flow_id=None, execution_id=None)
    assert [first.next_position("receive:a") for _ in range(3)] == [0, 1, 2]
    assert first.next_position("receive:b") == 0 and first.next_position("sleep") == 0
    assert FlowScope(name="f", flow_id=None, execution_id=None).next_position("receive:a") == 0


def test_one_json_check_for_event_values_and_schedule_arguments() -> None:
    from kitaru.jsonable import json_problem
    from kitaru.schedules.manage import check_args

    assert json_problem({"a": [1, 2.5, None, True, "x"]}) is None
    assert json_problem({"a": [1, float("nan")]}) == "the value['a'][1] is nan, which JSON cannot hold"
    with pytest.raises(KitaruUsageError, match=re.escape("the value['when'] is a object")):
        encode_value({"when": object()})
    with pytest.raises(KitaruUsageError, match=re.escape("the arguments['when'] is a object")):
        check_args({"when": object()})
    assert check_args({"n": (1, 2)}) == {"n": [1, 2]}

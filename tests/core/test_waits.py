"""``kitaru.wait()``, pending waits, ``executions input`` and resume (SPEC §2.5, §2.10, §3.6, §4.2).

The lifecycle tests use real flows (tests/core/flows/wait_flows.py, copied
into a project directory as a user's module would be) and separate processes,
as the SPEC implies: the process that runs the flow pauses and exits, a
second process gives the input, a third resumes. Each test has its own
config directory (store). ``KITARU_WAIT_POLL_INTERVAL`` keeps polling short.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import kitaru
from kitaru.errors import (
    KitaruContextError,
    KitaruExecutionError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
)
from kitaru.execution.scope import CheckpointScope, FlowScope, checkpoint_scope, flow_scope
from tests.conftest import subprocess_env

FLOWS_FILE = Path(__file__).parent / "flows" / "wait_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
ENGINE_WORDS = re.compile(r"pipeline|\bstep|zenml|dashboard|orchestrator|wait condition\b", re.I)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# -- helpers -------------------------------------------------------------------------


class Project:
    """A user project directory holding the flows, with its own store and counters."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.counters = root / "counters"
        self.counters.mkdir()
        shutil.copy(FLOWS_FILE, root / "wait_flows.py")
        (root / "run_wait.py").write_text("import wait_flows\nwait_flows.main()\n")

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "KITARU_WAIT_POLL_INTERVAL": "0.2",
            "KITARU_TEST_COUNTER_DIR": str(self.counters),
            "KITARU_TEST_WAIT_TIMEOUT": "2",
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        values.update(extra)
        return subprocess_env(self.config_dir, **values)

    def count(self, counter: str) -> int:
        path = self.counters / counter
        return int(path.read_text()) if path.exists() else 0

    def run_flow(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "run_wait.py", *args], env)

    def kitaru(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(KITARU), *args], env)

    def python(self, code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-c", code, *args], env)

    def _run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.root, env=self.env(**env), capture_output=True, text=True, timeout=300
        )


def exec_id_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    match = re.search(rf"^EXEC ({UUID})$", result.stdout, re.M)
    assert match, result.stdout
    return match.group(1)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    return result.stdout


def last_json(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a helper script printed on its last stdout line."""
    return json.loads(ok(result).strip().splitlines()[-1])


STATE = """
import json, sys
from kitaru import KitaruClient
from kitaru.jsonable import to_jsonable
from kitaru.flows import FlowHandle
exec_id = sys.argv[1]
execution = KitaruClient().executions.get(exec_id)
print(json.dumps({
    "handle_status": str(FlowHandle(exec_id).status),
    "status": str(execution.status),
    "pending_wait": to_jsonable(execution.pending_wait),
    "pending_waits": to_jsonable(KitaruClient().executions.pending_waits(exec_id)),
}))
"""

RESUME = """
import json, sys
from kitaru import KitaruClient
from kitaru.jsonable import to_jsonable
from kitaru.flows import FlowHandle
exec_id, client = sys.argv[1], KitaruClient()
if len(sys.argv) > 2:  # answer the wait first, in this same process
    client.executions.input(exec_id, wait=sys.argv[2], value=json.loads(sys.argv[3]))
before = client.executions.get(exec_id)
execution = client.executions.resume(exec_id)
print(json.dumps({
    "before": {"status": str(before.status), "pending_wait": to_jsonable(before.pending_wait),
               "pending_waits": to_jsonable(client.executions.pending_waits(exec_id))},
    "status": str(execution.status),
    "result": FlowHandle(exec_id).wait(),
}))
"""


@pytest.fixture
def project(tmp_path: Path, fresh_config_dir: Path) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root, fresh_config_dir)


def pause_message(exec_id: str, name: str, value: str = "JSON") -> str:
    return (
        f"Pausing execution `{exec_id}`: waiting for input on `{name}`. Give it with "
        f"`kitaru executions input {exec_id} --value {value}`, then `kitaru executions resume {exec_id}`."
    )


# -- the lifecycle, across processes --------------------------------------------------------


@pytest.mark.slow
def test_bool_wait_pauses_takes_cli_input_and_resumes(project: Project) -> None:
    started = time.monotonic()
    first = project.run_flow("wait_bool_flow", "cats")
    exec_id = exec_id_of(first)
    elapsed = time.monotonic() - started
    lines = [line for line in first.stdout.splitlines() if line.strip()]
    assert lines[:3] == [
        "Starting flow `wait_bool_flow`.",
        lines[1],
        "Waiting on `wait_condition:0` (timeout=2s, poll=0.2s).",
    ], lines
    assert re.fullmatch(r"Checkpoint `wait_prepare` finished in \d+\.\d\ds\.", lines[1]), lines
    assert pause_message(exec_id, "wait_condition:0") in lines
    assert "STATUS waiting" in lines
    assert not [line for line in (first.stdout + first.stderr).splitlines() if ENGINE_WORDS.search(line)]
    assert elapsed < 60, elapsed  # polled ~2 s, then released the process
    assert project.count("prepare") == 1 and project.count("finish") == 0

    state = last_json(project.python(STATE, exec_id))
    assert state["handle_status"] == "waiting"
    assert state["status"] == "waiting"
    [pending] = state["pending_waits"]
    assert pending == state["pending_wait"]
    assert set(pending) == {"wait_id", "name", "question", "schema", "metadata", "entered_waiting_at"}
    assert re.fullmatch(UUID, pending["wait_id"])
    assert pending["name"] == "wait_condition:0"
    assert pending["question"] == "Publish 'draft about cats'?"
    assert pending["schema"] == {"type": "boolean"}
    assert pending["metadata"] == {}
    assert datetime.fromisoformat(pending["entered_waiting_at"])

    # A value that does not match the schema: exit 1, clear error, still waiting.
    rejected = project.kitaru("executions", "input", exec_id, "--value", '"maybe"')
    assert rejected.returncode == 1, rejected
    assert rejected.stdout == ""
    message = rejected.stderr.strip()
    assert message.startswith("Error: Invalid input for wait `wait_condition:0`"), message
    assert exec_id in message and '"maybe"' in message and '{"type": "boolean"}' in message
    rejected_json = project.kitaru("executions", "input", exec_id, "--value", "3", "-o", "json")
    assert rejected_json.returncode == 1 and rejected_json.stdout == ""
    error = json.loads(rejected_json.stderr)
    assert error["command"] == "executions.input"
    assert error["error"]["type"] == "KitaruWaitValidationError"
    still = json.loads(ok(project.kitaru("executions", "get", exec_id, "-o", "json")))["item"]
    assert still["status"] == "waiting"
    assert still["pending_wait"]["name"] == "wait_condition:0"

    answered = project.kitaru("executions", "input", exec_id, "--value", "true")
    assert ok(answered).splitlines() == [
        f"Resolved wait `wait_condition:0` on execution {exec_id}.",
        f"The execution is paused; continue it with `kitaru executions resume {exec_id}`.",
    ]
    resumed = last_json(project.python(RESUME, exec_id))
    # Answered but not resumed yet: still waiting (paused), no pending wait left.
    assert resumed["before"] == {"status": "waiting", "pending_wait": None, "pending_waits": []}
    assert resumed["status"] == "completed"
    assert resumed["result"] == {"approved": True, "type": "bool", "final": "draft about cats -> True"}
    assert project.count("prepare") == 1, "the checkpoint before the wait must be reused, not re-run"
    assert project.count("finish") == 1


@pytest.mark.slow
def test_pydantic_model_wait_round_trip(project: Project) -> None:
    first = project.run_flow("wait_model_flow", "dogs")
    exec_id = exec_id_of(first)
    assert pause_message(exec_id, "review") in first.stdout
    script = """
import json, sys
import wait_flows
from kitaru import KitaruClient, KitaruWaitValidationError
from kitaru.jsonable import to_jsonable
exec_id = sys.argv[1]
client = KitaruClient()
out = {"pending": to_jsonable(client.executions.pending_waits(exec_id))}
try:
    client.executions.input(exec_id, wait="review", value={"approved": "yes", "note": "x"})
except KitaruWaitValidationError as exc:
    out["invalid"] = str(exc)
out["still"] = [w.name for w in client.executions.pending_waits(exec_id)]
out["status_after_invalid"] = str(client.executions.get(exec_id).status)
review = wait_flows.Review(approved=True, note="ship it", score=3)
out["status_after_input"] = str(client.executions.input(exec_id, wait="review", value=review).status)
out["resumed"] = str(client.executions.resume(exec_id).status)
from kitaru.flows import FlowHandle
out["result"] = FlowHandle(exec_id).wait()
print(json.dumps(out))
"""
    out = last_json(project.python(script, exec_id))
    [pending] = out["pending"]
    assert pending["name"] == "review"
    assert pending["question"] == "Review the draft"
    assert pending["metadata"] == {"reviewer": "editor", "round": 1}
    assert pending["schema"]["title"] == "Review"
    assert pending["schema"]["required"] == ["approved", "note"]
    assert set(pending["schema"]["properties"]) == {"approved", "note", "score"}
    assert "Invalid input for wait `review`" in out["invalid"]
    assert "'yes' is not of type 'boolean'" in out["invalid"]
    assert out["still"] == ["review"] and out["status_after_invalid"] == "waiting"
    assert out["status_after_input"] == "waiting"  # paused until resumed
    assert out["resumed"] == "completed"
    assert out["result"] == {
        "type": "Review",
        "review": {"approved": True, "note": "ship it", "score": 3},
        "final": "draft about dogs -> ship it",
    }


@pytest.mark.slow
def test_abort_cancels_the_execution(project: Project) -> None:
    first = project.run_flow("wait_gate_flow")
    exec_id = exec_id_of(first)
    assert pause_message(exec_id, "go", "null") in first.stdout

    aborted = project.kitaru("executions", "input", exec_id, "--abort", "-o", "json")
    item = json.loads(ok(aborted))["item"]
    assert item["exec_id"] == exec_id
    assert item["status"] == "cancelled"
    assert item["pending_wait"] is None

    script = """
import json, sys
from kitaru import KitaruExecutionError
from kitaru.flows import FlowHandle
from kitaru import KitaruClient, KitaruStateError
out = {}
try:
    FlowHandle(sys.argv[1]).wait(timeout=30)
except KitaruExecutionError as exc:
    out["status"] = exc.status
try:
    KitaruClient().executions.abort_wait(sys.argv[1], wait="go")
except KitaruStateError as exc:
    out["again"] = str(exc)
print(json.dumps(out))
"""
    out = last_json(project.python(script, exec_id))
    assert out["status"] == "cancelled"
    assert out["again"] == f"Execution '{exec_id}' has no pending waits to resolve."
    assert project.count("finish") == 0, "an aborted wait must not let the flow continue"


@pytest.mark.slow
def test_input_while_polling_continues_the_same_process(project: Project) -> None:
    process = subprocess.Popen(
        [sys.executable, "run_wait.py", "wait_bool_flow", "birds"],
        cwd=project.root,
        env=project.env(KITARU_TEST_WAIT_TIMEOUT="120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("Waiting on `wait_condition:0`") for line in lines):
            assert process.poll() is None, (lines, process.stderr.read())
            assert time.monotonic() < deadline, lines
            time.sleep(0.1)
        listed = json.loads(ok(project.kitaru("executions", "list", "--status", "waiting", "-o", "json")))
        [waiting] = listed["items"]
        exec_id = waiting["exec_id"]
        assert waiting["status"] == "waiting"  # running, with an active wait

        answered = project.kitaru("executions", "input", exec_id, "--value", "false")
        assert ok(answered).splitlines() == [
            f"Resolved wait `wait_condition:0` on execution {exec_id}.",
            "The execution continues in the process that was waiting for the input.",
        ]
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    reader.join(timeout=10)
    assert f"EXEC {exec_id}" in lines[-3]
    assert "STATUS completed\n" in lines
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result == {"approved": False, "type": "bool", "final": "draft about birds -> False"}
    assert not any(line.startswith("Pausing execution") for line in lines)
    assert project.count("prepare") == 1 and project.count("finish") == 1


@pytest.mark.slow
def test_swallowing_the_pause_does_not_continue_the_flow(project: Project) -> None:
    first = project.run_flow("wait_swallow_flow")
    exec_id = exec_id_of(first)
    assert "STATUS waiting" in first.stdout
    assert project.count("finish") == 0, "code after a swallowed pause must not run checkpoints"
    resumed = last_json(project.python(RESUME, exec_id, "swallowed", '"hello"'))
    assert resumed["status"] == "completed" and resumed["result"] == "after -> hello"
    assert project.count("finish") == 1

    # A body that swallows the pause and simply returns still ends waiting.
    returned = project.run_flow("wait_swallow_return_flow")
    assert "STATUS waiting" in returned.stdout, returned.stdout
    assert "RESULT" not in returned.stdout


def _run_in_pty(argv: list[str], answers: list[tuple[str, str]], *, cwd: Path, env: dict[str, str],
                timeout: float = 180) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, typing each answer once its prompt appears."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    seen, unanswered, pending = "", "", list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096).decode(errors="replace")
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                unanswered += chunk
            if pending and pending[0][0] in unanswered:
                unanswered = ""
                os.write(master, pending.pop(0)[1].encode())
            if not ready and process.poll() is not None:
                break
        return process.wait(timeout=30), seen.replace("\r\n", "\n")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


@pytest.mark.slow
def test_interactive_terminal_prompts_inline_and_continues(project: Project) -> None:
    code, text = _run_in_pty(
        [sys.executable, "run_wait.py", "wait_bool_flow", "tty"],
        [("> ", "maybe\n"), ("> ", "true\n")],
        cwd=project.root,
        env=project.env(KITARU_TEST_WAIT_TIMEOUT="120"),
    )
    assert code == 0, text
    assert "Waiting on `wait_condition:0` (timeout=120s, poll=0.2s)." in text
    assert "Question: Publish 'draft about tty'?" in text
    assert "STATUS completed" in text
    assert '"approved": true' in text
    assert "Pausing execution" not in text
    assert not [line for line in text.splitlines() if ENGINE_WORDS.search(line)], text


@pytest.mark.slow
def test_interactive_cli_resolves_every_waiting_execution(project: Project) -> None:
    exec_id = exec_id_of(project.run_flow("wait_bool_flow", "fish"))
    code, text = _run_in_pty(
        [str(KITARU), "executions", "input", "--interactive"],
        [("Action [c=continue, a=abort, s=skip, q=quit]", "c\n"),
         ("JSON value for result (empty for null)", "tru\n"),
         ("JSON value for result (empty for null)", "true\n")],
        cwd=project.root,
        env=project.env(),
    )
    assert code == 0, text
    assert exec_id in text and "wait_bool_flow" in text and "wait_condition:0" in text
    assert "Publish 'draft about fish'?" in text
    assert "line 1, column 1" in text  # the invalid JSON was explained, then asked again
    assert f"Resolved wait `wait_condition:0` on execution {exec_id}." in text
    state = last_json(project.python(STATE, exec_id))
    assert state["pending_waits"] == []


# -- call sites and arguments (in process) -------------------------------------------------


def test_wait_outside_a_flow_is_a_context_error() -> None:
    with pytest.raises(KitaruContextError, match=r"^wait\(\) can only run inside a @flow\.$"):
        kitaru.wait()


def test_wait_inside_a_checkpoint_is_a_context_error() -> None:
    scope = CheckpointScope(name="c", type=None, execution_id=None, checkpoint_id=None)
    with checkpoint_scope(scope), pytest.raises(KitaruContextError) as raised:
        kitaru.wait(schema=bool)
    assert str(raised.value) == (
        "wait() cannot be called inside a @checkpoint. Call wait() in the flow body instead."
    )


@kitaru.checkpoint
def _asks_inside() -> bool:
    return kitaru.wait(schema=bool)


@kitaru.flow(cache=False)
def wait_in_checkpoint_flow() -> bool:
    return _asks_inside()


def test_wait_in_a_checkpoint_of_a_real_flow_fails_it() -> None:
    handle = wait_in_checkpoint_flow.run()
    with pytest.raises(KitaruExecutionError) as raised:
        handle.wait(timeout=60)
    assert raised.value.status == "failed"
    assert "wait() cannot be called inside a @checkpoint" in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"name": "  "}, "name"),
        ({"question": 3}, "question"),
        ({"metadata": {"k": object()}}, "metadata"),
        ({"metadata": ["not", "a", "dict"]}, "metadata"),
        ({"schema": object()}, "schema"),
    ],
)
def test_invalid_wait_arguments_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    scope = FlowScope(name="f", flow_id=None, execution_id=None)
    with flow_scope(scope), pytest.raises(KitaruUsageError, match=message):
        kitaru.wait(**kwargs)


def test_wait_in_a_flow_scope_without_a_running_execution() -> None:
    scope = FlowScope(name="f", flow_id=None, execution_id=None)
    with flow_scope(scope), pytest.raises(KitaruRuntimeError, match="no running execution"):
        kitaru.wait(schema=bool)


def test_poll_interval_override(monkeypatch: pytest.MonkeyPatch) -> None:
    from kitaru.execution.waits_body import poll_interval

    monkeypatch.delenv("KITARU_WAIT_POLL_INTERVAL", raising=False)
    assert poll_interval() == 5.0
    monkeypatch.setenv("KITARU_WAIT_POLL_INTERVAL", "0.25")
    assert poll_interval() == 0.25
    monkeypatch.setenv("KITARU_WAIT_POLL_INTERVAL", "0")
    with pytest.raises(KitaruUsageError, match="KITARU_WAIT_POLL_INTERVAL"):
        poll_interval()


# -- selecting and validating (in process) ---------------------------------------------------


def _condition(name: str, wait_id: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, id=wait_id)


def test_select_wait_by_name_id_and_errors() -> None:
    from kitaru.execution.waits import select_wait

    a = _condition("approve", "11111111-1111-1111-1111-111111111111")
    b = _condition("review", "22222222-2222-2222-2222-222222222222")
    assert select_wait("E", [a, b], "review") is b
    assert select_wait("E", [a, b], "11111111-1111-1111-1111-111111111111") is a
    with pytest.raises(KitaruStateError) as none:
        select_wait("E", [], "approve")
    assert str(none.value) == "Execution 'E' has no pending waits to resolve."
    with pytest.raises(KitaruStateError) as unknown:
        select_wait("E", [a, b], "x")
    assert str(unknown.value) == "Execution 'E' has no pending wait 'x'. Available waits: approve, review."
    twin = _condition("approve", "33333333-3333-3333-3333-333333333333")
    with pytest.raises(KitaruStateError, match="several pending waits named 'approve'"):
        select_wait("E", [a, twin], "approve")
    assert select_wait("E", [a, twin], str(twin.id)) is twin


def test_validate_input_names_wait_value_and_schema() -> None:
    from kitaru.errors import KitaruWaitValidationError
    from kitaru.execution.waits import validate_input

    validate_input("E", "ok", True, {"type": "boolean"})
    validate_input("E", "gate", None, None)
    with pytest.raises(KitaruWaitValidationError) as raised:
        validate_input("E", "approve", "maybe", {"type": "boolean"})
    text = str(raised.value)
    assert "wait `approve`" in text and '"maybe"' in text and '{"type": "boolean"}' in text
    with pytest.raises(KitaruWaitValidationError, match="takes no value"):
        validate_input("E", "gate", 5, None)


def test_resolve_errors_for_unknown_and_finished_executions() -> None:
    from kitaru.client.waits import pending_waits, resolve_wait

    with pytest.raises(KitaruUsageError, match="'not-a-uuid' is not a valid execution id"):
        pending_waits("not-a-uuid")
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(KitaruStateError, match=f"Execution '{missing}' was not found"):
        resolve_wait(missing, "x", value=None)
    handle = wait_in_checkpoint_flow.run()  # finished (failed), never waited
    with pytest.raises(KitaruStateError) as raised:
        kitaru.KitaruClient().executions.input(handle.exec_id, wait="x", value=1)
    assert str(raised.value) == f"Execution '{handle.exec_id}' has no pending waits to resolve."
    assert kitaru.KitaruClient().executions.pending_waits(handle.exec_id) == []


# -- CLI argument rules (in process; nothing reaches the store) -----------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["E", "--value", "1", "--abort"], "--value and --abort cannot be combined"),
        (["E", "-i", "--value", "1"], "--value cannot be combined with --interactive"),
        (["-i", "-o", "json"], "--interactive cannot produce JSON output"),
        (["-i"], "--interactive needs a terminal"),
        ([], "An execution id is required"),
        (["00000000-0000-0000-0000-000000000000", "--value", '{"a": }'], r"not valid JSON: Expecting value \(line 1, column 7\)"),
    ],
)
def test_cli_input_argument_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kitaru.cli.app import run

    assert run(["executions", "input", *args]) == 1
    captured = capsys.readouterr()
    assert re.search(message, captured.err), captured.err
    if "-o" in args:
        assert json.loads(captured.err)["command"] == "executions.input"
    else:
        assert captured.err.startswith("Error: ")


def test_cli_auto_detect_needs_a_single_wait() -> None:
    from kitaru.cli.executions.waits import _choose
    from kitaru.client.models import PendingWait

    one = PendingWait(wait_id="w1", name="a", question=None, schema=None)
    two = PendingWait(wait_id="w2", name="b", question=None, schema=None)
    assert _choose("E", [one], None) == "w1"
    with pytest.raises(KitaruStateError, match="no pending waits to resolve"):
        _choose("E", [], None)
    with pytest.raises(KitaruStateError, match="--interactive") as several:
        _choose("E", [one, two], None)
    assert "a (w1)" in str(several.value) and "b (w2)" in str(several.value)
    assert _choose("E", [one, two], "b") == "b"

"""Durable sleep: ``kitaru.sleep()`` / ``kitaru.sleep_until()`` and ``kitaru executions resume --due`` (issue 16).

The flow (tests/lifecycle/sleep_flows.py, copied into a project directory)
runs checkpoint ``before``, sleeps, then runs ``after``; each checkpoint body
appends its name to ``$LIFECYCLE_DIR/ran``, so a checkpoint that ran again
shows twice. Flows run in their own processes, the real CLI in others.
``KITARU_SLEEP_PAUSE_AFTER`` lowers the threshold above which a sleep pauses
the execution. Waiting for a wake-up time is waiting for the recorded time
itself (the clock passing it), never a guessed delay.
"""

from __future__ import annotations

import json
import math
import os
import pty
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru.errors import KitaruContextError, KitaruExecutionError, KitaruRuntimeError, KitaruUsageError
from kitaru.execution.scope import CheckpointScope, FlowScope, checkpoint_scope, flow_scope
from kitaru.execution.sleeps import describe_moment, pause_after, validate_moment
from tests.lifecycle.conftest import HERE, HOLD_CLAIM, Lab, kill9

LONG = "30"
"""Seconds of an in-process sleep that must outlast starting the flow's process and a CLI call."""

PAUSED = "60"
"""Seconds of a paused sleep that must outlast several CLI calls on a loaded machine (each can take 15 s)."""


class SleepLab(Lab):
    """A :class:`Lab` whose project holds ``sleep_flows.py``."""

    def __init__(self, root: Path, **env: str) -> None:
        super().__init__(root)
        shutil.copy(HERE / "sleep_flows.py", self.project / "sleep_flows.py")
        self.extra = env

    def env(self) -> dict[str, str]:
        return {**super().env(), "COLUMNS": "200", "NO_COLOR": "1", **self.extra}

    def run_sleepy(self, how_long: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "sleep_flows.py", how_long],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start_sleepy(self, how_long: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "sleep_flows.py", how_long],
            cwd=self.project,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def exec_id_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("EXEC "))
    return line.split()[1]


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON document a command printed after its progress lines."""
    out = result.stdout
    return json.loads(out[out.index("\n{") + 1 :] if not out.startswith("{") else out)


def wake_time(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["sleep"]["wake_at"])


def until_passed(moment: datetime) -> None:
    """Block until the clock has passed ``moment`` (a recorded wake-up time)."""
    while datetime.now(timezone.utc) <= moment:
        time.sleep(0.1)


def before_wake(moment: datetime) -> bool:
    """Whether the clock has not reached ``moment`` yet (a check made now was made before it)."""
    return datetime.now(timezone.utc) < moment


# -- across processes --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_short_sleep_blocks_in_process_and_the_flow_completes(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path)
    result = lab.run_sleepy("2")
    exec_id = exec_id_of(result)
    assert "Sleeping until" in result.stdout and "Woke up from `sleep:0`." in result.stdout, result.stdout
    assert f"EXEC {exec_id} completed" in result.stdout
    assert lab.ran() == ["before", "after"]
    item = lab.execution(exec_id)
    assert item["status"] == "completed" and item["sleep"] is None
    took = datetime.fromisoformat(item["ended_at"]) - datetime.fromisoformat(item["started_at"])
    assert took >= timedelta(seconds=2)


@pytest.mark.slow
def test_a_long_sleep_pauses_and_resume_due_continues_it_after_the_wake_time(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path, KITARU_SLEEP_PAUSE_AFTER="2")
    result = lab.run_sleepy(PAUSED)
    exec_id = exec_id_of(result)
    assert f"EXEC {exec_id} waiting" in result.stdout
    assert f"execution `{exec_id}` is paused and this process may exit" in result.stdout
    assert lab.ran() == ["before"]

    early = lab.kitaru("executions", "resume", exec_id[:8], "-o", "json")
    nothing = lab.kitaru("executions", "resume", "--due")
    item = lab.execution(exec_id)
    assert item["status"] == "waiting"
    assert item["sleep"]["name"] == "sleep:0" and item["sleep"]["state"] == "paused"
    wake_at = wake_time(item)
    assert before_wake(wake_at), "the machine was too slow: the sleep ended before the checks"
    assert early.returncode == 1, early.stdout
    message = json.loads(early.stderr)["error"]["message"]
    assert f"is sleeping until {wake_at.strftime('%Y-%m-%d %H:%M:%S')} UTC (in " in message
    assert f"kitaru executions input {exec_id} --value null" in message
    assert nothing.returncode == 0 and "Nothing was due" in nothing.stdout, nothing.stdout
    shown = lab.kitaru("executions", "get", exec_id)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert f"sleeping until {wake_at.strftime('%Y-%m-%d %H:%M:%S')} UTC (" in text, shown.stdout
    assert lab.ran() == ["before"]

    until_passed(wake_at)
    swept = lab.kitaru("executions", "resume", "--due", "-o", "json")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    (done,) = json_of(swept)["items"]
    assert done["exec_id"] == exec_id and done["action"] == "resumed" and done["status"] == "completed"
    assert done["sleep"] == "sleep:0" and done["error"] is None
    assert lab.ran() == ["before", "after"]  # `before` was reused, not run again
    item = lab.execution(exec_id)
    assert item["status"] == "completed" and item["sleep"] is None and item["pending_wait"] is None

    again = lab.kitaru("executions", "resume", "--due")
    assert again.returncode == 0 and "Nothing was due" in again.stdout


@pytest.mark.slow
def test_a_long_sleep_on_a_terminal_pauses_without_a_prompt(tmp_path: Path) -> None:
    """On a terminal the engine would prompt for a wait's input; a sleep is not answered by typing."""
    lab = SleepLab(tmp_path, KITARU_SLEEP_PAUSE_AFTER="2")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "sleep_flows.py", PAUSED],
        cwd=lab.project,
        env=lab.env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    try:
        while True:  # until the process closes the terminal
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    text = seen.decode(errors="replace").replace("\r\n", "\n")
    assert code == 0, text
    assert "EXEC " in text and " waiting" in text, text
    assert "Press Enter" not in text and "Waiting for confirmation" not in text and "> " not in text, text
    assert lab.ran() == ["before"]


@pytest.mark.slow
def test_a_sleep_survives_kill_9_and_resume_due_continues_it(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path)  # the default threshold (60 s): it sleeps in its process
    process = lab.start_sleepy(LONG)
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:  # the line comes after the sleep was recorded on the execution
            seen.append(line)
            if line.startswith("Sleeping until"):
                break
        else:
            raise AssertionError("".join(seen))
        kill9(process)
    finally:
        if process.poll() is None:
            kill9(process)
    assert lab.ran() == ["before"]

    first = lab.kitaru("executions", "resume", "--due", "-o", "json")  # detects the crash on its way
    exec_id = lab.latest_exec_id()
    item = lab.execution(exec_id)
    assert item["status"] == "failed"
    assert item["sleep"]["name"] == "sleep:0" and item["sleep"]["state"] == "interrupted"
    wake_at = wake_time(item)
    assert before_wake(wake_at), "the machine was too slow: the sleep ended before the checks"
    assert first.returncode == 0, first.stdout + first.stderr
    assert json_of(first)["items"] == []  # not before its wake-up time
    assert lab.ran() == ["before"]

    until_passed(wake_at)
    swept = lab.kitaru("executions", "resume", "--due")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert f"{exec_id} (sleepy): retried after `sleep:0` -> completed" in swept.stdout
    assert lab.ran() == ["before", "after"]  # `before` was reused, not run again
    item = lab.execution(exec_id)
    assert item["status"] == "completed" and item["sleep"] is None


@pytest.mark.slow
def test_sleep_until_pauses_and_answering_its_wait_wakes_it_early(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path)  # an hour is far above the default threshold: it pauses
    moment = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
    exec_id = exec_id_of(lab.run_sleepy(f"until:{moment.isoformat()}"))
    item = lab.execution(exec_id)
    assert item["status"] == "waiting" and item["sleep"]["state"] == "paused"
    assert wake_time(item) == moment
    assert item["pending_wait"]["name"] == "sleep:0"

    answered = lab.kitaru("executions", "input", exec_id, "--value", "null")
    assert answered.returncode == 0, answered.stdout + answered.stderr
    resumed = lab.kitaru("executions", "resume", exec_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Sleep `sleep:0` was woken early." in resumed.stdout
    assert lab.ran() == ["before", "after"]
    assert lab.execution(exec_id)["status"] == "completed"


@pytest.mark.slow
def test_a_child_flows_sleep_names_the_top_level_execution_and_resuming_early_is_refused(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path, KITARU_SLEEP_PAUSE_AFTER="0")  # every sleep pauses
    result = lab.run_sleepy(f"child:{PAUSED}")
    root = exec_id_of(result)
    child = lab.latest_exec_id()
    assert child != root and lab.execution(child)["pending_wait"]["name"] == "sleep:0"
    assert f"`kitaru executions resume {root}`" in result.stdout, result.stdout
    assert f"executions resume {child}" not in result.stdout, result.stdout

    refused = lab.kitaru("executions", "resume", child, "-o", "json")
    message = json.loads(refused.stderr)["error"]["message"]
    assert refused.returncode == 1
    assert f"Execution {child} is a child flow of execution {root}" in message
    assert f"Run: kitaru executions resume {root}" in message
    assert lab.execution(child)["pending_wait"]["name"] == "sleep:0"  # refused before anything changed
    shown = lab.kitaru("executions", "get", child)
    assert f"kitaru executions resume {root} (or the sweep" in " ".join(shown.stdout.split()), shown.stdout

    early = lab.kitaru("executions", "resume", root, "-o", "json")
    assert early.returncode == 1, early.stdout
    message = json.loads(early.stderr)["error"]["message"]
    assert f"Execution {root} (its child flow {child}) is sleeping until " in message
    assert f"`kitaru executions input {child} --value null`, then `kitaru executions resume {root}`" in message
    assert lab.ran() == ["before"]  # not re-run only to pause again

    assert lab.kitaru("executions", "input", child, "--value", "null").returncode == 0
    resumed = lab.kitaru("executions", "resume", root)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert lab.ran() == ["before", "after"]
    assert lab.execution(root)["status"] == "completed"


@pytest.mark.slow
def test_a_sweep_that_lost_the_race_for_an_execution_skips_it(tmp_path: Path) -> None:
    """Another sweep claimed the execution between this sweep's listing and its resume: skipped, exit 0."""
    lab = SleepLab(tmp_path, KITARU_SLEEP_PAUSE_AFTER="0")
    exec_id = exec_id_of(lab.run_sleepy("1"))
    until_passed(wake_time(lab.execution(exec_id)))
    holder = subprocess.Popen(  # holds the execution's claim, as the other sweep continuing it does
        [sys.executable, "-c", HOLD_CLAIM, exec_id, str(lab.state)], cwd=lab.project, env=lab.env()
    )
    try:
        lab.wait_for("claimed")
        swept = lab.kitaru("executions", "resume", "--due", "-o", "json")
        assert swept.returncode == 0, swept.stdout + swept.stderr
        (item,) = json_of(swept)["items"]
        assert item["exec_id"] == exec_id and item["action"] == "skipped" and item["error"] is None
        assert item["note"] == "Another sweep or process continued it meanwhile."
    finally:
        lab.flag("release")
        holder.wait(timeout=120)
    resumed = lab.kitaru("executions", "resume", exec_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert lab.execution(exec_id)["status"] == "completed"


@pytest.mark.slow
def test_the_sweep_retries_an_interrupted_sleep_once_then_leaves_it_to_retry(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path)  # the default threshold: it sleeps in its process
    process = lab.start_sleepy("5")
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Sleeping until"):
                break
        kill9(process)
    finally:
        if process.poll() is None:
            kill9(process)
    lab.flag("fail")  # the retry fails before the body reaches the sleep again
    first = lab.kitaru("executions", "resume", "--due", "-o", "json")  # detects the crash
    exec_id = lab.latest_exec_id()
    until_passed(wake_time(lab.execution(exec_id)))
    if first.returncode == 0 and json_of(first)["items"]:  # the machine was slow: it was due already
        swept = first
    else:
        swept = lab.kitaru("executions", "resume", "--due", "-o", "json")
    (item,) = json_of(swept)["items"]
    assert swept.returncode == 1 and item["action"] == "retried" and item["status"] == "failed", swept.stdout
    assert item["note"].startswith("The sweep retries an execution interrupted in a sleep once")
    assert f"retry it with `kitaru executions retry {exec_id}`" in item["note"]

    again = lab.kitaru("executions", "resume", "--due")
    assert again.returncode == 0 and "Nothing was due" in again.stdout, again.stdout + again.stderr
    shown = lab.execution(exec_id)
    assert shown["status"] == "failed" and shown["sleep"] is None  # an ordinary failed execution now

    lab.flag("fail", on=False)
    retried = lab.kitaru("executions", "retry", exec_id, cwd=lab.project)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert lab.ran() == ["before", "after"] and lab.execution(exec_id)["status"] == "completed"


def test_resume_due_with_nothing_due_says_so(tmp_path: Path) -> None:
    lab = SleepLab(tmp_path)
    text = lab.kitaru("executions", "resume", "--due")
    assert text.returncode == 0 and text.stdout.strip() == (
        "Nothing was due: no sleeping execution has reached its wake-up time."
    )
    listed = lab.kitaru("executions", "resume", "--due", "-o", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["items"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0b6f3c1e", "--due"], "Give either an execution id or --due, not both"),
        ([], "An execution id is required"),
    ],
)
def test_resume_takes_an_id_or_due(tmp_path: Path, args: list[str], message: str) -> None:
    result = SleepLab(tmp_path).kitaru("executions", "resume", *args, "-o", "json")
    assert result.returncode == 1
    assert message in json.loads(result.stderr)["error"]["message"]


# -- arguments and call sites (in process) -----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kitaru.sleep(-1), r"finite number of seconds >= 0; got -1"),
        (lambda: kitaru.sleep(math.nan), r"finite number of seconds >= 0; got nan"),
        (lambda: kitaru.sleep(math.inf), r"finite number of seconds >= 0; got inf"),
        (lambda: kitaru.sleep(True), r"takes a number of seconds \(or a datetime.timedelta\); got True"),
        (lambda: kitaru.sleep("5"), r"takes a number of seconds \(or a datetime.timedelta\); got '5'"),
        (lambda: kitaru.sleep(timedelta(seconds=-3)), r"finite number of seconds >= 0; got -3.0"),
        (lambda: kitaru.sleep_until("2027-01-01"), r"sleep_until\(\) takes a datetime.datetime; got '2027-01-01'"),
        (lambda: kitaru.sleep_until(1234), r"sleep_until\(\) takes a datetime.datetime; got 1234"),
    ],
)
def test_bad_values_are_usage_errors(call: Any, message: str) -> None:
    with pytest.raises(KitaruUsageError, match=message):
        call()


def test_sleep_outside_a_flow_or_in_a_checkpoint_is_a_context_error() -> None:
    with pytest.raises(KitaruContextError, match=r"kitaru.sleep\(\) can only run inside a @flow body"):
        kitaru.sleep(1)
    with pytest.raises(KitaruContextError, match=r"kitaru.sleep_until\(\) can only run inside a @flow body"):
        kitaru.sleep_until(datetime.now(timezone.utc))
    scope = CheckpointScope(name="c", type=None, execution_id=None, checkpoint_id=None)
    with checkpoint_scope(scope), pytest.raises(KitaruContextError, match=r"cannot be called inside a @checkpoint"):
        kitaru.sleep(1)


def test_sleep_in_a_flow_scope_without_a_running_execution() -> None:
    with flow_scope(FlowScope(name="f", flow_id=None, execution_id=None)):
        with pytest.raises(KitaruRuntimeError, match="no running execution"):
            kitaru.sleep(1)


@kitaru.checkpoint
def _sleeps_inside() -> int:
    kitaru.sleep(0)
    return 1


@kitaru.flow(cache=False)
def sleep_in_checkpoint_flow() -> int:
    return _sleeps_inside()


def test_sleep_in_a_checkpoint_of_a_real_flow_fails_it() -> None:
    handle = sleep_in_checkpoint_flow.run()
    with pytest.raises(KitaruExecutionError) as raised:
        handle.wait(timeout=60)
    assert "kitaru.sleep() cannot be called inside a @checkpoint" in str(raised.value)


def test_pause_threshold_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KITARU_SLEEP_PAUSE_AFTER", raising=False)
    assert pause_after() == 60.0
    monkeypatch.setenv("KITARU_SLEEP_PAUSE_AFTER", "0")
    assert pause_after() == 0.0
    monkeypatch.setenv("KITARU_SLEEP_PAUSE_AFTER", "soon")
    with pytest.raises(
        KitaruUsageError, match=r"KITARU_SLEEP_PAUSE_AFTER must be a number of seconds >= 0; got 'soon'"
    ):
        pause_after()


def test_a_naive_moment_is_local_time_and_spans_read_well() -> None:
    naive = datetime(2027, 1, 4, 7, 30)
    assert validate_moment(naive) == naive.astimezone().astimezone(timezone.utc)
    aware = datetime(2027, 1, 4, 7, 30, tzinfo=timezone(timedelta(hours=2)))
    assert validate_moment(aware) == datetime(2027, 1, 4, 5, 30, tzinfo=timezone.utc)
    now = datetime(2027, 1, 4, 7, 30, tzinfo=timezone.utc)
    spans = [describe_moment(now + timedelta(seconds=s), now=now) for s in (12, 245, 7380, -61)]
    assert spans == [
        "2027-01-04 07:30:12 UTC (in 12s)",  # the same spans as the console's running times
        "2027-01-04 07:34:05 UTC (in 4m 05s)",
        "2027-01-04 09:33:00 UTC (in 2h 03m)",
        "2027-01-04 07:28:59 UTC (due 1m 01s ago)",
    ]

"""Timeouts of checkpoints and flows, end to end: real flows in their own processes, the real CLI.

The flows live in tests/core/flows/timeout_flows.py; each scenario runs as a
script in a child process with its own Kitaru config dir, hangs in a real
blocking system call (``time.sleep(3600)``, a socket read) unless released,
and writes what its launcher saw to ``outcome.json``. Tests wait for the
process or for a file the flow writes, never for a fixed time.

The race-free deadline itself (:mod:`kitaru.execution.deadlines`) is tested
at the end, in child processes too: a stray SIGINT there would end the test
runner.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru.config import resolve_execution_config
from kitaru.config.runtime import reset_configure
from kitaru.errors import FailureOrigin, KitaruTimeoutError, KitaruUsageError, classify_failure_origin
from tests.conftest import subprocess_env

FLOWS = Path(__file__).resolve().parent / "flows" / "timeout_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
RUN_TIMEOUT = 240


class Lab:
    """One child-process world: a config dir, a state dir the flows write to, the real CLI."""

    def __init__(self, root: Path) -> None:
        self.config = root / "config"
        self.config.mkdir()
        self.state = root / "state"
        self.state.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        return subprocess_env(self.config, TIMEOUT_STATE=str(self.state), **extra)

    def run(self, scenario: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(FLOWS), scenario],
            cwd=FLOWS.parent,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )

    def start(self, scenario: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(FLOWS), scenario],
            cwd=FLOWS.parent,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KITARU), *args], cwd=self.state, env=self.env(), capture_output=True, text=True, timeout=RUN_TIMEOUT
        )

    def outcome(self) -> dict[str, Any]:
        return json.loads((self.state / "outcome.json").read_text())

    def ran(self) -> list[str]:
        path = self.state / "ran"
        return path.read_text().split() if path.exists() else []

    def wait_for(self, name: str, process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not (self.state / name).exists():
            if process.poll() is not None:
                raise AssertionError(f"the flow ended before writing {name}:\n{process.communicate()[0]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {name}")
            time.sleep(0.05)

    def execution(self, exec_id: str) -> dict[str, Any]:
        shown = self.kitaru("executions", "get", exec_id, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)["item"]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def failed_outcome(lab: Lab, completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    outcome = lab.outcome()
    assert "error" in outcome, (outcome, completed.stdout, completed.stderr)
    return outcome


# -- checkpoints ----------------------------------------------------------------------------------


def test_a_hung_checkpoint_times_out_and_each_retry_gets_the_whole_timeout(lab: Lab) -> None:
    completed = lab.run("hung")
    outcome = failed_outcome(lab, completed)

    assert lab.ran() == ["fetch", "fetch"]  # retries=1: attempted twice, each stopped in time.sleep(3600)
    assert outcome["error"] == "KitaruTimeoutError"
    assert outcome["origin"] == "timeout"
    assert "Checkpoint `fetch` timed out after 1s (attempt 2 of 2)." in outcome["message"]

    execution = lab.execution(outcome["exec_id"])
    assert execution["status"] == "failed"
    assert execution["failure"]["origin"] == "timeout"
    assert execution["failure"]["exception_type"].endswith("KitaruTimeoutError")
    assert (
        "KitaruTimeoutError: Checkpoint `fetch` timed out after 1s (attempt 2 of 2)." in execution["failure"]["message"]
    )
    (call,) = execution["checkpoints"]
    attempts = [attempt["failure"]["message"] for attempt in call["attempts"]]
    assert [message.split(": ", 1)[1] for message in attempts] == [
        "Checkpoint `fetch` timed out after 1s (attempt 1 of 2).",
        "Checkpoint `fetch` timed out after 1s (attempt 2 of 2).",
    ]
    assert all(attempt["failure"]["origin"] == "timeout" for attempt in call["attempts"])


def test_a_checkpoint_blocked_in_a_socket_read_times_out(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("hung_socket"))
    assert lab.ran() == ["read_socket"]
    assert outcome["error"] == "KitaruTimeoutError"
    assert "Checkpoint `read_socket` timed out after 1s (attempt 1 of 1)." in outcome["message"]


def test_a_checkpoint_that_finishes_in_time_is_unaffected(lab: Lab) -> None:
    completed = lab.run("quick")
    assert lab.outcome().get("result") == "fast", (completed.stdout, completed.stderr)
    assert lab.ran() == ["fetch_fast"]
    assert "KeyboardInterrupt" not in completed.stderr


def test_a_submitted_checkpoint_running_in_a_thread_is_stopped_at_its_next_instruction(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("submitted"))
    assert lab.ran() == ["spin"]
    assert outcome["origin"] == "timeout"
    assert "Checkpoint `spin` timed out after 1s" in outcome["message"]


def test_an_async_checkpoint_is_cancelled_at_its_timeout(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("async_hung"))
    assert lab.ran() == ["await_forever"]
    assert outcome["error"] == "KitaruTimeoutError"
    assert "Checkpoint `await_forever` timed out after 1s" in outcome["message"]


def test_ctrl_c_during_a_timed_checkpoint_interrupts_it_as_without_a_timeout(lab: Lab) -> None:
    process = lab.start("interruptible")
    lab.wait_for("started_fetch_patiently", process)
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=RUN_TIMEOUT)[0]

    assert process.returncode != 0, output
    outcome = lab.outcome()
    assert outcome["error"] == "KeyboardInterrupt", outcome
    assert "was interrupted" in outcome["message"]
    assert lab.ran() == ["fetch_patiently"]  # an interruption is not retried, and no timeout was reported
    execution = lab.execution(outcome["exec_id"])
    assert execution["failure"]["origin"] == "interrupted"


# -- flows ----------------------------------------------------------------------------------------


def test_a_flow_past_its_timeout_fails_with_origin_timeout_and_its_retry_completes(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("flow_timeout"))

    assert outcome["error"] == "KitaruTimeoutError"
    assert outcome["origin"] == "timeout"
    assert "Flow `slow_agent` timed out after 20s." in outcome["message"]
    # The checkpoint running at the flow's deadline is stopped, not retried (it has retries=2).
    assert lab.ran() == ["first", "stall"]
    execution = lab.execution(outcome["exec_id"])
    assert execution["failure"]["origin"] == "timeout"
    assert "Flow `slow_agent` timed out after 20s." in execution["failure"]["message"]
    assert execution["frozen_execution_spec"]["resolved_execution"]["timeout"] == 20.0

    (lab.state / "release").touch()  # the cause is gone
    retried = lab.kitaru("executions", "retry", outcome["exec_id"], "-o", "json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["item"]["status"] == "completed"
    assert lab.ran() == ["first", "stall", "stall"]  # `first` finished before: reused, not run again


# -- configuration --------------------------------------------------------------------------------


def test_kitaru_yaml_checkpoint_timeout_applies_to_checkpoints_without_their_own(lab: Lab) -> None:
    (lab.config / "kitaru.yaml").write_text("version: 1\nexecution:\n  checkpoint_timeout: 1\n")
    outcome = failed_outcome(lab, lab.run("configured"))
    assert lab.ran() == ["unbounded"]
    assert "Checkpoint `unbounded` timed out after 1s (attempt 1 of 1)." in outcome["message"]
    spec = lab.execution(outcome["exec_id"])["frozen_execution_spec"]["resolved_execution"]
    assert spec["checkpoint_timeout"] == 1.0


def test_configure_checkpoint_timeout_applies(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("configured", CONFIGURE_TIMEOUT="1.5"))
    assert "Checkpoint `unbounded` timed out after 1.5s" in outcome["message"]


def test_configure_timeout_bounds_a_flow_body_blocked_in_its_own_code(lab: Lab) -> None:
    outcome = failed_outcome(lab, lab.run("configured_flow", CONFIGURE_TIMEOUT="1.5"))
    assert lab.ran() == ["blocking_body"]
    assert outcome["origin"] == "timeout"
    assert "Flow `blocking_body` timed out after 1.5s." in outcome["message"]


def test_a_bad_kitaru_yaml_timeout_names_the_file_the_key_and_its_line(lab: Lab) -> None:
    path = lab.config / "kitaru.yaml"
    path.write_text("version: 1\nexecution:\n  timeout: 30\n  checkpoint_timeout: -2\n")
    completed = lab.run("quick")
    assert lab.outcome()["error"] == "KitaruUsageError"
    assert (
        f"{path}, line 4: 'execution.checkpoint_timeout' must be a positive number of seconds"
        in lab.outcome()["message"]
    )
    assert lab.ran() == [], completed.stdout


BAD_VALUES = [0, -1, True, "30", math.inf, math.nan]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_decorator_timeouts_are_refused_when_decorating(value: Any) -> None:
    with pytest.raises(KitaruUsageError, match=r"Checkpoint `fetch` timeout must be a positive number of seconds"):
        kitaru.checkpoint(timeout=value)(_fetch)
    with pytest.raises(KitaruUsageError, match=r"Flow `fetch` timeout must be a positive number of seconds"):
        kitaru.flow(timeout=value)(_fetch)


def _fetch() -> str:
    return "x"


@pytest.fixture
def clean_configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    reset_configure()
    yield
    reset_configure()


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_configure_timeouts_change_nothing(value: Any, clean_configure: None) -> None:
    kitaru.configure(timeout=5)
    for name in ("timeout", "checkpoint_timeout"):
        with pytest.raises(KitaruUsageError, match=rf"'{name}' must be a positive number of seconds"):
            kitaru.configure(**{name: value})
    assert kitaru.configure().timeout == 5.0


def test_timeouts_resolve_through_every_layer(tmp_path: Path, clean_configure: None) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "kitaru.yaml").write_text("execution:\n  timeout: 100\n  checkpoint_timeout: 10\n")
    (tmp_path / "pyproject.toml").write_text("[tool.kitaru]\ncheckpoint_timeout = 20\n")
    kitaru.configure(timeout=50)
    resolved = resolve_execution_config(active_stack=None, decorator={"timeout": 40}, call={})
    assert (resolved.timeout, resolved.checkpoint_timeout) == (40.0, 20.0)
    assert resolved.layers["timeout"] == "decorator"
    assert resolved.layers["checkpoint_timeout"] == "pyproject"
    (tmp_path / "pyproject.toml").write_text("[tool.kitaru]\ncheckpoint_timeout = 0\n")
    with pytest.raises(KitaruUsageError, match=r"pyproject.toml: 'checkpoint_timeout' must be a positive number"):
        resolve_execution_config(active_stack=None, decorator={}, call={})


def test_a_timeout_failure_is_classified_and_raised_as_a_timeout() -> None:
    traceback = 'Traceback (most recent call last):\n  File "a.py", line 1\nkitaru.errors.KitaruTimeoutError: late'
    assert classify_failure_origin(None, traceback, "kitaru.errors.KitaruTimeoutError") is FailureOrigin.TIMEOUT
    assert kitaru.KitaruTimeoutError is KitaruTimeoutError
    assert isinstance(KitaruTimeoutError("late"), kitaru.KitaruExecutionError)


# -- the race-free deadline -----------------------------------------------------------------------

RACE_SCRIPT = textwrap.dedent(
    """
    import signal, threading, time
    from kitaru.execution.deadlines import Deadline, DeadlineInterrupt

    def race(rounds):
        returned = interrupted = 0
        for index in range(rounds):
            seconds = 0.002
            deadline = Deadline(seconds)
            try:
                value = deadline.run(time.sleep, seconds * (0.5 + (index % 10) / 10))
                assert value is None
                returned += 1
            except DeadlineInterrupt as exc:
                assert deadline.owns(exc), exc
                assert deadline.fired
                interrupted += 1
            # Plenty of bytecodes for a stray interrupt to land on, if one were left.
            total = 0
            for step in range(20000):
                total += step
        return returned, interrupted

    returned, interrupted = race(400)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    print("MAIN", returned, interrupted)

    results = []
    def in_thread():
        results.append(race(200))
    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    print("THREAD", *results[0])

    # A real Ctrl-C while a deadline is armed still is a plain KeyboardInterrupt, and is not swallowed.
    deadline = Deadline(60)
    def ctrl_c():
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    threading.Timer(0.2, ctrl_c).start()
    try:
        deadline.run(time.sleep, 3600)
    except DeadlineInterrupt:
        print("CTRL-C TAKEN FOR A TIMEOUT")
    except KeyboardInterrupt:
        print("CTRL-C", deadline.fired)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    print("DONE")
    """
)


def test_the_deadline_never_leaks_an_interrupt_nor_hides_a_result(tmp_path: Path) -> None:
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT)
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=RUN_TIMEOUT, env=subprocess_env(tmp_path)
    )
    assert completed.returncode == 0, completed.stderr
    lines = dict(line.split(" ", 1) for line in completed.stdout.splitlines() if " " in line)
    main_returned, main_interrupted = map(int, lines["MAIN"].split())
    thread_returned, thread_interrupted = map(int, lines["THREAD"].split())
    assert main_returned + main_interrupted == 400
    assert thread_returned + thread_interrupted == 200
    assert main_interrupted > 0 and thread_interrupted > 0  # the deadline did fire, in both mechanisms
    assert lines["CTRL-C"] == "False"
    assert "DONE" in completed.stdout

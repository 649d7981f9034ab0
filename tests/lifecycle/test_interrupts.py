"""Ctrl-C and cancel are reported as what they are, in Kitaru's words (issue 12, item 5).

* SIGINT during a slow checkpoint: the launcher ends as interrupted (a
  ``KeyboardInterrupt`` naming the execution and how to continue it), the
  execution is recorded failed with origin ``interrupted`` and
  ``kitaru executions retry`` completes it. Both with Python's default SIGINT
  handler and with SIGINT ignored (a background job), where the engine turns
  the signal into its own exception.
* ``kitaru executions cancel`` from another shell: the launcher's
  ``handle.wait()`` raises :class:`~kitaru.errors.KitaruCancelledError`.

No engine exception name reaches the launcher's output, the CLI or the
recorded failure messages.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from typing import Any

import pytest

from tests.lifecycle.conftest import HERE, Lab

ENGINE_NAMES = ("zenml", "RunInterruptedException", "RunStoppedException", "IllegalOperationError")


def assert_no_engine_names(text: str) -> None:
    for name in ENGINE_NAMES:
        assert name.lower() not in text.lower(), f"{name!r} in:\n{text}"


def start_slow(lab: Lab, *, ignore_sigint: bool = False, scenario: str = "slow") -> subprocess.Popen[str]:
    shutil.copy(HERE / "outcome_flows.py", lab.project / "outcome_flows.py")
    lab.flag("hang_slow")

    def ignore() -> None:  # a background job: SIGINT ignored when Python starts
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    launcher = subprocess.Popen(
        [sys.executable, "outcome_flows.py", scenario],
        cwd=lab.project,
        env=lab.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ignore if ignore_sigint else None,
    )
    lab.wait_for("started_slow")
    return launcher


def finish(launcher: subprocess.Popen[str]) -> str:
    try:
        output, _ = launcher.communicate(timeout=180)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate(timeout=30)
    return output


def failure_messages(execution: dict[str, Any]) -> str:
    messages = [execution["failure"]["message"]] if execution["failure"] else []
    messages += [call["failure"]["message"] for call in execution["checkpoints"] if call["failure"]]
    return "\n".join(messages)


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_ctrl_c_records_an_interrupted_execution_that_retry_completes(lab: Lab, sigint: str) -> None:
    launcher = start_slow(lab, ignore_sigint=sigint == "ignored")
    exec_id = lab.latest_exec_id()
    launcher.send_signal(signal.SIGINT)
    output = finish(launcher)

    assert launcher.returncode in (-signal.SIGINT, 130), output  # ended as interrupted
    last = output.strip().splitlines()[-1]
    assert last == (
        f"KeyboardInterrupt: Execution {exec_id} was interrupted. The checkpoints that finished are kept; "
        f"continue it with: kitaru executions retry {exec_id}"
    ), output
    assert_no_engine_names(output)

    execution = lab.execution(exec_id)
    assert execution["status"] == "failed"
    assert execution["failure"]["origin"] == "interrupted"
    slow = next(call for call in execution["checkpoints"] if call["name"] == "slow")
    assert slow["failure"]["origin"] == "interrupted"
    assert_no_engine_names(failure_messages(execution))
    shown = lab.kitaru("executions", "get", exec_id)
    assert "origin: interrupted" in shown.stdout
    assert_no_engine_names(shown.stdout + shown.stderr)

    lab.flag("hang_slow", on=False)
    retried = lab.kitaru("executions", "retry", exec_id)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert lab.execution(exec_id)["status"] == "completed"
    assert lab.ran() == ["first", "slow", "slow"]  # `first` was not run again


def test_ctrl_c_in_a_checkpoint_with_retries_does_not_run_it_again(lab: Lab) -> None:
    # A checkpoint's retries are for its failures, not for the user pressing Ctrl-C: running it
    # again would repeat a paid call (and here it would block until the launcher is killed).
    launcher = start_slow(lab, scenario="slow_retried")
    exec_id = lab.latest_exec_id()
    launcher.send_signal(signal.SIGINT)
    output = finish(launcher)

    assert launcher.returncode in (-signal.SIGINT, 130), output
    assert output.strip().splitlines()[-1].startswith(f"KeyboardInterrupt: Execution {exec_id} was interrupted."), output
    assert lab.ran() == ["first", "slow"]
    execution = lab.execution(exec_id)
    assert (execution["status"], execution["failure"]["origin"]) == ("failed", "interrupted")

    lab.flag("hang_slow", on=False)
    retried = lab.kitaru("executions", "retry", exec_id)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert lab.ran() == ["first", "slow", "slow"]


def test_cancel_from_another_shell_raises_a_cancellation_error(lab: Lab) -> None:
    launcher = start_slow(lab)
    exec_id = lab.latest_exec_id()
    cancelled = lab.kitaru("executions", "cancel", exec_id)
    output = finish(launcher)

    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert_no_engine_names(cancelled.stdout + cancelled.stderr)
    assert launcher.returncode == 1, output
    outcome = json.loads((lab.state / "outcome.json").read_text())
    assert outcome["type"] == "KitaruCancelledError", outcome
    assert "KitaruExecutionError" in outcome["bases"]
    assert outcome["status"] == "cancelled"
    assert outcome["origin"] == "cancelled"
    assert_no_engine_names(outcome["message"])
    assert_no_engine_names(output)

    execution = lab.execution(exec_id)
    assert execution["status"] == "cancelled"
    assert execution["status_reason"] == "Cancelled by user."
    assert_no_engine_names(failure_messages(execution))

"""Retry, crash recovery, divergence, cancel and concurrency, across real processes."""

from __future__ import annotations

import json
import time

import pytest

from tests.lifecycle.conftest import Lab, kill9

STEPS = ["s1", "s2", "s3", "s4", "s5"]


@pytest.mark.parametrize("k", range(1, 6))
def test_sigkill_inside_checkpoint_then_retry_completes_same_execution(lab: Lab, k: int) -> None:
    killed = STEPS[k - 1]
    lab.flag(f"hang_{killed}")
    process = lab.start_flow("0")
    lab.wait_for(f"started_{killed}")
    kill9(process)
    exec_id = lab.latest_exec_id()

    # The next access notices the dead process: failed, origin runtime.
    before = lab.execution(exec_id)
    assert before["status"] == "failed"
    assert before["failure"]["origin"] == "runtime"
    assert "process" in before["failure"]["message"] and "died" in before["failure"]["message"]

    lab.flag(f"hang_{killed}", on=False)
    retried = lab.kitaru("executions", "retry", exec_id)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"Retried execution: {exec_id}" in retried.stdout

    after = lab.execution(exec_id)
    assert after["exec_id"] == exec_id
    assert after["status"] == "completed"
    ran = lab.ran()
    for index, name in enumerate(STEPS, start=1):
        expected = 2 if index == k else 1  # the killed call ran twice, every other once
        assert ran.count(name) == expected, (name, ran)
    killed_call = next(c for c in after["checkpoints"] if c["name"] == killed)
    assert [a["status"] for a in killed_call["attempts"]] == ["failed", "completed"]


def test_retry_reruns_only_the_failed_checkpoint_and_journals_both_attempts(lab: Lab) -> None:
    lab.flag("fail_s3")
    first = lab.run_flow("10")
    assert "failed" in first.stdout, first.stdout
    exec_id = lab.latest_exec_id()
    lab.flag("fail_s3", on=False)

    retried = lab.kitaru("executions", "retry", exec_id, "-o", "json")
    assert retried.returncode == 0, retried.stderr
    item = json.loads(retried.stdout)["item"]
    assert item["exec_id"] == exec_id and item["status"] == "completed"
    assert lab.ran() == ["s1", "s2", "s3", "s3", "s4", "s5"]
    s3 = next(c for c in item["checkpoints"] if c["name"] == "s3")
    assert [a["status"] for a in s3["attempts"]] == ["failed", "completed"]
    assert "s3 fails on purpose" in (s3["attempts"][0]["failure"]["message"] or "")


def test_retry_refuses_an_execution_that_did_not_fail(lab: Lab) -> None:
    assert lab.run_flow("1").returncode == 0
    exec_id = lab.latest_exec_id()
    result = lab.kitaru("executions", "retry", exec_id)
    assert result.returncode == 1
    assert f"Only failed executions can be retried. Execution {exec_id} is completed." in result.stderr


def test_divergent_retry_raises_divergence_error(lab: Lab) -> None:
    lab.flag("fail_s3")
    lab.run_flow("0")
    exec_id = lab.latest_exec_id()
    lab.flag("fail_s3", on=False)
    lab.flag("branch")  # the body now calls `other` between s1 and s2: a different sequence

    retried = lab.kitaru("executions", "retry", exec_id, "-o", "json")
    assert retried.returncode == 1
    item = json.loads(retried.stdout)["item"]
    assert item["status"] == "failed"
    assert item["failure"]["origin"] == "divergence"
    assert "`other`" in item["failure"]["message"] and "`s2`" in item["failure"]["message"]
    assert "other" not in lab.ran()  # nothing ran under the divergent sequence
    assert lab.ran() == ["s1", "s2", "s3"]


def test_changed_input_before_the_failure_is_divergence(lab: Lab) -> None:
    lab.flag("fail_s3")
    lab.run_flow("0")
    exec_id = lab.latest_exec_id()
    lab.flag("fail_s3", on=False)
    # Rewrite the flow so s2 now gets a different plain input.
    source = (lab.project / "five_steps.py").read_text()
    (lab.project / "five_steps.py").write_text(source.replace("value = s2(value)", "value = s2(value + 100)"))

    retried = lab.kitaru("executions", "retry", exec_id, "-o", "json")
    item = json.loads(retried.stdout)["item"]
    assert item["failure"]["origin"] == "divergence", item["failure"]
    assert "s2" in item["failure"]["message"]


def test_cancel_stops_an_execution_running_in_another_process(lab: Lab) -> None:
    lab.flag("hang_s2")
    process = lab.start_flow("0")
    lab.wait_for("started_s2")
    exec_id = lab.latest_exec_id()
    started = time.monotonic()
    cancelled = lab.kitaru("executions", "cancel", exec_id, "-o", "json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["item"]["status"] == "cancelled"
    output, _ = process.communicate(timeout=60)
    assert time.monotonic() - started < 30
    assert process.returncode == 0, output
    assert f"Execution {exec_id} cancelled" in output
    assert "s3" not in lab.ran()
    shown = lab.kitaru("executions", "get", exec_id).stdout
    assert "none: cancelled by user" in " ".join(shown.split()), shown
    lab.flag("hang_s2", on=False)


def test_two_processes_on_a_brand_new_config_dir_both_complete(lab: Lab) -> None:
    first = lab.start_flow("1")
    second = lab.start_flow("2")
    out1, _ = first.communicate(timeout=240)
    out2, _ = second.communicate(timeout=240)
    assert first.returncode == 0 and second.returncode == 0, out1 + out2
    for output in (out1, out2):
        assert "completed" in output and "lock" not in output.lower(), output
    listed = json.loads(lab.kitaru("executions", "list", "-o", "json").stdout)
    assert listed["count"] == 2
    assert {item["status"] for item in listed["items"]} == {"completed"}

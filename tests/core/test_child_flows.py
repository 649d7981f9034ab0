"""Child flows: a flow called in another flow's body runs as a linked child execution, journaled in its parent.

Real flows (tests/core/flows/child_flows.py, copied into a project directory as a user's module)
run in child processes on a config dir of this module's own, and are inspected, retried and
replayed with the real ``kitaru`` CLI from another directory. Checkpoint bodies append their
names to a ``ran`` file in each test's state directory, so a test proves which checkpoints a
retry or a replay really ran (a reused child runs none).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.flows import DIRECT_CALL_MESSAGE
from tests.conftest import subprocess_env
from tests.core.flows import child_flows

KITARU = Path(sys.executable).with_name("kitaru")
FLOWS_FILE = Path(child_flows.__file__)


class ChildLab:
    """A config dir and a project holding the flows, shared by the module; each test has its own state dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "config"
        self.config.mkdir()
        self.project = root / "project"
        self.project.mkdir()
        shutil.copy(FLOWS_FILE, self.project / "child_flows.py")
        self.state = root
        self.output = ""

    def use_state(self, state: Path) -> None:
        self.state = state

    def env(self) -> dict[str, str]:
        return subprocess_env(self.config, CHILD_FLOWS_STATE=str(self.state), KITARU_WAIT_POLL_INTERVAL="0.2")

    def flag(self, name: str, on: bool = True) -> None:
        path = self.state / name
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def ran(self) -> list[str]:
        path = self.state / "ran"
        return path.read_text().split() if path.exists() else []

    def run(self, *runs: str) -> dict[str, dict[str, Any]]:
        """Run ``FLOW:VALUE`` runs in one process; returns each run's outcome by flow name."""
        done = subprocess.run(
            [sys.executable, "child_flows.py", *runs],
            cwd=self.project,
            env=self.env(),
            stdin=subprocess.DEVNULL,  # no terminal: a wait pauses instead of prompting
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.output = done.stdout + done.stderr
        lines = [json.loads(line[4:]) for line in done.stdout.splitlines() if line.startswith("RUN ")]
        assert len(lines) == len(runs), done.stdout + done.stderr
        return {line["flow"]: line for line in lines}

    def start(self, *runs: str) -> subprocess.Popen[str]:
        """Start ``FLOW:VALUE`` runs in a process of their own (see :meth:`run`)."""
        return subprocess.Popen(
            [sys.executable, "child_flows.py", *runs],
            cwd=self.project,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_for(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not (self.state / name).exists():
            assert time.monotonic() < deadline, f"timed out waiting for {name}"
            time.sleep(0.05)

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the real CLI from a directory unrelated to the flows."""
        return subprocess.run(
            [str(KITARU), *args], cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=300
        )

    def execution(self, exec_id: str) -> dict[str, Any]:
        shown = self.kitaru("executions", "get", exec_id, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        item: dict[str, Any] = json.loads(shown.stdout)["item"]
        return item


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> ChildLab:
    return ChildLab(tmp_path_factory.mktemp("child-flows"))


@pytest.fixture
def lab(module_lab: ChildLab, tmp_path: Path) -> ChildLab:
    module_lab.use_state(tmp_path)
    return module_lab


def _call(execution: dict[str, Any], name: str) -> dict[str, Any]:
    call: dict[str, Any] = next(call for call in execution["checkpoints"] if call["name"] == name)
    return call


def _input(call: dict[str, Any], name: str) -> Any:
    return next(item["value"] for item in call["inputs"] if item["name"] == name)


def test_a_called_flow_runs_as_a_child_execution_linked_to_its_parent(lab: ChildLab) -> None:
    runs = lab.run("calls_directly:3", "calls_run_wait:3", "two_children:3")

    assert runs["calls_directly"]["value"] == 7  # finish(leaf(3)) = double(3) + 1
    assert runs["calls_run_wait"]["value"] == 7  # the same through leaf.run(3).wait()
    assert runs["two_children"]["value"] == [6, 8]
    for parent_flow in ("calls_directly", "calls_run_wait"):
        parent = lab.execution(runs[parent_flow]["exec_id"])
        assert parent["parent_exec_id"] is None
        [child_id] = parent["children"]
        # The call is journaled in the parent as a `flow_call` checkpoint named after the child flow.
        assert [call["name"] for call in parent["checkpoints"]] == ["leaf", "finish"]
        call = _call(parent, "leaf")
        assert call["checkpoint_type"] == "flow_call"
        recorded = {name: _input(call, name) for name in ("flow", "exec_id", "inputs")}
        assert recorded == {"flow": "leaf", "exec_id": child_id, "inputs": {"value": 3}}
        child = lab.execution(child_id)
        assert child["flow_name"] == "leaf" and child["status"] == "completed"
        assert child["parent_exec_id"] == parent["exec_id"]
        assert child["children"] == []
        assert [call["name"] for call in child["checkpoints"]] == ["double"]

    # Two calls of one flow: two children, in call order, journaled as leaf and leaf_2.
    both = lab.execution(runs["two_children"]["exec_id"])
    assert [call["name"] for call in both["checkpoints"]] == ["leaf", "leaf_2"]
    assert both["children"] == [_input(_call(both, "leaf"), "exec_id"), _input(_call(both, "leaf_2"), "exec_id")]

    # The text of `executions get` names them too.
    parent_id = runs["calls_directly"]["exec_id"]
    [child_id] = lab.execution(parent_id)["children"]
    parent_text = " ".join(lab.kitaru("executions", "get", parent_id).stdout.split())
    assert "Children" in parent_text and child_id in parent_text, parent_text
    child_text = " ".join(lab.kitaru("executions", "get", child_id).stdout.split())
    assert f"Parent {parent_id}" in child_text, child_text


@pytest.mark.parametrize("parent_flow", ["calls_directly", "calls_run_wait"])
def test_a_retry_of_the_parent_reuses_a_completed_child_without_running_it(lab: ChildLab, parent_flow: str) -> None:
    lab.flag("fail_finish")
    failed = lab.run(f"{parent_flow}:3")[parent_flow]
    assert failed["error"] == "KitaruUserCodeError" and "finish fails on purpose" in failed["message"]
    parent_id = failed["exec_id"]
    [child_id] = lab.execution(parent_id)["children"]
    assert lab.ran() == ["double", "finish"]

    lab.flag("fail_finish", on=False)
    retried = lab.kitaru("executions", "retry", parent_id, "-o", "json")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"Child flow `leaf` (execution {child_id}) reused from the journal." in retried.stderr
    assert lab.ran() == ["double", "finish", "finish"]  # the child's `double` did not run again

    parent = json.loads(retried.stdout)["item"]
    assert parent["status"] == "completed" and parent["children"] == [child_id]
    assert [attempt["status"] for attempt in _call(parent, "leaf")["attempts"]] == ["completed"]
    assert recorded_result(lab, parent_id) == 7


def test_a_failed_child_fails_its_parent_and_a_retry_of_the_parent_starts_a_new_child(lab: ChildLab) -> None:
    lab.flag("fail_double")
    failed = lab.run("calls_directly:3")["calls_directly"]
    parent_id = failed["exec_id"]
    [first_child] = lab.execution(parent_id)["children"]
    assert f"Child flow `leaf` (execution {first_child}) finished with status 'failed'" in failed["message"]
    assert "double fails on purpose" in failed["message"]
    assert f"Retry its parent to run it again: kitaru executions retry {parent_id}" in failed["message"]
    assert lab.ran() == ["double"]  # finish never ran

    # The child continues only with its parent, and says so.
    refused = lab.kitaru("executions", "retry", first_child)
    assert refused.returncode == 1
    assert f"is a child flow of execution {parent_id}" in refused.stderr
    assert f"kitaru executions retry {parent_id}" in refused.stderr

    lab.flag("fail_double", on=False)
    retried = lab.kitaru("executions", "retry", parent_id)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert lab.ran() == ["double", "double", "finish"]
    parent = lab.execution(parent_id)
    assert parent["status"] == "completed"
    first, second = parent["children"]
    assert first == first_child
    assert lab.execution(first)["status"] == "failed"
    assert (lab.execution(second)["status"], lab.execution(second)["parent_exec_id"]) == ("completed", parent_id)
    # One attempt of the journaled call per child.
    call = _call(parent, "leaf")
    assert [attempt["status"] for attempt in call["attempts"]] == ["failed", "completed"]
    assert _input(call, "exec_id") == second


def test_a_child_killed_with_its_parent_is_followed_by_a_new_child_when_the_parent_is_retried(lab: ChildLab) -> None:
    lab.flag("hang_double")
    process = lab.start("calls_directly:3")
    lab.wait_for("started_double")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    listed = json.loads(lab.kitaru("executions", "list", "--flow", "calls_directly", "-o", "json").stdout)
    parent_id = listed["items"][0]["exec_id"]
    assert listed["items"][0]["status"] == "failed"  # its process died: noticed on the next read
    [killed_child] = lab.execution(parent_id)["children"]

    lab.flag("hang_double", on=False)
    retried = lab.kitaru("executions", "retry", parent_id, "-o", "json")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    parent = json.loads(retried.stdout)["item"]
    assert parent["status"] == "completed"
    first, second = parent["children"]
    assert first == killed_child
    killed = lab.execution(killed_child)
    assert killed["status"] == "failed" and "died" in killed["failure"]["message"], killed["failure"]
    assert lab.execution(second)["status"] == "completed"
    assert lab.ran() == ["double", "double", "finish"]
    assert recorded_result(lab, parent_id) == 7


def test_a_grandchild_links_to_its_parent_and_grandparent(lab: ChildLab) -> None:
    nested = lab.run("nested:3")["nested"]
    assert nested["value"] == 70  # (double(3) + 1) * 10

    top = lab.execution(nested["exec_id"])
    [middle_id] = top["children"]
    middle = lab.execution(middle_id)
    [leaf_id] = middle["children"]
    leaf = lab.execution(leaf_id)
    assert (middle["flow_name"], middle["parent_exec_id"]) == ("middle", top["exec_id"])
    assert (leaf["flow_name"], leaf["parent_exec_id"], leaf["status"]) == ("leaf", middle_id, "completed")
    assert _call(middle, "leaf")["checkpoint_type"] == "flow_call"


def test_calling_the_child_with_other_inputs_on_retry_is_a_divergence(lab: ChildLab) -> None:
    lab.flag("fail_finish")
    parent_id = lab.run("calls_directly:3")["calls_directly"]["exec_id"]
    lab.flag("fail_finish", on=False)
    lab.flag("shift")  # the body now calls leaf(103) where the journal recorded leaf(3)

    retried = lab.kitaru("executions", "retry", parent_id, "-o", "json")
    assert retried.returncode == 1
    item = json.loads(retried.stdout)["item"]
    assert item["failure"]["origin"] == "divergence", item["failure"]
    assert "`leaf`" in item["failure"]["message"] and "input `inputs`" in item["failure"]["message"]
    assert lab.ran() == ["double", "finish"]  # no child ran with the new input
    assert len(item["children"]) == 1


def test_a_replay_reuses_a_child_before_its_start_point_and_runs_a_new_one_from_it(lab: ChildLab) -> None:
    source = lab.run("calls_directly:3")["calls_directly"]["exec_id"]
    [source_child] = lab.execution(source)["children"]

    after_child = lab.kitaru("executions", "replay", source, "--from", "finish", "-o", "json")
    assert after_child.returncode == 0, after_child.stderr
    replayed = json.loads(after_child.stdout)["item"]
    assert replayed["status"] == "completed" and replayed["children"] == []
    assert _input(_call(replayed, "leaf"), "exec_id") == source_child  # the source's child, reused
    assert lab.ran() == ["double", "finish", "finish"]

    from_child = lab.kitaru("executions", "replay", source, "--from", "leaf", "-o", "json")
    assert from_child.returncode == 0, from_child.stderr
    rerun = json.loads(from_child.stdout)["item"]
    [new_child] = rerun["children"]
    assert new_child != source_child
    assert lab.execution(new_child)["parent_exec_id"] == rerun["exec_id"]
    assert lab.ran() == ["double", "finish", "finish", "double", "finish"]
    assert recorded_result(lab, rerun["exec_id"]) == 7


def recorded_result(lab: ChildLab, exec_id: str) -> Any:
    """The recorded result of an execution (``FlowHandle.wait()``), read in a process on the lab's store."""
    code = f"from kitaru.flows import FlowHandle; import json; print(json.dumps(FlowHandle({exec_id!r}).wait()))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=lab.root, env=lab.env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_child_waiting_for_input_pauses_its_parent_and_resuming_the_parent_continues_it(lab: ChildLab) -> None:
    paused = lab.run("waits_for_child:3")["waits_for_child"]
    parent_id = paused["exec_id"]
    assert paused["status"] == "waiting"
    [child_id] = lab.execution(parent_id)["children"]
    child = lab.execution(child_id)
    assert child["status"] == "waiting" and child["pending_wait"]["name"] == "extra"
    # The pause says which execution to resume: the parent, whose body runs the child.
    assert f"`kitaru executions input {child_id} --value JSON`, then `kitaru executions resume {parent_id}`" in (
        " ".join(lab.output.split())
    )

    answered = lab.kitaru("executions", "input", child_id, "--value", "4")
    assert answered.returncode == 0, answered.stderr
    refused = lab.kitaru("executions", "resume", child_id)
    assert refused.returncode == 1
    assert f"Run: kitaru executions resume {parent_id}" in " ".join(refused.stderr.split())

    resumed = lab.kitaru("executions", "resume", parent_id, "-o", "json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    parent = json.loads(resumed.stdout)["item"]
    assert parent["status"] == "completed" and parent["children"] == [child_id]  # the same child continued
    assert lab.execution(child_id)["status"] == "completed"
    assert recorded_result(lab, parent_id) == 15  # finish(double(3 + 4))
    assert lab.ran() == ["double", "finish"]


def test_misuse_is_refused_with_what_to_do_and_a_caught_child_failure_lets_the_parent_go_on(lab: ChildLab) -> None:
    lab.flag("fail_double")
    runs = lab.run("calls_in_checkpoint:1", "child_on_its_own_stack:1", "catches_failed_child:1")

    in_checkpoint, own_stack = runs["calls_in_checkpoint"]["message"], runs["child_on_its_own_stack"]["message"]
    assert "KitaruContextError: A flow cannot be called inside a @checkpoint." in in_checkpoint
    assert "Call it in the flow body, where it runs as a child execution" in in_checkpoint
    assert "KitaruUsageError: A child flow runs on its parent's stack and image" in own_stack
    assert runs["catches_failed_child"]["value"] == "caught KitaruUserCodeError of the child"
    parent = lab.execution(runs["catches_failed_child"]["exec_id"])
    assert parent["status"] == "completed"
    [child_id] = parent["children"]
    assert lab.execution(child_id)["status"] == "failed"


def test_a_direct_call_outside_a_flow_says_to_use_run() -> None:
    with pytest.raises(KitaruUsageError, match="Direct flow calls are not supported outside a flow") as raised:
        child_flows.leaf(3)
    assert str(raised.value) == DIRECT_CALL_MESSAGE
    assert "handle = my_flow.run(...)" in DIRECT_CALL_MESSAGE

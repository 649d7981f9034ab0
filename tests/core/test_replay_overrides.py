"""Replay overrides leave a trace in the new execution (issue 12, item 4; SPEC §3.5).

Repro: ``kitaru executions replay <id> --from summarize --overrides
'{"checkpoint.flaky": 100}'``. The consumers saw 100, but the new execution's
``flaky`` output still loaded as 6 and nothing in ``executions get`` said an
override happened.

Real flows (tests/core/flows/override_flows.py), copied into a user's project
dir and run as ``python run.py`` on a brand-new config dir; the replay, ``get``
and the loads run as separate processes through the CLI and ``KitaruClient``,
as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kitaru.engine.runs import ArtifactRecord
from kitaru.execution.replay_plan import SourceCall, plan_replay
from tests.conftest import subprocess_env
from tests.core.flows import override_flows as flows
from tests.core.flows.override_flows import COUNTER_ENV, executions_of

KITARU = str(Path(sys.executable).with_name("kitaru"))
TIMEOUT = 300
OVERRIDE = {"checkpoint.flaky": 100}


class Project:
    """A user's project dir with its own config dir and checkpoint counters."""

    def __init__(self, root: Path) -> None:
        self.root = root / "project"
        self.config = root / "config"
        self.counters = root / "counters"
        for directory in (self.root, self.config, self.counters):
            directory.mkdir(parents=True)
        shutil.copy(flows.__file__, self.root / "override_flows.py")
        (self.root / "run.py").write_text("import override_flows\noverride_flows.main()\n")

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(command),
            cwd=self.root,
            env=subprocess_env(self.config, NO_COLOR="1", COLUMNS="200", **{COUNTER_ENV: str(self.counters)}),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0 or not check, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def kitaru(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(KITARU, *args, check=check)

    def get_json(self, exec_id: str) -> dict[str, Any]:
        payload = json.loads(self.kitaru("executions", "get", exec_id, "-o", "json").stdout)
        return payload["item"]

    def runs_of(self, name: str) -> int:
        return executions_of(self.counters, name)


def _replay(project: Project, source: str, start: str, overrides: dict[str, Any] | None = None) -> tuple[str, str]:
    """Replay through the CLI (text mode); returns the new execution id and everything it printed."""
    args = ["executions", "replay", source, "--from", start]
    if overrides is not None:
        args += ["--overrides", json.dumps(overrides)]
    done = project.kitaru(*args)
    printed = done.stdout + done.stderr
    new_id = next(line.split(": ", 1)[1].strip() for line in done.stdout.splitlines() if "Replayed execution: " in line)
    return new_id, printed


LOADS = textwrap.dedent(
    """
    import json, sys
    from kitaru import KitaruClient
    from kitaru.execution.artifacts import load_named_artifact  # what kitaru.load() runs in a checkpoint

    client = KitaruClient()
    found = {}
    for exec_id in sys.argv[1:]:
        execution = client.executions.get(exec_id)
        found[exec_id] = {
            call.name: [artifact.load() for artifact in call.artifacts if artifact.save_type == "step_output"]
            for call in execution.checkpoints
        }
        found[exec_id]["listed flaky"] = [a.load() for a in client.artifacts.list(exec_id, producing_call="flaky")]
        found[exec_id]["kitaru.load flaky"] = load_named_artifact(exec_id, "flaky")
        info = getattr(execution, "replay_info", None)  # None before the fix too
        found[exec_id]["replay"] = None if info is None else info.overrides
    print("JSON " + json.dumps(found))
    """
)


def _loads(project: Project, *exec_ids: str) -> dict[str, Any]:
    (project.root / "loads.py").write_text(LOADS)
    done = project.run(sys.executable, "loads.py", *exec_ids)
    return json.loads(next(line[5:] for line in done.stdout.splitlines() if line.startswith("JSON ")))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, str, str, str]:
    """A source execution and its replay from `summarize` with `flaky` overridden (the repro)."""
    project = Project(tmp_path_factory.mktemp("overrides"))
    done = project.run(sys.executable, "run.py")
    assert "RESULT sum=6; n=6" in done.stdout
    source = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("EXEC "))
    new_id, printed = _replay(project, source, "summarize", OVERRIDE)
    return project, source, new_id, printed


def test_replay_progress_names_the_override(replayed: tuple[Project, str, str, str]) -> None:
    project, source, new_id, printed = replayed
    assert f"Replaying execution `{source}` from `summarize`." in printed
    assert "Checkpoint `flaky` overridden" in printed
    # The override reached the consumers, and the overridden producer did not run again.
    assert project.runs_of("flaky") == 1
    assert (project.runs_of("summarize"), project.runs_of("report")) == (2, 2)


def test_overridden_output_is_the_calls_output_in_the_new_execution(replayed: tuple[Project, str, str, str]) -> None:
    project, source, new_id, _ = replayed
    loads = _loads(project, new_id, source)
    assert loads[new_id]["flaky"] == [100]
    assert loads[new_id]["listed flaky"] == [100]
    assert loads[new_id]["kitaru.load flaky"] == 100
    assert loads[new_id]["summarize"] == ["sum=100"]
    assert loads[new_id]["report"] == ["sum=100; n=100"]
    assert loads[new_id]["replay"] == ["flaky"]
    # The source execution is unchanged.
    assert loads[source] == {
        "flaky": [6],
        "summarize": ["sum=6"],
        "report": ["sum=6; n=6"],
        "listed flaky": [6],
        "kitaru.load flaky": 6,
        "replay": None,
    }


def test_get_json_marks_the_call_and_names_the_source(replayed: tuple[Project, str, str, str]) -> None:
    project, source, new_id, _ = replayed
    item = project.get_json(new_id)
    assert item["original_exec_id"] == source  # existing field kept
    replay = item["replay_info"]
    assert (replay["source_exec_id"], replay["from_checkpoint"], replay["overrides"]) == (
        source,
        "summarize",
        ["flaky"],
    )
    assert replay["start"] == "summarize" and replay["reused"] == ["flaky"]
    calls = {call["name"]: call for call in item["checkpoints"]}
    assert calls["flaky"]["overridden"] is True
    assert (calls["summarize"]["overridden"], calls["report"]["overridden"]) == (False, False)
    (output,) = [a for a in calls["flaky"]["artifacts"] if a["save_type"] == "step_output"]
    assert output["artifact_id"] in {a["artifact_id"] for a in item["artifacts"]}

    source_item = project.get_json(source)
    assert source_item["replay_info"] is None
    assert all(call["overridden"] is False for call in source_item["checkpoints"])


def test_get_text_shows_the_override(replayed: tuple[Project, str, str, str]) -> None:
    project, source, new_id, _ = replayed
    text = project.kitaru("executions", "get", new_id).stdout
    assert "flaky (completed, overridden)" in " ".join(text.split())
    assert f"Replayed from {source} at `summarize`; overrides: flaky" in " ".join(text.split())

    source_text = " ".join(project.kitaru("executions", "get", source).stdout.split())
    assert "overridden" not in source_text and "Replayed from" not in source_text


def test_a_replay_of_the_replay_keeps_the_overridden_value(replayed: tuple[Project, str, str, str]) -> None:
    """Replaying the new execution from `report` reuses `flaky` as it was there: 100, not the 6 it replaced."""
    project, _, first, _ = replayed
    runs_before = {name: project.runs_of(name) for name in ("flaky", "summarize", "report")}
    second, _ = _replay(project, first, "report")
    assert project.runs_of("report") == runs_before["report"] + 1
    assert (project.runs_of("flaky"), project.runs_of("summarize")) == (runs_before["flaky"], runs_before["summarize"])
    loads = _loads(project, second)
    assert loads[second]["report"] == ["sum=100; n=100"]
    assert loads[second]["flaky"] == [100]


def test_a_retry_of_a_failed_replay_hands_the_body_the_edited_value_again(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A replay overriding `flaky` fails at `report`; its retry must not go back to the original 6."""
    project = Project(tmp_path_factory.mktemp("override-retry"))
    done = project.run(sys.executable, "run.py", "echo")
    assert "RESULT sum=6; n=6; body saw 6" in done.stdout
    source = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("EXEC "))

    (project.counters / flows.FAIL_REPORT).touch()
    replay = project.kitaru(
        "executions", "replay", source, "--from", "summarize", "--overrides", json.dumps(OVERRIDE), check=False
    )
    assert replay.returncode != 0, replay.stdout
    failed = json.loads(project.kitaru("executions", "list", "--flow", "override_echo", "-o", "json").stdout)
    new_id = next(item["exec_id"] for item in failed["items"] if item["exec_id"] != source)
    assert project.get_json(new_id)["status"] == "failed"

    (project.counters / flows.FAIL_REPORT).unlink()
    project.kitaru("executions", "retry", new_id)
    item = project.get_json(new_id)
    assert item["status"] == "completed"
    assert _loads(project, new_id)[new_id]["report"] == ["sum=100; n=100"]
    (project.root / "result.py").write_text("import sys, kitaru\nprint('RESULT', kitaru.FlowHandle(sys.argv[1]).get())\n")
    assert "RESULT sum=100; n=100; body saw 100" in project.run(sys.executable, "result.py", new_id).stdout
    assert project.runs_of("flaky") == 1  # never ran again: the override stands in for it


def test_a_replay_killed_midway_keeps_its_overrides_for_the_retry(tmp_path_factory: pytest.TempPathFactory) -> None:
    """kill -9 of the replaying process while `report` runs: the retry still sees the edited `flaky`."""
    project = Project(tmp_path_factory.mktemp("override-kill"))
    done = project.run(sys.executable, "run.py", "echo")
    source = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("EXEC "))
    hold = project.counters / flows.HOLD_REPORT
    hold.touch()
    replay = subprocess.Popen(
        [KITARU, "executions", "replay", source, "--from", "summarize", "--overrides", json.dumps(OVERRIDE)],
        cwd=project.root,
        env=subprocess_env(project.config, **{COUNTER_ENV: str(project.counters)}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while project.runs_of("report") < 2:  # the source's report, then the replay's
            assert replay.poll() is None and time.monotonic() < deadline, "the replay never reached `report`"
            time.sleep(0.05)
    finally:
        os.killpg(replay.pid, signal.SIGKILL)
        replay.wait()
        hold.unlink()
    listed = json.loads(project.kitaru("executions", "list", "--flow", "override_echo", "-o", "json").stdout)
    new_id = next(item["exec_id"] for item in listed["items"] if item["exec_id"] != source)

    project.kitaru("executions", "retry", new_id)
    (project.root / "result.py").write_text("import sys, kitaru\nprint('RESULT', kitaru.FlowHandle(sys.argv[1]).get())\n")
    assert "RESULT sum=100; n=100; body saw 100" in project.run(sys.executable, "result.py", new_id).stdout
    assert project.get_json(new_id)["replay_info"]["overrides"] == ["flaky"]
    assert project.runs_of("flaky") == 1


# -- the plan, on hand-made calls (no store) ----------------------------------------------------


def _call(name: str, output: str, inputs: dict[str, tuple[str, ...]], override_id: str | None = None) -> SourceCall:
    return SourceCall(
        invocation_id=name,
        checkpoint=name,
        call_id=f"{name}-call",
        attempt_ids=frozenset({f"{name}-call"}),
        status="completed",
        successful=True,
        started=datetime(2026, 1, 1),
        outputs=(ArtifactRecord(id=output, name=f"{name}::output", save_type="step_output", uri=f"/{output}"),),
        output_names=("output",),
        inputs=inputs,
        override_id=override_id,
    )


def test_plan_keeps_an_earlier_override_for_consumers_that_run_again() -> None:
    """In a replay of a replay, consumers received the edited value (not the producer's output)."""
    calls = [
        _call("flaky", "six", {}, override_id="hundred"),
        _call("summarize", "sum", {"n": ("hundred",)}),
        _call("report", "rep", {"summary": ("sum",), "n": ("hundred",)}),
    ]
    plan = plan_replay("src", calls, "report", [])
    assert plan.reused == ("flaky", "summarize")
    ((inherited,),) = [plan.inherited]
    assert (inherited.source.invocation_id, inherited.artifact_id) == ("flaky", "hundred")
    assert inherited.consumers == (("report", "n"),)  # summarize is reused: nothing to wire

    # Overriding it again finds its consumers through the edited value it gave them.
    plan = plan_replay("src", calls, "report", [("checkpoint.flaky", "flaky", 7)])
    assert plan.inherited == ()
    assert plan.overrides[0].consumers == (("summarize", "n"), ("report", "n"))
    assert plan.frontier.invocation_id == "summarize"

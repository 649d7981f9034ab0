"""A checkpoint output no serializer can store (issue 12, item 3).

Within the run that produced it, the next checkpoint and the flow body get
the real object. What is stored says the value could not be stored, so a
retry or replay that needs it fails with a Kitaru error naming the
checkpoint and the type, and a client load explains instead of returning a
stand-in. Storable outputs are unaffected.

Real flows (tests/core/flows/unstorable_flows.py) copied into a user's
project directory and run as ``python run.py ...`` against a brand-new
config dir; retries and replays run both in that process (the in-memory
value must not leak into them) and from another process through the CLI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_python, subprocess_env
from tests.core.flows import unstorable_flows
from tests.core.flows.unstorable_flows import MARKER_ENV

UNSTORABLE = "Checkpoint `make` returned a `Weird` that could not be stored"
ENGINE_WORDS = ("zenml", "StepRun", "PipelineRun", "materializer")
COMPLETED = 'RESULT "body=Weird use=Weird!"'


@dataclass
class Script:
    """One ``python run.py ...`` process: its execution, its outcome lines in order, all its output."""

    exec_id: str
    outcomes: list[str]
    output: str
    config: Path
    marker: Path


def _project(root: Path) -> Path:
    """A user's project: the flows module and a script running them."""
    root.mkdir(parents=True)
    shutil.copy(unstorable_flows.__file__, root / "unstorable_flows.py")
    (root / "run.py").write_text("import unstorable_flows\nunstorable_flows.main()\n")
    return root


def _script(root: Path, *args: str, marker_exists: bool) -> Script:
    """Run ``run.py <args>`` in a new project under ``root`` with a brand-new config dir."""
    project, config, marker = _project(root / "project"), root / "config", root / "marker"
    config.mkdir()
    if marker_exists:
        marker.touch()  # `later` succeeds at once
    done = run_python(project / "run.py", config, *args, timeout=600, **{MARKER_ENV: str(marker)})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    outcomes = [line for line in done.stdout.splitlines() if line.startswith(("RESULT ", "ERROR "))]
    [exec_id] = [line.removeprefix("EXEC ") for line in done.stdout.splitlines() if line.startswith("EXEC ")]
    return Script(exec_id, outcomes, output, config, marker)


def _cli(script: Script, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``kitaru executions <args>`` from another process and directory."""
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "kitaru.cli", "executions", *args],
        cwd=cwd,
        env=subprocess_env(script.config, **{MARKER_ENV: str(script.marker)}, COLUMNS="400"),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _assert_unstorable_error(text: str) -> None:
    flat = " ".join(text.split())
    assert UNSTORABLE in flat, text
    assert "retry" in flat and "Replaying from `make` works" in flat, text
    assert "register a serializer plugin for `Weird`" in flat and "pydantic model" in flat, text
    for word in ENGINE_WORDS:
        assert word.lower() not in flat.lower(), (word, text)


@pytest.fixture(scope="module")
def completed(tmp_path_factory: pytest.TempPathFactory) -> Script:
    """The flow run twice (cache on), then replayed in the same process from `use` and from `make`."""
    return _script(
        tmp_path_factory.mktemp("completed"), "unstorable", "again", "replay:use", "replay:make", marker_exists=True
    )


def test_the_run_that_produced_it_uses_the_real_object(completed: Script) -> None:
    # Both runs, the second one with the engine's cache on: the body and `use` got the Weird itself.
    assert completed.outcomes[:2] == [COMPLETED, COMPLETED], completed.output
    warning = " ".join(completed.output.split())
    assert "Checkpoint `make` returned a `Weird` that cannot be stored" in warning, completed.output
    assert "This run keeps using it in memory, but a retry or replay that reuses it will fail" in warning


def test_a_replay_after_it_fails_clearly_and_a_replay_from_it_works(completed: Script, tmp_path: Path) -> None:
    replay_after, replay_from = completed.outcomes[2:4]
    assert replay_after.startswith("ERROR "), completed.output  # replay from `use` reuses `make`'s output
    _assert_unstorable_error(replay_after)
    assert replay_from == COMPLETED, completed.output  # replay from `make` runs it again

    replayed = _cli(completed, tmp_path / "elsewhere", "replay", completed.exec_id, "--from", "use")
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    _assert_unstorable_error(replayed.stdout + replayed.stderr)


def test_a_retry_that_needs_it_fails_clearly(tmp_path: Path) -> None:
    # No marker: `later` fails once, after `make` and `use` succeeded.
    script = _script(tmp_path, "unstorable", "retry", "load:make", "load:use", marker_exists=False)
    first, retried, load_make, load_use = script.outcomes

    assert first.startswith("ERROR ") and "first attempt fails" in first, script.output
    assert retried.startswith('RESULT "failed: '), script.output  # retried in the same process
    _assert_unstorable_error(retried)
    assert load_make.startswith("ERROR KitaruUnstorableValueError: "), script.output  # ArtifactRef.load explains
    _assert_unstorable_error(load_make)
    assert load_use == "RESULT \"'Weird'\"", script.output  # `use` did receive the object

    retried_elsewhere = _cli(script, tmp_path / "elsewhere", "retry", script.exec_id)
    assert retried_elsewhere.returncode == 1, retried_elsewhere.stdout + retried_elsewhere.stderr
    _assert_unstorable_error(retried_elsewhere.stdout + retried_elsewhere.stderr)


def test_a_storable_output_is_unaffected(tmp_path: Path) -> None:
    script = _script(tmp_path, "storable", "retry", "replay:use", "load:make_note", marker_exists=False)

    assert script.outcomes[0].startswith("ERROR ") and "first attempt fails" in script.outcomes[0], script.output
    assert script.outcomes[1:] == [
        'RESULT "completed"',
        'RESULT "body=Note use=Note!"',
        "RESULT \"Note(text='storable')\"",
    ], script.output
    assert "cannot be stored" not in script.output

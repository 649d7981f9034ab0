"""Runs in separate processes: terminal output, first run, cross-process loads."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT, run_python

ENGINE_WORDS = re.compile(r"pipeline|\bstep|zenml|dashboard|stack:|orchestrator|artifact_store", re.I)

THREE_CHECKPOINTS = textwrap.dedent(
    """
    import kitaru

    @kitaru.checkpoint
    def fetch(n: int) -> int:
        return n + 1

    @kitaru.checkpoint
    def think(n: int) -> int:
        return n * 10

    @kitaru.checkpoint
    def answer(n: int) -> str:
        return f"answer={n}"

    @kitaru.flow
    def tiny(n: int) -> str:
        return answer(think(fetch(n)))

    if __name__ == "__main__":
        handle = tiny.run(1)
        print("RESULT", handle.wait(), handle.exec_id)
    """
)


def test_terminal_output_speaks_kitaru_only(tmp_path: Path, fresh_config_dir: Path) -> None:
    script = tmp_path / "tiny_flow.py"
    script.write_text(THREE_CHECKPOINTS)
    result = run_python(script, fresh_config_dir)
    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert not [line for line in lines if ENGINE_WORDS.search(line)], lines
    assert len(lines) <= 6, lines
    assert lines[0] == "Starting flow `tiny`."
    for index, name in enumerate(["fetch", "think", "answer"], start=1):
        assert re.fullmatch(rf"Checkpoint `{name}` finished in \d+\.\d\ds\.", lines[index]), lines
    exec_id = lines[-1].split()[-1]
    assert re.fullmatch(rf"Execution {exec_id} completed in \d+\.\d\ds\.", lines[4]), lines
    assert lines[-1] == f"RESULT answer=20 {exec_id}"
    # Everything lives in the Kitaru config dir: SQLite store and artifacts.
    assert (fresh_config_dir / "local_stores").is_dir()
    assert list(fresh_config_dir.rglob("*.db")), "expected the SQLite store in the config dir"
    # Kitaru's own folders are owner-only (issue 12); the artifact files inside
    # `local_stores` (0700) are written by the engine with the process umask.
    for folder in (fresh_config_dir, fresh_config_dir / "runs", fresh_config_dir / "local_stores"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    # The local database keeps a write-ahead log (issue 13: a commit costs a quarter of the rollback journal's).
    database = next(fresh_config_dir.rglob("zenml.db"))
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


CLOUD_SDKS = ("google.cloud.storage", "azure.storage.blob", "boto3", "pandas", "gcsfs", "adlfs", "s3fs")
"""Modules the engine's integrations import when activated: a local flow needs none of them."""


def test_a_local_flow_activates_no_cloud_integration(tmp_path: Path, fresh_config_dir: Path) -> None:
    installed = [name for name in CLOUD_SDKS if importlib.util.find_spec(name.split(".")[0]) is not None]
    script = tmp_path / "tiny_flow.py"
    script.write_text(
        THREE_CHECKPOINTS.replace(
            'print("RESULT", handle.wait(), handle.exec_id)',
            f'handle.wait()\n    print("LOADED", sorted(m for m in {CLOUD_SDKS!r} if m in sys.modules))',
        ).replace("import kitaru", "import sys\nimport kitaru", 1)
    )
    result = run_python(script, fresh_config_dir)
    assert result.returncode == 0, result.stderr
    assert installed, "this test needs the cloud extras installed (the dev environment has them)"
    assert "LOADED []" in result.stdout, result.stdout


def test_quickstart_example_runs(fresh_config_dir: Path) -> None:
    result = run_python(REPO_ROOT / "examples" / "quickstart.py", fresh_config_dir, "testing", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert "Report on testing" in result.stdout
    assert re.search(r"Execution id: [0-9a-f-]{36}", result.stdout)


UNLOADABLE_WRITER = textwrap.dedent(
    """
    import sys
    import kitaru
    from pydantic import BaseModel

    class Secretive(BaseModel):
        value: int

    @kitaru.checkpoint
    def produce() -> Secretive:
        return Secretive(value=7)

    @kitaru.flow
    def hides() -> Secretive:
        return produce()

    if __name__ == "__main__":
        print(hides.run().exec_id)
    """
)

UNLOADABLE_READER = textwrap.dedent(
    """
    import sys
    import kitaru
    from kitaru.flows import FlowHandle

    try:
        FlowHandle(sys.argv[1]).wait()
    except kitaru.KitaruRuntimeError as error:
        print("ERROR", error)
    """
)


def test_value_that_cannot_be_loaded_names_checkpoint_and_type(tmp_path: Path, fresh_config_dir: Path) -> None:
    writer_dir = tmp_path / "writer"
    writer_dir.mkdir()
    (writer_dir / "hidden_model.py").write_text(UNLOADABLE_WRITER)
    written = run_python(writer_dir / "hidden_model.py", fresh_config_dir)
    assert written.returncode == 0, written.stderr
    exec_id = written.stdout.strip().splitlines()[-1]

    reader_dir = tmp_path / "reader"  # hidden_model is not importable from here
    reader_dir.mkdir()
    (reader_dir / "read.py").write_text(UNLOADABLE_READER)
    read = run_python(reader_dir / "read.py", fresh_config_dir, exec_id)
    assert read.returncode == 0, read.stderr
    assert "ERROR" in read.stdout, read.stdout + read.stderr
    assert "checkpoint `produce`" in read.stdout
    assert "hidden_model.Secretive" in read.stdout
    assert "No module named 'hidden_model'" in read.stdout
    assert "zenml" not in read.stdout.lower()


def test_flow_defined_in_main_script_resolves_in_the_runtime(tmp_path: Path, fresh_config_dir: Path) -> None:
    script = tmp_path / "main_script.py"
    script.write_text(THREE_CHECKPOINTS)
    # Run from another directory: the run records where the flow's source lives.
    result = run_python(script, fresh_config_dir, cwd=Path(sys.prefix))
    assert result.returncode == 0, result.stderr
    assert "RESULT answer=20" in result.stdout

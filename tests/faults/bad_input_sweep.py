"""Run the bad-input sweep in one process and write a JSON report.

Usage (the test runs it in a child process with its own config dir)::

    KITARU_CONFIG_PATH=<config> python -m tests.faults.bad_input_sweep <scratch-dir> <report.json>

Steps:

1. Run the three flows of ``bad_input_flows.py`` (copied into ``<scratch>``)
   so the store holds a completed, a waiting and a failed execution.
2. Write the scratch files the ``--file`` and target cases point at.
3. Walk the ``kitaru`` app and build every case (``bad_input_cases``).
4. Snapshot the store, then for each case run the CLI in this process
   (``kitaru.cli.app.run``, what the console script calls) with file
   descriptors 1 and 2 captured, and snapshot again. A case that changed the
   store is recorded with the difference, and the next case is compared with
   the changed store (so one failure is not blamed on every later case).
5. Run a few cases through the real console script in a subprocess, to
   check the in-process results hold end to end.

The snapshot is every row of every table of the engine's SQLite database
(``<config>/local_stores/default_zen_store/zenml.db``), plus the path and
SHA-256 of every file under the config dir (the local artifact store lives
there) and under the scratch project dir. No column is excluded: reading
commands were checked not to write anything (no ``updated`` timestamp, no
last-activity column moves on a read), so any difference is a write. The
database file's own bytes, and SQLite's ``-journal``/``-wal``/``-shm`` side
files, are left out of the file listing: the rows are compared instead, and
SQLite may rewrite pages without changing any row.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from kitaru.cli.output import json_requested
from tests.faults import bad_input_cases as cases_module

HERE = Path(__file__).resolve().parent
DB_RELATIVE = Path("local_stores") / "default_zen_store" / "zenml.db"
SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
KITARU = Path(sys.executable).with_name("kitaru")


# -- the store snapshot -----------------------------------------------------------------


def snapshot(config: Path, project: Path) -> dict[str, Any]:
    """Every row of every table, and every file's hash (see the module docstring)."""
    state: dict[str, Any] = {}
    db = config / DB_RELATIVE
    if db.exists():
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            tables = [
                name
                for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            ]
            for table in tables:
                cursor = connection.execute(f'SELECT * FROM "{table}"')
                columns = [description[0] for description in cursor.description]
                rows = sorted(
                    json.dumps(dict(zip(columns, row, strict=True)), default=repr, sort_keys=True)
                    for row in cursor.fetchall()
                )
                state[f"table {table}"] = rows
        finally:
            connection.close()
    for root in (config, project):
        for path in sorted(root.rglob("*")):
            if path == db or any(str(path) == f"{db}{suffix}" for suffix in SQLITE_SIDE_FILES):
                continue
            if path.is_file():
                state[f"file {path}"] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_dir():
                state[f"dir {path}"] = True
    return state


def difference(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable differences between two snapshots."""
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key.startswith("table ") and old is not None and new is not None:
            added = sorted(set(new) - set(old))
            removed = sorted(set(old) - set(new))
            lines.append(f"{key}: +{len(added)} -{len(removed)} rows; added {added[:2]} removed {removed[:2]}")
        elif old is None:
            lines.append(f"{key}: created")
        elif new is None:
            lines.append(f"{key}: deleted")
        else:
            lines.append(f"{key}: changed")
    return [line[:2000] for line in lines]


# -- running one case ---------------------------------------------------------------


CASE_TIMEOUT = 60
"""Seconds one refused invocation may take before it counts as hung."""


class Hung(Exception):
    """Raised by the alarm when an invocation runs past :data:`CASE_TIMEOUT`."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hung(f"still running after {CASE_TIMEOUT} s")


class ConvertedOnce:
    """The ``kitaru`` app, converted to a Click command once.

    Typer converts the whole app (every command's signature) to Click on each
    call, about half a second here; the sweep makes hundreds of calls, so it
    hands :func:`kitaru.cli.app.run` this wrapper, which converts once and is
    otherwise called exactly as Typer calls its command.
    """

    def __init__(self, app: Any) -> None:
        import typer.main

        self.command = typer.main.get_command(app)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.command.main(*args, **kwargs)


def run_in_process(argv: list[str]) -> dict[str, Any]:
    """Run ``kitaru <argv>`` in this process with fds 1 and 2 captured."""
    from kitaru.cli.app import run

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        escaped = None
        started = time.monotonic()
        previous_handler = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(CASE_TIMEOUT)
        try:
            code: int | None = run(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # what the console script would print as a traceback
            code = None
            escaped = traceback.format_exc()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous_handler)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if escaped is not None:
        stderr += escaped
        code = 1
    return {"code": code, "stdout": stdout, "stderr": stderr, "seconds": round(elapsed, 3)}


def problems(result: dict[str, Any], json_mode: bool) -> list[str]:
    """What is wrong with a refused invocation's result (empty when it is right)."""
    found = []
    text = result["stdout"] + result["stderr"]
    if result["code"] != 1:
        found.append(f"exit {result['code']} (expected 1)")
    if "Traceback" in text:
        found.append("traceback printed")
    if "(unexpected " in text:
        found.append("reported as an unexpected error (a bug, not a validation)")
    if json_mode:
        if result["stdout"].strip():
            found.append("stdout not empty in JSON mode")
        start = result["stderr"].find('{\n  "command"')
        try:
            payload = json.loads(result["stderr"][start:]) if start >= 0 else None
        except ValueError:
            payload = None
        if not (
            isinstance(payload, dict) and isinstance(payload.get("error"), dict) and payload["error"].get("message")
        ):
            found.append("no JSON error object on stderr")
    elif not any(line.startswith("Error: ") and line[7:].strip() for line in result["stderr"].splitlines()):
        found.append("no 'Error: <message>' line on stderr")
    return found


# -- setup --------------------------------------------------------------------------


def make_executions(project: Path) -> dict[str, str]:
    """Run the three flows once; return their execution ids."""
    sys.path.insert(0, str(project))
    import bad_input_flows as flows  # the copy in the scratch project

    from kitaru.errors import KitaruExecutionError

    done = flows.bad_input_done.run("done")
    done.wait()
    waiting = flows.bad_input_waiting.run("waiting")
    assert waiting.status == "waiting", waiting.status
    failed = flows.bad_input_failing.run("failing")
    try:
        failed.wait()
    except KitaruExecutionError:
        pass
    return {"done": done.exec_id, "waiting": waiting.exec_id, "failed": failed.exec_id}


def make_files(scratch: Path) -> dict[str, str]:
    """The scratch files and paths the cases point at."""
    files = scratch / "files"
    files.mkdir()
    (files / "a-directory").mkdir()
    (files / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (files / "not-utf8.yaml").write_bytes(b"name: \xff\xfe\xfa\n")
    (files / "bad.yaml").write_text("name: [unclosed\n  type: {\n")
    (files / "list.yaml").write_text("- name\n- type\n")
    (files / "unknown-key.yaml").write_text("name: bad-input-stack\nwarp_drive: engaged\n")
    (files / "wrong-type.yaml").write_text("name: bad-input-stack\nactivate: sometimes\n")
    (files / "bad_python.py").write_text("def f(:\n    return\n")
    (files / "plain.txt").write_text("just a file\n")
    initialized = files / "initialized"
    (initialized / ".kitaru").mkdir(parents=True)
    return {
        "missing": str(files / "does-not-exist"),
        "directory": str(files / "a-directory"),
        "binary": str(files / "binary.bin"),
        "not_utf8": str(files / "not-utf8.yaml"),
        "bad_yaml": str(files / "bad.yaml"),
        "yaml_list": str(files / "list.yaml"),
        "yaml_unknown_key": str(files / "unknown-key.yaml"),
        "yaml_wrong_type": str(files / "wrong-type.yaml"),
        "bad_python": str(files / "bad_python.py"),
        "plain_file": str(files / "plain.txt"),
        "initialized": str(initialized),
    }


def real_console_script(argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``kitaru <argv>`` as the installed console script."""
    started = time.monotonic()
    result = subprocess.run(
        [str(KITARU), *argv],
        cwd=cwd,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return {
        "code": result.returncode,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "seconds": round(time.monotonic() - started, 3),
    }


def main(scratch: Path, report_path: Path) -> None:
    from kitaru.cli import app as cli_app
    from kitaru.cli.app import build_app

    config = Path(os.environ["KITARU_CONFIG_PATH"])
    project = scratch / "project"
    project.mkdir()
    shutil.copy(HERE / "bad_input_flows.py", project / "bad_input_flows.py")
    os.chdir(project)

    started = time.monotonic()
    ids = make_executions(project)
    setup_seconds = time.monotonic() - started
    real = cases_module.Real(
        done=ids["done"],
        waiting=ids["waiting"],
        failed=ids["failed"],
        checkpoint="bad_input_fetch",
        last_checkpoint="bad_input_write",
        wait="approve",
        flows_file=str(project / "bad_input_flows.py"),
        files=make_files(scratch),
    )
    app = build_app()
    commands = cases_module.walk_commands(app)
    converted = ConvertedOnce(app)
    cli_app.build_app = lambda: converted  # type: ignore[assignment]  # see ConvertedOnce
    cases = cases_module.build_cases(commands, real)
    runs = []
    for case in cases:
        runs.append((case, False))
        json_case = cases_module.with_json(case)
        if json_case is not None:
            runs.append((json_case, True))

    sweep_started = time.monotonic()
    first = previous = snapshot(config, project)
    results = []
    progress = os.environ.get("BAD_INPUT_PROGRESS")
    for case, json_mode in runs:
        if progress:
            with open(progress, "a") as log:
                log.write(f"{time.monotonic() - sweep_started:.1f} {case.label}\n")
        result = run_in_process(list(case.argv))
        current = snapshot(config, project)
        changed = difference(previous, current)
        previous = current
        found = problems(result, json_requested(case.argv))
        if changed:
            found.append("store changed: " + "; ".join(changed))
        results.append(
            {
                "command": case.command,
                "what": case.what,
                "argv": [a[:80] for a in case.argv],
                "params": list(case.params),
                "json": json_mode,
                "problems": found,
                "seconds": result["seconds"],
                "stdout": result["stdout"][-1500:],
                "stderr": result["stderr"][-3000:],
            }
        )
    sweep_seconds = time.monotonic() - sweep_started

    # End to end through the console script, for a few representative cases.
    spot = [
        ["executions", "get", "not-a-uuid"],
        ["executions", "input", ids["waiting"], "--value", "{", "-o", "json"],
        ["stack", "create", "bad-input-stack", "--no-such-flag"],
    ]
    console = []
    for argv in spot:
        result = real_console_script(argv, project)
        current = snapshot(config, project)
        found = problems(result, json_requested(argv))
        changed = difference(previous, current)
        previous = current
        if changed:
            found.append("store changed: " + "; ".join(changed))
        console.append(
            {
                "argv": argv,
                "problems": found,
                "stderr": result["stderr"][-2000:],
                "code": result["code"],
                "seconds": result["seconds"],
            }
        )

    report = {
        "commands": [command.path for command in commands],
        "parameters": {command.path: [param.name for param in command.params] for command in commands},
        "ids": ids,
        "setup_seconds": round(setup_seconds, 1),
        "sweep_seconds": round(sweep_seconds, 1),
        "results": results,
        "console": console,
        "store_unchanged_overall": difference(first, previous) == [],
        "overall_difference": difference(first, previous),
        "tables": sum(1 for key in first if key.startswith("table ")),
        "rows": sum(len(value) for key, value in first.items() if key.startswith("table ")),
        "files": sum(1 for key in first if key.startswith("file ")),
    }
    report_path.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

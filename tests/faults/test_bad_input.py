"""Bad input: every ``kitaru`` command refuses malformed input cleanly and changes nothing.

The sweep (``bad_input_sweep.py``, run in a child process with a fresh config
dir) walks the real Typer app, so a new command or option is swept without
editing anything, and feeds every command malformed and unknown ids, bad JSON,
missing/unreadable/garbage files, negative and non-numeric numbers, unknown
enum values and types, unknown flags, extra arguments, in text and ``-o json``
mode (``bad_input_cases.py`` lists them). Each invocation must:

* exit 1: command errors and command-line usage errors alike (SPEC §4:
  "errors exit 1"; ``kitaru.cli.app.run`` turns Click's usage errors, which
  would exit 2, into contract errors);
* print ``Error: <message>`` on stderr (a JSON error object in JSON mode, with
  nothing on stdout), never a traceback and never the "unexpected error"
  fallback (that means a check is missing);
* leave the store exactly as it was: every row of every table of the engine's
  database, and every file under the config dir (the local artifact store is
  there) and the scratch project, compared before and after each invocation.

A few invocations also go through the real console script, end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, subprocess_env
from tests.faults.bad_input_cases import GENERIC_EXPECTED_COMMANDS, GENERIC_EXPECTED_GROUPS

pytestmark = pytest.mark.faults

SWEEP_TIMEOUT = 420
"""Seconds the whole sweep may take (it takes well under a minute), below the test's pytest timeout."""

REPORTED: dict[tuple[str, str], str] = {}
"""Known failures in files this sweep's author does not own, reported to their owners.

Keys are ``(command, case)``; the ``-o json`` variant of a case is covered by
the same key. The test tolerates them, and fails once one passes, so the
entry is removed together with the fix.
"""


def _key(result: dict) -> tuple[str, str]:
    return result["command"], result["what"].removesuffix(" (-o json)")


def test_every_command_refuses_bad_input_and_leaves_the_store_unchanged(tmp_path: Path, fresh_config_dir: Path) -> None:
    scratch = tmp_path / "sweep"
    scratch.mkdir()
    report_path = tmp_path / "report.json"
    progress = tmp_path / "progress.log"
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.faults.bad_input_sweep", str(scratch), str(report_path)],
            cwd=REPO_ROOT,
            env=subprocess_env(fresh_config_dir, BAD_INPUT_PROGRESS=str(progress)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SWEEP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        # A command that serves or waits instead of refusing its input never returns: name it.
        last = progress.read_text().splitlines()[-1:] if progress.exists() else ["(none started)"]
        pytest.fail(f"the sweep still ran after {SWEEP_TIMEOUT} s; the case it was on: {last[0]}")
    assert run.returncode == 0, f"the sweep crashed\nstdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-5000:]}"
    report = json.loads(report_path.read_text())

    # The walk found the whole app, including every group and the commands we know.
    commands = report["commands"]
    groups = {path.split()[0] for path in commands if " " in path}
    assert set(GENERIC_EXPECTED_GROUPS) <= groups, groups
    assert set(GENERIC_EXPECTED_COMMANDS) <= set(commands), set(GENERIC_EXPECTED_COMMANDS) - set(commands)

    # Every command, and every parameter of every command, got bad input.
    results = report["results"]
    per_command = Counter(result["command"] for result in results)
    assert all(per_command[path] >= 4 for path in commands), per_command
    swept = {(result["command"], param) for result in results for param in result["params"]}
    untouched = [
        (path, param) for path, params in report["parameters"].items() for param in params if (path, param) not in swept
    ]
    assert not untouched, f"parameters no case gave a bad value: {untouched}"

    failures = [result for result in results if result["problems"] and _key(result) not in REPORTED]
    still_reported = {_key(result) for result in results if result["problems"] and _key(result) in REPORTED}
    fixed = sorted(set(REPORTED) - still_reported)
    refused = sum(1 for result in results if not result["problems"])
    print(
        f"\nbad input: {len(commands)} commands, {len(results)} invocations in {report['sweep_seconds']} s "
        f"(setup {report['setup_seconds']} s); {refused} refused cleanly, {len(failures)} failures, "
        f"{len(still_reported)} known (reported); store compared: {report['tables']} tables, "
        f"{report['rows']} rows, {report['files']} files"
    )
    for command, what in sorted(still_reported):
        print(f"  known: kitaru {command}: {what}: {REPORTED[(command, what)]}")

    def describe(result: dict) -> str:
        return (
            f"kitaru {' '.join(result['argv'])}\n  -> {'; '.join(result['problems'])}\n"
            f"  stderr: {result['stderr'][-800:]}"
        )

    assert not failures, f"{len(failures)} invocations misbehaved:\n\n" + "\n\n".join(map(describe, failures))
    assert not fixed, f"reported failures that pass now (remove them from REPORTED): {fixed}"
    for console in report["console"]:
        assert not console["problems"], f"console script: kitaru {' '.join(console['argv'])}: {console}"
    # Case by case, and also from the first snapshot to the last one.
    assert report["store_unchanged_overall"], report["overall_difference"]

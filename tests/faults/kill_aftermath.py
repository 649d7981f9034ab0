"""What a user does after a crash, in one process: find the execution, retry it, check the store.

Run by the fault harness from a directory that is not the flow's project::

    python kill_aftermath.py --state DIR --known FILE --seed N [--exec-id ID] [--no-retry]

Steps (each result is appended as one JSON line to ``DIR/aftermath.jsonl``, so
the harness still sees the snapshot when it kills this process during its
retry):

1. ``kitaru executions list -o json``: the trial's execution is the one whose
   id is not in ``FILE`` (one id a line). None means the kill came before the
   execution existed: nothing to retry.
2. Snapshot: the execution's status, the checkpoints the store records as
   completed, and the number of lines in the side-effect counter ``DIR/ran``.
   Any later line naming one of those checkpoints is a duplicate execution.
3. If it failed: append ``retry_start`` to ``DIR/events`` and run
   ``kitaru executions retry ID -o json``.
4. If it is now completed: ``kitaru executions list``, ``get`` and ``logs``
   must exit 0, no execution may be listed as running, and every checkpoint
   output and the flow's result must load back equal to the workload's
   expected values (``kill_values.expected``).

The CLI commands run through ``kitaru.cli.app.run`` in this process (the
console script's code path, minus one interpreter start per command: that is
what keeps a trial to ~20 s on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from kill_values import expected  # next to this script

from kitaru import FlowHandle, KitaruClient
from kitaru.cli.app import run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--known", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--exec-id", help="the execution to recover (default: the new one)")
    parser.add_argument("--no-retry", action="store_true")
    args = parser.parse_args()
    state: Path = args.state
    report = Aftermath(state)

    code, listed = report.cli_json("executions", "list", "--limit", "100000")
    known = set(args.known.read_text().split()) if args.known.exists() else set()
    new = [item["exec_id"] for item in listed.get("items", []) if item["exec_id"] not in known]
    if args.exec_id:
        new = [args.exec_id]
    report.emit("listed", rc=code, new=new)
    if code != 0:
        return 1
    if not new:
        report.emit("final", outcome="nothing_to_retry", **report.store_checks(None))
        return 0
    exec_id = new[0]

    client = KitaruClient()
    execution = client.executions.get(exec_id)
    ran = state / "ran"
    offset = len(ran.read_text().split()) if ran.exists() else 0
    completed = [call.name for call in execution.checkpoints if str(call.status) == "completed"]
    report.emit(
        "snapshot",
        exec_id=exec_id,
        status=str(execution.status),
        completed=completed,
        offset=offset,
        failure=_failure(execution),
    )

    if str(execution.status) == "failed" and not args.no_retry:
        with open(state / "events", "a") as events:
            events.write(f"{time.time():.6f} retry_start aftermath\n")
        code, _ = report.cli_json("executions", "retry", exec_id)
        execution = client.executions.get(exec_id)
        report.emit("retried", rc=code, status=str(execution.status), failure=_failure(execution))

    if str(execution.status) != "completed":
        report.emit("final", outcome=str(execution.status), exec_id=exec_id, **report.store_checks(exec_id))
        return 0

    want = expected(args.seed)
    mismatches: list[str] = []
    loaded: dict[str, int] = {}
    for call in execution.checkpoints:
        for artifact in call.artifacts:
            if artifact.save_type != "step_output":
                continue
            value = artifact.load()
            loaded[call.name] = loaded.get(call.name, 0) + 1
            if value != want.get(call.name):
                mismatches.append(f"{call.name}: loaded {_describe(value)}")
    if sorted(loaded) != sorted(name for name in want if name != "flow"):
        mismatches.append(f"outputs loaded: {sorted(loaded)}")
    result = FlowHandle(exec_id).get()
    if result != want["flow"]:
        mismatches.append(f"flow result: {_describe(result)}")
    report.emit("final", outcome="completed", exec_id=exec_id, mismatches=mismatches, **report.store_checks(exec_id))
    return 0


class Aftermath:
    """Appends this process's findings to ``aftermath.jsonl`` and runs CLI commands."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.path = state / "aftermath.jsonl"
        self.count = 0

    def emit(self, kind: str, **fields: Any) -> None:
        with open(self.path, "a") as report:
            report.write(json.dumps({"kind": kind, "time": time.time(), **fields}) + "\n")

    def cli(self, *args: str) -> tuple[int, str]:
        """Run ``kitaru ARGS``; return its exit code and what it printed on stdout."""
        self.count += 1
        out = self.state / f"cli-{self.count}.out"
        with open(out, "w") as stdout, contextlib.redirect_stdout(stdout):
            code = run(list(args))
        return code, out.read_text()

    def cli_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, text = self.cli(*args, "-o", "json")
        try:
            return code, json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            return code, {"unparsable": text[-2000:]}

    def store_checks(self, exec_id: str | None) -> dict[str, Any]:
        """``list``/``get``/``logs`` exit codes, and every execution listed as running."""
        list_rc, listed = self.cli_json("executions", "list", "--limit", "100000")
        running = [item["exec_id"] for item in listed.get("items", []) if item["status"] == "running"]
        checks: dict[str, Any] = {"list_rc": list_rc, "running": running}
        if exec_id is not None:
            checks["get_rc"] = self.cli_json("executions", "get", exec_id)[0]
            checks["logs_rc"] = self.cli("executions", "logs", exec_id)[0]
        return checks


def _failure(execution: Any) -> str | None:
    failure = execution.failure
    return None if failure is None else f"{failure.origin}: {failure.message}"[:500]


def _describe(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    return repr(value)[:200]


if __name__ == "__main__":
    raise SystemExit(main())

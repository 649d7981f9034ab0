"""Flows whose launcher reports the outcome: pauses resumed elsewhere, Ctrl-C, cancel.

Run as a script: ``python outcome_flows.py <scenario>``. The launcher does
``handle = flow.run(); handle.wait()`` and writes what happened to
``$LIFECYCLE_DIR/outcome.json`` (result, or exception class, message,
origin and status), so tests can read the launcher's view across processes.

* ``paused``: ``draft()``, then reads ``os.environ["ORIG_ONLY"]`` (set only
  in the launcher's environment), then ``kitaru.wait(schema=Ok, timeout=3)``.
  Resumed from a shell without ``ORIG_ONLY``, the resumed body raises
  ``KeyError: 'ORIG_ONLY'``.
* ``slow``: ``first()`` then ``slow()``, which writes ``started_slow`` and
  blocks while ``hang_slow`` exists; a test sends SIGINT or cancels.

``python outcome_flows.py probe <exec_id> [resuming] [elsewhere]`` prints the
execution's raw status and owner record as JSON. With ``resuming`` it first
moves a paused execution to ``resuming`` (as a resumer does before its body
starts), lets the one run loader judge it, as a reader on this host and as
one on another host would, and moves it back to ``paused``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import kitaru

STATE = Path(os.environ.get("LIFECYCLE_DIR", "."))


class Ok(BaseModel):
    ok: bool


def _mark(name: str) -> None:
    with open(STATE / "ran", "a") as journal:
        journal.write(name + "\n")
    (STATE / f"started_{name}").touch()


@kitaru.checkpoint
def draft() -> str:
    _mark("draft")
    return "draft"


@kitaru.checkpoint
def finish(text: str, ok: bool) -> str:
    _mark("finish")
    return f"{text}:{ok}"


@kitaru.flow(cache=False)
def paused() -> str:
    text = draft()
    text += os.environ["ORIG_ONLY"]
    answer = kitaru.wait(schema=Ok, name="approve", timeout=3)
    return finish(text, answer.ok)


@kitaru.checkpoint
def first() -> int:
    _mark("first")
    return 1


def _slow(value: int) -> int:
    _mark("slow")
    while (STATE / "hang_slow").exists():
        time.sleep(0.05)
    return value + 1


@kitaru.checkpoint
def slow(value: int) -> int:
    return _slow(value)


@kitaru.flow(cache=False)
def slow_flow() -> int:
    return slow(first())


@kitaru.checkpoint(retries=2)
def slow_retried(value: int) -> int:
    return _slow(value)


@kitaru.flow(cache=False)
def slow_retried_flow() -> int:
    return slow_retried(first())


FLOWS = {"paused": paused, "slow": slow_flow, "slow_retried": slow_retried_flow}


def _write(name: str, text: str) -> None:
    """Write a state file atomically (tests poll for it to exist)."""
    target = STATE / name
    target.with_name(name + ".tmp").write_text(text)
    target.with_name(name + ".tmp").replace(target)


def _record(outcome: dict[str, Any]) -> None:
    _write("outcome.json", json.dumps(outcome))


def probe(exec_id: str, *options: str) -> int:
    import socket

    from kitaru.engine import get_engine
    from kitaru.execution import ownership
    from kitaru.execution.runs import load_run

    runs = get_engine().runs
    judged: dict[str, str] = {}
    if "resuming" in options:
        runs.set_status(exec_id, "resuming", reason="probe")
        judged["here"] = load_run(exec_id).status
        real_hostname = socket.gethostname
        socket.gethostname = lambda: "another-host"  # type: ignore[assignment]
        judged["elsewhere"] = load_run(exec_id).status
        socket.gethostname = real_hostname  # type: ignore[assignment]
        if runs.get_run(exec_id, details=False).status == "resuming":
            runs.set_status(exec_id, "paused", reason="probe")
    run = runs.get_run(exec_id)
    print(
        json.dumps(
            {
                "status": run.status,
                "judged": judged,
                "owner": run.metadata.get(ownership.OWNER_KEY),
                "heartbeat": run.metadata.get(ownership.HEARTBEAT_KEY),
            }
        )
    )
    return 0


def main(scenario: str) -> int:
    handle = None
    try:
        handle = FLOWS[scenario].run()
        _write("launched", handle.exec_id)
        value = handle.wait()
    except BaseException as exc:  # the launcher's view of the outcome
        _record(
            {
                "exec_id": handle.exec_id if handle is not None else None,
                "type": type(exc).__name__,
                "bases": [cls.__name__ for cls in type(exc).__mro__],
                "message": str(exc),
                "origin": str(getattr(exc, "failure_origin", None)),
                "status": getattr(exc, "status", None),
                "traceback": traceback.format_exc(),
            }
        )
        raise
    _record({"exec_id": handle.exec_id, "result": value})
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        sys.exit(probe(*sys.argv[2:]))
    sys.exit(main(sys.argv[1]))

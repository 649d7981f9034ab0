"""The flow the kill and outage trials run: five checkpoints, two multi-MB outputs, one retry.

Run as a script from a scratch project directory::

    python workload.py SEED [STACK]

``$FAULT_STATE`` is the trial's state directory. The workload reports to the
harness through two append-only files there, one line per event:

* ``ran``: a checkpoint's name, appended as the last thing its body does
  before it returns (the side-effect counter: a checkpoint whose store record
  says "completed" must never append again after a retry);
* ``events``: ``<time.time()> <event> <name>`` lines (``enter``, ``return``,
  ``attempt_failed``, ``retry_enter``, ``body_end``, ``returned``) so the harness can kill
  the process at a chosen moment: just after ``return fetch`` the engine is
  writing a 6 MB artifact, just after ``return digest`` it stores a small
  output and updates the call's status, between ``body_end`` and ``returned
  run`` it records the flow's result and finishes the run.

``flaky`` has ``retries=1`` and fails its first attempt once per trial (a
marker file in ``$FAULT_STATE``), so every trial exercises a checkpoint retry.
``$FAULT_HOLD`` names an event (for example ``return:expand``): the workload
writes ``hold_reached`` and blocks there until ``hold`` disappears, which is
how the store-outage test cuts the S3 store during one exact upload.

Every value is a pure function of SEED (``kill_values.expected``, copied next
to this file), so the harness can check that each stored output and the
flow's result load back exactly.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kill_values import BIG, blob, digest_of, expected, summary_of

import kitaru

STATE = Path(os.environ.get("FAULT_STATE", "."))


def event(kind: str, name: str) -> None:
    """Append one event line (one ``write`` call, flushed on close)."""
    with open(STATE / "events", "a") as events:
        events.write(f"{time.time():.6f} {kind} {name}\n")
    hold = os.environ.get("FAULT_HOLD", "")
    if hold == f"{kind}:{name}":
        (STATE / "hold_reached").touch()
        while (STATE / "hold").exists():
            time.sleep(0.02)


def succeeded(name: str) -> None:
    """Count one successful execution of ``name`` (the side-effect counter)."""
    event("return", name)
    with open(STATE / "ran", "a") as ran:
        ran.write(name + "\n")


@kitaru.checkpoint
def fetch(seed: int) -> bytes:
    event("enter", "fetch")
    data = blob(seed, "fetch", BIG)
    succeeded("fetch")
    return data


@kitaru.checkpoint
def digest(data: bytes) -> dict:
    event("enter", "digest")
    result = digest_of(data)
    succeeded("digest")
    return result


@kitaru.checkpoint(retries=1)
def flaky(summary: dict) -> dict:
    marker = STATE / "flaky_failed_once"
    if not marker.exists():
        event("enter", "flaky")
        marker.touch()
        event("attempt_failed", "flaky")
        raise RuntimeError("flaky fails its first attempt on purpose")
    event("retry_enter", "flaky")
    result = {**summary, "checked": True}
    succeeded("flaky")
    return result


@kitaru.checkpoint
def expand(summary: dict, seed: int) -> bytes:
    event("enter", "expand")
    data = blob(seed, summary["sha256"], BIG * 2 // 3)
    succeeded("expand")
    return data


@kitaru.checkpoint
def summarize(data: bytes, summary: dict) -> dict:
    event("enter", "summarize")
    result = summary_of(data, summary)
    succeeded("summarize")
    return result


@kitaru.flow(cache=False)
def fault_workload(seed: int) -> dict:
    data = fetch(seed)
    summary = digest(data)
    checked = flaky(summary)
    more = expand(checked, seed)
    result = summarize(more, checked)
    event("body_end", "flow")
    return {"seed": seed, **result}


if __name__ == "__main__":
    stack = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    handle = fault_workload.run(int(sys.argv[1]), stack=stack)
    event("returned", "run")  # the run (and its result) is recorded by now
    print("EXEC", handle.exec_id, flush=True)
    print("RESULT", handle.wait() == expected(int(sys.argv[1]))["flow"], flush=True)

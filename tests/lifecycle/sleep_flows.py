"""Flows with ``kitaru.sleep()`` for tests/lifecycle/test_sleep.py.

Run as a script: ``python sleep_flows.py SECONDS`` (or ``until:<ISO time>``
for ``kitaru.sleep_until``, or ``child:SECONDS`` for a sleep in a child
flow). The flow runs checkpoint ``before``, sleeps, then runs ``after``;
every checkpoint body appends its name to ``$LIFECYCLE_DIR/ran`` so tests
can tell reused checkpoints from re-run ones. While ``$LIFECYCLE_DIR/fail``
exists, the flow body raises after ``before`` (before it reaches the sleep).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import kitaru

STATE = Path(os.environ.get("LIFECYCLE_DIR", "."))


def _work(name: str, value: int) -> int:
    with open(STATE / "ran", "a") as journal:
        journal.write(name + "\n")
    return value + 1


@kitaru.checkpoint
def before(value: int) -> int:
    return _work("before", value)


@kitaru.checkpoint
def after(value: int) -> int:
    return _work("after", value)


@kitaru.flow(cache=False)
def nap(how_long: str) -> int:
    """The child flow of ``sleepy`` for ``child:SECONDS``: it only sleeps."""
    kitaru.sleep(float(how_long))
    return 0


@kitaru.flow(cache=False)
def sleepy(how_long: str) -> int:
    value = before(0)
    if (STATE / "fail").exists():
        raise RuntimeError("sleepy fails before its sleep on purpose")
    if how_long.startswith("child:"):
        value += nap(how_long.removeprefix("child:"))
    elif how_long.startswith("until:"):
        kitaru.sleep_until(datetime.fromisoformat(how_long.removeprefix("until:")))
    else:
        kitaru.sleep(float(how_long))
    return after(value)


if __name__ == "__main__":
    handle = sleepy.run(sys.argv[1])
    print("EXEC", handle.exec_id, handle.status)

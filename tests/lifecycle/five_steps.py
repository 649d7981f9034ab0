"""A five-checkpoint flow for crash, retry, divergence and cancel tests.

Run as a script: ``python five_steps.py X``. Behaviour is steered by files in
``$LIFECYCLE_DIR``: ``hang_<k>`` makes checkpoint k block (after writing
``started_<k>``), ``fail_<k>`` makes it raise, ``branch`` switches the flow
to a different checkpoint sequence. Every checkpoint body appends its name to
``$LIFECYCLE_DIR/ran`` so tests can count executions across processes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import kitaru

STATE = Path(os.environ.get("LIFECYCLE_DIR", "."))


def _work(name: str, value: int) -> int:
    with open(STATE / "ran", "a") as journal:
        journal.write(name + "\n")
    (STATE / f"started_{name}").touch()
    if (STATE / f"fail_{name}").exists():
        raise RuntimeError(f"{name} fails on purpose")
    while (STATE / f"hang_{name}").exists():
        time.sleep(0.05)
    return value + 1


@kitaru.checkpoint
def s1(value: int) -> int:
    return _work("s1", value)


@kitaru.checkpoint
def s2(value: int) -> int:
    return _work("s2", value)


@kitaru.checkpoint
def s3(value: int) -> int:
    return _work("s3", value)


@kitaru.checkpoint
def s4(value: int) -> int:
    return _work("s4", value)


@kitaru.checkpoint
def s5(value: int) -> int:
    return _work("s5", value)


@kitaru.checkpoint
def other(value: int) -> int:
    return _work("other", value)


@kitaru.flow(cache=False)
def five(start: int) -> int:
    value = s1(start)
    if (STATE / "branch").exists():
        value = other(value)
    value = s2(value)
    value = s3(value)
    value = s4(value)
    return s5(value)


if __name__ == "__main__":
    handle = five.run(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print("EXEC", handle.exec_id, handle.status)

"""Real flows for tests/core/test_child_flows.py: parents that call other flows as child flows.

Run as a script in a project directory: ``python child_flows.py FLOW:VALUE ...`` runs each flow
with that integer input and prints one line per run, ``RUN {"flow", "exec_id", "value"}``,
``RUN {"flow", "exec_id", "error", "message"}`` when ``handle.wait()`` raised, or
``RUN {"flow", "exec_id", "status": "waiting"}`` when the execution paused at a wait.

Behaviour is steered by files in ``$CHILD_FLOWS_STATE``: ``fail_<checkpoint>`` makes that
checkpoint raise, ``hang_<checkpoint>`` makes it block (after writing ``started_<checkpoint>``)
until the file is removed, ``shift`` makes ``calls_directly`` pass its child another input. Every
checkpoint body appends its name to ``$CHILD_FLOWS_STATE/ran``, so tests count what really ran
across processes (a child that is reused does not run its checkpoints).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import kitaru
from kitaru.errors import KitaruExecutionError

STATE = Path(os.environ.get("CHILD_FLOWS_STATE", "."))


def _work(name: str) -> None:
    with open(STATE / "ran", "a") as journal:
        journal.write(name + "\n")
    (STATE / f"started_{name}").touch()
    if (STATE / f"fail_{name}").exists():
        raise RuntimeError(f"{name} fails on purpose")
    while (STATE / f"hang_{name}").exists():
        time.sleep(0.05)


@kitaru.checkpoint
def double(value: int) -> int:
    _work("double")
    return value * 2


@kitaru.checkpoint
def finish(value: int) -> int:
    _work("finish")
    return value + 1


# -- the child, and parents calling it -------------------------------------------------------


@kitaru.flow(cache=False)
def leaf(value: int) -> int:
    return double(value)


@kitaru.flow(cache=False)
def calls_directly(value: int) -> int:
    if (STATE / "shift").exists():
        value += 100
    return finish(leaf(value))


@kitaru.flow(cache=False)
def calls_run_wait(value: int) -> int:
    handle = leaf.run(value)
    return finish(handle.wait())


@kitaru.flow(cache=False)
def two_children(value: int) -> list[int]:
    return [leaf(value), leaf.run(value + 1).wait()]


@kitaru.flow(cache=False)
def middle(value: int) -> int:
    return leaf(value) + 1


@kitaru.flow(cache=False)
def nested(value: int) -> int:
    return middle(value) * 10


@kitaru.flow(cache=False)
def catches_failed_child(value: int) -> str:
    handle = leaf.run(value)
    try:
        handle.wait()
    except KitaruExecutionError as exc:
        return f"caught {type(exc).__name__} of {'the child' if exc.exec_id == handle.exec_id else exc.exec_id}"
    return "the child completed"


@kitaru.flow(cache=False)
def asks(value: int) -> int:
    extra = kitaru.wait(schema=int, name="extra", question="How much more?", timeout=1)
    return double(value + extra)


@kitaru.flow(cache=False)
def waits_for_child(value: int) -> int:
    return finish(asks(value))


# -- what is refused ---------------------------------------------------------------------------


@kitaru.checkpoint
def starts_a_flow(value: int) -> int:
    return int(leaf(value))


@kitaru.flow(cache=False)
def calls_in_checkpoint(value: int) -> int:
    return starts_a_flow(value)


@kitaru.flow(cache=False)
def child_on_its_own_stack(value: int) -> int:
    return int(leaf.run(value, stack="elsewhere").wait())


def main(runs: list[str]) -> None:
    for run in runs:
        name, value = run.split(":")
        handle = globals()[name].run(int(value))
        if str(handle.status) == "waiting":  # paused at a wait, in this flow or a child
            print("RUN " + json.dumps({"flow": name, "exec_id": handle.exec_id, "status": "waiting"}), flush=True)
            continue
        try:
            line = {"flow": name, "exec_id": handle.exec_id, "value": handle.wait()}
        except KitaruExecutionError as exc:
            line = {"flow": name, "exec_id": handle.exec_id, "error": type(exc).__name__, "message": str(exc)}
        print("RUN " + json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

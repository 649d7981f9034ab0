"""Real flows with ``kitaru.receive()``, exercised by tests/core/test_events.py.

Run a flow in its own process (from a project directory holding a copy of
this module, so a resuming process can import it again)::

    python run_events.py event_twice_flow

``main`` prints ``EXEC <id>``, ``STATUS <status>`` and, when the execution
completed, ``RESULT <json>``. Checkpoints count their runs in files under
``KITARU_TEST_COUNTER_DIR``; ``event_hold`` blocks until the file
``KITARU_TEST_RELEASE`` exists (tests create it), so a test can send while the
flow has not reached its ``receive`` yet, without a fixed sleep. A file
``KITARU_TEST_FAIL`` makes ``event_maybe_fail`` raise (for a retry).
Flow names start with ``event_`` so other test modules never pick them up.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import kitaru


def _bump(counter: str) -> int:
    directory = os.environ.get("KITARU_TEST_COUNTER_DIR")
    if not directory:
        return 0
    path = Path(directory) / counter
    count = int(path.read_text()) if path.exists() else 0
    path.write_text(str(count + 1))
    return count + 1


def _timeout() -> float:
    return float(os.environ.get("KITARU_TEST_RECEIVE_TIMEOUT", "2"))


@kitaru.checkpoint
def event_hold() -> str:
    """Signal that the body got here, then block until the test releases it."""
    _bump("hold")
    directory = Path(os.environ["KITARU_TEST_COUNTER_DIR"])
    (directory / "holding").touch()
    release = Path(os.environ["KITARU_TEST_RELEASE"])
    deadline = time.monotonic() + 120
    while not release.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released event_hold")
        time.sleep(0.05)
    return "released"


@kitaru.checkpoint
def event_use(value: Any) -> Any:
    _bump("use")
    return value


@kitaru.checkpoint
def event_maybe_fail(value: Any) -> Any:
    _bump("maybe_fail")
    if os.environ.get("KITARU_TEST_FAIL") and Path(os.environ["KITARU_TEST_FAIL"]).exists():
        raise RuntimeError("failing on purpose")
    return value


@kitaru.flow(cache=False)
def event_twice_flow() -> dict:
    """Held before its receives; two receives of one topic, then a step that may fail."""
    event_hold()
    first = kitaru.receive("orders", timeout=_timeout())
    second = kitaru.receive("orders", timeout=_timeout())
    return {"first": first, "second": second, "used": event_use(first), "checked": event_maybe_fail(second)}


@kitaru.flow(cache=False)
def event_one_flow() -> Any:
    """One receive on ``payment``, nothing before it."""
    return event_use(kitaru.receive("payment", timeout=_timeout()))


@kitaru.flow(cache=False)
def event_topics_flow() -> dict:
    """Receives on two topics, ``a`` first, then ``b`` twice."""
    event_hold()
    a = kitaru.receive("a", timeout=_timeout())
    b = kitaru.receive("b", timeout=_timeout())
    b2 = kitaru.receive("b", timeout=_timeout())
    return {"a": a, "b": [b, b2]}


@kitaru.flow(cache=False)
def event_bad_topic_flow() -> Any:
    return kitaru.receive("no spaces allowed", timeout=0)


@kitaru.flow(cache=False)
def event_in_checkpoint_flow() -> Any:
    return event_receive_inside()


@kitaru.checkpoint
def event_receive_inside() -> Any:
    return kitaru.receive("inside", timeout=0)


def main(argv: list[str] | None = None) -> None:
    """Run the flow named by ``argv[0]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    flow = globals()[args[0]]
    try:
        handle = flow.run(*args[1:])
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        raise SystemExit(3) from None
    print(f"EXEC {handle.exec_id}", flush=True)
    status = handle.status
    print(f"STATUS {status}", flush=True)
    if status == "completed":
        print(f"RESULT {json.dumps(handle.wait())}", flush=True)

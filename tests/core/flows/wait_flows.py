"""Real flows with ``kitaru.wait()``, exercised by tests/core/test_waits.py.

Run a flow in its own process (from the repository root, so a resuming
process can import this module again)::

    python -c "from tests.core.flows.wait_flows import main; main()" wait_bool_flow topic

``main`` prints ``EXEC <id>`` and, when the execution completed, ``RESULT
<json>``. Checkpoint bodies count their executions in files under
``KITARU_TEST_COUNTER_DIR`` so tests can tell reused checkpoints from re-run ones.
Flow names start with ``wait_`` so other test modules never pick them up.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

import kitaru


class Review(BaseModel):
    approved: bool
    note: str
    score: int = 0


def _bump(counter: str) -> int:
    directory = os.environ.get("KITARU_TEST_COUNTER_DIR")
    if not directory:
        return 0
    path = Path(directory) / counter
    count = int(path.read_text()) if path.exists() else 0
    path.write_text(str(count + 1))
    return count + 1


def _timeout() -> float:
    return float(os.environ.get("KITARU_TEST_WAIT_TIMEOUT", "2"))


@kitaru.checkpoint
def wait_prepare(topic: str) -> str:
    _bump("prepare")
    return f"draft about {topic}"


@kitaru.checkpoint
def wait_finish(draft: str, verdict: str) -> str:
    _bump("finish")
    return f"{draft} -> {verdict}"


@kitaru.flow(cache=False)
def wait_bool_flow(topic: str) -> dict:
    """Default-named bool wait between two checkpoints."""
    draft = wait_prepare(topic)
    approved = kitaru.wait(schema=bool, question=f"Publish {draft!r}?", timeout=_timeout())
    return {"approved": approved, "type": type(approved).__name__, "final": wait_finish(draft, str(approved))}


@kitaru.flow(cache=False)
def wait_model_flow(topic: str) -> dict:
    """A pydantic-model wait with an explicit name, question and metadata."""
    draft = wait_prepare(topic)
    review = kitaru.wait(
        schema=Review,
        name="review",
        question="Review the draft",
        timeout=_timeout(),
        metadata={"reviewer": "editor", "round": 1},
    )
    return {
        "type": type(review).__name__,
        "review": review.model_dump(),
        "final": wait_finish(draft, review.note),
    }


@kitaru.flow(cache=False)
def wait_gate_flow() -> str:
    """A continue/abort gate (schema=None)."""
    kitaru.wait(name="go", question="Continue?", timeout=_timeout())
    return wait_finish("gate", "continued")


@kitaru.flow(cache=False)
def wait_swallow_flow() -> str:
    """A body that (wrongly) swallows every exception around wait()."""
    try:
        answer = kitaru.wait(schema=str, name="swallowed", timeout=_timeout())
    except Exception:
        answer = "swallowed"
    # Must not run while the wait is unanswered.
    return wait_finish("after", answer)


@kitaru.flow(cache=False)
def wait_swallow_return_flow() -> str:
    """Swallows the pause and returns at once: the execution must stay waiting."""
    try:
        kitaru.wait(name="ignored", timeout=_timeout())
    except Exception:
        pass
    return "returned anyway"


def main(argv: list[str] | None = None) -> None:
    """Run the flow named by ``argv[0]`` with the remaining arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    flow = globals()[args[0]]
    handle = flow.run(*args[1:])
    print(f"EXEC {handle.exec_id}", flush=True)
    status = handle.status
    print(f"STATUS {status}", flush=True)
    if status == "completed":
        print(f"RESULT {json.dumps(handle.wait())}", flush=True)

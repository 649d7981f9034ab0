"""Flows the dashboard tests run in their own processes (from this directory).

``python ui_flows.py NAME ARG`` runs flow ``NAME`` and prints ``EXEC <id>`` and ``STATUS <status>``.
Names start with ``ui_`` so no other test module picks them up. The review
flow's wait polls for ``KITARU_TEST_WAIT_TIMEOUT`` seconds (default 1) and
then pauses, so its process exits and the execution shows ``waiting``.
"""

from __future__ import annotations

import os
import sys

from pydantic import BaseModel

import kitaru

SECRET_LOOKING_KEY = "sk-test-0123456789abcdef0123456789"
"""Logged as metadata under a secret name: the dashboard must never show it."""


class Review(BaseModel):
    """The editor's answer to the review wait."""

    approved: bool
    note: str
    score: int = 0


@kitaru.checkpoint
def ui_research(topic: str) -> str:
    print(f"researching {topic}")
    kitaru.log(sources=3, api_key=SECRET_LOOKING_KEY)
    return f"notes about {topic}"


@kitaru.checkpoint
def ui_draft(notes: str) -> dict:
    print("drafting from the notes")
    return {"title": notes.upper(), "words": len(notes.split())}


@kitaru.checkpoint
def ui_publish(draft: dict, note: str) -> str:
    return f"{draft['title']} ({note})"


@kitaru.checkpoint
def ui_explode(notes: str) -> str:
    raise ValueError(f"cannot summarise {notes!r}: the notes are too short")


@kitaru.flow(cache=False)
def ui_pipeline(topic: str) -> str:
    """Three checkpoints that complete."""
    draft = ui_draft(ui_research(topic))
    return ui_publish(draft, "auto")


@kitaru.flow(cache=False)
def ui_failing(topic: str) -> str:
    """A checkpoint that fails after one that succeeded."""
    return ui_explode(ui_research(topic))


@kitaru.flow(cache=False)
def ui_review(topic: str) -> str:
    """Waits for a human's review between drafting and publishing."""
    draft = ui_draft(ui_research(topic))
    review = kitaru.wait(
        schema=Review,
        name="review",
        question="Approve the draft?",
        timeout=float(os.environ.get("KITARU_TEST_WAIT_TIMEOUT", "1")),
    )
    return ui_publish(draft, review.note if review.approved else "rejected")


def main() -> None:
    """Run the flow named by the first argument with the rest as its arguments."""
    name, *args = sys.argv[1:]
    handle = globals()[name].run(*args)  # on the local default, returns once the body ended or paused
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"STATUS {handle.status}", flush=True)


if __name__ == "__main__":
    main()

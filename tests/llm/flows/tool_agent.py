"""A research agent: one model call with a tool and a structured answer, then a checkpoint that can fail.

``TOOL_AGENT_LOG`` names a file that ``search_web`` appends a line to on every
run (the side-effect counter). ``TOOL_AGENT_FAIL`` names a file: while it
exists, ``publish`` fails, so a test can fail the execution after the paid
calls and the tool run, then retry it. Run as a script (``python -m
tests.llm.flows.tool_agent TOPIC``) it runs the flow once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import BaseModel

import kitaru

MODEL = "openai/gpt-4o-mini"


def search_web(query: str, limit: int = 2) -> list[str]:
    """Search the web and return the top result titles.

    Args:
        query: What to search for.
        limit: How many titles to return.
    """
    with open(os.environ["TOOL_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(query + "\n")
    return [f"{query} result {number}" for number in range(1, limit + 1)]


class Brief(BaseModel):
    """What the agent hands to the publisher."""

    title: str
    points: list[str]


@kitaru.checkpoint
def publish(brief: dict[str, object]) -> str:
    flag = os.environ.get("TOOL_AGENT_FAIL")
    if flag and Path(flag).exists():
        raise RuntimeError("the publisher is down")
    return f"PUBLISHED: {brief['title']} ({len(brief['points'])} points)"  # type: ignore[arg-type]


@kitaru.flow(cache=False)
def researcher(topic: str) -> str:
    brief = kitaru.llm(f"Research {topic}", model=MODEL, tools=[search_web], response_format=Brief, name="research")
    return publish({"title": brief.title, "points": brief.points})


@kitaru.flow(cache=False)
def plain_researcher(topic: str) -> str:
    """Tools without a response format: the model's text comes back."""
    return kitaru.llm(f"Research {topic}", model=MODEL, tools=[search_web])


if __name__ == "__main__":
    print("RESULT", researcher.run(sys.argv[1]).wait(), flush=True)

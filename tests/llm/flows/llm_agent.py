"""Flows with two flow-body LLM calls, then a checkpoint that can fail or calls an LLM inline.

``LLM_AGENT_FAIL`` names a file: while it exists, ``publish`` fails, so a test
can make the execution fail after the paid calls and then retry it.
"""

from __future__ import annotations

import os
from pathlib import Path

import kitaru

MODEL = "openai/gpt-4o-mini"


@kitaru.checkpoint
def publish(draft: str) -> str:
    flag = os.environ.get("LLM_AGENT_FAIL")
    if flag and Path(flag).exists():
        raise RuntimeError("the publisher is down")
    return f"PUBLISHED: {draft}"


@kitaru.checkpoint
def summarise(text: str) -> str:
    return kitaru.llm(f"Summarise: {text}", model=MODEL, name="1st summary")


@kitaru.flow
def agent(topic: str) -> str:
    notes = kitaru.llm(f"Research {topic}", model=MODEL, name="research")
    draft = kitaru.llm(
        [{"role": "user", "content": f"Draft a post from: {notes}"}],
        model=MODEL,
        system="Be brief.",
        max_tokens=50,
        temperature=0.2,
    )
    return publish(draft)


@kitaru.flow
def agent_with_summary(topic: str) -> str:
    """The same two calls, then a checkpoint that makes an inline call of its own."""
    notes = kitaru.llm(f"Research {topic}", model=MODEL, name="research")
    draft = kitaru.llm(f"Draft a post from: {notes}", model=MODEL, max_tokens=50)
    return summarise(draft)

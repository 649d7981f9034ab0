"""Flows the MCP server tests run through ``kitaru_executions_run``.

tests/mcp/test_server.py copies this file into the server's working
directory (a user's project) and names targets like ``mcp_flows.py:mcp_writer``.
Flow names start with ``mcp_`` so other test modules never pick them up.
``KITARU_TEST_FLAG_DIR`` holds switch files: while ``<dir>/fail`` exists,
``mcp_flaky`` fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import kitaru


@kitaru.checkpoint
def mcp_research(topic: str) -> str:
    print(f"researching {topic}")
    return f"notes for {topic}"


@kitaru.checkpoint
def mcp_write(notes: str) -> str:
    kitaru.save("sources", {"notes": notes, "count": 1}, type="context")
    return f"Draft from {notes}"


@kitaru.checkpoint
def mcp_publish(draft: str) -> str:
    return f"PUBLISHED: {draft}"


@kitaru.flow(cache=False)
def mcp_writer(topic: str) -> str:
    """research -> write -> publish, the replay example."""
    return mcp_publish(mcp_write(mcp_research(topic)))


@kitaru.flow(cache=False)
def mcp_gated(topic: str) -> str:
    """Waits for a yes/no before publishing; pauses after 1 s without an answer."""
    draft = mcp_write(mcp_research(topic))
    approved = kitaru.wait(schema=bool, name="approve", question=f"Publish {draft!r}?", timeout=1)
    return mcp_publish(draft if approved else "nothing")


@kitaru.flow(cache=False)
def mcp_listener(topic: str) -> str:
    """Waits for an event on ``topic``; pauses after 1 s without one."""
    note = kitaru.receive(topic, timeout=1)
    return mcp_publish(f"{topic}: {note}")


@kitaru.checkpoint
def mcp_check() -> str:
    flag = Path(os.environ["KITARU_TEST_FLAG_DIR"]) / "fail"
    if flag.exists():
        raise RuntimeError("flaky failure: the fail flag is set")
    return "checked"


@kitaru.flow(cache=False)
def mcp_flaky() -> str:
    """Fails while the fail flag exists; a retry after removing it completes."""
    first = mcp_write("flaky")
    return f"{first} / {mcp_check()}"


def not_a_flow() -> str:
    return "plain function"

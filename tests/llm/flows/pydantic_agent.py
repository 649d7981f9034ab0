"""A Pydantic AI research agent with one tool, durable through ``KitaruAgent``.

``TOOL_AGENT_LOG`` names the file ``search_web`` appends a line to on every
run; ``TOOL_AGENT_FAIL`` names a file: while it exists, ``publish`` fails;
while the file ``TOOL_AGENT_TOOL_FAIL`` names exists, ``search_web`` fails.
The model is OpenAI's, reached through ``OPENAI_BASE_URL``. Run as a script
(``python -m tests.llm.flows.pydantic_agent TOPIC``) it runs the flow once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic_ai import Agent

import kitaru
from kitaru.adapters.pydantic_ai import KitaruAgent

researcher = KitaruAgent(Agent("openai-chat:gpt-4o-mini", name="researcher", defer_model_check=True))


@researcher.wrapped.tool_plain
def search_web(query: str, limit: int = 2) -> list[str]:
    """Search the web and return the top result titles.

    Args:
        query: What to search for.
        limit: How many titles to return.
    """
    broken = os.environ.get("TOOL_AGENT_TOOL_FAIL")
    if broken and Path(broken).exists():
        raise RuntimeError("the search service is down")
    with open(os.environ["TOOL_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(query + "\n")
    return [f"{query} result {number}" for number in range(1, limit + 1)]


@kitaru.checkpoint
def publish(text: str) -> str:
    flag = os.environ.get("TOOL_AGENT_FAIL")
    if flag and Path(flag).exists():
        raise RuntimeError("the publisher is down")
    return f"PUBLISHED: {text}"


@kitaru.flow(cache=False)
def research(topic: str) -> str:
    return publish(researcher.run_sync(f"Research {topic}").output)


@kitaru.flow(cache=False)
async def research_async(topic: str) -> str:
    result = await researcher.run(f"Research {topic}")
    return str(result.output)


if __name__ == "__main__":
    print("RESULT", research.run(sys.argv[1]).wait(), flush=True)


def mcp_researcher() -> KitaruAgent:
    """An agent whose only tool comes from a stdio MCP server (``search_mcp_server.py``)."""
    from fastmcp.client.transports import PythonStdioTransport
    from pydantic_ai.mcp import MCPToolset

    server = Path(__file__).with_name("search_mcp_server.py")
    toolset = MCPToolset(PythonStdioTransport(server, env={"TOOL_AGENT_LOG": os.environ["TOOL_AGENT_LOG"]}))
    return KitaruAgent(
        Agent("openai-chat:gpt-4o-mini", name="mcp_researcher", toolsets=[toolset], defer_model_check=True)
    )


@kitaru.flow(cache=False)
def research_with_mcp(topic: str) -> str:
    return publish(mcp_researcher().run_sync(f"Research {topic}").output)

"""A stdio MCP server with one tool, ``search_web``, for the Pydantic AI MCP test.

Each call appends its query to the file ``TOOL_AGENT_LOG`` names (the
side-effect counter), like the function tool of the other agent tests.
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("search")


@server.tool()
def search_web(query: str, limit: int = 2) -> list[str]:
    """Search the web and return the top result titles."""
    with open(os.environ["TOOL_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(query + "\n")
    return [f"{query} result {number}" for number in range(1, limit + 1)]


if __name__ == "__main__":
    server.run()

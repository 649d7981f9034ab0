"""``kitaru-mcp``: Kitaru's MCP server, so coding agents can drive Kitaru.

The server speaks MCP over stdio (the official ``mcp`` SDK; server name
``kitaru``) and offers tools to run flows, inspect and control executions,
read artifacts and logs, manage stacks and the local server. Install it with
``pip install 'kitaru[mcp]'`` and start it with ``kitaru-mcp`` (see
``docs/mcp.md``). Importing this package without the ``mcp`` SDK raises an
ImportError that says how to install it.
"""

from __future__ import annotations

from typing import Any

try:
    import mcp.server  # noqa: F401  (the official SDK, not this package)
except ImportError as exc:  # pragma: no cover - exercised in an env without the extra
    raise ImportError(
        "MCP server dependencies are not installed. Install with: pip install kitaru[mcp]"
    ) from exc


def __getattr__(name: str) -> Any:
    if name in ("build_server", "main"):
        from kitaru.mcp import server

        return getattr(server, name)
    raise AttributeError(f"module 'kitaru.mcp' has no attribute {name!r}")


__all__ = ["build_server", "main"]

"""Where Kitaru keeps its metadata: the local default, the local server, a remote server.

Without any login, Kitaru records executions in a SQLite database under the
config directory. Two things change that:

* :func:`start_local_server` (``kitaru login`` without a URL) starts the
  engine's server and dashboard as a daemon on ``127.0.0.1`` (port 8383 by
  default) and connects to it. It shares the same local database, so nothing
  recorded before is lost. :func:`stop_local_server` stops it again.
* :func:`connect` (``kitaru login URL --api-key KEY``) logs in to a remote
  Kitaru server and saves the login in the config directory.

:func:`logout` undoes both. The functions return plain dictionaries, the same
ones the CLI prints with ``-o json`` and the MCP tools return. The engine is
loaded only when one of them is called.

The modules:

* :mod:`~kitaru.connection.environment`: what Kitaru is connected to
  (:func:`describe_connection`), reachability, the variables that choose a server;
* :mod:`~kitaru.connection.login_checks`: what a login checks before writing;
* :mod:`~kitaru.connection.login`: :func:`connect`, :func:`logout`;
* :mod:`~kitaru.connection.local_server`: the local server's rules and state.
"""

from __future__ import annotations

from kitaru.connection.environment import (
    ConnectionInfo,
    active_stack_name,
    active_user_name,
    check_server_reachable,
    describe_connection,
    engine_version,
    saved_server_url,
)
from kitaru.connection.local_server import (
    DEFAULT_PORT,
    LocalServerState,
    local_server_state,
    local_server_status,
    start_local_server,
    stop_local_server,
)
from kitaru.connection.login import connect, login_to_server, logout

DEFAULT_LOCAL_PORT = DEFAULT_PORT
"""The local server's default port (8383)."""

__all__ = [
    "DEFAULT_LOCAL_PORT",
    "ConnectionInfo",
    "LocalServerState",
    "active_stack_name",
    "active_user_name",
    "check_server_reachable",
    "connect",
    "describe_connection",
    "engine_version",
    "local_server_state",
    "local_server_status",
    "login_to_server",
    "logout",
    "saved_server_url",
    "start_local_server",
    "stop_local_server",
]

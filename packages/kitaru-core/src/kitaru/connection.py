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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_LOCAL_PORT = 8383


def connect(
    server_url: str,
    *,
    api_key: str | None = None,
    refresh: bool = False,
    project: str | None = None,
    no_verify_ssl: bool = False,
    ssl_ca_cert: str | None = None,
    cloud_api_url: str | None = None,
    timeout: float | None = None,
) -> None:
    """Log in to a Kitaru server and make it the place executions are recorded.

    The URL and the API key are checked with the server before anything is
    saved; on any failure the saved configuration is left exactly as it was.
    Managed servers are recognised from the server's info and logged in to
    through their control plane.

    Example::

        kitaru.connect("https://kitaru.example.com", api_key=os.environ["MY_KEY"])

    Args:
        server_url: ``http://`` or ``https://`` URL of the server (a trailing
            ``/`` is ignored), or the name or ID of a managed workspace.
        api_key: API key of a service account. Without one, saved credentials
            are reused, or a browser login is started.
        refresh: Start a new browser login even if credentials are saved.
        project: Project to make active after connecting.
        no_verify_ssl: Do not verify the server's TLS certificate.
        ssl_ca_cert: Path of a CA bundle to verify the server with; wins over
            ``no_verify_ssl``.
        cloud_api_url: Control-plane URL for managed servers (rarely needed).
        timeout: Seconds to wait for each request to the server (default 30).

    Raises:
        KitaruUsageError: If the URL is not http(s) ("Invalid Kitaru server
            URL. Please use an http:// or https:// URL."), or ``KITARU_SERVER_URL``
            / ``KITARU_AUTH_TOKEN`` (or their ``ZENML_*`` equivalents) are set.
        KitaruBackendError: If the server is unreachable, refuses the key, or
            the login fails for any other reason.
    """
    login_to_server(
        server_url, api_key=api_key, refresh=refresh, project=project,
        no_verify_ssl=no_verify_ssl, ssl_ca_cert=ssl_ca_cert,
        cloud_api_url=cloud_api_url, timeout=timeout,
    )


def login_to_server(server: str, **options: Any) -> dict[str, Any]:
    """Log in to a remote server and return what ``kitaru login -o json`` prints.

    Same arguments as :func:`connect`; ``server`` may also be a managed
    workspace name or ID (host-like strings without a scheme are rejected).

    Returns:
        ``{"mode": "remote", "url": ..., "project": ...}``.
    """
    from kitaru._engine.login import login_remote

    return login_remote(server, **options)


def start_local_server(
    port: int | None = None, timeout: float = 60, *, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Start (or reuse) the local Kitaru server and connect to it.

    The server is the engine's server and dashboard, run as a background
    process bound to ``127.0.0.1`` only. A server already running is reused;
    asking for a different port restarts it there.

    Args:
        port: Port to serve on (1-65535). None reuses a running server on
            whatever port it has, or starts one on 8383.
        timeout: Seconds to wait for the server to come up (at least 1).
        progress: Optional callback receiving one human-readable line per
            step (``Starting local Kitaru server...``).

    Returns:
        ``{"mode": "local", "url": "http://127.0.0.1:8383", "action": a}``
        where ``a`` is ``connected`` (reused), ``restarted`` (new port) or
        ``started``.

    Raises:
        KitaruUsageError: For an invalid port or timeout.
        KitaruFeatureNotAvailableError: Without the server extra
            (``pip install 'kitaru[server]'``).
        KitaruBackendError: If the port is taken or the server does not come
            up; the message names the server's log file.
    """
    from kitaru._engine import server

    return server.start_local_server(port, timeout, progress)


def stop_local_server() -> dict[str, Any]:
    """Stop the local Kitaru server, if one is registered, and disconnect from it.

    Returns:
        ``{"stopped": bool, "url": <URL it served> | None}``; ``stopped`` is
        False when no server was running (calling this twice is fine).

    Raises:
        KitaruBackendError: If the server process cannot be stopped.
    """
    from kitaru._engine import server

    return server.stop_local_server()


def local_server_status() -> dict[str, Any]:
    """Describe the local server without changing anything.

    Returns:
        ``{"registered", "running", "url", "port", "connected", "log_file"}``.
    """
    from dataclasses import asdict

    from kitaru._engine import server

    return asdict(server.local_server_state())


def logout() -> dict[str, Any]:
    """Forget the remote login and stop the local server; go back to the local database.

    Idempotent: logging out twice is not an error.

    Returns:
        ``{"mode", "target", "local_fallback_available", "local_server_stopped"}``:
        ``mode`` is what the client was connected to (``remote``, ``local``
        for the local server, or ``none``), ``target`` its URL,
        ``local_fallback_available`` whether executions now go to the local
        database, ``local_server_stopped`` whether a running local server was
        stopped.

    Raises:
        KitaruUsageError: If authentication variables (``KITARU_SERVER_URL``,
            ``KITARU_AUTH_TOKEN``, ``ZENML_STORE_*``) are set: they, not the
            saved login, choose the server.
        KitaruBackendError: If the local server cannot be stopped.
    """
    from kitaru._engine import login, server

    login.refuse_if_auth_env("log out")
    local = server.local_server_state()
    saved_url = login.saved_remote_url()
    mode, target = "none", None
    if saved_url and local.url and saved_url == local.url:
        mode, target = "local", local.url
    elif saved_url:
        mode, target = "remote", saved_url
        login.forget_remote_login(saved_url)
    stopped = server.stop_local_server()["stopped"] if local.registered else False
    return {
        "mode": mode,
        "target": target,
        "local_fallback_available": login.uses_local_database(),
        "local_server_stopped": stopped,
    }


__all__ = [
    "DEFAULT_LOCAL_PORT",
    "connect",
    "local_server_status",
    "login_to_server",
    "logout",
    "start_local_server",
    "stop_local_server",
]

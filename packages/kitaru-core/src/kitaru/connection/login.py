"""Log in to a remote Kitaru server, and log out (remote or local).

A Kitaru server is an engine server. Logging in follows one rule: check
everything first, write only when it all worked.

1. The URL must be ``http://`` or ``https://``; a bare workspace name or ID is
   handed to the engine's managed-server login instead.
2. The server's public info endpoint must answer (this also tells whether it
   is a managed server and which auth scheme it uses).
3. The API key must be accepted by the server's login endpoint.
4. Only then are the key and the server URL saved. If saving or selecting
   the project still fails, the saved login is restored byte for byte.

Steps 1 to 3 (:mod:`kitaru.connection.login_checks`) run before the engine
touches the config directory, so a refused key leaves it exactly as it was.
API keys are never put in messages, return values or logs.
"""

from __future__ import annotations

from typing import Any

from kitaru.connection.environment import load_engine, prepare_engine, refuse_if_auth_env, saved_server_url
from kitaru.connection.local_server import local_server_state, stop_local_server
from kitaru.connection.login_checks import (
    DEFAULT_HTTP_TIMEOUT,
    check_api_key,
    check_login_arguments,
    normalize_server_url,
    server_info,
    short_reason,
    verify_setting,
)
from kitaru.engine import get_engine
from kitaru.engine.connection import Connection
from kitaru.engine.errors import RecordNotFound
from kitaru.errors import KitaruBackendError, KitaruUsageError


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
            / ``KITARU_AUTH_TOKEN`` (or the engine's own equivalents) are set.
        KitaruBackendError: If the server is unreachable, refuses the key, or
            the login fails for any other reason.
    """
    login_to_server(
        server_url, api_key=api_key, refresh=refresh, project=project,
        no_verify_ssl=no_verify_ssl, ssl_ca_cert=ssl_ca_cert,
        cloud_api_url=cloud_api_url, timeout=timeout,
    )


def login_to_server(
    server: str,
    *,
    api_key: str | None = None,
    refresh: bool = False,
    project: str | None = None,
    no_verify_ssl: bool = False,
    ssl_ca_cert: str | None = None,
    cloud_api_url: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Log in to a remote server and return what ``kitaru login -o json`` prints.

    Same arguments as :func:`connect`; ``server`` may also be a managed
    workspace name or ID (host-like strings without a scheme are rejected).

    Returns:
        ``{"mode": "remote", "url": ..., "project": <active project name or None>}``.

    Raises:
        KitaruUsageError: For an invalid URL or when auth variables are set.
        KitaruBackendError: For any failure talking to the server; nothing is
            saved in that case.
    """
    value, is_url = normalize_server_url(server)
    check_login_arguments(api_key, timeout)
    refuse_if_auth_env("log in")
    verify = verify_setting(no_verify_ssl, ssl_ca_cert)
    seconds = float(timeout) if timeout is not None else DEFAULT_HTTP_TIMEOUT
    prepare_engine()  # the engine's variables, before it is initialised below
    # Checks that need no engine state come first: a refused key leaves even a
    # brand-new config directory untouched.
    info = server_info(value, verify, seconds) if is_url else None
    managed = info is None or info.managed
    if api_key and not managed:
        check_api_key(value, api_key, verify, seconds)
    load_engine()
    connection = get_engine().connection
    with connection.login_transaction():
        try:
            if managed:
                url = connection.save_managed_login(
                    value, api_key=api_key, refresh=refresh, project=project, verify=verify,
                    cloud_api_url=cloud_api_url or (info.managed_api_url if info else None),
                )
            else:
                url = connection.save_server_login(
                    value, api_key=api_key, no_auth=bool(info and info.no_auth), refresh=refresh,
                    verify=verify, timeout=seconds,
                )
            project_name = _select_project(connection, project)
        except (KitaruBackendError, KitaruUsageError):
            raise
        except (Exception, SystemExit) as exc:
            raise KitaruBackendError(
                f"Could not log in to the Kitaru server at {value}: {short_reason(exc)}. Nothing was saved."
            ) from None
    return {"mode": "remote", "url": url, "project": project_name}


def _select_project(connection: Connection, project: str | None) -> str | None:
    if project:
        try:
            return connection.activate_project(project)
        except RecordNotFound:
            raise KitaruUsageError(
                f"No project named or with ID '{project}' exists on this server. Nothing was "
                "saved; check the name (your server administrator can list projects)."
            ) from None
    try:
        return connection.active_project_name()
    except Exception:
        return None


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
            ``KITARU_AUTH_TOKEN``, or the engine's own) are set: they, not the
            saved login, choose the server.
        KitaruBackendError: If the local server cannot be stopped.
    """
    refuse_if_auth_env("log out")
    local = local_server_state()
    saved_url = saved_server_url()
    connection = get_engine().connection
    mode, target = "none", None
    if saved_url and local.url and saved_url == local.url:
        mode, target = "local", local.url
    elif saved_url:
        mode, target = "remote", saved_url
        connection.forget_server_login(saved_url)
    stopped = stop_local_server()["stopped"] if local.registered else False
    return {
        "mode": mode,
        "target": target,
        "local_fallback_available": connection.uses_local_database(),
        "local_server_stopped": stopped,
    }


__all__ = ["connect", "login_to_server", "logout"]

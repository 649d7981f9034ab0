"""``kitaru login`` and ``kitaru logout`` (SPEC §4.1, §8.4).

* ``kitaru login`` (no SERVER) starts the local Kitaru server (the engine's
  server and dashboard, bound to ``127.0.0.1``, port 8383 or ``--port``) or
  reuses a running one, and connects to it. Needs ``kitaru[server]``.
  JSON item: ``{"mode": "local", "url": ..., "action": "started" | "connected" | "restarted"}``.
* ``kitaru login URL --api-key KEY`` logs in to a remote server after the
  server has accepted the key; nothing is saved if anything fails. JSON item:
  ``{"mode": "remote", "url": ..., "project": ...}``. ``--api-key -`` reads
  the key from standard input, which keeps it out of the shell history.
* ``kitaru logout`` forgets the remote login, stops a registered local server
  and goes back to the local database. JSON item: ``{"mode", "target",
  "local_fallback_available", "local_server_stopped"}``.

Both commands skip the engine until they need it and never print an API key.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel
from kitaru.errors import KitaruUsageError

DASHBOARD_URL = "http://127.0.0.1:8384"
"""Where ``kitaru ui`` serves Kitaru's dashboard by default."""

REMOTE_ONLY_OPTIONS = ("--api-key", "--refresh", "--project", "--no-verify-ssl", "--ssl-ca-cert")


def _read_api_key(value: str | None) -> str | None:
    """``-`` means: read the key from standard input (first line)."""
    if value != "-":
        return value
    key = sys.stdin.readline().strip()
    if not key:
        raise KitaruUsageError("--api-key - expects the API key on standard input, but it was empty.")
    return key


def _login_local(port: int | None, timeout: float | None) -> Item:
    from kitaru.connection import local_server_state, saved_server_url, start_local_server
    from kitaru.connection.environment import active_auth_env_vars

    warnings: list[str] = []
    overrides = active_auth_env_vars()
    if overrides:
        warnings.append(
            f"{', '.join(overrides)} {'is' if len(overrides) == 1 else 'are'} set and will keep "
            "choosing the server for processes that have it; unset it to use the local server."
        )
    remote = saved_server_url()
    local = local_server_state()
    if remote and remote != local.url:
        warnings.append(
            f"Disconnecting from the remote server {remote}. Its saved credentials are kept: "
            f"`kitaru login {remote}` reconnects."
        )

    def progress(line: str) -> None:
        # In JSON mode stdout is already routed to stderr by the output contract.
        print(line, flush=True)

    result = start_local_server(port, 60 if timeout is None else timeout, progress=progress)

    def text() -> str:
        return (
            f"Dashboard: {result['url']} (the engine's)\n"
            f"Kitaru's dashboard: run `kitaru ui` and open {DASHBOARD_URL}"
        )

    return Item(result, text=text, warnings=warnings)


def _login_remote(server: str, api_key: str | None, refresh: bool, project: str | None,
                  no_verify_ssl: bool, ssl_ca_cert: str | None, timeout: float | None) -> Item:
    from kitaru.connection import login_to_server

    result = login_to_server(
        server, api_key=api_key, refresh=refresh, project=project, no_verify_ssl=no_verify_ssl,
        ssl_ca_cert=ssl_ca_cert, timeout=timeout,
    )

    def text() -> Any:
        rows = [("Server", result["url"]), ("Project", result["project"])]
        return [f"Connected to Kitaru server: {result['url']}", panel("Kitaru login", rows)]

    return Item(result, text=text)


@command("login")
def login(
    server: Annotated[
        str | None,
        typer.Argument(
            help="Remote server URL (https://...) or managed workspace name. Omit it to start "
            "the local server.",
            metavar="SERVER",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="API key of a service account; `-` reads it from stdin.",
                     metavar="KEY"),
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Start a new browser login.")] = False,
    project: Annotated[
        str | None, typer.Option("--project", help="Project to make active on the server.")
    ] = None,
    no_verify_ssl: Annotated[
        bool, typer.Option("--no-verify-ssl", help="Do not verify the server's TLS certificate.")
    ] = False,
    ssl_ca_cert: Annotated[
        str | None,
        typer.Option("--ssl-ca-cert", help="CA bundle to verify the server with.", metavar="PATH"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Local server port (default 8383); a new port restarts it."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait: for the local server to start "
                     "(default 60), or for each request to a remote server (default 30)."),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Connect to a Kitaru server: start the local one (no SERVER) or log in to a remote one."""
    if server is None:
        given = [
            name for name, value in zip(
                REMOTE_ONLY_OPTIONS, (api_key, refresh, project, no_verify_ssl, ssl_ca_cert), strict=True
            ) if value not in (None, False)
        ]
        if given:
            raise KitaruUsageError(
                f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} to a remote server. Pass the server URL "
                "(`kitaru login https://... --api-key KEY`), or drop them to use the local server."
            )
        return _login_local(port, timeout)
    if port is not None:
        raise KitaruUsageError(
            "--port only applies to the local server. Put the port in the URL instead "
            "(`kitaru login https://host:PORT`)."
        )
    return _login_remote(server, _read_api_key(api_key), refresh, project, no_verify_ssl,
                         ssl_ca_cert, timeout)


@command("logout")
def logout(output: OutputOption = "text") -> Item:  # noqa: ARG001 (read by @command)
    """Log out: forget the remote login, stop the local server, use the local database."""
    from kitaru.connection import logout as do_logout

    result = do_logout()

    def text() -> str:
        lines = []
        if result["mode"] == "remote":
            lines.append(f"Logged out from {result['target']}.")
        elif result["mode"] == "local":
            lines.append(f"Disconnected from the local Kitaru server at {result['target']}.")
        else:
            lines.append("Not logged in to any Kitaru server.")
        if result["local_server_stopped"]:
            lines.append("The local Kitaru server was stopped.")
        if result["local_fallback_available"]:
            where = "again" if result["mode"] != "none" else "(the local default)"
            lines.append(f"Executions are recorded in the local database {where}.")
        return "\n".join(lines)

    return Item(result, text=text)


def register(app: typer.Typer) -> None:
    """Add ``kitaru login`` and ``kitaru logout`` to ``app``."""
    app.command("login")(login)
    app.command("logout")(logout)


__all__ = ["register"]

"""``kitaru status``: a compact snapshot of this Kitaru installation.

Shows the SDK version, where metadata lives (local database, the local
server or a remote server), the local server's state, the active user and stack, the config directory, the log-store preference next to
the active stack's log store (with the same mismatch warning as ``kitaru
log-store show``), and the ``KITARU_*`` variables in effect with secrets
masked. A part that cannot be read (an unreachable server, say) shows as
unavailable with a warning; the rest still prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import typer

from kitaru.cli.output import Item, OutputOption, command, panel
from kitaru.cli.version import sdk_version
from kitaru.errors import KitaruError
from kitaru.masking import mask_url, mask_value

PUBLIC_ENV_VARS: tuple[str, ...] = (
    "KITARU_SERVER_URL",
    "KITARU_AUTH_TOKEN",
    "KITARU_PROJECT",
    "KITARU_STACK",
    "KITARU_CACHE",
    "KITARU_RETRIES",
    "KITARU_IMAGE",
    "KITARU_LOG_STORE_BACKEND",
    "KITARU_LOG_STORE_ENDPOINT",
    "KITARU_LOG_STORE_API_KEY",
    "KITARU_DEFAULT_MODEL",
    "KITARU_CONFIG_PATH",
    "KITARU_DEBUG",
    "KITARU_ANALYTICS_OPT_IN",
)
"""The documented variables, in the order status lists them (SPEC §5.3)."""

UNAVAILABLE = "unavailable"
_T = TypeVar("_T")


SECRETS_AT_REST_LABELS: dict[str, str] = {
    "encrypted": "encrypted (key in the config directory, owner-only)",
    "not encrypted": "NOT encrypted (the engine's secrets store has no encryption key)",
    "server": "kept by the server",
}
"""How ``kitaru status`` and ``kitaru info`` describe where secret values are kept."""


def kitaru_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the set ``KITARU_*`` variables with secrets masked.

    Documented variables come first in their documented order, then any
    other ``KITARU_*`` variable alphabetically. Blank values count as unset.

    Args:
        environ: The environment to read; ``os.environ`` by default.

    Returns:
        Variable name to displayed (masked) value.
    """
    environ = os.environ if environ is None else environ
    names = [name for name in PUBLIC_ENV_VARS if environ.get(name, "").strip()]
    names += sorted(
        name
        for name, value in environ.items()
        if name.startswith("KITARU_") and name not in PUBLIC_ENV_VARS and value.strip()
    )
    return {name: mask_value(name, environ[name]) for name in names}


def try_read(read: Callable[[], _T], warnings: list[str]) -> _T | None:
    """Call ``read``; on a Kitaru error record a warning and return None."""
    try:
        return read()
    except KitaruError as exc:
        if str(exc) not in warnings:
            warnings.append(str(exc))
        return None


def connection_label(mode: str | None, local_server: Mapping[str, Any] | None = None) -> str:
    """Human label for a connection mode (the local server is named as such)."""
    if mode == "server" and local_server and local_server.get("connected"):
        return "Local Kitaru server"
    return {"local": "Local database (SQLite)", "server": "Server"}.get(mode or "", UNAVAILABLE)


def local_server_info(warnings: list[str]) -> dict[str, Any] | None:
    """The local server's state: ``{running, url, port, connected, log_file}``, or None if never started.

    Reads the daemon's files and probes its port; never starts or stops it.
    """
    from kitaru.connection import local_server_state

    state = try_read(local_server_state, warnings)
    if state is None or not state.registered:
        return None
    if state.connected and not state.running:
        warnings.append(
            f"The local Kitaru server at {state.url} is not running. Start it with `kitaru login`, "
            f"or run `kitaru logout` to use the local database (server log: {state.log_file})."
        )
    return {
        "running": state.running,
        "url": state.url,
        "port": state.port,
        "connected": state.connected,
        "log_file": state.log_file,
    }


def local_server_row(local_server: Mapping[str, Any] | None) -> tuple[str, str]:
    """The status row describing the local server."""
    if local_server is None:
        return ("Local server", "not started (`kitaru login` starts it)")
    state = "running" if local_server["running"] else "stopped"
    suffix = ", connected" if local_server["connected"] else ""
    return ("Local server", f"{state} at {local_server['url']}{suffix}")


def _reachable(server_url: str | None, warnings: list[str]) -> bool:
    """Probe a server quickly so status never waits for the engine's retries."""
    if server_url is None:
        return True
    from kitaru.connection import check_server_reachable

    try:
        check_server_reachable(server_url)
    except KitaruError as exc:
        warnings.append(str(exc))
        return False
    return True


def collect_status() -> dict[str, Any]:
    """Gather the status snapshot (loads the engine; contacts the store).

    Returns:
        The JSON item of ``kitaru status``.
    """
    from kitaru.config.paths import config_dir
    from kitaru.connection import active_stack_name, active_user_name, describe_connection
    from kitaru.stacks import active_stack_log_store

    warnings: list[str] = []
    connection = try_read(describe_connection, warnings)
    local_server = local_server_info(warnings) if connection is not None else None
    user = stack = stack_log_store = None
    if connection is not None and _reachable(connection.server_url, warnings):
        user = try_read(active_user_name, warnings)
        # The same store answers both; don't wait for it twice.
        if user is not None:
            stack = try_read(active_stack_name, warnings)
        if stack is not None:
            stack_log_store = try_read(active_stack_log_store, warnings)
    log_store = _log_store_status(stack_log_store, warnings)
    return {
        "sdk_version": sdk_version(),
        "connection": connection.mode if connection else None,
        "server_url": mask_url(connection.server_url) if connection and connection.server_url else None,
        "database": connection.database if connection else None,
        "secrets_at_rest": connection.secrets_at_rest if connection else None,
        "local_server": local_server,
        "active_user": user,
        "active_stack": stack,
        "config_directory": str(config_dir()),
        "log_store": log_store,
        "environment": kitaru_environment(),
        "warnings": warnings,
    }


def _log_store_status(stack_log_store: Any, warnings: list[str]) -> dict[str, Any] | None:
    """The ``log-store show`` item, or None when the preference is misconfigured.

    Its warning (a mismatch with the active stack) is also added to ``warnings``.
    """
    from kitaru.cli.log_store import describe
    from kitaru.config.log_store import resolve_log_store

    preference = try_read(resolve_log_store, warnings)
    if preference is None:
        return None
    item = describe(preference, stack_log_store)
    if item["warning"]:
        warnings.append(item["warning"])
    return item


def log_store_rows(log_store: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The status rows for the log store: the preference and the stack's."""
    if log_store is None:
        return [("Log store", UNAVAILABLE)]
    preference = log_store["backend"]
    if log_store["endpoint"]:
        preference += f" → {log_store['endpoint']}"
    return [
        ("Log store", f"{preference} ({log_store['source']})"),
        ("Stack log store", log_store["active_stack_backend"] or UNAVAILABLE),
    ]


def environment_panel(environment: Mapping[str, str]) -> Any:
    """Panel listing the ``KITARU_*`` variables (already masked)."""
    rows = list(environment.items()) or [("KITARU_*", "none set")]
    return panel("Environment", rows)


@command("status")
def status(output: OutputOption = "text") -> Item:  # noqa: ARG001 (read by @command)
    """Show connection, active user and stack, and KITARU_* settings.

    Reading the active user and stack contacts the store; if that fails the
    rest is still shown, with a warning.
    """
    data = collect_status()

    def text() -> list[Any]:
        rows: list[tuple[str, Any]] = [
            ("SDK version", data["sdk_version"]),
            ("Connection", connection_label(data["connection"], data["local_server"])),
        ]
        if data["connection"] == "server":
            rows.append(("Server URL", data["server_url"]))
        elif data["database"]:
            rows.append(("Database", data["database"]))
        if data["secrets_at_rest"]:
            rows.append(("Secrets at rest", SECRETS_AT_REST_LABELS.get(data["secrets_at_rest"], data["secrets_at_rest"])))
        rows.append(local_server_row(data["local_server"]))
        rows += [
            ("Active user", data["active_user"] or UNAVAILABLE),
            ("Active stack", data["active_stack"] or UNAVAILABLE),
            ("Config directory", data["config_directory"]),
            *log_store_rows(data["log_store"]),
        ]
        return [panel("Kitaru status", rows), environment_panel(data["environment"])]

    return Item(data, text=text, warnings=data["warnings"])


def register(app: typer.Typer) -> None:
    """Add ``kitaru status`` to ``app``."""
    app.command("status")(status)


__all__ = ["PUBLIC_ENV_VARS", "collect_status", "kitaru_environment", "register"]

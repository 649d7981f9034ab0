"""What Kitaru is connected to: store, server, user, version, and the variables that choose them.

Used by ``kitaru status`` and ``kitaru info``, by secrets (which fail fast on
an unreachable server) and by login and logout (which refuse to change a
saved login that environment variables override). :func:`describe_connection`
reads configuration only and never contacts the store;
:func:`active_user_name` and :func:`active_stack_name` do.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from kitaru.engine import get_engine
from kitaru.engine.connection import IncompleteServerSettings
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru.settings import KitaruSettings, settings

ConnectionMode = Literal["local", "server"]

KITARU_AUTH_SETTINGS = ("server_url", "auth_token")
"""Kitaru's settings that choose the server and its credentials."""


@dataclass(frozen=True)
class ConnectionInfo:
    """Where Kitaru's metadata lives, read from configuration only.

    Attributes:
        mode: ``local`` (a SQLite database on this machine) or ``server``.
        store_type: The engine's store type (``sql`` or ``rest``).
        url: The store URL (``sqlite:///...`` or the server URL).
        server_url: The server URL in server mode, else None.
        database: The SQLite file in local mode, else None.
        source: Where the connection comes from: ``KITARU_SERVER_URL``, the
            engine's own variable (``ZENML_STORE_URL``), ``saved login`` or
            ``default``.
        project: The project override (``KITARU_PROJECT`` or the engine's
            own variable), if set.
        secrets_at_rest: ``encrypted`` (the local database encrypts secret
            values with the key in the config dir), ``not encrypted``, or
            ``server`` (the server keeps them).
    """

    mode: ConnectionMode
    store_type: str
    url: str
    server_url: str | None
    database: str | None
    source: str
    project: str | None
    secrets_at_rest: str = "server"


def prepare_engine() -> None:
    """Configure the engine's environment from Kitaru's settings, without loading the engine.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent (a server
            URL without a token, say); the message says how to fix it.
    """
    try:
        get_engine().connection.prepare()
    except IncompleteServerSettings as exc:
        raise KitaruUsageError(str(exc)) from exc


def load_engine() -> None:
    """Prepare the environment and load the engine.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent.
    """
    try:
        get_engine().connection.load()
    except IncompleteServerSettings as exc:
        raise KitaruUsageError(str(exc)) from exc


def engine_version() -> str:
    """Return the installed engine's version (without loading it)."""
    return get_engine().connection.engine_version()


def describe_connection() -> ConnectionInfo:
    """Describe the configured connection without contacting the store.

    Raises:
        KitaruUsageError: If the environment is inconsistent.
        KitaruBackendError: If the engine configuration cannot be read.
    """
    load_engine()
    try:
        config = get_engine().connection.store_config()
    except Exception as exc:
        raise KitaruBackendError(
            f"Could not read the engine configuration: {exc}. Check the files in "
            "the Kitaru config directory (`kitaru info` shows where it is)."
        ) from exc
    current = settings()
    is_local = config.url.startswith("sqlite:")
    if current.server_url:
        source = KitaruSettings.variable("server_url")
    elif config.url_variable:
        source = config.url_variable
    elif (config.saved_url or "").startswith(("http://", "https://")):
        source = "saved login"
    else:
        source = "default"
    is_sql = config.store_type == "sql"
    return ConnectionInfo(
        mode="local" if is_sql and is_local else "server",
        store_type=config.store_type,
        url=config.url,
        server_url=None if is_sql else config.url,
        database=config.database if is_local else None,
        source=source,
        project=current.project or config.project_variable_value,
        secrets_at_rest=(
            "server" if not is_sql else "encrypted" if config.secrets_encrypted else "not encrypted"
        ),
    )


def check_server_reachable(url: str, timeout: float = 3.0) -> None:
    """Fail fast if nothing accepts connections at a server URL.

    The engine retries an unreachable server for about 30 seconds per call;
    a diagnostic command should say so at once instead.

    Args:
        url: The server URL (``https://host[:port]/...``).
        timeout: Seconds to wait for the TCP connection.

    Raises:
        KitaruBackendError: If the host cannot be resolved or connected to.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise KitaruBackendError(
            f"Cannot reach the Kitaru server at {url}: {reason}. Check that it is "
            "running and the URL is right (KITARU_SERVER_URL or `kitaru login`)."
        ) from None


def store_error(action: str, exc: Exception) -> KitaruBackendError:
    """The error for a store that failed while doing ``action`` (``read the active user``)."""
    return KitaruBackendError(
        f"Could not {action}: {type(exc).__name__}: {exc}. If you use a server, check "
        "it is running and that KITARU_SERVER_URL / KITARU_AUTH_TOKEN are right "
        "(or run `kitaru login` again)."
    )


def active_user_name() -> str:
    """Return the name of the user Kitaru acts as (contacts the store).

    Raises:
        KitaruUsageError: If the environment is inconsistent.
        KitaruBackendError: If the store cannot be reached.
    """
    load_engine()
    try:
        return get_engine().connection.active_user_name()
    except Exception as exc:
        raise store_error("read the active user", exc) from exc


def active_stack_name() -> str:
    """Return the name of the active stack (contacts the store).

    Raises:
        KitaruUsageError: If the environment is inconsistent.
        KitaruBackendError: If the store cannot be reached.
    """
    load_engine()
    try:
        return get_engine().stacks.active_stack().name
    except Exception as exc:
        raise store_error("read the active stack", exc) from exc


def saved_server_url() -> str | None:
    """The URL of the saved server login (remote or the local server), if any.

    Raises:
        KitaruUsageError: If the environment is inconsistent.
    """
    load_engine()
    return get_engine().connection.saved_server_url()


def active_auth_env_vars() -> list[str]:
    """The variables set in this process that choose the server or its credentials.

    Kitaru's (``KITARU_SERVER_URL``, ``KITARU_AUTH_TOKEN``) come first, then
    the engine's own that Kitaru did not fill.
    """
    current = settings()
    kitaru = [KitaruSettings.variable(name) for name in KITARU_AUTH_SETTINGS if getattr(current, name)]
    return kitaru + list(get_engine().connection.engine_auth_variables())


def refuse_if_auth_env(action: str) -> None:
    """Refuse to change the saved login while environment variables override it.

    Args:
        action: ``log in`` or ``log out``, for the message.

    Raises:
        KitaruUsageError: If any authentication variable is set.
    """
    active = active_auth_env_vars()
    if active:
        raise KitaruUsageError(
            f"Cannot {action} while {', '.join(active)} "
            f"{'is' if len(active) == 1 else 'are'} set: these variables already choose the "
            "server and credentials, and they would override a saved login. Use them as they "
            "are, or unset them and run the command again."
        )


__all__ = [
    "ConnectionInfo",
    "ConnectionMode",
    "active_auth_env_vars",
    "active_stack_name",
    "active_user_name",
    "check_server_reachable",
    "describe_connection",
    "engine_version",
    "load_engine",
    "prepare_engine",
    "refuse_if_auth_env",
    "saved_server_url",
    "store_error",
]

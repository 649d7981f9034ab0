"""What the engine is connected to: store, server, user, stack, version.

Used by ``kitaru status`` and ``kitaru info``. ZenML is imported inside the
functions, after :func:`kitaru._engine.bootstrap.load_engine`, so importing
this module is free. Functions that only read configuration
(:func:`describe_connection`) never contact the store; :func:`active_user_name`
and :func:`active_stack_name` do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from kitaru.errors import KitaruBackendError, KitaruUsageError

ConnectionMode = Literal["local", "server"]


@dataclass(frozen=True)
class ConnectionInfo:
    """Where Kitaru's metadata lives, read from configuration only.

    Attributes:
        mode: ``local`` (a SQLite database on this machine) or ``server``.
        store_type: The engine's store type (``sql`` or ``rest``).
        url: The store URL (``sqlite:///...`` or the server URL).
        server_url: The server URL in server mode, else None.
        database: The SQLite file in local mode, else None.
        source: Where the connection comes from: ``KITARU_SERVER_URL``,
            ``ZENML_STORE_URL``, ``saved login`` or ``default``.
        project: The project override (``KITARU_PROJECT`` or
            ``ZENML_ACTIVE_PROJECT_ID``), if set.
    """

    mode: ConnectionMode
    store_type: str
    url: str
    server_url: str | None
    database: str | None
    source: str
    project: str | None


def load_engine() -> None:
    """Prepare the environment and import the engine.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent (for
            example a server URL without a token); the message says how to fix it.
    """
    from kitaru._engine.bootstrap import load_engine as _bootstrap_load_engine

    try:
        _bootstrap_load_engine()
    except RuntimeError as exc:
        raise KitaruUsageError(str(exc)) from exc


def engine_version() -> str:
    """Return the installed ZenML version (from metadata; does not import it)."""
    from importlib import metadata

    try:
        return metadata.version("zenml")
    except metadata.PackageNotFoundError:
        return "unknown"


def _connection_source(persisted_store: Any) -> str:
    for variable in ("KITARU_SERVER_URL", "ZENML_STORE_URL"):
        if os.environ.get(variable, "").strip():
            return variable
    persisted_url = getattr(persisted_store, "url", "") or ""
    if persisted_url.startswith(("http://", "https://")):
        return "saved login"
    return "default"


def describe_connection() -> ConnectionInfo:
    """Describe the configured connection without contacting the store.

    Returns:
        The connection as configured by environment and the engine's config.

    Raises:
        KitaruUsageError: If the environment is inconsistent.
        KitaruBackendError: If the engine configuration cannot be read.
    """
    load_engine()
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType

    try:
        config = GlobalConfiguration()
        store = config.store_configuration
        persisted = config.store
    except Exception as exc:
        raise KitaruBackendError(
            f"Could not read the engine configuration: {exc}. Check the files in "
            "the Kitaru config directory (`kitaru info` shows where it is)."
        ) from exc
    url = str(store.url)
    is_sql = store.type == StoreType.SQL
    is_local = url.startswith("sqlite:")
    database = None
    if is_local:
        database = getattr(store, "database", None) or url.removeprefix("sqlite:///")
    project = (
        os.environ.get("KITARU_PROJECT", "").strip()
        or os.environ.get("ZENML_ACTIVE_PROJECT_ID", "").strip()
        or None
    )
    return ConnectionInfo(
        mode="local" if is_sql and is_local else "server",
        store_type=str(store.type.value if hasattr(store.type, "value") else store.type),
        url=url,
        server_url=None if is_sql else url,
        database=str(database) if database else None,
        source=_connection_source(persisted),
        project=project,
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
    import socket
    from urllib.parse import urlsplit

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


def _store_error(action: str, exc: Exception) -> KitaruBackendError:
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
    from zenml.client import Client

    try:
        return str(Client().active_user.name)
    except Exception as exc:
        raise _store_error("read the active user", exc) from exc


def active_stack_name() -> str:
    """Return the name of the active stack (contacts the store).

    Raises:
        KitaruUsageError: If the environment is inconsistent.
        KitaruBackendError: If the store cannot be reached.
    """
    load_engine()
    from zenml.client import Client

    try:
        return str(Client().active_stack_model.name)
    except Exception as exc:
        raise _store_error("read the active stack", exc) from exc


__all__ = [
    "ConnectionInfo",
    "check_server_reachable",
    "active_stack_name",
    "active_user_name",
    "describe_connection",
    "engine_version",
    "load_engine",
]

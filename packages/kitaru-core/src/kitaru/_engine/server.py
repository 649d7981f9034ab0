"""ZenML's local server deployment: its daemon, files and store connection.

ZenML's ``LocalServerDeployer`` with its daemon provider runs ``uvicorn`` in
a detached process that serves the REST API and the dashboard, and keeps its
settings, pid file and log under ``<config dir>/zen_server/daemon/``. The
server shares the local SQLite database with the client. Kitaru's rules
(loopback only, default port, reuse, messages) live in
:mod:`kitaru.connection.local_server`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitaru._engine.bootstrap import STORE_AUTH_VARIABLES, engine_config_dir, load_engine, translated_variables
from kitaru.engine.connection import LocalServerRecord

SERVER_MODULES = ("fastapi", "uvicorn", "jwt", "multipart")
"""Modules the engine's server needs (all come with the ``kitaru[server]`` extra)."""


def _daemon_dir() -> Path:
    return engine_config_dir() / "zen_server" / "daemon"


def server_log_file() -> Path:
    """The daemon's log file (``<config dir>/zen_server/daemon/service.log``)."""
    return _daemon_dir() / "service.log"


def missing_server_modules() -> tuple[str, ...]:
    """The server modules that cannot be imported."""
    return tuple(name for name in SERVER_MODULES if importlib.util.find_spec(name) is None)


def _daemon_blocklist() -> tuple[str, ...]:
    """Variables the daemon must not inherit.

    The Kitaru ones would be translated again inside the daemon (pointing it
    at the client's config instead of its own), the store ones would point
    the server at another server.
    """
    translated = translated_variables()
    kitaru = tuple(translated[name] for name in ("ZENML_CONFIG_PATH", "ZENML_STORE_URL", "ZENML_STORE_API_KEY",
                                                 "ZENML_ACTIVE_PROJECT_ID"))
    return (*kitaru, *STORE_AUTH_VARIABLES, "ZENML_ACTIVE_PROJECT_ID")


@contextlib.contextmanager
def _daemon_environment() -> Iterator[None]:
    """Hide variables the daemon must not inherit while it is being spawned.

    The engine builds the daemon's environment from ``os.environ`` and then
    points ``ZENML_CONFIG_PATH`` at the daemon's own copy of the config. This
    process has already translated its Kitaru variables, so removing them for
    the moment of the spawn changes nothing here.
    """
    saved = {name: os.environ.pop(name) for name in _daemon_blocklist() if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextlib.contextmanager
def _engine_quiet() -> Iterator[None]:
    """Keep the engine's spinners and prints off stdout while it starts or stops the daemon.

    Kitaru reports progress itself; and stdout may be a protocol channel
    (``-o json``, or the MCP server's stdio).
    """
    from zenml.console import console

    was_quiet = console.quiet
    console.quiet = True
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        console.quiet = was_quiet


@contextlib.contextmanager
def _source_root() -> Iterator[None]:
    """Give the engine a source root when the main module has no file.

    The engine reloads the daemon's settings through its source loader, which
    wants a source root; ``python -c`` and some embedding hosts have none.
    """
    from zenml.utils import source_utils

    try:
        source_utils.get_source_root()
        needs_root = False
    except RuntimeError:
        needs_root = True
    if not needs_root:
        yield
        return
    source_utils.set_custom_source_root(os.getcwd())
    try:
        yield
    finally:
        source_utils.set_custom_source_root(None)


def _deployer() -> Any:
    load_engine()
    from zenml.zen_server.deploy.deployer import LocalServerDeployer

    return LocalServerDeployer()


def _deployment() -> Any | None:
    from zenml.zen_server.deploy.exceptions import ServerDeploymentNotFoundError

    deployer = _deployer()
    try:
        with _source_root():
            return deployer.get_server()
    except ServerDeploymentNotFoundError:
        return None


def _daemon_pid() -> int | None:
    """The pid of the live daemon process, from its pid file, or None."""
    import psutil

    try:
        pid = int((_daemon_dir() / "service.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def local_server() -> LocalServerRecord | None:
    """The registered local server deployment, or None (reads its files only)."""
    if not (_daemon_dir() / "service.json").exists():
        return None
    deployment = _deployment()
    if deployment is None:
        return None
    return LocalServerRecord(
        port=getattr(deployment.config, "port", None), pid=_daemon_pid(), is_running=bool(deployment.is_running)
    )


def deploy_local_server(host: str, port: int, timeout: int) -> bool:
    """Start (or reconfigure) the daemon on ``host:port``; return whether it runs."""
    from zenml.enums import ServerProviderType
    from zenml.zen_server.deploy.deployment import LocalServerDeploymentConfig

    # The daemon provider's fields (address, port, blocking) are extra fields of the base config.
    config = LocalServerDeploymentConfig(  # type: ignore[call-arg]
        provider=ServerProviderType.DAEMON,
        ip_address=ipaddress.IPv4Address(host),
        port=port,
        blocking=False,
    )
    deployer = _deployer()
    with _daemon_environment(), _source_root(), _engine_quiet():
        deployment = deployer.deploy_server(config, timeout=timeout)
    return bool(deployment.is_running)


def remove_local_server(timeout: int) -> None:
    """Stop and remove the registered daemon."""
    deployer = _deployer()
    with _source_root(), _engine_quiet():
        deployer.remove_server(timeout=timeout)


def connect_to_server(url: str) -> None:
    """Use the server at ``url`` as the store, without credentials."""
    load_engine()
    from zenml.config.global_config import GlobalConfiguration
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    GlobalConfiguration().set_store(RestZenStoreConfiguration(url=url))


def use_local_database() -> None:
    """Use the local database as the store."""
    load_engine()
    from zenml.config.global_config import GlobalConfiguration

    GlobalConfiguration().set_default_store()


def skip_dashboard_survey() -> None:
    """Open the dashboard on its pages, not on the engine's sign-up survey.

    The engine's dashboard asks a new user for survey answers and an email
    opt-in before showing anything. Kitaru sends nothing anywhere, so the
    local user is marked as having answered, with email updates declined.
    The server's API cannot change the opt-in of a user (an engine
    limitation), so this writes to the local database the server shares.
    Best effort: the dashboard still works (after the survey) if this fails.
    """
    load_engine()
    from zenml.config.global_config import GlobalConfiguration
    from zenml.models import UserUpdate
    from zenml.zen_stores.base_zen_store import BaseZenStore

    try:
        store = BaseZenStore.create_store(GlobalConfiguration().get_default_store())
        user = store.get_user()
        metadata = dict(user.user_metadata or {})
        if user.email_opted_in is not None and metadata.get("finished_onboarding_survey"):
            return
        metadata.update(finished_onboarding_survey=True, overview_tour_done=True)
        store.update_user(user.id, UserUpdate(name=user.name, email_opted_in=False, user_metadata=metadata))
    except Exception:  # noqa: BLE001 (cosmetic; never fail a login over it)
        return


__all__ = [
    "SERVER_MODULES",
    "connect_to_server",
    "deploy_local_server",
    "local_server",
    "missing_server_modules",
    "remove_local_server",
    "server_log_file",
    "skip_dashboard_survey",
    "use_local_database",
]

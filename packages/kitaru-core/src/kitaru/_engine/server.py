"""The local Kitaru server: the engine's server and dashboard as a daemon.

``kitaru login`` without a server URL (and the MCP ``kitaru_start_local_server``
tool) start the engine's own local server deployment: ZenML's
``LocalServerDeployer`` with its daemon provider runs ``uvicorn`` in a
detached process that serves the REST API and the dashboard, and stores its
pid file, log and settings under ``<config dir>/zen_server/daemon/``. The
server shares the local SQLite database with the client, so executions that
ran before the login show up in the dashboard too.

Kitaru's rules on top of the engine's machinery:

* The server binds ``127.0.0.1`` only (loopback), on port 8383 by default.
* A running server is reused (``action="connected"``); an explicit different
  port restarts it (``"restarted"``); otherwise it is started (``"started"``).
* A port held by another program is reported before anything starts.
* Every failure is a :class:`~kitaru.errors.KitaruBackendError` that names the
  daemon log file.

The engine's local server accepts requests without credentials (it serves one
user on one machine), which is why it must never listen beyond loopback.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from kitaru._engine.server_state import (
    DEFAULT_PORT,
    LOOPBACK,
    SERVER_EXTRA_HINT,
    LocalServerState,
    check_server_extra,
    daemon_log_file,
    deployer,
    engine_source_root,
    healthy,
    local_server_state,
    port_in_use,
    registered_deployment,
    validate_port,
    validate_timeout,
)
from kitaru.errors import KitaruBackendError

#: Variables the daemon must not inherit: the Kitaru ones would be translated
#: again inside the daemon (pointing it at the client's config instead of its
#: own), the store ones would point the server at another server.
_DAEMON_ENV_BLOCKLIST = (
    "KITARU_CONFIG_PATH",
    "KITARU_SERVER_URL",
    "KITARU_AUTH_TOKEN",
    "KITARU_PROJECT",
    "ZENML_STORE_URL",
    "ZENML_STORE_API_KEY",
    "ZENML_STORE_USERNAME",
    "ZENML_STORE_PASSWORD",
    "ZENML_ACTIVE_PROJECT_ID",
)

Progress = Callable[[str], None]


@contextlib.contextmanager
def _daemon_environment() -> Iterator[None]:
    """Hide variables the daemon must not inherit while it is being spawned.

    The engine builds the daemon's environment from ``os.environ`` and then
    points ``ZENML_CONFIG_PATH`` at the daemon's own copy of the config. This
    process has already translated its ``KITARU_*`` variables, so removing
    them for the moment of the spawn changes nothing here.
    """
    saved = {name: os.environ.pop(name) for name in _DAEMON_ENV_BLOCKLIST if name in os.environ}
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
    import sys

    from zenml.console import console

    was_quiet = console.quiet
    console.quiet = True
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        console.quiet = was_quiet


def _failure(what: str, detail: str | None = None) -> KitaruBackendError:
    message = f"{what}."
    if detail:
        message = f"{what}: {detail}."
    return KitaruBackendError(
        f"{message} See the server log at {daemon_log_file()}; fix the cause, then run "
        "`kitaru login` again (or `kitaru logout` to remove the local server)."
    )


def _deploy(port: int, timeout: int) -> str:
    """Start (or reconfigure) the daemon on ``port`` and return its URL."""
    import ipaddress

    from zenml.enums import ServerProviderType
    from zenml.zen_server.deploy.deployment import LocalServerDeploymentConfig

    config = LocalServerDeploymentConfig(
        provider=ServerProviderType.DAEMON,
        ip_address=ipaddress.IPv4Address(LOOPBACK),
        port=port,
        blocking=False,
    )
    url = f"http://{LOOPBACK}:{port}"
    try:
        local_deployer = deployer()
        with _daemon_environment(), engine_source_root(), _engine_quiet():
            deployment = local_deployer.deploy_server(config, timeout=timeout)
    except Exception as exc:
        raise _failure(f"The local Kitaru server did not start on port {port}",
                       f"{type(exc).__name__}: {exc}") from exc
    deadline = time.monotonic() + min(5, timeout)
    while not healthy(url) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not (deployment.is_running and healthy(url)):
        raise _failure(f"The local Kitaru server did not become ready on {url} within {timeout} s")
    return url


def _connect(url: str) -> None:
    from zenml.config.global_config import GlobalConfiguration
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    try:
        GlobalConfiguration().set_store(RestZenStoreConfiguration(url=url))
    except Exception as exc:
        raise _failure(f"Could not connect to the local Kitaru server at {url}",
                       f"{type(exc).__name__}: {exc}") from exc


def _skip_dashboard_survey() -> None:
    """Open the dashboard on its pages, not on the engine's sign-up survey.

    The engine's dashboard asks a new user for survey answers and an email
    opt-in before showing anything. Kitaru sends nothing anywhere, so the
    local user is marked as having answered, with email updates declined.
    The server's API cannot change the opt-in of a user (an engine
    limitation), so this writes to the local database the server shares.
    Best effort: the dashboard still works (after the survey) if this fails.
    """
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
        store.update_user(
            user.id,
            UserUpdate(name=user.name, email_opted_in=False, user_metadata=metadata),
        )
    except Exception:  # noqa: BLE001 (cosmetic; never fail a login over it)
        return


def start_local_server(
    port: int | None = None, timeout: float = 60, progress: Progress | None = None
) -> dict[str, Any]:
    """Start (or reuse) the local server on loopback and connect to it.

    Args:
        port: TCP port; None reuses the registered server's port, else 8383.
        timeout: Seconds to wait for the server to answer (at least 1).
        progress: Called with one human line per step (``Starting local
            Kitaru server...``); None is silent.

    Returns:
        ``{"mode": "local", "url": ..., "action": "connected" | "restarted" | "started"}``.

    Raises:
        KitaruUsageError: For a bad port or timeout.
        KitaruFeatureNotAvailableError: Without the ``kitaru[server]`` extra.
        KitaruBackendError: If the port is taken or the server fails; the
            message names the daemon log.
    """
    say = progress or (lambda _line: None)
    wanted = validate_port(port) if port is not None else None
    seconds = validate_timeout(timeout)
    check_server_extra()
    state = local_server_state()
    if state.running and state.url and (wanted is None or wanted == state.port):
        say(f"Server already running at {state.url}")
        _skip_dashboard_survey()
        _connect(state.url)
        say(f"Connected to local Kitaru server: {state.url}")
        return {"mode": "local", "url": state.url, "action": "connected"}
    # A stopped server comes back where it was (after a reboot, say).
    target = wanted or state.port or DEFAULT_PORT
    if state.running:
        say(f"Restarting local Kitaru server on port {target}...")
        action = "restarted"
    else:
        say("Starting local Kitaru server...")
        action = "started"
    ours = state.pid is not None and state.port == target
    if port_in_use(target) and not ours:
        raise KitaruBackendError(
            f"Port {target} on {LOOPBACK} is already in use by another program. Stop it, "
            "or choose another port with `kitaru login --port N`."
        )
    _skip_dashboard_survey()
    url = _deploy(target, seconds)
    say(f"Server running at {url}")
    _connect(url)
    say(f"Connected to local Kitaru server: {url}")
    return {"mode": "local", "url": url, "action": action}


def stop_local_server(timeout: float = 30) -> dict[str, Any]:
    """Stop and remove the registered local server; disconnect if connected.

    Safe to call when no server is registered (``stopped`` is then False).

    Args:
        timeout: Seconds to wait for the daemon to stop.

    Returns:
        ``{"stopped": bool, "url": <URL it served> | None}``.

    Raises:
        KitaruBackendError: If the daemon cannot be stopped.
    """
    deployment = registered_deployment()
    if deployment is None:
        return {"stopped": False, "url": None}
    port = getattr(deployment.config, "port", None)
    url = f"http://{LOOPBACK}:{port}" if port else None
    was_running = bool(deployment.is_running)
    try:
        local_deployer = deployer()
        with engine_source_root(), _engine_quiet():
            local_deployer.remove_server(timeout=validate_timeout(timeout))
    except Exception as exc:
        raise _failure("Could not stop the local Kitaru server", f"{type(exc).__name__}: {exc}") from exc
    _disconnect_if_pointing_at(url)
    return {"stopped": was_running, "url": url}


def _disconnect_if_pointing_at(url: str | None) -> None:
    """Return to the local database if the client still points at ``url``."""
    from zenml.config.global_config import GlobalConfiguration

    config = GlobalConfiguration()
    if url and config.store_configuration.url == url:
        config.set_default_store()


__all__ = [
    "DEFAULT_PORT",
    "LOOPBACK",
    "LocalServerState",
    "SERVER_EXTRA_HINT",
    "check_server_extra",
    "daemon_log_file",
    "local_server_state",
    "start_local_server",
    "stop_local_server",
    "validate_port",
    "validate_timeout",
]

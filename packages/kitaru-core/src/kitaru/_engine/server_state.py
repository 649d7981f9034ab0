"""The local Kitaru server's state: where its files are, whether it runs, on which port.

Reading only: nothing here starts, stops or reconfigures the server (that is
:mod:`kitaru._engine.server`). The engine's local server deployment keeps
its settings, pid file and log under ``<config dir>/zen_server/daemon/``.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError

DEFAULT_PORT = 8383
LOOPBACK = "127.0.0.1"
SERVER_EXTRA_HINT = "pip install 'kitaru[server]'"
#: Modules the engine's server needs; all come with the ``kitaru[server]`` extra.
SERVER_MODULES = ("fastapi", "uvicorn", "jwt", "multipart")


@dataclass(frozen=True)
class LocalServerState:
    """What is known about the registered local server, without changing it.

    Attributes:
        registered: Whether a local server deployment exists in this config dir.
        running: Whether its daemon is up and answering.
        url: The URL it serves, or would serve (``http://127.0.0.1:8383``).
        port: The port it is configured for.
        connected: Whether the client's saved connection points at it.
        log_file: The daemon log file.
        pid: The daemon's process id while the process exists (it may
            still be starting), else None.
    """

    registered: bool
    running: bool
    url: str | None
    port: int | None
    connected: bool
    log_file: str
    pid: int | None = None


def daemon_dir() -> Path:
    """Return the directory holding the daemon's settings, pid file and log."""
    from kitaru.config.paths import config_dir

    return config_dir() / "zen_server" / "daemon"


def daemon_log_file() -> Path:
    """Return the daemon log file (``<config dir>/zen_server/daemon/service.log``)."""
    return daemon_dir() / "service.log"


def check_server_extra() -> None:
    """Fail with install guidance when the server dependencies are missing.

    Raises:
        KitaruFeatureNotAvailableError: If FastAPI, uvicorn or the other
            server modules cannot be imported.
    """
    import importlib.util

    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise KitaruFeatureNotAvailableError(
            "The local Kitaru server needs the server extra, which is not installed "
            f"(missing: {', '.join(missing)}). Install it with: {SERVER_EXTRA_HINT}"
        )


def validate_port(port: int | None) -> int:
    """Return ``port`` or the default, checking it is a TCP port number.

    Raises:
        KitaruUsageError: If the port is outside 1-65535.
    """
    if port is None:
        return DEFAULT_PORT
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise KitaruUsageError(f"Invalid port {port!r}: use a number between 1 and 65535.")
    return port


def validate_timeout(timeout: float) -> int:
    """Return the start timeout in whole seconds (at least 1).

    Raises:
        KitaruUsageError: If the timeout is below one second.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 1:
        raise KitaruUsageError(f"Invalid timeout {timeout!r}: use at least 1 second.")
    return math.ceil(timeout)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((LOOPBACK, port)) == 0


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether the engine's server answers its health endpoint at ``url``."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def deployer() -> Any:
    """Load the engine and return its local server deployer (a singleton)."""
    from kitaru._engine.environment import load_engine

    load_engine()
    from zenml.zen_server.deploy.deployer import LocalServerDeployer

    return LocalServerDeployer()


@contextlib.contextmanager
def engine_source_root() -> Iterator[None]:
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


def registered_deployment() -> Any | None:
    local_deployer = deployer()
    from zenml.zen_server.deploy.exceptions import ServerDeploymentNotFoundError

    try:
        with engine_source_root():
            return local_deployer.get_server()
    except ServerDeploymentNotFoundError:
        return None


def _daemon_pid() -> int | None:
    """The pid of the live daemon process, from its pid file, or None."""
    import psutil

    try:
        pid = int((daemon_dir() / "service.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def local_server_state() -> LocalServerState:
    """Describe the registered local server (reads files; probes its port).

    Returns:
        The state; ``registered=False`` when none was ever started here.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent.
    """
    log_file = str(daemon_log_file())
    nothing = LocalServerState(False, False, None, None, False, log_file, None)
    if not (daemon_dir() / "service.json").exists():
        return nothing
    deployment = registered_deployment()
    if deployment is None:
        return nothing
    port = getattr(deployment.config, "port", None)
    url = f"http://{LOOPBACK}:{port}" if port else None
    pid = _daemon_pid()
    running = bool(pid and url and healthy(url))
    from zenml.config.global_config import GlobalConfiguration

    connected = bool(url and GlobalConfiguration().store_configuration.url == url)
    return LocalServerState(True, running, url, port, connected, log_file, pid)


__all__ = [
    "DEFAULT_PORT",
    "LOOPBACK",
    "LocalServerState",
    "SERVER_EXTRA_HINT",
    "check_server_extra",
    "daemon_dir",
    "daemon_log_file",
    "deployer",
    "engine_source_root",
    "healthy",
    "local_server_state",
    "port_in_use",
    "registered_deployment",
    "validate_port",
    "validate_timeout",
]

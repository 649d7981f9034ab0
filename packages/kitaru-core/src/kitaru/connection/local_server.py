"""The local Kitaru server: the engine's server and dashboard, run as a daemon on this machine.

``kitaru login`` without a server URL (and the MCP ``kitaru_start_local_server``
tool) start the engine's own local server deployment. It serves the REST API
and the dashboard and shares the local database with the client, so
executions that ran before the login show up in the dashboard too.

Kitaru's rules on top of the engine's machinery:

* The server binds ``127.0.0.1`` only (loopback), on port 8383 by default:
  it accepts requests without credentials (one user, one machine), so it
  must never listen beyond loopback.
* A running server is reused (``action="connected"``); an explicit different
  port restarts it (``"restarted"``); otherwise it is started (``"started"``).
  A stopped server comes back on the port it had.
* A port held by another program is reported before anything starts.
* Every failure is a :class:`~kitaru.errors.KitaruBackendError` that names the
  daemon log file.
"""

from __future__ import annotations

import math
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from kitaru.connection.environment import load_engine, prepare_engine
from kitaru.engine import get_engine
from kitaru.errors import KitaruBackendError, KitaruFeatureNotAvailableError, KitaruUsageError

DEFAULT_PORT = 8383
LOOPBACK = "127.0.0.1"
SERVER_EXTRA_HINT = "pip install 'kitaru[server]'"

Progress = Callable[[str], None]


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


def server_url(port: int) -> str:
    """The URL of the local server on ``port`` (always loopback)."""
    return f"http://{LOOPBACK}:{port}"


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
        KitaruUsageError: If the timeout is below one second, or not a
            finite number (``nan``, ``inf``).
    """
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout)
            or timeout < 1):
        raise KitaruUsageError(f"Invalid timeout {timeout!r}: use a number of seconds, at least 1.")
    return math.ceil(timeout)


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((LOOPBACK, port)) == 0


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether the server answers its health endpoint at ``url``."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def daemon_log_file() -> str:
    """The daemon log file (``<config dir>/zen_server/daemon/service.log``)."""
    return str(get_engine().connection.server_log_file())


def check_server_extra() -> None:
    """Fail with install guidance when the server dependencies are missing.

    Raises:
        KitaruFeatureNotAvailableError: If FastAPI, uvicorn or the other
            server modules cannot be imported.
    """
    missing = get_engine().connection.missing_server_modules()
    if missing:
        raise KitaruFeatureNotAvailableError(
            "The local Kitaru server needs the server extra, which is not installed "
            f"(missing: {', '.join(missing)}). Install it with: {SERVER_EXTRA_HINT}"
        )


def local_server_state() -> LocalServerState:
    """Describe the registered local server (reads files; probes its port).

    Returns:
        The state; ``registered=False`` when none was ever started here.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent.
    """
    prepare_engine()
    connection = get_engine().connection
    log_file = daemon_log_file()
    record = connection.local_server()  # loads the engine only when a server is registered
    if record is None:
        return LocalServerState(False, False, None, None, False, log_file, None)
    url = server_url(record.port) if record.port else None
    running = bool(record.pid and url and healthy(url))
    connected = bool(url and connection.store_config().url == url)
    return LocalServerState(True, running, url, record.port, connected, log_file, record.pid)


def _failure(what: str, detail: str | None = None) -> KitaruBackendError:
    message = f"{what}: {detail}." if detail else f"{what}."
    return KitaruBackendError(
        f"{message} See the server log at {daemon_log_file()}; fix the cause, then run "
        "`kitaru login` again (or `kitaru logout` to remove the local server)."
    )


def _deploy(port: int, timeout: int) -> str:
    """Start (or reconfigure) the daemon on ``port`` and return its URL."""
    url = server_url(port)
    try:
        running = get_engine().connection.deploy_local_server(LOOPBACK, port, timeout)
    except Exception as exc:
        raise _failure(f"The local Kitaru server did not start on port {port}", f"{type(exc).__name__}: {exc}") from exc
    deadline = time.monotonic() + min(5, timeout)
    while not healthy(url) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not (running and healthy(url)):
        raise _failure(f"The local Kitaru server did not become ready on {url} within {timeout} s")
    return url


def _connect(url: str) -> None:
    try:
        get_engine().connection.connect_to_server(url)
    except Exception as exc:
        raise _failure(f"Could not connect to the local Kitaru server at {url}", f"{type(exc).__name__}: {exc}") from exc


def start_local_server(
    port: int | None = None, timeout: float = 60, *, progress: Progress | None = None
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
    say = progress or (lambda _line: None)
    wanted = validate_port(port) if port is not None else None
    seconds = validate_timeout(timeout)
    check_server_extra()
    load_engine()
    connection = get_engine().connection
    state = local_server_state()
    if state.running and state.url and (wanted is None or wanted == state.port):
        say(f"Server already running at {state.url}")
        connection.skip_dashboard_survey()
        _connect(state.url)
        say(f"Connected to local Kitaru server: {state.url}")
        return {"mode": "local", "url": state.url, "action": "connected"}
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
    connection.skip_dashboard_survey()
    url = _deploy(target, seconds)
    say(f"Server running at {url}")
    _connect(url)
    say(f"Connected to local Kitaru server: {url}")
    return {"mode": "local", "url": url, "action": action}


def stop_local_server(timeout: float = 30) -> dict[str, Any]:
    """Stop the local Kitaru server, if one is registered, and disconnect from it.

    Safe to call when no server is registered (``stopped`` is then False).

    Args:
        timeout: Seconds to wait for the daemon to stop.

    Returns:
        ``{"stopped": bool, "url": <URL it served> | None}``; ``stopped`` is
        False when no server was running (calling this twice is fine).

    Raises:
        KitaruBackendError: If the server process cannot be stopped.
    """
    load_engine()
    connection = get_engine().connection
    record = connection.local_server()
    if record is None:
        return {"stopped": False, "url": None}
    url = server_url(record.port) if record.port else None
    try:
        connection.remove_local_server(validate_timeout(timeout))
    except Exception as exc:
        raise _failure("Could not stop the local Kitaru server", f"{type(exc).__name__}: {exc}") from exc
    if url and connection.store_config().url == url:
        connection.use_local_database()
    return {"stopped": record.is_running, "url": url}


def local_server_status() -> dict[str, Any]:
    """Describe the local server without changing anything.

    Returns:
        ``{"registered", "running", "url", "port", "connected", "log_file", "pid"}``.
    """
    return asdict(local_server_state())


__all__ = [
    "DEFAULT_PORT",
    "LOOPBACK",
    "SERVER_EXTRA_HINT",
    "LocalServerState",
    "check_server_extra",
    "daemon_log_file",
    "healthy",
    "local_server_state",
    "local_server_status",
    "port_in_use",
    "server_url",
    "start_local_server",
    "stop_local_server",
    "validate_port",
    "validate_timeout",
]

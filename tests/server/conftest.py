"""One local Kitaru server for the whole session, and helpers to use it.

Starting the server costs 20-40 s on a small machine, so the session starts
exactly one, with the real CLI (``kitaru login --port N``) in its own config
directory on a free port, and every test in ``tests/server`` shares it.
``kitaru logout`` stops it at the end (and the teardown checks that it did);
if that fails, the daemon is terminated by its pid (the only process this
fixture started).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")
FLOW_NAME = "server_hello"


def free_port() -> int:
    """A TCP port nothing listens on right now (on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config_snapshot(config_dir: Path) -> dict[str, bytes]:
    """Every file under a config dir with its content (to prove nothing was written)."""
    return {
        str(path.relative_to(config_dir)): path.read_bytes()
        for path in sorted(config_dir.rglob("*"))
        if path.is_file()
    }


class ServerSession:
    """The shared local server and a scratch area for flows and fresh config dirs.

    Attributes:
        root: Scratch directory of the session.
        config: The config directory the server was started from.
        project: Working directory for flow scripts (holds ``server_flow.py``).
        port: The port the server currently listens on (the restart test moves it).
        login: The JSON item printed by the first ``kitaru login``.
        login_stderr: What that login printed on stderr (progress lines).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "server-config"
        self.config.mkdir()
        self.project = root / "project"
        self.project.mkdir()
        shutil.copy(HERE / "server_flow.py", self.project / "server_flow.py")
        self.port = free_port()
        self.login: dict[str, Any] = {}
        self.login_stderr = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kitaru(self, *args: str, config: Path | None = None, stdin: str | None = None,
               timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the real ``kitaru`` CLI with a config dir (the server's by default)."""
        return subprocess.run(
            [str(KITARU), *args], cwd=self.root, env=subprocess_env(config or self.config, **env),
            input=stdin, capture_output=True, text=True, timeout=timeout,
        )

    def python(self, script: str, *args: str, config: Path | None = None,
               timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a script from the project directory with a config dir."""
        return subprocess.run(
            [sys.executable, script, *args], cwd=self.project,
            env=subprocess_env(config or self.config, **env),
            capture_output=True, text=True, timeout=timeout,
        )

    def fresh_config(self, name: str) -> Path:
        path = self.root / name
        path.mkdir()
        return path

    def daemon_pid(self) -> int | None:
        try:
            return int((self.config / "zen_server" / "daemon" / "service.pid").read_text())
        except (OSError, ValueError):
            return None


def json_item(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The ``item`` of a successful ``-o json`` command."""
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return json.loads(result.stdout)["item"]


def json_error(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The ``error`` of a failed ``-o json`` command (printed on stderr)."""
    assert result.returncode == 1, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stdout == ""
    start = result.stderr.index('{\n  "command"')
    return json.loads(result.stderr[start:])["error"]


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerSession]:
    """Start the session's local server with ``kitaru login --port N -o json``."""
    session = ServerSession(tmp_path_factory.mktemp("server"))
    result = session.kitaru("login", "--port", str(session.port), "-o", "json")
    try:
        session.login = json_item(result)
        session.login_stderr = result.stderr
        yield session
    finally:
        pid = session.daemon_pid()
        logout = session.kitaru("logout", "-o", "json", timeout=120)
        if pid is not None:
            _terminate(pid)  # a no-op when logout stopped it, as it should have
    # Logging out stops the server and returns to the local database.
    assert json_item(logout) == {
        "mode": "local",
        "target": session.url,
        "local_fallback_available": True,
        "local_server_stopped": True,
    }
    assert not (session.config / "zen_server" / "daemon").exists()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", session.port)) != 0


@pytest.fixture(scope="session")
def recorded_execution(server: ServerSession) -> dict[str, Any]:
    """One flow run while connected to the server: ``{exec_id, flow_name, result}``."""
    result = server.python("server_flow.py", "dashboard")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])

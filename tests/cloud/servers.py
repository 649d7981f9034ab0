"""Start a local emulator in a subprocess, wait until it answers, stop it again.

The cloud tests talk to real servers on 127.0.0.1 (moto, Azurite,
gcp-storage-emulator). Each one is started the same way: pick a free port,
launch the process with its output in a log file, poll until it answers, and
make sure it is gone at the end even when the test session fails.
:func:`running_server` does exactly that; the readiness checks
:func:`port_is_open` and :func:`answers_http` cover the servers we use.

Example::

    port = free_port()
    with running_server([str(EMULATOR), "--port", str(port)], name="emulator",
                        log=tmp / "emulator.log",
                        ready=lambda: answers_http(f"http://127.0.0.1:{port}/")):
        ...  # the emulator answers here
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

STOP_TIMEOUT = 10.0
"""Seconds a server gets to exit after SIGTERM before it is killed."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now.

    Also useful for an address where *nothing* answers (an unreachable
    endpoint in an error-message test).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_open(port: int) -> bool:
    """Whether something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def answers_http(url: str) -> bool:
    """Whether ``url`` gives any HTTP answer, an error status (403 ...) included."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True  # it answered, just not with 2xx: the server is up
    except OSError:
        return False
    return True


@contextmanager
def running_server(
    command: Sequence[str],
    *,
    name: str,
    log: Path,
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the ``with`` block ends; enter only once ``ready()`` is true.

    Args:
        command: The server's command line.
        name: What to call the server in failure messages.
        log: File that receives the server's stdout and stderr; quoted when it
            fails to start.
        ready: Called every 0.1 s until it returns True.
        env: The server's whole environment (default: this process's).
        timeout: Seconds to wait for ``ready()``.

    Yields:
        The running process.

    Raises:
        pytest.fail.Exception: When the server exits early or is not ready in
            time; the message holds its log.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command), stdout=output, stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
        )
    try:
        _wait_until_ready(process, name, log, ready, timeout)
        yield process
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], name: str, log: Path, ready: Callable[[], bool],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited early with code {process.returncode}:\n{log.read_text()}")
        if ready():
            return
        time.sleep(0.1)
    pytest.fail(f"{name} was not ready within {timeout:g} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)

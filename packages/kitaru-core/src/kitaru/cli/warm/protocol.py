"""What the CLI and the warm helper say to each other over the helper's Unix socket.

One connection per command::

    caller -> helper   8-byte length + JSON request, with the caller's stdin,
                       stdout and stderr attached (SCM_RIGHTS)
    helper -> caller   "started <pid>\\n"   the fork running the command
                       "stale\\n"           out of date: run in-process
                       "refused\\n"         confined otherwise than the helper
                                           (a sandbox): run in-process
    fork   -> caller   "exit <code>\\n"     the command's exit code

The request carries the command line, the working directory, the whole
environment, the fingerprint (:func:`kitaru.cli.warm.identity.fingerprint`)
and how the caller's text streams encode.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import asdict, dataclass, field
from typing import Any

HEADER = struct.Struct("!Q")
MAX_REQUEST_BYTES = 4 * 1024 * 1024
STDIO_COUNT = 3


@dataclass(frozen=True)
class Request:
    """One command for the helper to run.

    Attributes:
        argv: The arguments after ``kitaru``.
        cwd: The caller's working directory.
        environ: The caller's environment.
        fingerprint: The caller's view of the files the helper depends on.
        encodings: ``stdin``/``stdout``/``stderr`` -> ``[encoding, errors]``.
    """

    argv: list[str]
    cwd: str
    environ: dict[str, str]
    fingerprint: str
    encodings: dict[str, list[str]] = field(default_factory=dict)


def send_request(sock: socket.socket, request: Request, stdio: list[int]) -> None:
    """Send ``request`` and attach the caller's stdio descriptors."""
    payload = json.dumps(asdict(request)).encode()
    socket.send_fds(sock, [HEADER.pack(len(payload))], stdio)
    sock.sendall(payload)


def receive_request(sock: socket.socket) -> tuple[Request, list[int]]:
    """Receive a request and the descriptors that came with it.

    Raises:
        ValueError: If the request is malformed or does not carry three descriptors
            (the received descriptors are closed).
    """
    header, fds, _, _ = socket.recv_fds(sock, HEADER.size, STDIO_COUNT)
    try:
        if len(header) != HEADER.size or len(fds) != STDIO_COUNT:
            raise ValueError("a request needs its length and three descriptors")
        (size,) = HEADER.unpack(header)
        if size > MAX_REQUEST_BYTES:
            raise ValueError(f"a request of {size} bytes is too large")
        payload = _receive_exactly(sock, size)
        data: dict[str, Any] = json.loads(payload)
        request = Request(
            argv=[str(arg) for arg in data["argv"]],
            cwd=str(data["cwd"]),
            environ={str(key): str(value) for key, value in data["environ"].items()},
            fingerprint=str(data["fingerprint"]),
            encodings={str(key): [str(part) for part in value] for key, value in data["encodings"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        for fd in fds:
            _close_quietly(fd)
        raise
    return request, fds


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ValueError("the request ended early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def send_line(sock: socket.socket, line: str) -> None:
    """Send one protocol line (``started 42``, ``stale``, ``exit 0``)."""
    sock.sendall(line.encode() + b"\n")


class LineReader:
    """Read protocol lines from a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def next_line(self) -> str | None:
        """The next line without its newline, or None at the end of the connection.

        Raises:
            OSError: On socket errors and timeouts (``TimeoutError``).
        """
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace")

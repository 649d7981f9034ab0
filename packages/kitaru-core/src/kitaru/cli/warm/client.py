"""The caller's side: hand a read command to the warm helper, or say it must run in-process.

:func:`run_through_helper` returns the command's exit code when a helper ran
it, and None when the caller should run it itself: no helper for this
context, a helper that refuses (out of date) or does not answer. Once a
helper has started the command, its outcome is the command's outcome: Ctrl-C
and termination signals are passed on to the fork running it, and a fork
that dies without reporting is an error with a way out
(``KITARU_NO_DAEMON=1``), not a silent second run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from kitaru.cli.warm import identity
from kitaru.cli.warm.protocol import LineReader, Request, send_request

ANSWER_TIMEOUT_SECONDS = 30.0
"""How long a helper may take to accept a command (it may still be warming up after its birth)."""

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_DIED = (
    "Error: the Kitaru helper process running this command ended before the command finished. "
    "Run the command again; set KITARU_NO_DAEMON=1 to run commands without the helper."
)


def _encodings() -> dict[str, list[str]]:
    streams = {"stdin": sys.stdin, "stdout": sys.stdout, "stderr": sys.stderr}
    return {
        name: [getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict"]
        for name, stream in streams.items()
    }


def _connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


@contextmanager
def _forwarding_signals(pid: int, received: list[int]) -> Iterator[None]:
    """Pass Ctrl-C, Ctrl-Z and termination signals on to the fork running the command."""

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    def suspend(signum: int, frame: FrameType | None) -> None:
        # Ctrl-Z: stop the fork, then this process; `fg` continues both.
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGSTOP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, suspend)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGCONT)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, suspend)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_through_helper(argv: Sequence[str]) -> int | None:
    """Run a read command in the warm helper of this context.

    Args:
        argv: The arguments after ``kitaru`` (a routed read command).

    Returns:
        The command's exit code, or None when it should run in-process.
    """
    paths = identity.helper_paths(os.getcwd(), os.environ)
    if paths is None or not paths.socket.exists():
        return None
    sock = _connect(str(paths.socket))
    if sock is None:
        return None
    with sock:
        request = Request(
            argv=list(argv),
            cwd=os.getcwd(),
            environ=dict(os.environ),
            fingerprint=identity.fingerprint(os.getcwd()),
            encodings=_encodings(),
        )
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            sock.settimeout(ANSWER_TIMEOUT_SECONDS)
            send_request(sock, request, [0, 1, 2])
            reader = LineReader(sock)
            answer = reader.next_line()
        except OSError:
            return None
        except KeyboardInterrupt:
            sys.stderr.write("Aborted.\n")  # closing the socket stops a fork that started meanwhile
            return 130
        if answer is None or not answer.startswith("started "):
            return None  # "stale", "refused", "busy", or a helper that went away: run in-process
        pid = int(answer.split()[1])
        received: list[int] = []
        sock.settimeout(None)
        with _forwarding_signals(pid, received):
            line = _next_line_through_signals(reader)
            while line is not None and not line.startswith("exit "):
                line = _next_line_through_signals(reader)
        if line is not None:
            return int(line.split()[1])
        if received:
            return 128 + received[-1]
        sys.stderr.write(_DIED + "\n")
        return 1


def _next_line_through_signals(reader: LineReader) -> str | None:
    # A forwarded signal's handler returns normally, and Python retries the read (PEP 475).
    try:
        return reader.next_line()
    except OSError:
        return None


__all__ = ["run_through_helper"]

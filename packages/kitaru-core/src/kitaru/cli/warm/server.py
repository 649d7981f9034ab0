"""The helper's side: born from a warm CLI process, it forks once per command.

:func:`start_helper` runs in an in-process read command, before the command
itself: it loads the engine (which the command needs anyway), closes the
store's pooled connections so no two processes share one, and forks. The
fork detaches (a session of its own, stdio on ``/dev/null``, any pipe it
inherited replaced, so a caller waiting for the CLI's output is never kept
waiting by the helper) and serves :mod:`kitaru.cli.warm.protocol` on the
context's socket until it has been idle for ``KITARU_DAEMON_IDLE_SECONDS``.

Once the CLI process that gave birth to it has exited, the helper runs a few
read commands into ``/dev/null``, so the modules they import are loaded once
here instead of in every fork.

Each command runs in a fork of the helper (:func:`_run_command`): it takes
the caller's descriptors as its stdin, stdout and stderr, the caller's
environment and directory, runs :func:`kitaru.cli.app.run` exactly as the
in-process CLI does, flushes, and reports the exit code.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from kitaru.cli.warm import identity
from kitaru.cli.warm.protocol import Request, receive_request, send_line
from kitaru.locks import try_lock

logger = logging.getLogger("kitaru")

WARM_UP_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("executions", "list", "--limit", "1"),
    ("executions", "list", "--limit", "1", "-o", "json"),
    ("status",),
    ("stack", "list", "-o", "json"),
)
"""Read commands the helper runs once, output discarded, so their imports are loaded before any fork."""

PARENT_EXIT_WAIT_SECONDS = 60.0
"""How long the helper waits for the CLI that started it to exit before warming up anyway."""

CHECK_INTERVAL_SECONDS = 5.0
"""How often an idle helper checks that its socket still belongs to it."""

MAX_HELPERS = 8
"""Helpers one user keeps at most (one per context); the least recently used give way to a new one."""

PROCESS_NAME = b"kitaru-helper"
"""The helper's process name (``pgrep kitaru-helper``)."""


# -- birth -----------------------------------------------------------------------------------


def start_helper() -> None:
    """Load the engine and fork a helper for this context, unless one runs or it cannot be made.

    Never raises: the command that called it goes on in-process whatever
    happens here, and reports its own errors.
    """
    try:
        paths = identity.helper_paths(os.getcwd(), os.environ)
        if paths is None or threading.active_count() > 1:
            return  # a fork copies only this thread: never fork a process that runs others
        from kitaru.cli.app import build_app
        from kitaru.engine import get_engine

        build_app()
        connection = get_engine().connection
        connection.warm_up()
        connection.release_store_connections()
        fingerprint = identity.fingerprint(os.getcwd())
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except Exception as exc:  # noqa: BLE001 - the command reports its own problems
        logger.debug("No warm helper: %s", exc)
        return
    parent = os.getpid()
    first = os.fork()
    if first:
        os.waitpid(first, 0)  # the intermediate child exits at once
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach()
        _serve(paths, fingerprint, parent)
    except BaseException:  # noqa: BLE001 - a helper never returns into the caller's code
        logger.debug("The warm helper stopped", exc_info=True)
    os._exit(0)


def _detach() -> None:
    """Put ``/dev/null`` in place of stdio and of every pipe, socket or terminal inherited from the caller.

    Replacing (``dup2``) rather than closing keeps descriptor numbers owned:
    an object that still refers to one closes ``/dev/null`` later, never a
    descriptor this process opened since.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ("0", "1", "2"):
        fd = int(name)
        if fd == null:
            continue
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if fd <= 2 or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode):
            os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


# -- serving ---------------------------------------------------------------------------------


def _serve(paths: identity.HelperPaths, fingerprint: str, parent: int) -> None:
    lock = try_lock(paths.lock)
    if lock is None:
        return  # another helper for this context is being born
    try:
        listener = _listen(paths.socket)
        if listener is None:
            return
        with listener:
            inode = os.stat(paths.socket).st_ino
            paths.pid.write_text(f"{os.getpid()}\n")
            lock.release()
            lock = None
            _make_room(paths)
            _name_process()
            signal.signal(signal.SIGTERM, _stop)
            _wait_for_exit(parent)
            _warm_up()
            _accept_loop(listener, paths, inode, fingerprint)
    finally:
        if lock is not None:
            lock.release()


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _name_process() -> None:
    """Show as ``kitaru-helper`` in ``top`` and ``pgrep`` (Linux; elsewhere the name stays)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_bytes(PROCESS_NAME)


def _make_room(paths: identity.HelperPaths) -> None:
    """Stop the least recently used helpers beyond :data:`MAX_HELPERS` (each touches its pid file when used)."""
    others = []
    for pid_file in paths.pid.parent.glob("*.pid"):
        if pid_file == paths.pid:
            continue
        with contextlib.suppress(OSError, ValueError):
            others.append((pid_file.stat().st_mtime, int(pid_file.read_text().strip()), pid_file))
    others.sort()
    for _, pid, pid_file in others[: max(0, len(others) - (MAX_HELPERS - 1))]:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_bytes().strip() == PROCESS_NAME:
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            pid_file.unlink()


def _listen(path: Path) -> socket.socket | None:
    """Bind the context's socket (owner-only), replacing a dead helper's; None if a live one answers."""
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink(missing_ok=True)
        else:
            probe.close()
            return None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous_umask = os.umask(0o077)
    try:
        listener.bind(str(path))
    except OSError:
        listener.close()
        return None
    finally:
        os.umask(previous_umask)
    listener.listen(64)
    return listener


def _wait_for_exit(pid: int) -> None:
    deadline = time.monotonic() + PARENT_EXIT_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.02)


def _warm_up() -> None:
    """Run :data:`WARM_UP_COMMANDS` into ``/dev/null``; then close the store connections they opened."""
    from kitaru.cli.app import run
    from kitaru.engine import get_engine

    for argv in WARM_UP_COMMANDS:
        with contextlib.suppress(BaseException):
            run(list(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    get_engine().connection.release_store_connections()


def _accept_loop(listener: socket.socket, paths: identity.HelperPaths, inode: int, fingerprint: str) -> None:
    idle = identity.idle_seconds()
    last_command = time.monotonic()
    try:
        _serve_until_idle(listener, paths, inode, fingerprint, idle, last_command)
    finally:
        if _still_mine(paths.socket, inode):
            paths.socket.unlink(missing_ok=True)
            paths.pid.unlink(missing_ok=True)


def _serve_until_idle(
    listener: socket.socket,
    paths: identity.HelperPaths,
    inode: int,
    fingerprint: str,
    idle: float,
    last_command: float,
) -> None:
    while True:
        _reap_children()
        waited = time.monotonic() - last_command
        if waited >= idle or not _still_mine(paths.socket, inode):
            break
        ready, _, _ = select.select([listener], [], [], min(idle - waited, CHECK_INTERVAL_SECONDS))
        if not ready:
            continue
        conn, _ = listener.accept()
        last_command = time.monotonic()
        with contextlib.suppress(OSError):
            os.utime(paths.pid)
        with conn:
            if not _answer(conn, listener, fingerprint):
                break


def _still_mine(path: Path, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _reap_children() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _peer_uid(conn: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return os.getuid()  # no credentials to read here: the owner-only folder is the guard
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return uid


def _answer(conn: socket.socket, listener: socket.socket, fingerprint: str) -> bool:
    """Serve one connection; False when the helper must stop (it is out of date)."""
    conn.settimeout(10.0)
    try:
        if _peer_uid(conn) != os.getuid():
            return True
        request, fds = receive_request(conn)
    except (OSError, ValueError):
        return True
    try:
        if request.fingerprint != fingerprint:
            send_line(conn, "stale")
            return False
        pid = os.fork()
        if pid == 0:
            listener.close()
            _run_command(conn, request, fds)  # never returns
        send_line(conn, f"started {pid}")
        return True
    except OSError:
        return True
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


# -- one command, in a fork ------------------------------------------------------------------


def _run_command(conn: socket.socket, request: Request, fds: Sequence[int]) -> None:
    code = 1
    finished = threading.Event()
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        identity.SERVING_HELPER.append(os.getppid())
        engine_variables = identity.engine_variables()
        os.environ.clear()
        os.environ.update(request.environ)
        os.environ.update(engine_variables)
        os.chdir(request.cwd)
        _install_streams(request)
        _stop_when_caller_leaves(conn, finished)
        code = _run_cli(request.argv)
    finally:
        finished.set()
        _flush_everything()
        with contextlib.suppress(OSError):
            conn.settimeout(5.0)
            send_line(conn, f"exit {code}")
        os._exit(code)


def _install_streams(request: Request) -> None:
    """Give the command text streams on the caller's descriptors, buffered as Python would buffer them."""
    unbuffered = bool(request.environ.get("PYTHONUNBUFFERED"))
    streams: dict[str, io.TextIOWrapper] = {}
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        encoding, errors = (request.encodings.get(name) or ["utf-8", "strict"])[:2]
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffer: io.BufferedReader | io.BufferedWriter = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        streams[name] = io.TextIOWrapper(
            buffer,
            encoding=encoding,
            errors=errors,
            line_buffering=fd != 0 and (raw.isatty() or fd == 2),
            write_through=fd != 0 and unbuffered,
        )
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _stop_when_caller_leaves(conn: socket.socket, finished: threading.Event) -> None:
    """End the command if the caller goes away (``kill -9`` of the ``kitaru`` process, say)."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(None)
            while conn.recv(1):
                pass
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="kitaru-caller-watch", daemon=True).start()


def _run_cli(argv: Sequence[str]) -> int:
    from kitaru.cli.app import run

    try:
        return run(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except BaseException:  # noqa: BLE001 - what the interpreter would print for an uncaught error
        traceback.print_exc()
        return 1


def _flush_everything() -> None:
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()

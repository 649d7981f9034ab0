"""The helper's side: born from a warm CLI process, it forks once per command.

:func:`start_helper` runs in an in-process read command, before the command
itself: it loads the engine (which the command needs anyway), closes the
store's pooled connections so no two processes share one, and forks. The
fork detaches (a session of its own; ``/dev/null`` in place of its stdio and
of every descriptor the CLI inherited, so a caller waiting for the CLI's
output, or holding a lock through an inherited descriptor, is never kept
waiting by the helper) and serves :mod:`kitaru.cli.warm.protocol` on the
context's socket until it has been idle for ``KITARU_DAEMON_IDLE_SECONDS``,
or has lived for :data:`MAX_LIFETIME_SECONDS`.

It serves at once. Between commands it imports, one module at a time, the
Kitaru modules read commands use (:data:`WARM_MODULES`), so later forks find
them loaded; it never runs a command itself, so no command's state (a
warning shown once, a cache) is inherited by the next.

Each command runs in a fork of the helper (:func:`_run_command`): it takes
the caller's descriptors as its stdin, stdout and stderr, the caller's
environment and directory, forgets what the engine cached about the store's
contents, runs :func:`kitaru.cli.app.run` exactly as the in-process CLI
does, flushes, and reports the exit code.
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

from kitaru.cli.warm import confinement, identity
from kitaru.cli.warm.protocol import Request, receive_request, send_line
from kitaru.locks import try_lock

logger = logging.getLogger("kitaru")

WARM_MODULES: tuple[str, ...] = (
    "kitaru.cli",
    "kitaru.client",
    "kitaru.logs",
    "kitaru.stacks",
    "kitaru.connection",
    "kitaru.execution",
    "kitaru._llm",
    "kitaru.config",
    "kitaru.serializers",
    "kitaru.plugins",
    "kitaru.builtin_plugin",
)
"""Packages (walked) and modules the helper imports between commands: what read commands import lazily."""

MAX_LIFETIME_SECONDS = 3600.0
"""A helper in constant use still makes way for a fresh one after an hour."""

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
    first = os.fork()
    if first:
        os.waitpid(first, 0)  # the intermediate child exits at once
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach()
        _serve(paths, fingerprint)
    except BaseException:  # noqa: BLE001 - a helper never returns into the caller's code
        logger.debug("The warm helper stopped", exc_info=True)
    os._exit(0)


def _detach() -> None:
    """Put ``/dev/null`` in place of stdio, of every descriptor the CLI inherited, and of any pipe, socket or terminal.

    An inherited descriptor may be a pipe whose reader waits for the CLI to
    end, or a file a ``flock`` wrapper locked for the CLI's lifetime; the
    helper outlives the CLI, so it keeps none of them.

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
        inherited = fd <= 2 or fd in identity.STARTUP_FDS
        if inherited or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode):
            os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


# -- serving ---------------------------------------------------------------------------------


def _serve(paths: identity.HelperPaths, fingerprint: str) -> None:
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


def _modules_to_warm() -> list[str]:
    """Every module of :data:`WARM_MODULES` (packages walked), not imported yet, in a stable order."""
    import importlib.util
    import pkgutil

    names: list[str] = []
    for name in WARM_MODULES:
        names.append(name)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            names += [info.name for info in pkgutil.walk_packages(spec.submodule_search_locations, f"{name}.")]
    return [name for name in names if name not in sys.modules]


def _warm_one(pending: list[str]) -> None:
    """Import the next module of ``pending`` (a failing import is left to the command that needs it)."""
    import importlib

    name = pending.pop(0)
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - only a head start; the fork imports what it needs
        logger.debug("The warm helper did not import %s: %s", name, exc)


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
    born = time.monotonic()
    pending = _modules_to_warm()
    while True:
        _reap_children()
        now = time.monotonic()
        waited = now - last_command
        if waited >= idle or now - born >= MAX_LIFETIME_SECONDS or not _still_mine(paths.socket, inode):
            break
        timeout = 0.0 if pending else min(idle - waited, CHECK_INTERVAL_SECONDS)
        ready, _, _ = select.select([listener], [], [], timeout)
        if not ready:
            if pending:
                _warm_one(pending)
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


def _peer(conn: socket.socket) -> tuple[int, int] | None:
    """The caller's pid and uid (as this helper's namespaces see them), or None where the system cannot say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None  # no credentials to read here: the owner-only folder is the guard
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return pid, uid


def _refusal(conn: socket.socket) -> str | None:
    """Why this caller must not be served, or None: another user, or a caller confined otherwise than the helper."""
    peer = _peer(conn)
    if peer is None:
        return None
    pid, uid = peer
    if uid != os.getuid():
        return "another user"
    if not confinement.caller_same_as_mine(conn, pid):
        return "confined otherwise"  # a sandboxed caller: its command must run inside its sandbox
    return None


def _answer(conn: socket.socket, listener: socket.socket, fingerprint: str) -> bool:
    """Serve one connection; False when the helper must stop (it is out of date, or cannot fork safely)."""
    conn.settimeout(10.0)
    try:
        refusal = _refusal(conn)
        if refusal == "another user":
            return True
        request, fds = receive_request(conn)
    except (OSError, ValueError):
        return True
    try:
        if _caller_left(conn):
            return True  # it gave up waiting and ran the command itself
        if refusal is not None:
            send_line(conn, "refused")  # the caller runs the command in-process, inside its own confinement
            return True
        if request.fingerprint != fingerprint or threading.active_count() > 1:
            send_line(conn, "stale")  # a fork copies only this thread: never fork a process that runs others
            return False
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                _run_command(conn, request, fds)
            finally:
                os._exit(1)  # never back into the helper's loop, whatever happened
        return True
    except OSError:
        with contextlib.suppress(OSError):
            send_line(conn, "busy")
        return True
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _caller_left(conn: socket.socket) -> bool:
    """Whether the caller closed its end (a request queued while the helper was busy, then abandoned)."""
    timeout = conn.gettimeout()
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        conn.settimeout(timeout)


# -- one command, in a fork ------------------------------------------------------------------


def _run_command(conn: socket.socket, request: Request, fds: Sequence[int]) -> None:
    code = 1
    finished = threading.Event()
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        send_line(conn, f"started {os.getpid()}")
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        identity.SERVING_HELPER.append(os.getppid())
        engine_variables = identity.engine_variables()
        os.environ.clear()
        os.environ.update(request.environ)
        os.environ.update(engine_variables)
        time.tzset()
        os.chdir(request.cwd)
        _adopt_streams(request)
        _stop_when_caller_leaves(conn, finished)
        from kitaru.engine import get_engine

        get_engine().connection.forget_cached_state()
        code = _run_cli(request.argv)
    finally:
        finished.set()
        _flush_everything()
        with contextlib.suppress(OSError):
            conn.settimeout(5.0)
            send_line(conn, f"exit {code}")
        os._exit(code)


def _adopt_streams(request: Request) -> None:
    """Make ``sys.stdin``/``stdout``/``stderr`` behave as the caller's Python would on its descriptors.

    The descriptors are already the caller's; the stream objects are kept
    (the engine's log handlers hold them) and only reconfigured: the
    caller's encoding, line buffering on a terminal (and on stderr), and
    no buffering with ``PYTHONUNBUFFERED``.
    """
    unbuffered = bool(request.environ.get("PYTHONUNBUFFERED"))
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        stream = getattr(sys, name)
        encoding, errors = (request.encodings.get(name) or ["utf-8", "strict"])[:2]
        if not isinstance(stream, io.TextIOWrapper) or stream.fileno() != fd:
            continue
        if fd == 0:
            stream.reconfigure(encoding=encoding, errors=errors)
            continue
        stream.reconfigure(
            encoding=encoding,
            errors=errors,
            line_buffering=os.isatty(fd) or fd == 2,
            write_through=unbuffered,
        )


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

"""Who is running an execution, and is that process still alive?

A process killed with ``kill -9`` cannot report anything, so the engine's
record stays ``running`` forever. Kitaru therefore records an *owner* when a
flow body starts:

* a lock file under ``<config dir>/runs/<exec_id>.lock`` that the running
  process holds with ``flock`` for the body's lifetime; the kernel drops the
  lock when the process dies, so any process on the same machine can tell a
  live owner from a dead one instantly;
* run metadata ``kitaru_owner`` (host, pid) and a ``kitaru_heartbeat``
  timestamp refreshed periodically, for owners on other machines: a run whose
  heartbeat is older than ``KITARU_HEARTBEAT_TIMEOUT`` seconds (default 300)
  is considered dead.

A supervisor thread in the owning process also watches for cancellation
requests and interrupts the flow body promptly (see :class:`RunSupervisor`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger("kitaru")

OWNER_KEY = "kitaru_owner"
HEARTBEAT_KEY = "kitaru_heartbeat"
HEARTBEAT_INTERVAL = 30.0
STOP_POLL_INTERVAL = 1.0


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat after which a remote owner counts as dead."""
    try:
        return float(os.environ.get("KITARU_HEARTBEAT_TIMEOUT", "300"))
    except ValueError:
        return 300.0


def _lock_path(exec_id: str) -> Path:
    from kitaru.config.paths import config_dir

    return config_dir() / "runs" / f"{exec_id}.lock"


def owner_record() -> dict[str, Any]:
    """The ``kitaru_owner`` metadata for this process."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def utc_timestamp() -> str:
    """Now, as an ISO timestamp in UTC."""
    return datetime.now(timezone.utc).isoformat()


_held: dict[str, RunLock] = {}


def release_run_lock(exec_id: str) -> None:
    """Release this process's lock on ``exec_id`` once the engine recorded the outcome.

    The lock outlives the flow body on purpose: between the body returning
    and the engine publishing ``completed``, a reader must not mistake the
    execution for one whose process died. Process exit releases it too.
    """
    lock = _held.pop(exec_id, None)
    if lock is not None:
        lock.release()


class RunLock:
    """An exclusive ``flock`` on the execution's lock file.

    Taken when the flow body starts; released by :func:`release_run_lock`
    after the engine has recorded the execution's outcome.
    """

    def __init__(self, exec_id: str) -> None:
        self.path = _lock_path(exec_id)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(owner_record()).encode())
        self._fd = fd
        _held[self.path.stem] = self
        return True

    def release(self) -> None:
        """Release the lock (the file stays; it is reused on the next continuation)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def local_owner_alive(exec_id: str) -> bool | None:
    """Whether a process on this machine holds the execution's lock.

    Returns:
        True or False, or None when there is no lock file here (the owner,
        if any, is on another machine).
    """
    path = _lock_path(exec_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def owner_is_dead(exec_id: str, metadata: dict[str, Any]) -> tuple[bool, str]:
    """Decide whether the process that owns a running execution has died.

    Returns:
        ``(dead, explanation)``; the explanation names the owner.
    """
    owner = metadata.get(OWNER_KEY)
    if not isinstance(owner, dict):
        return False, ""
    who = f"pid {owner.get('pid')} on host {owner.get('host')}"
    if owner.get("host") == socket.gethostname():
        alive = local_owner_alive(exec_id)
        if alive is False:
            return True, f"the process running this execution ({who}) died"
        if alive is True:
            return False, ""
    beat = metadata.get(HEARTBEAT_KEY)
    try:
        last = datetime.fromisoformat(str(beat))
    except ValueError:
        return False, ""
    silent = (datetime.now(timezone.utc) - last).total_seconds()
    if silent > heartbeat_timeout():
        return True, (
            f"the process running this execution ({who}) stopped sending heartbeats "
            f"{int(silent)}s ago and is presumed dead"
        )
    return False, ""


class RunSupervisor:
    """Background thread of the owning process: heartbeats and prompt cancellation.

    Every second it reads the execution's status; when someone requested a
    cancel (status ``stopping``) it interrupts the flow body's thread, if that
    is the main thread, so a long checkpoint stops within a second instead of
    at its end. Every ``HEARTBEAT_INTERVAL`` seconds it refreshes the heartbeat.
    """

    def __init__(self, exec_id: str) -> None:
        self.exec_id = exec_id
        self.cancel_requested = threading.Event()
        self._done = threading.Event()
        self._interruptible = threading.current_thread() is threading.main_thread()
        self._thread = threading.Thread(target=self._loop, name=f"kitaru-supervisor-{exec_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()

    def _loop(self) -> None:
        from uuid import UUID

        from zenml.client import Client
        from zenml.enums import ExecutionStatus

        from kitaru._engine.runs import log_run_metadata

        run_id = UUID(self.exec_id)
        since_beat = 0.0
        while not self._done.wait(STOP_POLL_INTERVAL):
            try:
                status = Client().zen_store.get_run(run_id, hydrate=False).status
                if status == ExecutionStatus.STOPPING and not self.cancel_requested.is_set():
                    self.cancel_requested.set()
                    if self._interruptible:
                        # A real signal (not interrupt_main) so a checkpoint
                        # blocked in a system call wakes up too.
                        os.kill(os.getpid(), signal.SIGINT)
                since_beat += STOP_POLL_INTERVAL
                if since_beat >= HEARTBEAT_INTERVAL:
                    since_beat = 0.0
                    log_run_metadata(self.exec_id, {HEARTBEAT_KEY: utc_timestamp()})
            except Exception as exc:  # never let supervision kill the run
                logger.debug("Kitaru supervisor for %s: %s", self.exec_id, exc)

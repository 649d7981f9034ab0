"""Who is running an execution, and is that process still alive?

A process killed with ``kill -9`` cannot report anything, so the engine's
record stays ``running`` forever. Kitaru therefore records an *owner*: the
process that runs the flow body (the launcher of a fresh execution, the
process that retries or resumes it):

* a lock file under ``<config dir>/runs/<exec_id>.lock`` that the owner holds
  with ``flock`` while it runs the body and until the engine recorded the
  outcome; the kernel drops the lock when the process dies;
* run metadata ``kitaru_owner`` (host, pid) and a ``kitaru_heartbeat``
  timestamp refreshed periodically, for readers on other machines: a run whose
  heartbeat is older than ``KITARU_HEARTBEAT_TIMEOUT`` seconds (default 300)
  is considered dead.

The owner is judged dead only when it cannot be alive: on its own host, when
nobody holds the lock *and* its pid is gone; elsewhere, when its heartbeat is
older than the timeout. A process that retries or resumes an execution
*claims* it (:func:`claim`: lock, owner, fresh heartbeat) before the status
leaves ``paused``/``failed``, so no reader ever sees a continuing execution
that names the previous owner. A paused execution has no running owner: the
body that paused marks its owner record released (:func:`release_owner`), and
a launcher blocked in ``handle.wait()`` owns nothing.

A supervisor thread in the owning process also watches for cancellation
requests and interrupts the flow body promptly (see :class:`RunSupervisor`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from kitaru.config.paths import config_dir
from kitaru.engine import get_engine
from kitaru.locks import is_locked, try_lock
from kitaru.settings import settings

logger = logging.getLogger("kitaru")

OWNER_KEY = "kitaru_owner"
HEARTBEAT_KEY = "kitaru_heartbeat"
HEARTBEAT_INTERVAL = 30.0
"""Seconds between two heartbeats, at most (a third of the timeout when that is shorter)."""
DEFAULT_HEARTBEAT_TIMEOUT = 300.0
RELEASED = "released"
"""Key of an owner record whose process no longer runs the body (the execution paused)."""
STOP_POLL_INTERVAL = 1.0
STOPPING = "stopping"
"""The engine status of an execution someone asked to cancel."""


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat after which a remote owner counts as dead."""
    try:
        return float(settings().heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT)
    except ValueError:
        return DEFAULT_HEARTBEAT_TIMEOUT


def heartbeat_interval() -> float:
    """Seconds between two heartbeats: often enough that a live owner never looks silent."""
    return max(STOP_POLL_INTERVAL, min(HEARTBEAT_INTERVAL, heartbeat_timeout() / 3))


def lock_path(exec_id: str) -> Path:
    """The lock file the owner of ``exec_id`` holds on this machine."""
    return config_dir() / "runs" / f"{exec_id}.lock"


def owner_record(*, released: bool = False) -> dict[str, Any]:
    """The ``kitaru_owner`` metadata for this process.

    Every record says whether it is released: the engine merges a dict
    recorded under the same key into the previous one, so a key left out
    would keep an earlier owner's value.
    """
    return {"host": socket.gethostname(), "pid": os.getpid(), RELEASED: released}


def utc_timestamp() -> str:
    """Now, as an ISO timestamp in UTC."""
    return datetime.now(timezone.utc).isoformat()


def pid_alive(pid: Any) -> bool:
    """Whether a process with this pid exists on this machine."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True


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
    """An exclusive lock on the execution's lock file (:mod:`kitaru.locks`).

    Taken when the flow body starts; released by :func:`release_run_lock`
    after the engine has recorded the execution's outcome.
    """

    def __init__(self, exec_id: str) -> None:
        self.path = lock_path(exec_id)
        self._lock: FileLock | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another live process holds it.

        True at once when this process already holds it (it claimed the
        execution before asking the engine to continue it).
        """
        held = _held.get(self.path.stem)
        if held is not None and held._lock is not None:
            return True
        lock = try_lock(self.path)
        if lock is None:
            return False
        self._lock = lock
        _held[self.path.stem] = self
        return True

    def release(self) -> None:
        """Release the lock (the file stays; it is reused on the next continuation)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def local_owner_alive(exec_id: str) -> bool | None:
    """Whether a process on this machine holds the execution's lock.

    Returns:
        True or False, or None when there is no lock file here (the owner,
        if any, is on another machine).
    """
    return is_locked(lock_path(exec_id))


def owner_is_dead(exec_id: str, metadata: dict[str, Any]) -> tuple[bool, str]:
    """Decide whether the process that owns a running execution has died.

    On the owner's host the answer is certain: it lives while it holds the
    lock or its pid exists. Elsewhere the heartbeat decides. A released owner
    (the execution paused) and a run without owner are never dead.

    Returns:
        ``(dead, explanation)``; the explanation names the owner.
    """
    owner = metadata.get(OWNER_KEY)
    if not isinstance(owner, dict) or owner.get(RELEASED):
        return False, ""
    who = f"pid {owner.get('pid')} on host {owner.get('host')}"
    if owner.get("host") == socket.gethostname():
        if local_owner_alive(exec_id) or pid_alive(owner.get("pid")):
            return False, ""
        return True, f"the process running this execution ({who}) died"
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


def record_owner(exec_id: str) -> None:
    """Record this process as the owner of ``exec_id``, with a fresh heartbeat."""
    get_engine().runs.log_run_metadata(exec_id, {OWNER_KEY: owner_record(), HEARTBEAT_KEY: utc_timestamp()})


def claim(exec_id: str) -> bool:
    """Take over an execution this process is about to continue (retry, resume).

    Takes the lock and refreshes the heartbeat *before* the caller moves the
    execution out of ``paused``/``failed``, so no reader (here: by the lock;
    elsewhere: by the heartbeat) judges the previous owner dead while this
    process takes over. The caller records itself as the owner
    (:func:`record_owner`) once the engine accepted the continuation, and
    releases the lock with :func:`release_run_lock`.

    Returns:
        False if another live process holds the execution's lock.
    """
    if not RunLock(exec_id).acquire():
        return False
    try:
        get_engine().runs.log_run_metadata(exec_id, {HEARTBEAT_KEY: utc_timestamp()})
    except BaseException:
        release_run_lock(exec_id)
        raise
    return True


def release_owner(exec_id: str) -> None:
    """Record that this process no longer runs ``exec_id`` (its body paused at a wait)."""
    get_engine().runs.log_run_metadata(exec_id, {OWNER_KEY: owner_record(released=True)})


class RunSupervisor:
    """Background thread of the owning process: heartbeats and prompt cancellation.

    Every second it reads the execution's status; when someone requested a
    cancel (status ``stopping``) it interrupts the flow body's thread, if that
    is the main thread, so a long checkpoint stops within a second instead of
    at its end. Every :func:`heartbeat_interval` seconds it refreshes the
    heartbeat.
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
        runs = get_engine().runs
        interval = heartbeat_interval()
        since_beat = 0.0
        while not self._done.wait(STOP_POLL_INTERVAL):
            try:
                status = runs.get_run(self.exec_id, details=False).status
                if status == STOPPING and not self.cancel_requested.is_set():
                    self.cancel_requested.set()
                    if self._interruptible:
                        # A real signal (not interrupt_main) so a checkpoint
                        # blocked in a system call wakes up too.
                        os.kill(os.getpid(), signal.SIGINT)
                since_beat += STOP_POLL_INTERVAL
                if since_beat >= interval:
                    since_beat = 0.0
                    runs.log_run_metadata(self.exec_id, {HEARTBEAT_KEY: utc_timestamp()})
            except Exception as exc:  # never let supervision kill the run
                logger.debug("Kitaru supervisor for %s: %s", self.exec_id, exc)

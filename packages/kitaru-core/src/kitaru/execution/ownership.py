"""Who is running an execution, and is that process still alive?

A process killed with ``kill -9`` cannot report anything, so the engine's
record stays ``running`` forever. Kitaru therefore records an *owner*: the
process that runs the flow body (the launcher of a fresh execution, the
process that retries or resumes it):

* a lock file under ``<config dir>/runs/<exec_id>.lock`` that the owner holds
  with ``flock`` while it runs the body and until the engine recorded the
  outcome; the kernel drops the lock when the process dies;
* run metadata ``kitaru_owner`` (host, pid, the owner's claim id and the
  heartbeat timeout it declares) and a ``kitaru_heartbeat`` timestamp
  refreshed every :func:`heartbeat_interval` seconds (10 by default), for
  readers on other machines: a run whose heartbeat is older than the timeout
  *its owner declared* is considered dead. The owner declares
  ``KITARU_HEARTBEAT_TIMEOUT`` from its own environment (default 60 s), so
  every reader, whatever its own environment, judges it the same way.

Why 10 s and 60 s: a heartbeat is one metadata write (about 7 ms on the local
store here), while the supervisor already reads the status every second, so
beating every 10 s adds about a tenth to the load an execution puts on the
store. Six missed heartbeats (a server restart, a long GC pause) are tolerated
before a reader on another machine gives up on the owner, and nobody waits
more than a minute to retry the execution of a crashed machine. Readers
compare the heartbeat with their own clock, so machines must keep their
clocks in sync (NTP) to well within the timeout.

The owner is judged dead only when it cannot be alive: on its own host, when
nobody holds the lock *and* its pid is gone; elsewhere, when its heartbeat is
older than the timeout. A process that retries or resumes an execution
*claims* it (:func:`claim`: lock, owner, fresh heartbeat) before the status
leaves ``paused``/``failed``, so no reader ever sees a continuing execution
that names the previous owner. A paused execution has no running owner: the
body that paused marks its owner record released (:func:`release_owner`), and
a launcher blocked in ``handle.wait()`` owns nothing.

Before the timeout, ``kitaru executions retry --force-owner-dead`` may declare a
silent owner dead (:func:`abandon`). Each owner record carries a claim id
unique to its process; when the supervisor of an owner that was declared dead
finds another claim in the record (a frozen process that thaws, a machine
back from a network partition), it ends its process at once, as if it had
been killed, so it writes nothing more to the execution.

A supervisor thread in the owning process also watches for cancellation
requests and interrupts the flow body promptly (see :class:`RunSupervisor`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

from kitaru.config.paths import config_dir
from kitaru.engine import get_engine
from kitaru.execution.owner_record import (
    ABANDONED_KEY,
    DEFAULT_HEARTBEAT_TIMEOUT,
    HEARTBEAT_INTERVAL,
    HEARTBEAT_KEY,
    OWNER_KEY,
    RELEASED,
    STOP_POLL_INTERVAL,
    OwnerInfo,
    heartbeat_interval,
    heartbeat_timeout,
    lost_claim,
    owner_info,
    owner_record,
    utc_timestamp,
)
from kitaru.locks import is_locked, try_lock

logger = logging.getLogger("kitaru")

LOST_CLAIM_EXIT_CODE = 75
"""Exit status of an owner that finds it was declared dead and another process took over."""
STOPPING = "stopping"
"""The engine status of an execution someone asked to cancel."""


def lock_path(exec_id: str) -> Path:
    """The lock file the owner of ``exec_id`` holds on this machine."""
    return config_dir() / "runs" / f"{exec_id}.lock"


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


def owner_is_dead(exec_id: str, metadata: Mapping[str, Any]) -> tuple[bool, str]:
    """Decide whether the process that owns a running execution has died.

    On the owner's host the answer is certain: it lives while it holds the
    lock or its pid exists. Elsewhere the heartbeat decides, against the
    timeout the owner declared. A released owner (the execution paused) and a
    run without owner are never dead.

    Returns:
        ``(dead, explanation)``; the explanation names the owner.
    """
    info = owner_info(metadata)
    if info is None:
        return False, ""
    who = info.describe()
    if info.on_this_host:
        if local_owner_alive(exec_id) or pid_alive(info.pid):
            return False, ""
        return True, f"the process running this execution ({who}) died"
    silent = info.last_seen_seconds
    if silent is not None and silent > info.timeout_seconds:
        return True, (
            f"the process running this execution ({who}) stopped sending heartbeats "
            f"{int(silent)}s ago (its timeout: {info.timeout_seconds:g}s)"
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


def abandon(exec_id: str, metadata: Mapping[str, Any]) -> None:
    """Declare the current owner of ``exec_id`` dead and record this process as its owner.

    Called by ``retry --force-owner-dead`` after :func:`claim`. The owner
    record gets this process's claim id, so the previous owner's supervisor,
    should that process be alive after all, ends it (:class:`RunSupervisor`);
    ``kitaru_owner_abandoned`` keeps who was declared dead, by whom and when.
    """
    previous = metadata.get(OWNER_KEY)
    get_engine().runs.log_run_metadata(
        exec_id,
        {
            ABANDONED_KEY: {
                "owner": dict(previous) if isinstance(previous, dict) else None,
                "last_heartbeat": metadata.get(HEARTBEAT_KEY),
                "by": owner_record(),
                "at": utc_timestamp(),
            },
            OWNER_KEY: owner_record(),
            HEARTBEAT_KEY: utc_timestamp(),
        },
    )


def release_owner(exec_id: str) -> None:
    """Record that this process no longer runs ``exec_id`` (its body paused at a wait)."""
    get_engine().runs.log_run_metadata(exec_id, {OWNER_KEY: owner_record(released=True)})


class RunSupervisor:
    """Background thread of the owning process: heartbeats, prompt cancellation, lost claims.

    Every second it reads the execution's status; when someone requested a
    cancel (status ``stopping``) it interrupts the flow body's thread, if that
    is the main thread, so a long checkpoint stops within a second instead of
    at its end. Every :func:`heartbeat_interval` seconds (at once when a
    heartbeat is overdue: the process was frozen, or the store unreachable)
    it checks that this process still owns the execution and refreshes the
    heartbeat. If another process took the execution over
    (``--force-owner-dead``), it ends this process with
    :data:`LOST_CLAIM_EXIT_CODE`, as if it had been killed: nothing it would
    still write (a checkpoint's output, a failure) could be trusted.
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
        last_beat = time.monotonic()
        while not self._done.wait(STOP_POLL_INTERVAL):
            try:
                status = runs.get_run(self.exec_id, details=False).status
                if status == STOPPING and not self.cancel_requested.is_set():
                    self.cancel_requested.set()
                    if self._interruptible:
                        # A real signal (not interrupt_main) so a checkpoint
                        # blocked in a system call wakes up too.
                        os.kill(os.getpid(), signal.SIGINT)
                if time.monotonic() - last_beat >= interval:
                    taken_by = lost_claim(runs.get_run(self.exec_id).metadata)
                    if taken_by is not None and not self._done.is_set():
                        self._end_process(taken_by)
                    runs.log_run_metadata(self.exec_id, {HEARTBEAT_KEY: utc_timestamp()})
                    last_beat = time.monotonic()
            except Exception as exc:  # never let supervision kill the run
                logger.debug("Kitaru supervisor for %s: %s", self.exec_id, exc)

    def _end_process(self, taken_by: dict[str, Any]) -> None:
        sys.stderr.write(
            f"Kitaru: execution {self.exec_id} was taken over by pid {taken_by.get('pid')} on host "
            f"{taken_by.get('host')} (`kitaru executions retry --force-owner-dead`): this process was declared "
            "dead, so it stops now without writing anything more to the execution.\n"
        )
        sys.stderr.flush()
        os._exit(LOST_CLAIM_EXIT_CODE)


__all__ = [
    "ABANDONED_KEY",
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "HEARTBEAT_INTERVAL",
    "HEARTBEAT_KEY",
    "LOST_CLAIM_EXIT_CODE",
    "OWNER_KEY",
    "RELEASED",
    "STOPPING",
    "STOP_POLL_INTERVAL",
    "OwnerInfo",
    "RunLock",
    "RunSupervisor",
    "abandon",
    "claim",
    "heartbeat_interval",
    "heartbeat_timeout",
    "local_owner_alive",
    "lock_path",
    "owner_info",
    "owner_is_dead",
    "owner_record",
    "pid_alive",
    "record_owner",
    "release_owner",
    "release_run_lock",
    "utc_timestamp",
]

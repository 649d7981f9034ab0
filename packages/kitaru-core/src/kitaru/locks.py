"""The one file lock Kitaru uses between processes (on top of the ``filelock`` package).

Kitaru serialises three things across processes on one machine: creating the
local store, writing ``kitaru.yaml``, and owning a running execution. All use
:func:`file_lock`, an exclusive lock on a file that the kernel releases when
the process dies (``flock`` on POSIX), so a crashed process never leaves a
stale lock behind::

    with file_lock(config_dir() / ".kitaru-store.lock"):
        ...  # one process at a time

:func:`try_lock` takes a lock without waiting (an execution's owner), and
:func:`is_locked` tells whether another live process holds one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = ["FileLock", "file_lock", "is_locked", "try_lock"]


def _lock(path: Path) -> FileLock:
    # Lock folders are owner-only, like the config dir they live in.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # thread_local=False: a lock taken by the flow body's thread may be
    # released by the thread that records the execution's outcome.
    # is_singleton=False: each call gets its own lock object, so a second
    # acquisition in the same process blocks like one from another process.
    # preserve_lock_file=True: deleting the file on release would let two
    # processes lock two different files of the same name.
    return FileLock(str(path), mode=0o600, thread_local=False, is_singleton=False, preserve_lock_file=True)


@contextmanager
def file_lock(path: Path, timeout: float = -1) -> Iterator[FileLock]:
    """Hold an exclusive lock on ``path`` for the duration of the block.

    Args:
        path: The lock file (created, with its folder, if missing).
        timeout: Seconds to wait; -1 waits forever.

    Raises:
        filelock.Timeout: If the lock is not free within ``timeout``.
    """
    lock = _lock(path)
    with lock.acquire(timeout=timeout):
        yield lock


def try_lock(path: Path) -> FileLock | None:
    """Take the lock on ``path`` without waiting.

    Returns:
        The held lock (call ``release()`` on it), or None when another holder
        has it.
    """
    lock = _lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def is_locked(path: Path) -> bool | None:
    """Whether some process holds the lock on ``path``.

    Returns:
        True or False, or None when there is no lock file (nobody on this
        machine ever took it).
    """
    if not os.path.exists(path):
        return None
    lock = try_lock(path)
    if lock is None:
        return True
    lock.release()
    return False

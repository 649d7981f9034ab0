"""What confines a process, so the helper serves only callers confined exactly as it is.

The helper runs a command with its own privileges: its own namespaces (what
files and network it sees), its own seccomp filter, capabilities and LSM
label. A caller of the same user that runs in a sandbox (``unshare``,
``bwrap``, ``setpriv --no-new-privs``, a container sharing the socket
folder) must not get its commands run outside that sandbox. So:

* the caller's confinement is part of its context
  (:func:`kitaru.cli.warm.identity.context`): a sandboxed caller looks for
  its own helper, started inside the same sandbox;
* the helper compares each caller's confinement with its own
  (:func:`same_as_mine`) and refuses the command on any difference, or when
  it cannot read the caller's. The caller then runs the command in-process,
  as for any answer other than "started".

On a system without ``/proc`` (macOS) there is nothing to compare, and the
owner-only socket folder is the only guard.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
from collections.abc import Callable

NAMESPACES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")
"""The namespaces of ``/proc/<pid>/ns`` compared (those the kernel lacks read as missing on both sides)."""

STATUS_FIELDS = ("NoNewPrivs", "Seccomp", "Seccomp_filters", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
"""The lines of ``/proc/<pid>/status`` compared: no_new_privs, seccomp mode and filters, capability sets."""


def describe(pid: int | str = "self") -> str:
    """The confinement of process ``pid`` as text; equal texts mean equal confinement.

    Every item that cannot be read is recorded as unreadable (with its
    error), so a caller whose ``/proc`` entries the helper cannot read never
    matches the helper's readable ones.

    Args:
        pid: A process id as the helper's pid namespace sees it, or ``"self"``.

    Returns:
        One line per item, or ``""`` where the system has no ``/proc``.
    """
    if not os.path.isdir("/proc/self/ns"):
        return ""
    base = f"/proc/{pid}"
    items = [f"ns {name} {_read(os.readlink, f'{base}/ns/{name}')}" for name in NAMESPACES]
    items.append(f"root {_read(_inode, f'{base}/root')}")
    items.append(f"lsm {_read(_text, f'{base}/attr/current')}")
    status = _read(_text, f"{base}/status")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    items += [f"{name} {fields.get(name, status if not fields else '-').strip()}" for name in STATUS_FIELDS]
    return "\n".join(items)


@functools.cache
def mine() -> str:
    """This process's confinement (it does not change while the process lives)."""
    return describe("self")


def same_as_mine(pid: int) -> bool:
    """Whether process ``pid`` is confined exactly as this one (False for pid 0: not visible from here)."""
    return pid > 0 and describe(pid) == mine()


def caller_same_as_mine(conn: socket.socket, pid: int) -> bool:
    """Whether the process that connected ``conn`` (pid ``pid``) is confined exactly as this one.

    The pid is the connecting process's at ``connect`` time. Had that process
    exited, another one could have been given its pid by the time ``/proc``
    is read. Where the kernel hands out the caller's pidfd (``SO_PEERPIDFD``,
    Linux 6.5+), it pins the very process that connected: after reading
    ``/proc/<pid>``, the pidfd must still name a live process of that pid, so
    what was read was the caller's. Older kernels have no such check.
    """
    pidfd = _peer_pidfd(conn)
    try:
        if not same_as_mine(pid):
            return False
        return pidfd is None or _pid_of(pidfd) == pid
    finally:
        if pidfd is not None:
            os.close(pidfd)


SO_PEERPIDFD = 77
"""The socket option that gives the caller's pidfd, where socket options have their generic numbers."""

GENERIC_SOCKET_OPTIONS = frozenset({"x86_64", "i686", "aarch64", "arm64", "armv7l", "riscv64", "ppc64le", "s390x"})
"""Machines whose kernel numbers socket options the generic way (elsewhere 77 may be another option)."""


def _peer_pidfd(conn: socket.socket) -> int | None:
    if platform.machine() not in GENERIC_SOCKET_OPTIONS or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        return int(conn.getsockopt(socket.SOL_SOCKET, getattr(socket, "SO_PEERPIDFD", SO_PEERPIDFD)))
    except OSError:
        return None  # a kernel before 6.5


def _pid_of(pidfd: int) -> int:
    """The pid a pidfd names, -1 once that process has exited (its ``fdinfo``'s ``Pid:`` line)."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}", encoding="ascii") as info:
            for line in info:
                if line.startswith("Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def _read(reader: Callable[[str], str], path: str) -> str:
    try:
        return reader(path)
    except OSError as error:
        return f"unreadable ({error.errno})"


def _inode(path: str) -> str:
    info = os.stat(path)
    return f"{info.st_dev}:{info.st_ino}"


def _text(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace").strip("\x00\n")

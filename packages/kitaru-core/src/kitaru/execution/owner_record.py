"""What an owner record says: its keys, the heartbeat timing, who owns a run and since when.

The process that runs an execution's flow body records itself as its owner in
run metadata (:mod:`kitaru.execution.ownership` writes it and decides whether
the owner died)::

    kitaru_owner      {"host": "pod-7", "pid": 42, "released": false,
                       "claim": "<random id of the process>", "timeout": 60.0}
    kitaru_heartbeat  "2026-12-03T19:12:53.120000+00:00"

This module only reads and builds those records: no store, no locks.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.settings import seconds_or_none, settings

OWNER_KEY = "kitaru_owner"
"""Run metadata: the owner record."""
HEARTBEAT_KEY = "kitaru_heartbeat"
"""Run metadata: the owner's last heartbeat (an ISO timestamp in UTC)."""
ABANDONED_KEY = "kitaru_owner_abandoned"
"""Run metadata naming an owner declared dead by ``--force-owner-dead``, and who took over."""
HEARTBEAT_INTERVAL = 10.0
"""Seconds between two heartbeats, at most (a third of the timeout when that is shorter)."""
DEFAULT_HEARTBEAT_TIMEOUT = 60.0
"""Seconds without a heartbeat after which an owner on another machine counts as dead."""
RELEASED = "released"
"""Key of an owner record whose process no longer runs the body (the execution paused)."""
CLAIM = "claim"
"""Key of the owner record's claim id: unique to the owning process."""
TIMEOUT = "timeout"
"""Key of the heartbeat timeout (seconds) the owner declares; readers judge it by this one."""
STOP_POLL_INTERVAL = 1.0
"""Seconds between two status reads of the supervisor, and the shortest heartbeat interval."""


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat after which this process, as an owner, may be judged dead.

    ``KITARU_HEARTBEAT_TIMEOUT`` (default 60), declared in every owner record
    this process writes.

    Raises:
        KitaruUsageError: If the variable is not a number of seconds above 0.
    """
    raw = settings().heartbeat_timeout
    if raw is None:
        return DEFAULT_HEARTBEAT_TIMEOUT
    value = seconds_or_none(raw)
    if value is None:
        raise KitaruUsageError(
            f"Invalid KITARU_HEARTBEAT_TIMEOUT value {raw!r}: use a number of seconds above 0 "
            f"(default {DEFAULT_HEARTBEAT_TIMEOUT:g}), or unset it."
        )
    return value


def heartbeat_interval() -> float:
    """Seconds between two heartbeats: often enough that a live owner never looks silent."""
    return max(STOP_POLL_INTERVAL, min(HEARTBEAT_INTERVAL, heartbeat_timeout() / 3))


_claim_id: tuple[int, str] = (0, "")


def claim_id() -> str:
    """This process's claim id: random, made once per process (a forked child gets its own)."""
    global _claim_id
    if _claim_id[0] != os.getpid():
        _claim_id = (os.getpid(), uuid.uuid4().hex)
    return _claim_id[1]


def owner_record(*, released: bool = False) -> dict[str, Any]:
    """The ``kitaru_owner`` metadata for this process.

    Every record has every key: the engine merges a dict recorded under the
    same key into the previous one, so a key left out would keep an earlier
    owner's value.
    """
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        RELEASED: released,
        CLAIM: claim_id(),
        TIMEOUT: heartbeat_timeout(),
    }


def utc_timestamp() -> str:
    """Now, as an ISO timestamp in UTC."""
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class OwnerInfo:
    """Who runs a running execution, and when it was last heard of (``Execution.owner``).

    Attributes:
        host: The owner's host name.
        pid: The owner's process id on that host.
        last_seen_seconds: Seconds since its last heartbeat (None if it sent none).
        timeout_seconds: The heartbeat timeout it declared: silent for longer,
            it counts as dead.
    """

    host: str | None
    pid: int | None
    last_seen_seconds: float | None
    timeout_seconds: float

    def describe(self) -> str:
        """``pid 42 on host pod-7``."""
        return f"pid {self.pid} on host {self.host}"

    def last_seen(self) -> str:
        """``last seen 12s ago`` (or ``no heartbeat yet``)."""
        if self.last_seen_seconds is None:
            return "no heartbeat yet"
        return f"last seen {int(self.last_seen_seconds)}s ago"

    def dead_in_seconds(self) -> int | None:
        """Whole seconds until readers on other machines judge it dead, if it stays silent."""
        if self.last_seen_seconds is None:
            return None
        return max(0, math.ceil(self.timeout_seconds - self.last_seen_seconds))

    @property
    def on_this_host(self) -> bool:
        """Whether the owner runs on this machine (then its liveness is known exactly)."""
        return self.host == socket.gethostname()


def declared_timeout(owner: dict[str, Any]) -> float:
    """The heartbeat timeout an owner record declares; this process's own for records that declare none."""
    value = owner.get(TIMEOUT)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    return heartbeat_timeout()


def seconds_since(timestamp: Any) -> float | None:
    """Seconds from an ISO timestamp (a heartbeat) until now; None if it is not one."""
    try:
        last = datetime.fromisoformat(str(timestamp))
    except ValueError:
        return None
    if last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - last).total_seconds())


def owner_info(metadata: Mapping[str, Any]) -> OwnerInfo | None:
    """The owner of an execution, from its run metadata; None if it has none or it was released."""
    owner = metadata.get(OWNER_KEY)
    if not isinstance(owner, dict) or owner.get(RELEASED):
        return None
    pid = owner.get("pid")
    silent = seconds_since(metadata.get(HEARTBEAT_KEY))
    return OwnerInfo(
        host=str(owner.get("host")) if owner.get("host") is not None else None,
        pid=pid if isinstance(pid, int) else None,
        last_seen_seconds=round(silent, 1) if silent is not None else None,
        timeout_seconds=declared_timeout(owner),
    )


def lost_claim(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """The owner record that replaced this process's claim, or None if this process still owns the run."""
    owner = metadata.get(OWNER_KEY)
    if not isinstance(owner, dict) or owner.get(CLAIM) in (None, claim_id()):
        return None
    return owner


__all__ = [
    "ABANDONED_KEY",
    "CLAIM",
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "HEARTBEAT_INTERVAL",
    "HEARTBEAT_KEY",
    "OWNER_KEY",
    "RELEASED",
    "STOP_POLL_INTERVAL",
    "TIMEOUT",
    "OwnerInfo",
    "claim_id",
    "declared_timeout",
    "heartbeat_interval",
    "heartbeat_timeout",
    "lost_claim",
    "owner_info",
    "owner_record",
    "seconds_since",
    "utc_timestamp",
]

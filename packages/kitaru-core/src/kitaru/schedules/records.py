"""What Kitaru records about one schedule, and the rule for schedule names.

A :class:`Schedule` is a plain frozen record: the store
(:mod:`kitaru.schedules.store`) keeps it as JSON in the config directory,
and every surface (``kitaru schedule list -o json``, the Python API) shows the
same fields::

    Schedule(name="nightly-report", target="agents.py:report", cron="0 7 * * *",
             args={"topic": "sales"}, base_dir="/home/me/agents", created_at=...)

Times are timezone-aware datetimes, stored as ISO 8601 in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.jsonable import from_iso, to_iso

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Schedule names: a letter or digit, then letters, digits, ``_``, ``.`` or ``-``; at most 64 characters."""

LOCAL = "local"
"""Backend of a schedule Kitaru keeps itself and starts with ``kitaru schedule run-due``."""

ENGINE = "engine"
"""Backend of a schedule handed to the stack's orchestrator (which starts its runs by itself)."""


def check_name(name: Any) -> str:
    """Validate a schedule name and return it stripped.

    Raises:
        KitaruUsageError: If the name is empty or has characters other than
            letters, digits, ``_``, ``.`` and ``-``.
    """
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise KitaruUsageError("A schedule name is required, e.g. nightly-report.")
    if not NAME_PATTERN.fullmatch(text):
        raise KitaruUsageError(
            f"Invalid schedule name '{text}': use letters, digits, '_', '.' and '-' (starting with a "
            "letter or digit, at most 64 characters), e.g. nightly-report."
        )
    return text


@dataclass(frozen=True)
class Schedule:
    """One schedule.

    Attributes:
        name: Unique name (see :data:`NAME_PATTERN`).
        target: The flow, as ``kitaru run`` takes it: ``<module_or_file.py>:<flow>``.
        cron: Five-field cron expression, evaluated in this machine's local
            time zone (as cron does).
        args: The flow's inputs by parameter name (JSON values).
        base_dir: The directory the target was given relative to (where the
            schedule was created); ``run-due`` loads the target from there.
        created_at: When the schedule was created. The first fire time is the
            first one after it.
        backend: :data:`LOCAL` (started by ``kitaru schedule run-due``) or
            :data:`ENGINE` (started by the stack's orchestrator).
        stack: The stack an engine schedule was created on (None when local).
        engine_id: The engine's id of an engine schedule.
        last_fire_at: The cron time of the last fire that was started (or
            claimed: it is recorded before the run starts).
        last_execution_id: The execution started for ``last_fire_at``.
        last_status: That execution's status when ``run-due`` returned, or
            ``not started`` with ``last_error``.
        last_error: Why the last fire could not start its execution.
        missed_count: Fire times that passed without a run of their own (the
            machine was off, or nothing ran ``run-due``), over the schedule's life.
        last_missed: The most recent missed fire times (at most
            :data:`~kitaru.schedules.due.MISSED_SHOWN`).
    """

    name: str
    target: str
    cron: str
    args: Mapping[str, Any] = field(default_factory=dict)
    base_dir: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    backend: str = LOCAL
    stack: str | None = None
    engine_id: str | None = None
    last_fire_at: datetime | None = None
    last_execution_id: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    missed_count: int = 0
    last_missed: tuple[datetime, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data (what the store writes)."""
        data = asdict(self)
        data["args"] = dict(self.args)
        for key in ("created_at", "last_fire_at"):
            data[key] = to_iso(getattr(self, key))
        data["last_missed"] = [to_iso(moment) for moment in self.last_missed]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Schedule:
        """Read a record written by :meth:`to_json` (unknown keys are ignored)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        created = from_iso(known.pop("created_at", None)) or datetime.now(UTC)
        return cls(
            **{
                **known,
                "args": dict(known.get("args") or {}),
                "created_at": created,
                "last_fire_at": from_iso(known.get("last_fire_at")),
                "last_missed": tuple(
                    moment for moment in (from_iso(item) for item in known.get("last_missed") or ()) if moment
                ),
            }
        )

    def with_changes(self, **changes: Any) -> Schedule:
        """A copy with some fields changed."""
        return replace(self, **changes)


__all__ = ["ENGINE", "LOCAL", "NAME_PATTERN", "Schedule", "check_name", "from_iso", "to_iso"]

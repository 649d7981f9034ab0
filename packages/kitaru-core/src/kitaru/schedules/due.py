"""When a schedule fires next, whether it is due, and which fire times it missed.

The catch-up policy
-------------------
A schedule's fire times are its cron times after it was created. ``kitaru
schedule run-due`` looks at every fire time since the schedule's last fire
(or its creation):

* none passed: the schedule is not due;
* one passed: it is due, and one execution starts for it;
* several passed (the machine was off, or nothing ran ``run-due``): **one**
  execution starts, for the most recent fire time, and every earlier one is
  *missed*: counted, the most recent of them listed, and added to the
  schedule's ``missed_count``, so ``run-due`` and ``schedule list`` report
  them. A nightly agent that was off for a week runs once, not seven times
  in a row, and you learn that six nights were skipped.

Fire times are read in this machine's local time zone, as cron does, and
walked as one sequence in absolute time (:func:`kitaru.schedules.cron.fires_between`),
so the fire that starts and the fires counted as missed come from the same
list, across daylight saving changes too (the rules are in
:mod:`kitaru.schedules.cron`): an hourly schedule run every hour through the
night the clocks fall back starts each of its 25 fires, and misses none.

Everything here is pure (no files, no clock): ``now`` is always an argument,
which is also how ``kitaru schedule run-due --now ISO_TIME`` replays a moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from kitaru.schedules.cron import fires_between, next_fire
from kitaru.schedules.records import Schedule

MISSED_SHOWN = 10
"""How many of the most recent missed fire times are listed (the count covers all of them)."""

MISSED_COUNT_LIMIT = 100_000
"""Counting missed fire times stops here (a schedule every minute, off for more than two months)."""


@dataclass(frozen=True)
class DueFire:
    """A schedule's fire that should start now.

    Attributes:
        schedule: The schedule.
        fire_at: The fire time the execution starts for (the most recent one).
        missed_count: Earlier fire times since the last fire that get no run
            (at most :data:`MISSED_COUNT_LIMIT`).
        missed: The most recent of those (at most :data:`MISSED_SHOWN`), oldest first.
    """

    schedule: Schedule
    fire_at: datetime
    missed_count: int
    missed: tuple[datetime, ...]


def anchor(schedule: Schedule) -> datetime:
    """The moment after which the schedule's next fire time counts: its last fire, else its creation."""
    return schedule.last_fire_at or schedule.created_at


def due_fire(schedule: Schedule, now: datetime, zone: tzinfo | None = None) -> DueFire | None:
    """The fire to start for ``schedule`` at ``now``, or None when nothing is due.

    Args:
        schedule: The schedule (a local one; engine schedules are started by
            the orchestrator).
        now: The current time (aware).
        zone: The time zone its cron expression is read in; this machine's by default.
    """
    window = fires_between(
        schedule.cron, anchor(schedule), now, limit=MISSED_COUNT_LIMIT, shown=MISSED_SHOWN, zone=zone
    )
    if window.latest is None:
        return None
    return DueFire(schedule, window.latest, window.earlier_count, window.earlier)


def next_fire_time(schedule: Schedule, now: datetime, zone: tzinfo | None = None) -> datetime:
    """The schedule's next fire time after ``now`` (a fire that is already due is :func:`due_fire`'s)."""
    return next_fire(schedule.cron, max(anchor(schedule), now), zone)


__all__ = ["MISSED_COUNT_LIMIT", "MISSED_SHOWN", "DueFire", "anchor", "due_fire", "next_fire_time"]

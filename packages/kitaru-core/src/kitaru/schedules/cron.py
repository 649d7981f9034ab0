"""Cron expressions: check one, and walk its fire times as one sequence in absolute time.

Kitaru takes the five fields of a crontab line (minute, hour, day of month,
month, day of week) and evaluates them in this machine's local time zone,
daylight saving time included, as cron does. ``croniter`` parses them; it is
imported on first use::

    check_cron("0 7 * * *")                        # every day at 07:00
    window = fires_between("*/15 * * * *", last_fire, now, limit=1000, shown=10)
    window.latest                                  # the last fire time at or before now

Every question (is a fire due, which ones were missed, when is the next one)
is answered from one sequence: the fire times after a moment, each the first
one after the previous, compared in absolute time. So the fire that is
started and the fires that are counted never disagree, whatever the clocks do.

Daylight saving time, as cron (Vixie/cronie) handles it:

* **Spring forward** (the clock jumps from 02:00 to 03:00): a fire time in
  the skipped hour (``30 2 * * *``) fires at the jump, 03:00 local time, that
  day. An hourly schedule (``0 * * * *``) fires every hour of absolute time,
  so that night it fires at 01:00 and 03:00 local, one hour apart.
* **Fall back** (01:00 to 02:00 happens twice): a schedule with ``*`` in its
  minute or hour field (``0 * * * *``, ``*/15 * * * *``) fires in both
  passes, every hour of absolute time; a schedule at a fixed time
  (``30 1 * * *``) fires once, in the first pass.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from kitaru.errors import KitaruUsageError

CRON_EXAMPLE = '"0 7 * * *" (every day at 07:00) or "*/15 * * * *" (every 15 minutes)'
FIELDS = "minute hour day-of-month month day-of-week"

RESYNC_MARGIN = timedelta(hours=3)
"""How far before its estimate a long walk restarts (more than any daylight saving shift)."""


def local_zone() -> Any:
    """This machine's time zone, with its daylight saving rules (not a fixed offset)."""
    from dateutil import tz

    return tz.tzlocal()


def check_cron(expression: Any) -> str:
    """Validate a five-field cron expression and return it normalised (single spaces).

    Raises:
        KitaruUsageError: With croniter's reason and an example, if the
            expression is empty, has another number of fields, or a field
            out of range.
    """
    from croniter import croniter

    text = " ".join(expression.split()) if isinstance(expression, str) else ""
    if not text:
        raise KitaruUsageError(f"A cron expression is required ({FIELDS}), e.g. {CRON_EXAMPLE}.")
    fields = text.split(" ")
    if len(fields) != 5:
        raise KitaruUsageError(
            f"Invalid cron expression '{text}': it has {len(fields)} field(s), Kitaru takes exactly 5 "
            f"({FIELDS}), e.g. {CRON_EXAMPLE}."
        )
    try:
        croniter(text, datetime.now(local_zone()))
    except (ValueError, KeyError) as exc:  # croniter's errors are ValueErrors (some KeyErrors for names)
        raise KitaruUsageError(
            f"Invalid cron expression '{text}': {exc}. Use 5 fields ({FIELDS}), e.g. {CRON_EXAMPLE}."
        ) from None
    return text


def fixed_time(expression: str) -> bool:
    """Whether the schedule fires at fixed local times: no ``*`` in its minute or hour field (as cron decides)."""
    minute, hour = expression.split(" ")[:2]
    return "*" not in minute and "*" not in hour


def second_pass(moment: datetime, zone: tzinfo) -> bool:
    """Whether ``moment``'s local time already happened earlier (the repeated hour when clocks fall back)."""
    local = moment.astimezone(zone)
    return local.replace(fold=0).astimezone(UTC) != moment.astimezone(UTC)


def fire_times(expression: str, after: datetime, zone: tzinfo | None = None) -> Iterator[datetime]:
    """The fire times strictly after ``after``, in order, without end (aware, in ``zone``).

    Args:
        expression: A cron expression checked by :func:`check_cron`.
        after: The moment to start after (aware).
        zone: The time zone the expression is read in; this machine's by default.
    """
    from croniter import croniter

    zone = zone or local_zone()
    skip_repeated = fixed_time(expression)
    iterator = croniter(expression, after.astimezone(zone))
    while True:
        moment: datetime = iterator.get_next(datetime)
        if skip_repeated and second_pass(moment, zone):
            continue
        yield moment


def next_fire(expression: str, after: datetime, zone: tzinfo | None = None) -> datetime:
    """The first fire time strictly after ``after``."""
    return next(fire_times(expression, after, zone))


@dataclass(frozen=True)
class FireWindow:
    """The fire times in ``(after, now]``, from one walk of the sequence.

    Attributes:
        latest: The last fire time at or before ``now`` (None if there is none).
        earlier_count: How many fire times lie between ``after`` and
            ``latest`` (at most the walk's ``limit``).
        earlier: The most recent of those (at most ``shown``), oldest first.
    """

    latest: datetime | None
    earlier_count: int
    earlier: tuple[datetime, ...]


def _resync_point(expression: str, now: datetime, fires: int, zone: tzinfo) -> datetime:
    """A moment with at least ``fires`` fire times between it and ``now`` (to finish a long walk quickly)."""
    from croniter import croniter

    iterator = croniter(expression, now.astimezone(zone) + timedelta(microseconds=1))
    moment = now
    for _ in range(fires):
        moment = iterator.get_prev(datetime)
    return moment - RESYNC_MARGIN  # get_prev can misplace the repeated hour; start before it


def fires_between(
    expression: str, after: datetime, now: datetime, *, limit: int, shown: int, zone: tzinfo | None = None
) -> FireWindow:
    """Walk the fire times after ``after`` up to ``now``: the latest one, and how many came before it.

    A schedule that fires every minute and was off for a year has half a
    million fire times: the walk counts at most ``limit``, then restarts a
    few fire times before ``now`` to find the latest ones.

    Args:
        expression: A cron expression checked by :func:`check_cron`.
        after: Fire times strictly after this moment count (the last fire, or the creation).
        now: Fire times at or before this moment count.
        limit: Stop counting earlier fire times here.
        shown: How many of the most recent earlier fire times to keep.
        zone: The time zone the expression is read in; this machine's by default.
    """
    zone = zone or local_zone()
    recent: deque[datetime] = deque(maxlen=shown + 1)
    walked = 0
    for moment in fire_times(expression, after, zone):
        if moment > now:
            break
        recent.append(moment)
        walked += 1
        if walked > limit:  # too many to walk: the count stops, the latest ones come from near now
            start = max(moment, _resync_point(expression, now, shown + 1, zone))
            if start > moment:
                recent.clear()
            for late in fire_times(expression, start, zone):
                if late > now:
                    break
                recent.append(late)
            break
    if not recent:
        return FireWindow(latest=None, earlier_count=0, earlier=())
    latest = recent.pop()
    return FireWindow(latest=latest, earlier_count=min(walked - 1, limit), earlier=tuple(recent))


__all__ = [
    "CRON_EXAMPLE",
    "FireWindow",
    "check_cron",
    "fire_times",
    "fires_between",
    "fixed_time",
    "local_zone",
    "next_fire",
    "second_pass",
]

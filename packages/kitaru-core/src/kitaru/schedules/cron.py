"""Cron expressions: check one, find its last fire time, count the fire times between two moments.

Kitaru takes the five fields of a crontab line (minute, hour, day of month,
month, day of week) and evaluates them in this machine's local time zone,
daylight saving time included, as cron does. ``croniter`` parses them; it is
imported on first use::

    check_cron("0 7 * * *")                       # every day at 07:00
    latest_fire("*/15 * * * *", now)              # the last fire time at or before now
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kitaru.errors import KitaruUsageError

CRON_EXAMPLE = '"0 7 * * *" (every day at 07:00) or "*/15 * * * *" (every 15 minutes)'
FIELDS = "minute hour day-of-month month day-of-week"


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


def next_fire(expression: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (aware, in the local zone)."""
    from croniter import croniter

    value: datetime = croniter(expression, after.astimezone(local_zone())).get_next(datetime)
    return value


def latest_fire(expression: str, now: datetime) -> datetime:
    """The last fire time at or before ``now`` (aware, in the local zone)."""
    from croniter import croniter

    # get_prev() excludes its start; a microsecond later includes a fire exactly at ``now``.
    start = now.astimezone(local_zone()) + timedelta(microseconds=1)
    value: datetime = croniter(expression, start).get_prev(datetime)
    return value


def count_fires(expression: str, after: datetime, before: datetime, limit: int) -> int:
    """How many fire times lie strictly between ``after`` and ``before``, counting at most ``limit``.

    A schedule that fires every minute and was off for a year has half a
    million; the count stops at ``limit``.
    """
    from croniter import croniter

    iterator = croniter(expression, after.astimezone(local_zone()))
    count = 0
    while count < limit:
        moment: datetime = iterator.get_next(datetime)
        if moment >= before:
            break
        count += 1
    return count


def fires_before(expression: str, before: datetime, after: datetime, limit: int) -> list[datetime]:
    """The last ``limit`` fire times strictly between ``after`` and ``before``, oldest first."""
    from croniter import croniter

    iterator = croniter(expression, before.astimezone(local_zone()))
    times: list[datetime] = []
    while len(times) < limit:
        moment: datetime = iterator.get_prev(datetime)
        if moment <= after:
            break
        times.append(moment)
    return times[::-1]


__all__ = [
    "CRON_EXAMPLE",
    "check_cron",
    "count_fires",
    "fires_before",
    "latest_fire",
    "local_zone",
    "next_fire",
]

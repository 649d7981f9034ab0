"""``kitaru.sleep()`` and ``kitaru.sleep_until()``: durable sleeps in the flow body.

A sleep is identified by its position in the flow body: ``sleep:0``,
``sleep:1`` ... per run of the body (as automatic wait names are), so a
retried or resumed body meets the same sleep under the same name. The first
time the body reaches a sleep, its wake-up time is recorded on the execution
(run metadata :data:`SLEEPS_KEY`, ``{name: ISO time}``); every later run of
the body sleeps only what is left until that recorded time, and not at all
once it has passed.

How it sleeps depends on what is left:

* up to :func:`pause_after` seconds (``KITARU_SLEEP_PAUSE_AFTER``, default
  60): in this process. While it sleeps, :data:`SLEEPING_KEY` names the sleep
  and its wake-up time; it is cleared when the body wakes. If the process
  dies meanwhile (``kill -9``), crash detection marks the execution failed
  and the record says it died in a sleep, so ``kitaru executions resume
  --due`` retries it after the wake-up time (finished checkpoints are reused).
  The sweep retries such an execution *once*: it marks the record
  (:func:`mark_retried`) before retrying, and if that retry fails before the
  body reaches the sleep again, the execution is an ordinary failed one,
  retried with ``kitaru executions retry``;
* longer: the execution *pauses*, as at an unanswered ``kitaru.wait()``. The
  sleep is recorded as a wait named after it (a gate, timeout 0) whose
  metadata holds the wake-up time (:data:`WAKE_AT_KEY`); the process is free
  to exit and the execution shows ``waiting``. Any resume after the wake-up
  time continues it (:func:`wake`, called by ``kitaru executions resume`` and
  its ``--due`` sweep); answering the wait (``kitaru executions input ID
  --value null``) wakes it early. A child flow's sleep pauses its top-level
  execution too, and every command names the top-level execution: only it
  can be resumed. Resuming it before a child's wake-up time is refused, as
  for its own sleep.

The names ``sleep:<n>`` are reserved for sleeps; do not give a ``wait()``
such a name.

This module holds the rules and records (no engine run needed: the CLI,
the client and the sweep of :mod:`kitaru.execution.wakeups` read them);
what runs inside the flow body is :mod:`kitaru.execution.sleeps_body`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict, RecordNotFound
from kitaru.engine.runs import RunRecord, WaitRecord
from kitaru.errors import (
    KitaruStateError,
    KitaruUsageError,
)
from kitaru.execution.console import format_elapsed
from kitaru.execution.runs import root_of
from kitaru.jsonable import from_iso, to_iso
from kitaru.settings import KitaruSettings, seconds_or_none, settings

SLEEP_PREFIX = "sleep:"
"""The reserved name prefix of sleeps (``sleep:0``, ``sleep:1`` ...)."""

SLEEPS_KEY = "kitaru_sleeps"
"""Run metadata: ``{sleep name: wake-up time (ISO, UTC)}`` for every sleep the body reached."""

SLEEPING_KEY = "kitaru_sleeping"
"""Run metadata: ``{"name", "wake_at"}`` while the body sleeps in its process; ``""`` once it woke.

The sweep adds ``"retried": true`` before it retries an execution that died
in the sleep (:func:`mark_retried`); such a record no longer counts as an
interrupted sleep.
"""

WAKE_AT_KEY = "kitaru_wake_at"
"""Metadata of a sleep's wait (a paused sleep): its wake-up time (ISO, UTC)."""

DEFAULT_PAUSE_AFTER = 60.0
"""Sleeps longer than this many seconds pause the execution, unless ``KITARU_SLEEP_PAUSE_AFTER`` says otherwise."""

PAUSE_AFTER_ENV = KitaruSettings.variable("sleep_pause_after")


def pause_after() -> float:
    """Seconds of sleep above which the execution pauses instead of sleeping in its process.

    ``KITARU_SLEEP_PAUSE_AFTER`` overrides the default of 60 seconds; 0 pauses
    at every sleep that has time left.

    Raises:
        KitaruUsageError: If the variable is not a number of seconds >= 0.
    """
    raw = settings().sleep_pause_after
    if not raw:
        return DEFAULT_PAUSE_AFTER
    value = seconds_or_none(raw, allow_zero=True)
    if value is None:
        raise KitaruUsageError(
            f"{PAUSE_AFTER_ENV} must be a number of seconds >= 0; got {raw!r}. Unset it to use the default "
            f"of {DEFAULT_PAUSE_AFTER:g} seconds."
        )
    return value


# -- arguments ------------------------------------------------------------------------------


def validate_seconds(seconds: Any) -> float:
    """``sleep(seconds)`` as a float: a number of seconds >= 0, or a ``timedelta``.

    Raises:
        KitaruUsageError: For anything else (a bool, a negative, NaN or infinite number, text).
    """
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    elif isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise KitaruUsageError(
            f"kitaru.sleep() takes a number of seconds (or a datetime.timedelta); got {seconds!r}. To sleep "
            "until a moment, use kitaru.sleep_until(datetime)."
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise KitaruUsageError(f"kitaru.sleep() needs a finite number of seconds >= 0; got {seconds!r}.")
    return float(seconds)


def validate_moment(when: Any) -> datetime:
    """``sleep_until(when)`` as an aware UTC datetime; a naive datetime is local time.

    Raises:
        KitaruUsageError: If ``when`` is not a ``datetime.datetime``.
    """
    if not isinstance(when, datetime):
        raise KitaruUsageError(
            f"kitaru.sleep_until() takes a datetime.datetime; got {when!r}. A naive datetime is taken as "
            "local time; pass tzinfo (e.g. datetime(2027, 1, 1, 7, tzinfo=timezone.utc)) to be explicit. To "
            "sleep a number of seconds, use kitaru.sleep(seconds)."
        )
    return when.astimezone(timezone.utc)


# -- reading what was recorded --------------------------------------------------------------


def is_sleep_name(name: str | None) -> bool:
    """Whether a wait name is a sleep's (``sleep:<n>``)."""
    return bool(name) and str(name).startswith(SLEEP_PREFIX)


def parse_time(value: Any) -> datetime | None:
    """A recorded time (:func:`kitaru.jsonable.from_iso`), or None if the record holds no time."""
    try:
        return from_iso(value)
    except ValueError:  # not a record Kitaru wrote: no sleep
        return None


def iso(moment: datetime) -> str:
    """An aware datetime as the ISO text Kitaru records (:func:`kitaru.jsonable.to_iso`)."""
    return to_iso(moment)


def recorded_wake(metadata: Mapping[str, Any], name: str) -> datetime | None:
    """The wake-up time recorded for sleep ``name`` in run metadata, or None."""
    sleeps = metadata.get(SLEEPS_KEY)
    return parse_time(sleeps.get(name)) if isinstance(sleeps, Mapping) else None


def sleep_wait_wake(wait: WaitRecord | None) -> datetime | None:
    """The wake-up time of a paused sleep's wait, or None if ``wait`` is not a sleep's."""
    if wait is None or not is_sleep_name(wait.name):
        return None
    return parse_time(wait.metadata.get(WAKE_AT_KEY))


def sleeping_record(metadata: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """The sleep the body was in when last recorded (``SLEEPING_KEY``): its name and wake-up time."""
    record = metadata.get(SLEEPING_KEY)
    if not isinstance(record, Mapping):
        return None
    wake_at = parse_time(record.get("wake_at"))
    return (str(record.get("name") or ""), wake_at) if wake_at is not None else None


def sweep_retried(metadata: Mapping[str, Any]) -> bool:
    """Whether the sweep already retried the execution for the sleep recorded in ``metadata``."""
    record = metadata.get(SLEEPING_KEY)
    return isinstance(record, Mapping) and record.get("retried") is True


def mark_retried(exec_id: str, name: str, wake_at: datetime) -> None:
    """Record that the sweep retries ``exec_id`` for its interrupted sleep ``name`` (before it does).

    The sweep retries an interrupted sleep once: if the retry fails before
    the body reaches the sleep again (which clears the record), later sweeps
    leave the execution alone and it is an ordinary failed execution.
    """
    get_engine().runs.log_run_metadata(
        exec_id, {SLEEPING_KEY: {"name": name, "wake_at": iso(wake_at), "retried": True}}
    )


@dataclass(frozen=True)
class SleepInfo:
    """A sleep an execution is in (``Execution.sleep``).

    Attributes:
        name: The sleep's name (``sleep:0``).
        wake_at: When it wakes up (UTC).
        state: ``sleeping`` (blocked in its process), ``paused`` (the
            process exited; a resume after ``wake_at`` continues it) or
            ``interrupted`` (its process died or was interrupted while
            sleeping; the execution failed and ``kitaru executions resume
            --due`` retries it after ``wake_at``).
        due: Whether ``wake_at`` has passed (when the execution was read).
    """

    name: str
    wake_at: datetime
    state: str
    due: bool = False


def sleep_info(run: RunRecord, *, now: datetime | None = None) -> SleepInfo | None:
    """The sleep ``run`` is in, or None (``run`` read with details)."""
    now = now or datetime.now(timezone.utc)
    wake_at = sleep_wait_wake(run.active_wait)
    if wake_at is not None and run.active_wait is not None:
        return SleepInfo(name=run.active_wait.name, wake_at=wake_at, state="paused", due=wake_at <= now)
    record = sleeping_record(run.metadata)
    if record is None:
        return None
    name, wake_at = record
    if run.status == "failed":
        if sweep_retried(run.metadata):  # retried once already: an ordinary failed execution now
            return None
        return SleepInfo(name=name, wake_at=wake_at, state="interrupted", due=wake_at <= now)
    if not run.finished and run.status != "paused":
        return SleepInfo(name=name, wake_at=wake_at, state="sleeping", due=wake_at <= now)
    return None


def describe_moment(moment: datetime, *, now: datetime | None = None) -> str:
    """``2026-12-06 09:00:00 UTC (in 2h 3m)``, or ``(due 5m 2s ago)`` once passed."""
    now = now or datetime.now(timezone.utc)
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = (moment - now).total_seconds()
    span = format_elapsed(round(abs(left)))
    return f"{text} (in {span})" if left > 0 else f"{text} (due {span} ago)"


# -- waking a paused sleep ------------------------------------------------------------------


def _paused_sleeps(run: RunRecord) -> list[tuple[RunRecord, datetime]]:
    """``run`` and every child flow execution under it that is paused at a sleep, with its wake-up time."""
    found: list[tuple[RunRecord, datetime]] = []
    pending, seen = [run], {run.id}
    while pending:
        current = pending.pop(0)
        wake_at = sleep_wait_wake(current.active_wait)
        if wake_at is not None:
            found.append((current, wake_at))
        if current.finished:
            continue
        for child in get_engine().runs.child_runs(current.id):
            if child.id not in seen and not child.finished:
                seen.add(child.id)
                pending.append(child)
    return found


def wake(run: RunRecord, *, now: datetime | None = None) -> bool:
    """End the paused sleeps of ``run`` and its child flows whose wake-up time has passed.

    A child flow's sleep pauses the top-level execution as well; resuming
    that one re-runs the child's body, so its sleep must be due too.

    Args:
        run: The execution, read with details.
        now: The current time (tests).

    Returns:
        Whether a paused sleep was ended; False if none is paused.

    Raises:
        KitaruStateError: If a sleep has not reached its wake-up time (nothing
            is changed then); the message says when it wakes, how to wake it
            early, and names the top-level execution, the one to resume.
    """
    now = now or datetime.now(timezone.utc)
    paused = _paused_sleeps(run)
    if not paused:
        return False
    root = root_of(run).id
    for sleeper, wake_at in paused:
        if wake_at > now:
            whose = f"Execution {root}" if sleeper.id == root else f"Execution {root} (its child flow {sleeper.id})"
            raise KitaruStateError(
                f"{whose} is sleeping until {describe_moment(wake_at, now=now)}; it cannot be resumed before "
                f"then. After that time `kitaru executions resume {root}` (or the sweep `kitaru executions resume "
                f"--due`) continues it. To wake it now: `kitaru executions input {sleeper.id} --value null`, then "
                f"`kitaru executions resume {root}`."
            )
    for sleeper, _ in paused:
        wait = sleeper.active_wait
        if wait is None:
            continue
        try:
            get_engine().waits.resolve(wait.id, None)
        except (RecordConflict, RecordNotFound):  # woken meanwhile (another sweep, an early wake)
            pass
    return True


__all__ = [
    "DEFAULT_PAUSE_AFTER",
    "PAUSE_AFTER_ENV",
    "SLEEPING_KEY",
    "SLEEPS_KEY",
    "SLEEP_PREFIX",
    "SleepInfo",
    "WAKE_AT_KEY",
    "describe_moment",
    "iso",
    "is_sleep_name",
    "mark_retried",
    "pause_after",
    "parse_time",
    "recorded_wake",
    "sleep_info",
    "sleep_wait_wake",
    "sleeping_record",
    "sweep_retried",
    "validate_moment",
    "validate_seconds",
    "wake",
]

"""The geometry of an execution's timeline: one bar per checkpoint call, placed by start and duration.

The timeline spans the execution, from its start to its end (or to now while
it runs). Each call is a row; its attempts are segments of the row, so a call
that failed once and then succeeded shows a red and a green segment. Spans
longer than a second in which no checkpoint ran are *gaps*: that is where an
execution waited for input, slept or ran plain flow code, and where a paused
execution sat between its runs.

Positions are percentages of the span, so the page draws the bars with CSS
alone (``left: 12.5%; width: 3%``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kitaru.client.models import CheckpointCall, Execution

MIN_WIDTH = 0.6
"""The narrowest bar, in percent of the span, so instant calls stay visible and clickable."""

MIN_GAP_SECONDS = 1.0
"""Idle spans shorter than this are not marked."""


@dataclass(frozen=True)
class Segment:
    """One attempt of a call, placed on the span (percentages)."""

    left: float
    width: float
    status: str
    seconds: float | None
    label: str


@dataclass(frozen=True)
class Row:
    """One checkpoint call on the timeline.

    Attributes:
        name: The invocation id.
        status: The call's status.
        reused: Whether its output was reused from an earlier execution or
            attempt instead of running (cache, retry, replay).
        overridden: Whether a replay override replaced its output.
        segments: Its attempts, oldest first.
    """

    name: str
    status: str
    reused: bool
    overridden: bool
    segments: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class Gap:
    """A span of the execution in which no checkpoint ran."""

    left: float
    width: float
    seconds: float


@dataclass(frozen=True)
class Timeline:
    """Rows and gaps of one execution, with the span they are placed on."""

    seconds: float
    rows: list[Row]
    gaps: list[Gap]


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _percent(seconds: float, span: float) -> float:
    return round(100.0 * seconds / span, 3) if span > 0 else 0.0


def _segments(call: CheckpointCall, start: datetime, end: datetime, span: float) -> list[Segment]:
    segments = []
    attempts = call.attempts or []
    for number, attempt in enumerate(attempts, start=1):
        began = _as_utc(attempt.started_at) or _as_utc(call.started_at) or start
        ended = _as_utc(attempt.ended_at) or (end if not attempt.status.is_finished else began)
        seconds = max((ended - began).total_seconds(), 0.0)
        left = _percent((began - start).total_seconds(), span)
        width = max(_percent(seconds, span), MIN_WIDTH)
        label = f"attempt {number} of {len(attempts)}: {attempt.status}" if len(attempts) > 1 else str(attempt.status)
        segments.append(
            Segment(left=min(max(left, 0.0), 100.0 - MIN_WIDTH), width=width, status=str(attempt.status), seconds=seconds,
                    label=label)
        )
    return segments


def _gaps(calls: Sequence[CheckpointCall], start: datetime, end: datetime, span: float) -> list[Gap]:
    """Spans longer than :data:`MIN_GAP_SECONDS` covered by no attempt, from the execution's start to its end."""
    busy = sorted(
        (
            _as_utc(attempt.started_at) or start,
            _as_utc(attempt.ended_at) or end,
        )
        for call in calls
        for attempt in call.attempts
    )
    gaps = []
    cursor = start
    for began, ended in [*busy, (end, end)]:
        idle = (began - cursor).total_seconds()
        if idle >= MIN_GAP_SECONDS:
            gaps.append(Gap(left=_percent((cursor - start).total_seconds(), span), width=_percent(idle, span),
                            seconds=idle))
        cursor = max(cursor, ended)
    return gaps


def build_timeline(execution: Execution, *, now: datetime | None = None) -> Timeline:
    """Place an execution's checkpoint calls and idle spans on its span.

    Args:
        execution: An execution loaded with its checkpoints
            (``KitaruClient().executions.get``).
        now: The end of the span while the execution has not ended
            (the current time by default).

    Returns:
        The timeline; an execution without a start time gets an empty one.
    """
    start = _as_utc(execution.started_at)
    if start is None:
        return Timeline(seconds=0.0, rows=[], gaps=[])
    end = _as_utc(execution.ended_at) or _as_utc(now) or datetime.now(UTC)
    latest_call_end = max((_as_utc(call.ended_at) or start for call in execution.checkpoints), default=start)
    end = max(end, latest_call_end)
    span = max((end - start).total_seconds(), 0.001)
    rows = [
        Row(
            name=call.name,
            status=str(call.status),
            reused=call.original_call_id is not None,
            overridden=call.overridden,
            segments=_segments(call, start, end, span),
        )
        for call in execution.checkpoints
    ]
    return Timeline(seconds=span, rows=rows, gaps=_gaps(execution.checkpoints, start, end, span))


__all__ = ["Gap", "Row", "Segment", "Timeline", "build_timeline"]

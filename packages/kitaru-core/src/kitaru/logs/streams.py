"""Which stored log streams of an execution to read.

The engine keeps *log streams* (:class:`~kitaru.engine.runs.LogStreamRecord`)
on each execution and on each checkpoint attempt, each tagged with the
engine's source:

* ``step``: a checkpoint attempt's output; Kitaru source ``step``;
* ``orchestrator``: the flow body's output, shared by every retry and resume
  of the execution; Kitaru source ``runner``;
* ``prepare_step``: the engine launching a checkpoint attempt; ``engine``;
* ``client``: the submitting process (stack summary, run duration); ``engine``.

Engine streams are only read when engine lines were asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kitaru.engine.runs import LogStreamRecord, RunRecord, StepRecord
from kitaru.logs.entries import ENGINE_SOURCE, RUNNER_SOURCE, STEP_SOURCE

ENGINE_STREAMS = frozenset({"prepare_step", "client"})
"""Engine stream sources whose lines are all engine lines."""


@dataclass(frozen=True)
class LogStream:
    """One stored log stream and what its lines are.

    Attributes:
        record: Where the engine keeps it.
        source: The Kitaru source of its lines (``runner``, ``step`` or ``engine``).
        checkpoint_name: The invocation id of the checkpoint call it belongs to.
    """

    record: LogStreamRecord
    source: str
    checkpoint_name: str | None = None


def run_streams(run: RunRecord, *, include_engine: bool) -> list[LogStream]:
    """The flow body's streams of an execution (and the engine's, if asked)."""
    streams = []
    for record in run.log_streams:
        if record.source == "orchestrator":
            streams.append(LogStream(record, RUNNER_SOURCE))
        elif include_engine and record.source in ENGINE_STREAMS:
            streams.append(LogStream(record, ENGINE_SOURCE))
    return streams


def in_start_order(steps: Iterable[StepRecord]) -> list[StepRecord]:
    """Checkpoint attempts in the order they started; attempts that never started last."""
    never = datetime.max
    return sorted(steps, key=lambda step: (step.started is None, step.started or never))


def matches_checkpoint(step: StepRecord, checkpoint: str) -> bool:
    """Whether a checkpoint filter names this attempt's call: its invocation id or its checkpoint's name."""
    return checkpoint in (step.name, step.checkpoint)


def step_streams(steps: Iterable[StepRecord], *, checkpoint: str | None, include_engine: bool) -> list[LogStream]:
    """The checkpoint attempts' streams, in start order.

    Args:
        steps: Every attempt of the execution.
        checkpoint: Only this call (an invocation id such as ``think_2``) or
            every call of this checkpoint (its name, ``think``).
        include_engine: Also the engine's streams of each attempt.
    """
    streams = []
    for step in in_start_order(steps):
        if checkpoint and not matches_checkpoint(step, checkpoint):
            continue
        for record in step.log_streams:
            if record.source == "step":
                streams.append(LogStream(record, STEP_SOURCE, step.name))
            elif include_engine and record.source in ENGINE_STREAMS:
                streams.append(LogStream(record, ENGINE_SOURCE, step.name))
    return streams


__all__ = ["ENGINE_STREAMS", "LogStream", "in_start_order", "matches_checkpoint", "run_streams", "step_streams"]

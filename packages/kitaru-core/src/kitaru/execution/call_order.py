"""The order of an execution's checkpoint calls: the order its flow body made them.

Each call records its position in the body (:attr:`StepRecord.call_index`),
so listing calls never depends on timestamps: MySQL keeps them in whole
seconds, and calls started in the same second would otherwise fall back to
the random order of their ids. The attempts of one call share its index and
follow their attempt numbers; the items of one map share the map's index
and follow their invocation numbers (``name``, ``name_2`` ...).

Calls recorded before Kitaru kept the index are ordered by their start time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from kitaru.engine.runs import StepRecord

_NUMBERED = re.compile(r"_(\d+)$")


def _invocation_number(name: str) -> int:
    match = _NUMBERED.search(name)
    return int(match.group(1)) if match else 1


def _when(step: StepRecord) -> datetime:
    return step.started or step.created or datetime.min


def in_call_order(steps: Iterable[StepRecord]) -> list[StepRecord]:
    """``steps`` (attempts of calls) sorted by call, then attempt."""
    steps = list(steps)
    if all(step.call_index is not None for step in steps):
        return sorted(
            steps,
            key=lambda step: (
                step.call_index,
                _invocation_number(step.name),
                step.name,
                step.attempt,
                _when(step),
                step.id,
            ),
        )
    return sorted(steps, key=lambda step: (_when(step), step.created or datetime.min, step.attempt, step.id))


def attempts_by_call(steps: Iterable[StepRecord]) -> dict[str, list[StepRecord]]:
    """Group attempts by invocation id: calls in call order, each call's attempts oldest first."""
    groups: dict[str, list[StepRecord]] = {}
    for step in in_call_order(steps):
        groups.setdefault(step.name, []).append(step)
    return groups


__all__ = ["attempts_by_call", "in_call_order"]

"""Hand the flow body an edited value as the output of a reused checkpoint call.

A replay that overrides a call's output (``overrides={"checkpoint.flaky": 100}``)
reuses that call: it does not run, and its recorded output is still the
original value. Consumers that run again receive the edited value as an
input; the flow body must see it too, both when the replay runs and every
time the new execution's body runs again (``kitaru executions retry`` after
a failure, ``resume`` after a wait). Otherwise the body computes with the
original value, and the journal check reports a divergence that never
happened.

The body takes a call's output from the values kept in memory for its
location first (:mod:`kitaru.serializers.fresh`), so keeping the edited value
there, under the location of the call's recorded output, is all it takes:

    with body_sees({uri_of_flaky_output: 100}):
        ...  # the body's flaky() returns 100

:func:`recorded_overrides` finds those values for an execution that continues,
from the replay record (:mod:`kitaru.execution.replay_record`) and its calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kitaru.engine.runs import StepRecord
from kitaru.execution.artifacts import load_artifact
from kitaru.execution.replay_record import replay_record
from kitaru.serializers.fresh import remember_fresh_value, take_fresh_value


@contextmanager
def body_sees(values: Mapping[str, Any]) -> Iterator[None]:
    """While the block runs, loading the output stored at a location gives its edited value.

    Args:
        values: Location (URI) of a reused call's recorded output -> the
            value the body receives instead. Each is handed out once.
    """
    for location, value in values.items():
        remember_fresh_value(location, value)
    try:
        yield
    finally:
        for location in values:
            take_fresh_value(location)


def is_step_output(save_type: str) -> bool:
    """Whether an artifact of this save type is a checkpoint's return value (not a ``kitaru.save()``)."""
    return save_type in ("step_output", "None", "")  # unset counts as an output


def _output_location(step: StepRecord) -> str | None:
    for items in step.outputs.values():
        for artifact in items:
            if is_step_output(artifact.save_type) and artifact.uri:
                return artifact.uri
    return None


def recorded_overrides(metadata: Mapping[str, Any], steps: Iterable[StepRecord]) -> dict[str, Any]:
    """The edited outputs an execution's body must see when it runs again.

    Args:
        metadata: The execution's run metadata (where a replay left its record).
        steps: The execution's recorded checkpoint attempts.

    Returns:
        Location of each overridden call's recorded output -> the edited value
        (empty when the execution is not a replay with overrides).
    """
    record = replay_record(metadata)
    edited = record.output_overrides() if record is not None else {}
    values: dict[str, Any] = {}
    for step in steps:
        if step.name in edited and step.successful:
            location = _output_location(step)
            if location is not None and location not in values:
                values[location] = load_artifact(edited[step.name], step.name)
    return values


__all__ = ["body_sees", "is_step_output", "recorded_overrides"]

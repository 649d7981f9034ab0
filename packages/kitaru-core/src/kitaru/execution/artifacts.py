"""Find and load stored artifacts: by id (``ArtifactRef.load``) and by name (``kitaru.load``).

An artifact is a checkpoint output or a ``kitaru.save()`` value. Two ways to
reach one:

* by its exact id (:func:`load_artifact_record`, :func:`load_artifact`):
  the id is parsed by :func:`kitaru.execution.ids.parse_artifact_id` and a
  missing artifact is ``Artifact '<id>' was not found. ...``;
* by name within an execution (:func:`load_named_artifact`, the rules of
  ``kitaru.load(exec_id, name)``): a ``kitaru.save()`` artifact matches its
  own name; a checkpoint output matches its artifact name, its output name,
  the invocation id (``research_2``) or the checkpoint name. Exactly one
  artifact must match. Attempts the engine retried are left out: the last
  attempt of each call counts.

A value that cannot be loaded here is reported by
:func:`kitaru.execution.values.load_value` (the stored type and the fix).
"""

from __future__ import annotations

from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.runs import ArtifactRecord, StepRecord
from kitaru.errors import KitaruBackendError, KitaruError, KitaruRuntimeError, KitaruStateError
from kitaru.execution.call_order import in_call_order
from kitaru.execution.ids import LIST_ARTIFACTS_HINT, parse_artifact_id
from kitaru.execution.naming import sanitize_name
from kitaru.execution.replay_record import replay_record
from kitaru.execution.runs import load_run
from kitaru.execution.values import load_value

MANUAL_SAVE = "manual"
"""The engine's save type of a ``kitaru.save()`` artifact."""

RETRIED = "retried"
"""The engine status of an attempt that was retried (a later attempt replaced it)."""


def load_artifact_record(artifact_id: str) -> ArtifactRecord:
    """Read one artifact (with its metadata) by its exact id.

    Raises:
        KitaruUsageError: If ``artifact_id`` is not a UUID.
        KitaruStateError: If no artifact has this id.
        KitaruBackendError: If the store cannot be read.
    """
    parsed = parse_artifact_id(artifact_id)
    try:
        return get_engine().runs.get_artifact(parsed)
    except RecordNotFound:
        raise KitaruStateError(f"Artifact '{artifact_id}' was not found. {LIST_ARTIFACTS_HINT}") from None
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load artifact '{artifact_id}': {exc}") from exc


def _load(artifact: ArtifactRecord, what: str) -> Any:
    runs = get_engine().runs
    return load_value(lambda: runs.load_artifact(artifact.id), what, lambda: artifact.data_type)


def load_artifact(artifact_id: str, producing_call: str | None = None) -> Any:
    """Load an artifact's value through the serializer that wrote it.

    Args:
        artifact_id: The artifact id.
        producing_call: The checkpoint call that produced it, for messages.

    Raises:
        KitaruStateError: If no artifact has this id.
        KitaruRuntimeError: If the value cannot be loaded in this environment.
    """
    artifact = load_artifact_record(artifact_id)
    origin = f" of checkpoint `{producing_call}`" if producing_call else ""
    return _load(artifact, f"artifact '{artifact.name}'{origin}")


def _latest_attempts(steps: list[StepRecord]) -> dict[str, StepRecord]:
    """The last attempt of each call (invocation id), retried attempts left out."""
    latest: dict[str, StepRecord] = {}
    for step in in_call_order(steps):
        if step.status != RETRIED:
            latest[step.name] = step
    return latest


def _describe(step_name: str, artifact: ArtifactRecord) -> str:
    return f"step={step_name}, artifact={artifact.name}, save_type={artifact.save_type}"


def find_named_artifacts(steps: list[StepRecord], name: str) -> list[tuple[str, ArtifactRecord]]:
    """Every ``(invocation id, artifact)`` of an execution's steps that ``name`` designates."""
    matches: list[tuple[str, ArtifactRecord]] = []
    for step_name, step in _latest_attempts(steps).items():
        checkpoint_name = sanitize_name(step_name, fallback="checkpoint")
        for output_name, artifacts in step.outputs.items():
            for artifact in artifacts:
                if artifact.save_type == MANUAL_SAVE:
                    found = artifact.name == name
                else:
                    found = name in (artifact.name, output_name, step_name, checkpoint_name)
                if found:
                    matches.append((step_name, artifact))
    return matches


def load_named_artifact(exec_id: str, name: str) -> Any:
    """Find the one artifact called ``name`` in execution ``exec_id`` and load it (``kitaru.load``).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If the execution does not exist.
        KitaruRuntimeError: If no artifact or several artifacts match, or the
            value cannot be loaded here.
    """
    run = load_run(exec_id)
    matches = find_named_artifacts(get_engine().runs.list_steps([run.id]), name)
    if not matches:
        raise KitaruRuntimeError(
            f"No artifact named '{name}' was found in execution {exec_id}. Use the name "
            "given to kitaru.save() or a checkpoint name."
        )
    if len(matches) > 1:
        listing = "; ".join(_describe(step, artifact) for step, artifact in matches)
        raise KitaruRuntimeError(
            f"Multiple artifacts named '{name}' were found in execution {exec_id}. Matches: {listing}"
        )
    step_name, artifact = matches[0]
    record = replay_record(run.metadata)
    edited = record.output_overrides().get(step_name) if record is not None else None
    if edited and artifact.save_type != MANUAL_SAVE:
        # A replay overrode this call: its output in this execution is the edited value.
        artifact = load_artifact_record(edited)
    return _load(artifact, f"artifact '{name}' of checkpoint `{step_name}`")


__all__ = [
    "MANUAL_SAVE",
    "find_named_artifacts",
    "load_artifact",
    "load_artifact_record",
    "load_named_artifact",
]

"""Read executions, checkpoint calls and artifacts from the engine's store.

This is the read side of :class:`kitaru.KitaruClient`: it maps ZenML pipeline
runs, step runs and artifact versions to Kitaru's client models.

* A checkpoint *call* is every step run of one invocation id (the step name:
  ``research``, ``research_2``, or an explicit ``id=``). Automatic retries add
  attempts under the same name; the latest attempt represents the call.
* Execution-level metadata is the run metadata minus Kitaru's own keys (every
  key starting with ``kitaru_``); the frozen execution spec is parsed into
  :class:`kitaru.config.FrozenExecutionSpec`.
* Datetimes are returned timezone-aware in UTC (the engine stores naive UTC).

Cost of a listing: per page of (up to) 50 runs, one run query and one
step-run query covering every listed run of the page, to count checkpoint
calls and artifacts from the steps' output links (artifacts are never
hydrated). Measured on the local SQLite store, 50 summaries take ~0.1 s;
one step query per run took ~0.55 s. ``get_execution`` costs one run fetch,
one step-run listing and one artifact listing.

How engine records become client models lives in
:mod:`kitaru._engine.journal_mapping`, and how a recorded failure becomes a
:class:`~kitaru.client.models.FailureInfo` in :mod:`kitaru._engine.failures`;
their public names stay importable from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine
from kitaru._engine.failures import build_failure, failure_message, parse_exception_type
from kitaru._engine.journal_mapping import (
    ARTIFACT_TYPE_KEY,
    FLOW_KEY,
    INTERNAL_PREFIX,
    SPEC_KEY,
    _artifact_ref,
    _attempt,
    _call_artifacts,
    _checkpoint_type,
    _execution,
    _group_attempts,
    _last_call_failure,
    _step_outputs,
    _union_artifacts,
)
from kitaru._naming import sanitize_name
from kitaru.client.models import ArtifactRef, CheckpointCall, Execution
from kitaru.client.status import ExecutionStatus
from kitaru.errors import KitaruBackendError, KitaruError, KitaruStateError, KitaruUsageError

__all__ = [  # the read API, and the names of journal_mapping and failures that used to live here
    "get_execution", "list_executions", "list_artifacts", "get_artifact", "load_artifact", "parse_id",
    "RUN_PAGE_SIZE", "STEP_PAGE_SIZE", "INTERNAL_PREFIX", "SPEC_KEY", "FLOW_KEY", "ARTIFACT_TYPE_KEY",
    "build_failure", "failure_message", "parse_exception_type",
]

RUN_PAGE_SIZE = 50
STEP_PAGE_SIZE = 1000
_MAX_PAGE_SIZE = 1000
# Ids per ``oneof:`` filter: keeps request URLs short on a remote server.
_IDS_PER_QUERY = 50
_LIST_HINT = "List executions with `kitaru executions list`."
_ARTIFACTS_HINT = "List an execution's artifacts with `KitaruClient().artifacts.list(exec_id)`."


# -- ids and errors -----------------------------------------------------------


def parse_id(value: str, what: str = "execution") -> UUID:
    """Parse an execution or artifact id exactly (no name or prefix matching).

    Raises:
        KitaruUsageError: If ``value`` is not a UUID.
    """
    try:
        return UUID(str(value).strip())
    except (ValueError, AttributeError, TypeError):
        hint = _LIST_HINT if what == "execution" else _ARTIFACTS_HINT
        raise KitaruUsageError(
            f"'{value}' is not a valid {what} id: expected a full UUID such as "
            f"'0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a' (prefixes and names are not accepted). {hint}"
        ) from None


def _not_found(exec_id: str) -> KitaruStateError:
    return KitaruStateError(f"Execution '{exec_id}' was not found. {_LIST_HINT}")


def _client() -> Any:
    load_engine()
    from zenml.client import Client

    return Client()


def _fetch_run(exec_id: str) -> Any:
    """Fetch a hydrated run by exact id, mapping engine errors to Kitaru ones."""
    from kitaru._engine.lifecycle import reconcile_crashed

    run_id = parse_id(exec_id)
    client = _client()
    try:
        run = client.zen_store.get_run(run_id, hydrate=True)
        if reconcile_crashed(run):  # its process died: now failed, origin runtime
            run = client.zen_store.get_run(run_id, hydrate=True)
        return run
    except KeyError:
        raise _not_found(exec_id) from None
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load execution '{exec_id}': {exc}") from exc


# -- step runs ----------------------------------------------------------------


def _list_steps(run_id: UUID) -> list[Any]:
    """Every step run of a run, retried attempts included, oldest first."""
    from zenml.utils.pagination_utils import depaginate

    return depaginate(
        _client().list_run_steps,
        pipeline_run_id=run_id,
        exclude_retried=False,
        sort_by="asc:created",
        size=STEP_PAGE_SIZE,
        hydrate=True,
    )


def _artifact_metadata(artifact_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Fetch the metadata of many artifact versions in one listing."""
    if not artifact_ids:
        return {}
    client = _client()
    found: dict[UUID, dict[str, Any]] = {}
    for start in range(0, len(artifact_ids), _IDS_PER_QUERY):
        chunk = artifact_ids[start : start + _IDS_PER_QUERY]
        page = client.list_artifact_versions(
            id=f"oneof:{json.dumps([str(item) for item in chunk])}",
            size=len(chunk),
            hydrate=True,
        )
        for artifact in page.items:
            found[artifact.id] = dict(artifact.run_metadata or {})
    return found


def _calls(steps: list[Any]) -> list[CheckpointCall]:
    """Map hydrated step runs of one run to checkpoint calls."""
    groups = _group_attempts(steps)
    call_of_step = {step.id: attempts[-1].id for attempts in groups.values() for step in attempts}
    artifact_ids = list(dict.fromkeys(artifact.id for step in steps for _, artifact in _step_outputs(step)))
    metadata = _artifact_metadata(artifact_ids)
    calls = []
    for name, attempts in groups.items():
        latest = attempts[-1]
        mapped = [_attempt(step, name) for step in attempts]
        parents = [str(call_of_step.get(parent, parent)) for parent in (latest.parent_step_ids or [])]
        calls.append(
            CheckpointCall(
                call_id=str(latest.id),
                name=name,
                status=mapped[-1].status,
                started_at=mapped[0].started_at,
                ended_at=mapped[-1].ended_at,
                metadata=mapped[-1].metadata,
                original_call_id=str(latest.original_step_run_id) if latest.original_step_run_id else None,
                parent_call_ids=list(dict.fromkeys(parents)),
                failure=mapped[-1].failure,
                attempts=mapped,
                artifacts=_call_artifacts(attempts, metadata, name),
                checkpoint_type=_checkpoint_type(latest),
            )
        )
    return calls


# -- public API -----------------------------------------------------------------


def get_execution(exec_id: str) -> Execution:
    """Load an execution with its checkpoint calls, attempts and artifacts.

    Args:
        exec_id: The execution id (a full UUID; no prefix or name matching).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If no execution has this id.
        KitaruBackendError: If the store cannot be read.
    """
    run = _fetch_run(exec_id)
    try:
        calls = _calls(_list_steps(run.id))
        artifacts = _union_artifacts(calls)
        from kitaru._llm.usage import summarize

        return _execution(
            run,
            fallback_failure=_last_call_failure(calls),
            checkpoints=calls,
            artifacts=artifacts,
            checkpoint_count=len(calls),
            artifact_count=len(artifacts),
            llm_usage=summarize(calls),
        )
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load execution '{exec_id}': {exc}") from exc


def _counts(run_ids: list[UUID]) -> dict[UUID, tuple[int, int]]:
    """Count checkpoint calls and artifacts of several runs with one step-run listing.

    Artifacts are counted from the step runs' output links; no artifact is
    hydrated.
    """
    names: dict[UUID, set[str]] = {run_id: set() for run_id in run_ids}
    artifacts: dict[UUID, set[UUID]] = {run_id: set() for run_id in run_ids}
    client = _client()
    for start in range(0, len(run_ids), _IDS_PER_QUERY):
        chunk = run_ids[start : start + _IDS_PER_QUERY]
        selector: Any = chunk[0] if len(chunk) == 1 else f"oneof:{json.dumps([str(item) for item in chunk])}"
        page = 1
        while True:
            result = client.list_run_steps(
                pipeline_run_id=selector,
                exclude_retried=False,
                size=STEP_PAGE_SIZE,
                page=page,
                hydrate=True,  # carries pipeline_run_id; artifacts stay unhydrated
            )
            for step in result.items:
                names.setdefault(step.pipeline_run_id, set()).add(step.name)
                artifacts.setdefault(step.pipeline_run_id, set()).update(
                    artifact.id for _, artifact in _step_outputs(step)
                )
            if page >= result.total_pages or not result.items:
                break
            page += 1
    return {run_id: (len(names[run_id]), len(artifacts[run_id])) for run_id in run_ids}


def _iter_run_pages(page_size: int) -> Iterator[list[Any]]:
    from kitaru._engine.lifecycle import reconcile_crashed

    client = _client()
    page = 1
    while True:
        result = client.list_pipeline_runs(sort_by="desc:created", size=page_size, page=page, hydrate=True)
        if result.items:
            # Runs whose process died are marked failed on the way out.
            yield [
                client.zen_store.get_run(run.id, hydrate=True) if reconcile_crashed(run) else run
                for run in result.items
            ]
        if page >= result.total_pages or not result.items:
            return
        page += 1


def list_executions(
    *, flow: str | None = None, status: ExecutionStatus | None = None, limit: int | None = None
) -> list[Execution]:
    """List execution summaries, newest first.

    Summaries carry real ``checkpoint_count`` and ``artifact_count`` but no
    checkpoint or artifact details (see :func:`get_execution`).

    Args:
        flow: Only executions of this flow (compared after normalising names
            the way ``@flow`` does, so ``my-flow`` finds ``my_flow``).
        status: Only executions with this public status.
        limit: At most this many executions.

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    wanted_flow = sanitize_name(flow, fallback="flow") if flow else None
    filtering = wanted_flow is not None or status is not None
    page_size = RUN_PAGE_SIZE if filtering or not limit else min(limit, _MAX_PAGE_SIZE)
    if filtering and limit:
        page_size = min(max(limit, RUN_PAGE_SIZE), _MAX_PAGE_SIZE)
    found: list[Execution] = []
    seen: set[UUID] = set()  # runs created while paging shift later pages
    try:
        for runs in _iter_run_pages(page_size):
            batch: list[Execution] = []
            for run in runs:
                if run.id in seen:
                    continue
                seen.add(run.id)
                summary = _execution(run)
                if wanted_flow is not None and sanitize_name(summary.flow_name or "", fallback="flow") != wanted_flow:
                    continue
                if status is not None and summary.status is not status:
                    continue
                batch.append(summary)
                if limit is not None and len(found) + len(batch) >= limit:
                    break
            counts = _counts([UUID(summary.exec_id) for summary in batch])
            for summary in batch:
                checkpoint_count, artifact_count = counts[UUID(summary.exec_id)]
                found.append(replace(summary, checkpoint_count=checkpoint_count, artifact_count=artifact_count))
            if limit is not None and len(found) >= limit:
                break
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to list executions: {exc}") from exc
    return found


def list_artifacts(
    exec_id: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    producing_call: str | None = None,
    limit: int | None = None,
) -> list[ArtifactRef]:
    """List an execution's artifacts (checkpoint outputs and ``kitaru.save()`` values).

    Args:
        exec_id: The execution id.
        name: Only artifacts with this name; a checkpoint name also matches
            that checkpoint's outputs (as with ``kitaru.load``).
        kind: Only ``kitaru.save()`` artifacts of this kind (case-insensitive).
        producing_call: Only artifacts of this checkpoint call (invocation id).
        limit: At most this many.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If no execution has this id.
        KitaruBackendError: If the store cannot be read.
    """
    artifacts = get_execution(exec_id).artifacts
    if name is not None:
        artifacts = [
            artifact
            for artifact in artifacts
            if artifact.name == name
            or (artifact.save_type == "step_output" and artifact.producing_call == name)
        ]
    if kind is not None:
        wanted = kind.strip().lower()
        artifacts = [artifact for artifact in artifacts if (artifact.kind or "").lower() == wanted]
    if producing_call is not None:
        artifacts = [artifact for artifact in artifacts if artifact.producing_call == producing_call]
    return artifacts[:limit] if limit is not None else artifacts


def _fetch_artifact(artifact_id: str) -> Any:
    parsed = parse_id(artifact_id, "artifact")
    client = _client()
    try:
        return client.zen_store.get_artifact_version(parsed, hydrate=True)
    except KeyError:
        raise KitaruStateError(f"Artifact '{artifact_id}' was not found. {_ARTIFACTS_HINT}") from None
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load artifact '{artifact_id}': {exc}") from exc


def get_artifact(artifact_id: str) -> ArtifactRef:
    """Return one artifact by its exact id.

    Raises:
        KitaruUsageError: If ``artifact_id`` is not a UUID.
        KitaruStateError: If no artifact has this id.
        KitaruBackendError: If the store cannot be read.
    """
    artifact = _fetch_artifact(artifact_id)
    producing_call = None
    try:
        step_id = artifact.producer_step_run_id
        if step_id is not None:
            producing_call = _client().zen_store.get_run_step(step_id, hydrate=False).name
        return _artifact_ref(artifact, producing_call=producing_call, metadata=dict(artifact.run_metadata or {}))
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load artifact '{artifact_id}': {exc}") from exc


def load_artifact(artifact_id: str, producing_call: str | None = None) -> Any:
    """Load an artifact's value through the serializer that wrote it.

    Raises:
        KitaruStateError: If no artifact has this id.
        KitaruRuntimeError: If the value cannot be loaded in this environment.
    """
    from kitaru._engine.artifacts import load_artifact_value

    artifact = _fetch_artifact(artifact_id)
    origin = f" of checkpoint `{producing_call}`" if producing_call else ""
    return load_artifact_value(artifact, f"artifact '{artifact.name}'{origin}")

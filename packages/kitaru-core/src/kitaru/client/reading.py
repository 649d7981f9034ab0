"""Read executions, checkpoint calls and artifacts: the read side of :class:`kitaru.KitaruClient`.

Everything goes through the engine port (``get_engine().runs``) and the one
run loader (:func:`kitaru.execution.runs.load_run`: one id parser, one
not-found message, and an execution whose process died is marked failed on
the way out); records become models in :mod:`kitaru.client.mapping`.

Cost of a listing: per page of (up to) 50 runs, one run query and one
step-run query covering every listed run of the page. From those steps alone
each summary gets its checkpoint and artifact counts (from the steps' output
links; artifacts are never hydrated) and its LLM usage (summed from the
``llm_calls`` metadata of every attempt, exactly as :func:`get_execution`
sums it). Measured on the local SQLite store, 50 summaries take ~0.1 s;
one step query per run took ~0.55 s. :func:`get_execution` costs one run
read, one step-run listing, one artifact-metadata listing and one listing of
its child executions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kitaru._llm.usage import summarize
from kitaru.client import mapping
from kitaru.client.models import ArtifactRef, CheckpointCall, Execution
from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord, StepRecord
from kitaru.errors import KitaruBackendError, KitaruError
from kitaru.execution.artifacts import load_artifact_record
from kitaru.execution.budgets import budget_report
from kitaru.execution.naming import sanitize_name
from kitaru.execution.runs import load_run, reconcile_crashed
from kitaru.execution.status import ExecutionStatus

RUN_PAGE_SIZE = 50
"""Runs read per page when listing."""

MAX_PAGE_SIZE = 1000
"""The largest page asked of the store."""


def checkpoint_calls(steps: list[StepRecord]) -> list[CheckpointCall]:
    """Map every attempt of one execution to its checkpoint calls (one artifact-metadata read)."""
    ids = mapping.artifact_ids(steps)
    metadata = get_engine().runs.artifact_metadata(ids) if ids else {}
    return mapping.checkpoint_calls(steps, metadata)


def get_execution(exec_id: str) -> Execution:
    """Load an execution with its checkpoint calls, attempts and artifacts.

    Args:
        exec_id: The execution id (a full UUID; no prefix or name matching).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If no execution has this id.
        KitaruBackendError: If the store cannot be read.
    """
    run = load_run(exec_id)
    try:
        steps = get_engine().runs.list_steps([run.id])
        calls = checkpoint_calls(steps)
        artifacts = mapping.union_artifacts(calls)
        return mapping.execution(
            run,
            fallback_failure=mapping.last_call_failure(calls),
            checkpoints=calls,
            artifacts=artifacts,
            checkpoint_count=len(calls),
            artifact_count=len(artifacts),
            llm_usage=summarize(calls),
            budget=budget_report(run.metadata, steps),
            children=[child.id for child in get_engine().runs.child_runs(run.id)],
        )
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load execution '{exec_id}': {exc}") from exc


@dataclass(frozen=True)
class RunSummary:
    """What an execution summary shows of a run's checkpoint calls, built from its attempts alone.

    Attributes:
        checkpoint_count: How many checkpoint calls it made.
        artifact_count: How many artifacts its attempts produced or saved.
        llm_usage: Its LLM calls, tokens and cost (the ``llm_usage`` of
            :func:`get_execution`), or None when it made no LLM call.
    """

    checkpoint_count: int = 0
    artifact_count: int = 0
    llm_usage: dict[str, Any] | None = None


def run_summary(steps: list[StepRecord]) -> RunSummary:
    """Summarise one run from its attempts, reading nothing more from the store."""
    calls = mapping.checkpoint_calls(steps, {})
    return RunSummary(
        checkpoint_count=len(calls),
        artifact_count=len(mapping.artifact_ids(steps)),
        llm_usage=summarize(calls),
    )


def summarize_runs(run_ids: Sequence[str]) -> dict[str, RunSummary]:
    """Summarise several runs with one step-run listing (no artifact is read).

    Returns:
        A :class:`RunSummary` for each of ``run_ids`` (empty for a run without attempts).
    """
    steps: dict[str, list[StepRecord]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        for step in get_engine().runs.list_steps(run_ids):
            steps.setdefault(step.run_id, []).append(step)
    return {run_id: run_summary(steps[run_id]) for run_id in run_ids}


def _run_pages(page_size: int) -> Iterator[list[RunRecord]]:
    runs = get_engine().runs
    page = 1
    while True:
        result = runs.list_runs(page=page, size=page_size)
        if result.items:
            # Runs whose process died are marked failed on the way out.
            yield [runs.get_run(run.id) if reconcile_crashed(run) else run for run in result.items]
        if page >= result.total_pages or not result.items:
            return
        page += 1


def list_executions(
    *, flow: str | None = None, status: ExecutionStatus | None = None, limit: int | None = None
) -> list[Execution]:
    """List execution summaries, newest first.

    Summaries carry real ``checkpoint_count``, ``artifact_count`` and
    ``llm_usage`` (the same values :func:`get_execution` gives) but no
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
    page_size = RUN_PAGE_SIZE if filtering or not limit else min(limit, MAX_PAGE_SIZE)
    if filtering and limit:
        page_size = min(max(limit, RUN_PAGE_SIZE), MAX_PAGE_SIZE)
    found: list[Execution] = []
    seen: set[str] = set()  # runs created while paging shift later pages
    try:
        for runs in _run_pages(page_size):
            batch: list[Execution] = []
            for run in runs:
                if run.id in seen:
                    continue
                seen.add(run.id)
                summary = mapping.execution(run)
                if wanted_flow is not None and sanitize_name(summary.flow_name or "", fallback="flow") != wanted_flow:
                    continue
                if status is not None and summary.status is not status:
                    continue
                batch.append(summary)
                if limit is not None and len(found) + len(batch) >= limit:
                    break
            summaries = summarize_runs([summary.exec_id for summary in batch])
            for summary in batch:
                counted = summaries[summary.exec_id]
                found.append(
                    replace(
                        summary,
                        checkpoint_count=counted.checkpoint_count,
                        artifact_count=counted.artifact_count,
                        llm_usage=counted.llm_usage,
                    )
                )
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
            if artifact.name == name or (artifact.save_type == "step_output" and artifact.producing_call == name)
        ]
    if kind is not None:
        wanted = kind.strip().lower()
        artifacts = [artifact for artifact in artifacts if (artifact.kind or "").lower() == wanted]
    if producing_call is not None:
        artifacts = [artifact for artifact in artifacts if artifact.producing_call == producing_call]
    return artifacts[:limit] if limit is not None else artifacts


def get_artifact(artifact_id: str) -> ArtifactRef:
    """Return one artifact by its exact id.

    Raises:
        KitaruUsageError: If ``artifact_id`` is not a UUID.
        KitaruStateError: If no artifact has this id.
        KitaruBackendError: If the store cannot be read.
    """
    artifact = load_artifact_record(artifact_id)
    producing_call: str | None = None
    try:
        if artifact.producer_step_id is not None:
            producing_call = get_engine().runs.step_name(artifact.producer_step_id)
        return mapping.artifact_ref(artifact, producing_call=producing_call, metadata=artifact.metadata)
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load artifact '{artifact_id}': {exc}") from exc


__all__ = [
    "MAX_PAGE_SIZE",
    "RUN_PAGE_SIZE",
    "RunSummary",
    "checkpoint_calls",
    "get_artifact",
    "get_execution",
    "list_artifacts",
    "list_executions",
    "run_summary",
    "summarize_runs",
]

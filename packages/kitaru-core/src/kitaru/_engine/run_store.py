"""ZenML's store as Kitaru's :class:`~kitaru.engine.runs.RunStore`: runs, step runs, artifacts, waits.

Translation only: each ZenML response model becomes a plain record
(``*_record`` functions, also used by the other adapter modules), a missing
entity becomes :class:`~kitaru.engine.errors.RecordNotFound`, and every other
engine error propagates for the domain to word. A recorded exception that is
ZenML's interruption of a step (SIGINT/SIGTERM, a stop) reads as Python's
``KeyboardInterrupt``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine
from kitaru._engine.logs import remove_stored
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.runs import (
    ArtifactRecord,
    ExceptionRecord,
    FlowSource,
    LogStreamRecord,
    RunPage,
    RunRecord,
    StepRecord,
    WaitRecord,
)

STEP_PAGE_SIZE = 1000
WAIT_PAGE_SIZE = 100
RUN_PAGE_SIZE = 100
# Ids per ``oneof:`` filter: keeps request URLs short on a remote server.
IDS_PER_QUERY = 50


def client() -> Any:
    """The engine's client, after preparing the process for the engine."""
    load_engine()
    from zenml.client import Client

    return Client()


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))


# ZenML's step signal handler raises these when SIGINT/SIGTERM reaches a step
# (or a stop request does), or chains to Python's handler, whose bare
# KeyboardInterrupt then says nothing: Kitaru reports both as Python's
# interruption, with a message.
_ENGINE_INTERRUPTS = ("zenml.exceptions.RunInterruptedException", "zenml.exceptions.RunStoppedException")
_ENGINE_SIGNAL_HANDLER = "zenml/orchestrators/signal_handler.py"
_INTERRUPT = "builtins.KeyboardInterrupt"
_INTERRUPTED = "KeyboardInterrupt: The execution was interrupted."


def _exception(info: Any) -> ExceptionRecord | None:
    if info is None:
        return None
    traceback = getattr(info, "traceback", None) or None
    source = getattr(info, "source", None)
    if source in _ENGINE_INTERRUPTS:
        source = _INTERRUPT
    if traceback is not None:
        for name in _ENGINE_INTERRUPTS:
            traceback = traceback.replace(name, "KeyboardInterrupt")
        lines = traceback.rstrip().splitlines()
        if source == _INTERRUPT and lines and lines[-1] == "KeyboardInterrupt" and _ENGINE_SIGNAL_HANDLER in traceback:
            traceback = "\n".join([*lines[:-1], _INTERRUPTED]) + "\n"
    return ExceptionRecord(traceback=traceback, source=source)


def log_stream_records(collection: Any) -> tuple[LogStreamRecord, ...]:
    """Plain records of an engine ``log_collection``."""
    return tuple(
        LogStreamRecord(
            id=str(logs.id),
            source=str(logs.source),
            uri=logs.uri,
            artifact_store_id=str(logs.artifact_store_id) if logs.artifact_store_id else None,
            log_store_id=str(logs.log_store_id) if logs.log_store_id else None,
        )
        for logs in collection or ()
    )


def wait_record(condition: Any, *, run_id: str | None = None) -> WaitRecord:
    """The record of an engine wait condition (``run_id``: its run, when the caller knows it)."""
    run_id = run_id or getattr(condition, "pipeline_run_id", None)
    return WaitRecord(
        id=str(condition.id),
        name=condition.name,
        status=_word(condition.status),
        question=condition.question,
        schema=condition.data_schema,
        metadata=dict(condition.run_metadata or {}),
        created=condition.created,
        run_id=str(run_id) if run_id else None,
    )


def artifact_record(artifact: Any, *, with_metadata: bool = False) -> ArtifactRecord:
    """The record of an engine artifact version (metadata only if asked: it needs a hydrated model)."""
    data_type = getattr(getattr(artifact, "data_type", None), "import_path", None)
    producer = getattr(artifact, "producer_step_run_id", None) if with_metadata else None
    return ArtifactRecord(
        id=str(artifact.id),
        name=artifact.name,
        save_type=_word(artifact.save_type),
        uri=artifact.uri,
        created=artifact.created,
        producer_step_id=str(producer) if producer else None,
        data_type=data_type,
        metadata=dict(artifact.run_metadata or {}) if with_metadata else {},
    )


def step_record(step: Any) -> StepRecord:
    """The record of a hydrated engine step run."""
    body = step.get_body()
    config = step.config
    extra = getattr(config, "extra", None) or {}
    kitaru_extra = (extra.get("kitaru") or {}) if isinstance(extra, dict) else {}
    label = kitaru_extra.get("type")
    call_index = kitaru_extra.get("call_index")
    return StepRecord(
        id=str(step.id),
        run_id=str(step.pipeline_run_id),
        name=step.name,
        checkpoint=config.name if config else step.name,
        status=_word(step.status),
        successful=step.status.is_successful,
        finished=step.status.is_finished,
        attempt=int(getattr(step, "version", 1) or 1),
        created=step.created,
        started=step.start_time,
        ended=step.end_time,
        metadata=dict(step.run_metadata or {}),
        parameters=dict(config.parameters or {}) if config else {},
        inputs={name: tuple(str(item.id) for item in items) for name, items in (step.inputs or {}).items()},
        outputs={name: tuple(artifact_record(item) for item in items) for name, items in (step.outputs or {}).items()},
        parent_ids=tuple(str(parent) for parent in step.parent_step_ids or ()),
        original_id=str(step.original_step_run_id) if step.original_step_run_id else None,
        exception=_exception(step.exception_info),
        step_type=_word(body.type) if body.type is not None else None,
        label=str(label) if label else None,
        log_streams=log_stream_records(step.log_collection),
        call_index=call_index if isinstance(call_index, int) else None,
    )


def run_record(run: Any, *, details: bool = True, with_snapshot: bool = True) -> RunRecord:
    """The record of an engine run (``details`` needs a hydrated run).

    ``with_snapshot=False`` does not read the run's snapshot (``flow_source``
    stays None, ``can_continue`` True): reading it hydrates the snapshot,
    several queries per run, which a listing cannot afford.
    """
    body = run.get_body()
    if not details:
        return RunRecord(
            id=str(run.id),
            flow_name=None,
            flow_id=str(body.pipeline_id) if body.pipeline_id else None,
            status=_word(run.status),
            finished=run.status.is_finished,
            status_reason=body.status_reason,
            created=body.created,
        )
    snapshot = run.snapshot if with_snapshot else None
    source = snapshot.pipeline_spec.source if snapshot is not None and snapshot.pipeline_spec else None
    active = run.active_wait_condition
    return RunRecord(
        id=str(run.id),
        flow_name=run.pipeline.name if run.pipeline is not None else None,
        flow_id=str(body.pipeline_id) if body.pipeline_id else None,
        status=_word(run.status),
        finished=run.status.is_finished,
        status_reason=body.status_reason,
        exception=_exception(getattr(run, "exception_info", None)),
        metadata=dict(run.run_metadata or {}),
        created=body.created,
        started=run.start_time,
        ended=run.end_time,
        stack_name=run.stack.name if run.stack is not None else None,
        original_run_id=str(run.original_run.id) if run.original_run is not None else None,
        parent_run_id=str(run.parent_run.id) if run.parent_run is not None else None,
        active_wait=wait_record(active) if active is not None else None,
        flow_source=FlowSource(module=source.module, attribute=getattr(source, "attribute", None))
        if source is not None and getattr(source, "module", None)
        else None,
        can_continue=(snapshot is not None and snapshot.stack is not None) if with_snapshot else True,
        log_streams=log_stream_records(run.log_collection),
        flow_inputs=dict(run.config.parameters or {}) if run.config is not None else {},
    )


def _ids_filter(ids: Sequence[str]) -> Any:
    return UUID(ids[0]) if len(ids) == 1 else f"oneof:{json.dumps(list(ids))}"


def fitted_reason(reason: str | None) -> str | None:
    """A status reason cut to the engine's column (255 characters); the full text goes to the exception info."""
    from zenml.constants import STR_FIELD_MAX_LENGTH

    if reason is None or len(reason) <= STR_FIELD_MAX_LENGTH:
        return reason
    return reason[: STR_FIELD_MAX_LENGTH - 1] + "…"


class ZenMLRunStore:
    """Runs, step runs, artifacts and waits in ZenML's store."""

    def get_run(self, run_id: str, *, details: bool = True, with_source: bool = False) -> RunRecord:
        try:
            run = client().zen_store.get_run(UUID(run_id), hydrate=details)
        except KeyError:
            raise RecordNotFound(run_id) from None
        return run_record(run, details=details, with_snapshot=with_source)

    def list_runs(self, *, page: int, size: int) -> RunPage:
        result = client().list_pipeline_runs(sort_by="desc:created", size=size, page=page, hydrate=True)
        return RunPage(
            items=tuple(run_record(run, with_snapshot=False) for run in result.items), total_pages=result.total_pages
        )

    def child_runs(self, run_id: str) -> list[RunRecord]:
        from zenml.utils.pagination_utils import depaginate

        children = depaginate(
            client().list_pipeline_runs, parent_run_id=UUID(run_id), sort_by="asc:created", size=100, hydrate=True
        )
        return [run_record(run, with_snapshot=False) for run in children]

    def list_steps(self, run_ids: Sequence[str]) -> list[StepRecord]:
        steps: list[StepRecord] = []
        engine = client()
        for start in range(0, len(run_ids), IDS_PER_QUERY):
            chunk = list(run_ids[start : start + IDS_PER_QUERY])
            page = 1
            while True:
                result = engine.list_run_steps(
                    pipeline_run_id=_ids_filter(chunk),
                    exclude_retried=False,
                    sort_by="asc:created",
                    size=STEP_PAGE_SIZE,
                    page=page,
                    hydrate=True,  # config, inputs and outputs; artifacts stay unhydrated
                )
                steps.extend(step_record(step) for step in result.items)
                if page >= result.total_pages or not result.items:
                    break
                page += 1
        return steps

    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        try:
            artifact = client().zen_store.get_artifact_version(UUID(artifact_id), hydrate=True)
        except KeyError:
            raise RecordNotFound(artifact_id) from None
        return artifact_record(artifact, with_metadata=True)

    def artifact_metadata(self, artifact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        engine = client()
        for start in range(0, len(artifact_ids), IDS_PER_QUERY):
            chunk = list(artifact_ids[start : start + IDS_PER_QUERY])
            page = engine.list_artifact_versions(id=f"oneof:{json.dumps(chunk)}", size=len(chunk), hydrate=True)
            for artifact in page.items:
                found[str(artifact.id)] = dict(artifact.run_metadata or {})
        return found

    def load_artifact(self, artifact_id: str) -> Any:
        try:
            artifact = client().get_artifact_version(UUID(artifact_id))
        except KeyError:
            raise RecordNotFound(artifact_id) from None
        return artifact.load()

    def step_name(self, step_id: str) -> str:
        try:
            return str(client().zen_store.get_run_step(UUID(step_id), hydrate=False).name)
        except KeyError:
            raise RecordNotFound(step_id) from None

    def log_run_metadata(self, run_id: str, metadata: Mapping[str, Any]) -> None:
        from zenml.enums import MetadataResourceTypes
        from zenml.models import RunMetadataResource

        client().create_run_metadata(
            metadata=dict(metadata),
            resources=[RunMetadataResource(id=UUID(run_id), type=MetadataResourceTypes.PIPELINE_RUN)],
        )

    def log_step_metadata(self, step_id: str, metadata: Mapping[str, Any]) -> None:
        load_engine()
        from zenml.utils.metadata_utils import log_metadata

        log_metadata(metadata=dict(metadata), step_id=UUID(step_id))

    def set_status(self, run_id: str, status: str, *, reason: str | None = None) -> None:
        from zenml.enums import ExecutionStatus
        from zenml.models import PipelineRunUpdate

        client().zen_store.update_run(
            UUID(run_id), PipelineRunUpdate(status=ExecutionStatus(status), status_reason=fitted_reason(reason))
        )

    def fail_run(self, run_id: str, reason: str) -> None:
        from zenml.enums import ExecutionStatus
        from zenml.models import PipelineRunUpdate, StepRunUpdate
        from zenml.models.v2.misc.exception_info import ExceptionInfo
        from zenml.utils.time_utils import utc_now

        engine = client()
        info = ExceptionInfo(traceback=reason, message=reason)
        for step_run in engine.list_run_steps(pipeline_run_id=UUID(run_id), size=STEP_PAGE_SIZE).items:
            if not step_run.status.is_finished and step_run.status != ExecutionStatus.RETRYING:
                engine.zen_store.update_run_step(
                    step_run.id,
                    StepRunUpdate(status=ExecutionStatus.FAILED, end_time=utc_now(), exception_info=info),
                )
        engine.zen_store.update_run(
            UUID(run_id),
            PipelineRunUpdate(status=ExecutionStatus.FAILED, status_reason=fitted_reason(reason), exception_info=info),
        )

    def list_waits(self, run_id: str, *, status: str | None = None) -> list[WaitRecord]:
        from zenml.utils.pagination_utils import depaginate

        conditions = depaginate(
            client().list_run_wait_conditions,
            pipeline_run=UUID(run_id),
            status=status,
            sort_by="asc:created",
            size=WAIT_PAGE_SIZE,
            hydrate=True,
        )
        return [wait_record(condition, run_id=run_id) for condition in conditions]

    def find_runs(self, *, id_prefix: str, limit: int) -> list[RunRecord]:
        # The engine compares ids as hex strings without hyphens, so ``startswith`` is a prefix match.
        result = client().list_pipeline_runs(
            id=f"startswith:{id_prefix}", sort_by="desc:created", size=limit, hydrate=True
        )
        return [run_record(run, with_snapshot=False) for run in result.items]

    def list_ended_runs(self, *, ended_before: datetime) -> list[RunRecord]:
        from zenml.utils.pagination_utils import depaginate

        runs = depaginate(
            client().list_pipeline_runs,
            end_time=f"lt:{_filter_time(ended_before)}",
            sort_by="asc:created",
            size=RUN_PAGE_SIZE,
            hydrate=True,
        )
        return [run_record(run, with_snapshot=False) for run in runs]

    def delete_run(self, run_id: str) -> None:
        engine = client()
        try:
            snapshot = engine.zen_store.get_run(UUID(run_id), hydrate=True).snapshot
            engine.zen_store.delete_run(UUID(run_id))
        except KeyError:
            raise RecordNotFound(run_id) from None
        # Deleting a snapshot deletes every run made from it: only an unnamed
        # one (not a template someone saved) that no other run uses goes.
        if snapshot is not None and not snapshot.name:
            if not engine.list_pipeline_runs(snapshot_id=snapshot.id, size=1).items:
                engine.zen_store.delete_snapshot(snapshot.id)

    def unused_artifacts(self, artifact_ids: Sequence[str]) -> list[str]:
        unused: list[str] = []
        engine = client()
        for start in range(0, len(artifact_ids), IDS_PER_QUERY):
            chunk = list(artifact_ids[start : start + IDS_PER_QUERY])
            page = engine.list_artifact_versions(
                id=f"oneof:{json.dumps(chunk)}", only_unused=True, size=len(chunk), hydrate=False
            )
            unused.extend(str(artifact.id) for artifact in page.items)
        return unused

    def delete_artifacts(self, artifact_ids: Sequence[str]) -> None:
        from zenml.artifacts.utils import instantiate_artifact_store

        engine = client()
        stores: dict[UUID, Any] = {}
        for start in range(0, len(artifact_ids), IDS_PER_QUERY):
            chunk = list(artifact_ids[start : start + IDS_PER_QUERY])
            page = engine.list_artifact_versions(id=f"oneof:{json.dumps(chunk)}", size=len(chunk), hydrate=False)
            for version in page.items:
                store_id = version.artifact_store_id
                if store_id is not None:
                    if store_id not in stores:
                        model = engine.zen_store.get_stack_component(store_id)
                        stores[store_id] = instantiate_artifact_store(model)
                    remove_stored(stores[store_id], version.uri)
                engine.zen_store.delete_artifact_version(version.id)
                artifact_id = version.artifact.id
                if not engine.list_artifact_versions(artifact=artifact_id, size=1, hydrate=False).items:
                    engine.zen_store.delete_artifact(artifact_id)


def _filter_time(moment: datetime) -> str:
    """``moment`` in the engine's filter format: naive UTC, whole seconds, rounded up (never earlier)."""
    naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
    if naive.microsecond:
        naive = naive.replace(microsecond=0) + timedelta(seconds=1)
    return naive.strftime("%Y-%m-%d %H:%M:%S")


__all__ = [
    "ZenMLRunStore",
    "artifact_record",
    "client",
    "log_stream_records",
    "run_record",
    "step_record",
    "wait_record",
]

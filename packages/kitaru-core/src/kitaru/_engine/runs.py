"""Read executions (pipeline runs) from the engine's store.

Kitaru records three things on every run as run metadata:

* ``kitaru_execution_spec``: the frozen execution spec (SPEC §3.7);
* ``kitaru_flow``: the flow's name, so listings can group by flow;
* ``kitaru_result``: how to get the flow's return value back: inline JSON
  for small JSON-able values, else the id of an artifact written by Kitaru's
  serializers, or the id of the checkpoint output the body returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine
from kitaru.errors import KitaruBackendError, KitaruRuntimeError

SPEC_KEY = "kitaru_execution_spec"
SOURCE_ROOT_KEY = "kitaru_source_root"
RESULT_KEY = "kitaru_result"
INLINE_RESULT_LIMIT = 16 * 1024


@dataclass(frozen=True)
class RunSnapshot:
    """The parts of an engine run that Kitaru's handle needs."""

    exec_id: str
    engine_status: str
    has_active_wait: bool
    status_reason: str | None
    traceback: str | None
    metadata: dict[str, Any]


def fetch_run(exec_id: str) -> RunSnapshot:
    """Load a run from the store.

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    load_engine()
    from zenml.client import Client

    from kitaru._engine.lifecycle import reconcile_crashed

    try:
        run = Client().zen_store.get_run(UUID(exec_id), hydrate=True)
        if reconcile_crashed(run):
            run = Client().zen_store.get_run(UUID(exec_id), hydrate=True)
    except Exception as exc:
        raise KitaruBackendError(f"Failed to refresh execution '{exec_id}': {exc}") from exc
    exception_info = getattr(run, "exception_info", None)
    return RunSnapshot(
        exec_id=str(run.id),
        engine_status=str(run.status.value),
        has_active_wait=run.active_wait_condition is not None,
        status_reason=run.get_body().status_reason,
        traceback=exception_info.traceback if exception_info else None,
        metadata=dict(run.run_metadata or {}),
    )


def current_run() -> Any:
    """Return the engine run of the flow body executing in this context."""
    from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

    context = DynamicPipelineRunContext.get()
    if context is None:
        raise KitaruRuntimeError("No execution is running in this context.")
    return context.run


def current_runner() -> Any:
    """Return the engine runner executing the flow body in this context."""
    from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

    context = DynamicPipelineRunContext.get()
    if context is None:
        raise KitaruRuntimeError("No execution is running in this context.")
    return context.runner


def log_run_metadata(exec_id: str, metadata: dict[str, Any]) -> None:
    """Attach ``metadata`` to the run ``exec_id`` (one store write, no lookup)."""
    from zenml.client import Client
    from zenml.enums import MetadataResourceTypes
    from zenml.models import RunMetadataResource

    Client().create_run_metadata(
        metadata=metadata,
        resources=[RunMetadataResource(id=UUID(exec_id), type=MetadataResourceTypes.PIPELINE_RUN)],
    )


def encode_result(value: Any, *, checkpoint_output: Any = None) -> dict[str, Any]:
    """Describe how to store the flow's return value and store it if needed.

    Args:
        value: What the flow body returned.
        checkpoint_output: The engine handle of the checkpoint output the body
            returned as is, if it did; then nothing is stored twice.
    """
    if checkpoint_output is not None:
        return {
            "kind": "checkpoint_output",
            "artifact_id": str(checkpoint_output.id),
            "checkpoint": checkpoint_output.step_name,
        }
    from kitaru.serializers.builtin import _is_json_able, _write_json

    if _is_json_able(value):
        text = _write_json(value).decode()
        if len(text) <= INLINE_RESULT_LIMIT:
            return {"kind": "json", "data": text}
    from zenml import save_artifact

    from kitaru._engine.materializer import KitaruMaterializer

    artifact = save_artifact(
        value,
        name="kitaru_flow_result",
        materializer=KitaruMaterializer,
        extract_metadata=False,
        include_visualizations=False,
    )
    return {"kind": "artifact", "artifact_id": str(artifact.id)}


def decode_result(exec_id: str, record: dict[str, Any] | None) -> Any:
    """Load the flow's return value described by ``record``.

    Raises:
        KitaruRuntimeError: If no result was recorded or it cannot be loaded.
    """
    if not record:
        raise KitaruRuntimeError(
            f"Execution {exec_id} has no recorded result. It may have been produced by "
            "an older Kitaru or a bare ZenML pipeline."
        )
    if record.get("kind") == "json":
        from kitaru.serializers.builtin import _read_json

        return _read_json(record["data"].encode(), None)
    from zenml.client import Client

    from kitaru._engine.artifacts import load_artifact_value

    artifact = Client().get_artifact_version(UUID(record["artifact_id"]))
    origin = f" (the output of checkpoint `{record['checkpoint']}`)" if record.get("checkpoint") else ""
    return load_artifact_value(artifact, f"the result of execution {exec_id}{origin}")


def dumps_metadata(value: Any) -> Any:
    """Make ``value`` storable as engine metadata (JSON types only)."""
    return json.loads(json.dumps(value, default=str))

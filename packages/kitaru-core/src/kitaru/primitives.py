"""Primitives used inside flows and checkpoints: ``log``, ``save``, ``load``.

Where each may be called is fixed (SPEC §2.0): ``log`` anywhere inside a
flow, ``save``/``load`` only inside a checkpoint. ``wait`` and ``llm`` check
their call site here too; their behaviour arrives with later work.
"""

from __future__ import annotations

import uuid
from typing import Any

from kitaru import _scope
from kitaru.errors import (
    KitaruContextError,
    KitaruFeatureNotAvailableError,
    KitaruStateError,
    KitaruUsageError,
)

SAVE_TYPES = ("prompt", "response", "context", "input", "output", "blob")


def log(**metadata: Any) -> None:
    """Attach key/values to the current checkpoint, or else to the execution.

    Repeated calls accumulate; a repeated key keeps its latest value (dicts
    merge on read).

    Raises:
        KitaruContextError: Outside a flow.
        KitaruStateError: If the current scope has no execution id.
    """
    checkpoint = _scope.current_checkpoint()
    flow = _scope.current_flow()
    if checkpoint is None and flow is None:
        raise KitaruContextError("kitaru.log() can only be called inside a @flow.")
    if not metadata:
        return
    from kitaru._engine import metadata as engine_metadata

    if checkpoint is not None:
        if not checkpoint.checkpoint_id:
            raise KitaruStateError("The current checkpoint has no id; cannot attach metadata.")
        engine_metadata.log_checkpoint_metadata(checkpoint.checkpoint_id, metadata)
        return
    assert flow is not None
    if not flow.execution_id:
        raise KitaruStateError("The current flow has no execution id; cannot attach metadata.")
    engine_metadata.log_execution_metadata(flow.execution_id, metadata)


def _require_checkpoint(function: str) -> _scope.CheckpointScope:
    checkpoint = _scope.current_checkpoint()
    if checkpoint is None:
        raise KitaruContextError(f"kitaru.{function}() can only be called inside a @checkpoint.")
    return checkpoint


def save(name: str, value: Any, *, type: str = "output", tags: list[str] | None = None) -> None:
    """Persist ``value`` as a named artifact of the current checkpoint.

    Args:
        name: Artifact name; ``load(exec_id, name)`` finds it later.
        value: Any value a Kitaru serializer can write.
        type: One of prompt, response, context, input, output, blob.
        tags: Optional artifact tags.

    Raises:
        KitaruContextError: Outside a checkpoint.
        KitaruUsageError: If ``name`` is empty or ``type`` unknown.
    """
    _require_checkpoint("save")
    kind = str(type).strip().lower()
    if kind not in SAVE_TYPES:
        raise KitaruUsageError(
            f"Unsupported artifact type {type!r} for kitaru.save(). Expected one of: "
            f"{', '.join(SAVE_TYPES)}."
        )
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("kitaru.save() needs a non-empty artifact name.")
    from kitaru._engine.artifacts import save_manual_artifact

    save_manual_artifact(name.strip(), value, kind=kind, tags=tags)


def load(exec_id: str, name: str) -> Any:
    """Load an artifact of another execution from inside a checkpoint.

    Matches artifacts saved with ``save`` by name, and checkpoint outputs by
    artifact name, step name or checkpoint name.

    Raises:
        KitaruContextError: Outside a checkpoint.
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruRuntimeError: If no artifact or several artifacts match.
    """
    _require_checkpoint("load")
    try:
        uuid.UUID(str(exec_id))
    except ValueError:
        raise KitaruUsageError(
            f"Invalid execution id {exec_id!r}: expected a UUID such as the one "
            "`kitaru executions list` shows."
        ) from None
    from kitaru._engine.artifacts import load_named_artifact

    return load_named_artifact(str(exec_id), name)


def wait(
    *,
    schema: Any = None,
    name: str | None = None,
    question: str | None = None,
    timeout: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Wait durably for outside input (arrives with the lifecycle work).

    Raises:
        KitaruContextError: Outside a flow body or inside a checkpoint.
        KitaruFeatureNotAvailableError: In this build.
    """
    if _scope.current_checkpoint() is not None:
        raise KitaruContextError(
            "wait() cannot be called inside a @checkpoint. Call wait() in the flow body instead."
        )
    if _scope.current_flow() is None:
        raise KitaruContextError("wait() can only run inside a @flow.")
    raise KitaruFeatureNotAvailableError(
        "kitaru.wait() is not available in this build yet; it ships with the execution "
        "lifecycle work (wait, input, resume)."
    )


def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
) -> str:
    """Call an LLM as a journaled step (arrives with the LLM work).

    Raises:
        KitaruContextError: Outside a flow.
        KitaruFeatureNotAvailableError: In this build.
    """
    if _scope.current_flow() is None and _scope.current_checkpoint() is None:
        raise KitaruContextError("kitaru.llm() can only be called inside a @flow.")
    raise KitaruFeatureNotAvailableError(
        "kitaru.llm() is not available in this build yet; it ships with the LLM work."
    )

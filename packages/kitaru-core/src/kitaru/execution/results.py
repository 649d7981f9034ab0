"""Record a flow's return value explicitly, and read it back.

``handle.wait()`` returns exactly what the flow body returned; it never
guesses the result from the last checkpoint. When the body returns, its
value is recorded as run metadata :data:`~kitaru.execution.keys.RESULT_KEY`,
in one of three kinds:

* ``{"kind": "json", "data": "<json>"}``: small JSON-able values, inline
  (tuples round-trip as tuples);
* ``{"kind": "checkpoint_output", "artifact_id": ..., "checkpoint": ...}``:
  the body returned a checkpoint's output as is, so nothing is stored twice;
* ``{"kind": "artifact", "artifact_id": ...}``: anything else, stored once
  with Kitaru's serializers.
"""

from __future__ import annotations

from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.runtime import OutputInfo
from kitaru.errors import KitaruRuntimeError
from kitaru.execution.values import load_artifact
from kitaru.serializers.builtin import is_json_able, read_json, write_json

INLINE_RESULT_LIMIT = 16 * 1024
"""Largest JSON text (characters) recorded inline."""

RESULT_ARTIFACT = "kitaru_flow_result"
"""The name of the artifact holding a result that is not inline."""


def encode_result(value: Any, *, checkpoint_output: OutputInfo | None = None) -> dict[str, Any]:
    """Describe how to store the flow's return value, storing it if needed.

    Args:
        value: What the flow body returned.
        checkpoint_output: The checkpoint output the body returned as is, if
            it did; then nothing is stored twice.
    """
    if checkpoint_output is not None:
        return {
            "kind": "checkpoint_output",
            "artifact_id": checkpoint_output.artifact_id,
            "checkpoint": checkpoint_output.invocation_id,
        }
    if is_json_able(value):
        text = write_json(value).decode()
        if len(text) <= INLINE_RESULT_LIMIT:
            return {"kind": "json", "data": text}
    artifact_id = get_engine().runtime.save_artifact(RESULT_ARTIFACT, value, extract_metadata=False)
    return {"kind": "artifact", "artifact_id": artifact_id}


def decode_result(exec_id: str, record: Any) -> Any:
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
        return read_json(record["data"].encode())
    origin = f" (the output of checkpoint `{record['checkpoint']}`)" if record.get("checkpoint") else ""
    return load_artifact(str(record["artifact_id"]), f"the result of execution {exec_id}{origin}")


__all__ = ["INLINE_RESULT_LIMIT", "RESULT_ARTIFACT", "decode_result", "encode_result"]

"""Values no serializer can store: used in memory by their own run, never passed off as stored.

When no Kitaru serializer can write a value (a client holding a socket, an
object holding a ``threading.Lock``), the execution does not fail: the run
that produced it keeps the object in memory and hands it to its next
checkpoints and to the flow body. What is stored is a *record* that says so
(the type, the checkpoint, why, a short ``repr``), never something that
could be mistaken for the value.

Reading that record back anywhere else (a retry or replay that reuses the
checkpoint, ``ArtifactRef.load()``, ``kitaru.load()``, another process)
raises :class:`KitaruUnstorableValueError`, which names the checkpoint and
the type and says how to make the value storable::

    try:
        artifact.load()
    except KitaruUnstorableValueError as exc:
        print(exc.checkpoint, exc.type_name, exc.reason)

Which values the current run keeps is decided by the execution layer: it
registers a lookup with :func:`use_run_values` that returns the running flow
body's dict (None outside a flow body), so a value never leaks from one run
into another one in the same process.
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable
from typing import Any

from kitaru.engine import get_engine
from kitaru.errors import KitaruUnstorableValueError

UNSTORABLE_SERIALIZER = "kitaru-unstorable"
"""The pseudo-serializer of the record written for a value no serializer could store."""

LEGACY_BLOB_SERIALIZER = "blob"
"""What older Kitaru versions wrote instead (the value's ``repr``); read as unstorable too."""

REPR_LIMIT = 300
"""How much of the value's ``repr`` the record keeps, as a hint for a human."""

SERIALIZER_DOCS = "docs/plugins/hooks.md"
"""Where registering a serializer plugin is documented."""

RunValues = Callable[[], "dict[str, Any] | None"]
"""Returns the running flow body's kept values (token -> value), or None outside a flow body."""


def _no_run_values() -> dict[str, Any] | None:
    return None


_run_values: RunValues = _no_run_values


def use_run_values(lookup: RunValues) -> None:
    """Tell the codec where the running flow body keeps values it could not store.

    Called once by :mod:`kitaru.execution.outputs`, which keeps one dict per
    flow body: the values live exactly as long as the run that produced them.
    """
    global _run_values
    _run_values = lookup


class UnserializableValueWarning(UserWarning):
    """A value could not be stored: only the run that produced it can use it."""


def _short_type(type_path: str) -> str:
    return type_path.rpartition(":")[2] or type_path


def _producer(checkpoint: str | None) -> str:
    return f"Checkpoint `{checkpoint}` returned" if checkpoint else "The flow body stored"


def _fix(type_path: str) -> str:
    return (
        "Make it storable: return a pydantic model, a dataclass or a JSON-able value instead, "
        f"or register a serializer plugin for `{_short_type(type_path)}` with the "
        f"kitaru_artifact_serializers hook (see {SERIALIZER_DOCS})."
    )


def _replay_hint(checkpoint: str | None) -> str:
    return f" Replaying from `{checkpoint}` works: it runs `{checkpoint}` again." if checkpoint else ""


def _current_checkpoint() -> str | None:
    """The invocation id of the checkpoint storing a value right now, or None outside one."""
    engine = get_engine()
    try:
        return engine.runs.step_name(engine.runtime.current_step().step_id)
    except Exception:  # not inside a checkpoint (flow body, upload) or the store is unreachable
        return None


def unstorable_record(value: Any, type_path: str, reason: str) -> tuple[dict[str, str], bytes]:
    """Keep ``value`` for the running flow body and describe it for storage; warn once.

    Args:
        value: The value no serializer could write.
        type_path: Its type as ``module:qualname``.
        reason: Why it could not be stored.

    Returns:
        The header and bytes of the record to store in the value's place.
    """
    token = uuid.uuid4().hex
    kept = _run_values()
    if kept is not None:
        kept[token] = value
    checkpoint = _current_checkpoint()
    kind = _short_type(type_path)
    warnings.warn(
        f"{_producer(checkpoint)} a `{kind}` that cannot be stored ({reason}). "
        + (
            "This run keeps using it in memory, but a retry or replay that reuses it will fail."
            + _replay_hint(checkpoint)
            + " "
            if kept is not None
            else "Only this process can use it. "
        )
        + _fix(type_path),
        UnserializableValueWarning,
        stacklevel=4,
    )
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    record = {
        "checkpoint": checkpoint,
        "python_type": type_path,
        "reason": reason,
        "repr": text[:REPR_LIMIT],
        "token": token,
    }
    header = {"serializer": UNSTORABLE_SERIALIZER, "content_type": "application/json", "python_type": type_path}
    return header, json.dumps(record).encode()


def read_unstorable(header: dict[str, str], data: bytes) -> Any:
    """Return the real value if the running flow body produced it; otherwise explain.

    Raises:
        KitaruUnstorableValueError: Always, unless the value was produced by
            the flow body running in this context.
    """
    try:
        record = json.loads(data.decode())
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    kept = _run_values()
    token = record.get("token")
    if kept is not None and isinstance(token, str) and token in kept:
        return kept[token]
    type_path = str(record.get("python_type") or header.get("python_type") or "unknown")
    checkpoint = record.get("checkpoint") if isinstance(record.get("checkpoint"), str) else None
    value_repr = str(record.get("repr", ""))
    if header.get("serializer") == LEGACY_BLOB_SERIALIZER:
        reason = "an older Kitaru recorded only its repr"
        message = (
            f"A `{_short_type(type_path)}` value was stored by an older Kitaru as a description only "
            f"(repr: {value_repr[:80]}); it cannot be loaded back as the object. {_fix(type_path)}"
        )
    else:
        reason = str(record.get("reason") or "no serializer could write it")
        message = (
            f"{_producer(checkpoint)} a `{_short_type(type_path)}` that could not be stored ({reason}); "
            "only the run that produced it could use it, so a retry, a replay or a later load "
            f"can't reuse it.{_replay_hint(checkpoint)} {_fix(type_path)}"
        )
    raise KitaruUnstorableValueError(
        message, checkpoint=checkpoint, type_name=type_path, reason=reason, value_repr=value_repr
    )


def is_unstorable_header(header: dict[str, str]) -> bool:
    """Whether ``header`` describes a record of a value that was not stored."""
    return header.get("serializer") in (UNSTORABLE_SERIALIZER, LEGACY_BLOB_SERIALIZER)


__all__ = [
    "LEGACY_BLOB_SERIALIZER",
    "REPR_LIMIT",
    "SERIALIZER_DOCS",
    "UNSTORABLE_SERIALIZER",
    "KitaruUnstorableValueError",
    "RunValues",
    "UnserializableValueWarning",
    "is_unstorable_header",
    "read_unstorable",
    "unstorable_record",
    "use_run_values",
]

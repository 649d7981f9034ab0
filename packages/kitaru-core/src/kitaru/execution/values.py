"""Read a stored value back, with one message when that fails.

A stored value may fail to load in this process: the module defining its
type is not importable here, or the serializer plugin that wrote it is not
installed. Every reader (a checkpoint output in the flow body, a recorded
input compared on retry, a flow's result) reports it the same way, naming
what was being loaded, the stored type and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitaru.engine import get_engine
from kitaru.errors import KitaruRuntimeError
from kitaru.serializers.unstorable import KitaruUnstorableValueError


def load_error(what: str, data_type: str | None, exc: BaseException) -> KitaruRuntimeError:
    """The error for a stored value that could not be loaded.

    A value that was never stored (:class:`KitaruUnstorableValueError`) is
    reported as such: its message already names the checkpoint and the type.

    Args:
        what: What was being loaded ("the output of checkpoint `x`").
        data_type: The stored type's import path, if known.
        exc: What went wrong (the engine may have wrapped Kitaru's own error).
    """
    root = exc
    while root.__cause__ is not None and not isinstance(root, KitaruRuntimeError):
        root = root.__cause__  # the engine re-wraps; report the original problem
    if isinstance(root, KitaruUnstorableValueError):
        return root
    detail = str(root) if isinstance(root, KitaruRuntimeError) else f"{type(root).__name__}: {root}"
    return KitaruRuntimeError(
        f"Could not load {what}: the stored value has type '{data_type or 'unknown'}'. {detail}. "
        "Run from a directory where the module defining that type is importable, or "
        "install the plugin whose serializer wrote it."
    )


def load_value(load: Callable[[], Any], what: str, data_type: Callable[[], str | None]) -> Any:
    """Run ``load``; turn any failure into :func:`load_error`.

    Args:
        load: Reads the value.
        what: What is being loaded, for the message.
        data_type: Looks up the stored type (only called on failure).

    Raises:
        KitaruRuntimeError: If ``load`` fails.
    """
    try:
        return load()
    except Exception as exc:
        try:
            stored_type = data_type()
        except Exception:
            stored_type = None
        error = load_error(what, stored_type, exc)
        if isinstance(error, KitaruUnstorableValueError):
            raise error from None  # complete on its own; the engine's wrapping is noise
        raise error from exc


def load_artifact(artifact_id: str, what: str) -> Any:
    """Load a stored artifact's value by id.

    Raises:
        KitaruRuntimeError: If it cannot be loaded; the message names ``what``.
    """
    runs = get_engine().runs
    return load_value(lambda: runs.load_artifact(artifact_id), what, lambda: runs.get_artifact(artifact_id).data_type)


__all__ = ["load_artifact", "load_error", "load_value"]

"""A checkpoint output that cannot reach the artifact store fails in Kitaru's words.

After a checkpoint's body returns, the engine writes its output to the
artifact store (creating the artifact's directory first, then letting the
materializer write the value). When the store is unreachable, the failure is
the storage SDK's own (``botocore.exceptions.EndpointConnectionError: Could
not connect to the endpoint URL ...``) and reads as a bug in the user's code.
:func:`install` makes it a :class:`~kitaru.errors.KitaruArtifactStoreError`
that names the checkpoint and the store, and says how to continue; the
original error stays attached as its cause.

Only errors of the storage layer are translated: ``OSError`` (which covers
builtin connection errors and local disks) and exceptions raised by the
storage and HTTP libraries the artifact stores use. Kitaru's own errors and
anything else pass through unchanged.

Engine private API: ``StepRunner._store_output_artifacts``, the one method
through which the engine stores a step's outputs, is wrapped once per
process.
"""

from __future__ import annotations

import functools
from typing import Any

from kitaru.errors import KitaruArtifactStoreError, KitaruError

STORAGE_LIBRARIES = frozenset({"botocore", "aiobotocore", "boto3", "s3fs", "gcsfs", "adlfs", "fsspec", "google", "azure", "aiohttp"})
"""Top-level packages whose exceptions mean the store, not the user's code, failed."""
SERVER_LIBRARIES = frozenset({"requests", "urllib3"})
"""The engine's server is reached through these: their errors (``OSError`` subclasses) are not the store's."""


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from reaching the artifact store (see :data:`STORAGE_LIBRARIES`)."""
    if isinstance(exc, KitaruError) or not isinstance(exc, Exception):
        return False
    libraries = {cls.__module__.split(".", 1)[0] for cls in type(exc).__mro__}
    if libraries & SERVER_LIBRARIES:
        return False
    return isinstance(exc, OSError) or bool(libraries & STORAGE_LIBRARIES)


def _store_path(runner: Any) -> str:
    try:
        return str(runner._stack.artifact_store.path)  # ZenML private API: the step's stack
    except Exception:
        return "the artifact store"


def _checkpoint_name(runner: Any) -> str:
    try:
        return str(runner._step.spec.invocation_id)  # ZenML private API: the step being run
    except Exception:
        return "this checkpoint"


def install() -> None:
    """Translate storage failures while the engine stores step outputs (idempotent)."""
    from zenml.orchestrators.step_runner import StepRunner

    store_outputs = StepRunner._store_output_artifacts
    if getattr(store_outputs, "kitaru_wrapped", False):
        return

    @functools.wraps(store_outputs)
    def store_outputs_in_kitarus_words(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return store_outputs(self, *args, **kwargs)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            raise KitaruArtifactStoreError(
                f"The output of checkpoint `{_checkpoint_name(self)}` could not be written to the artifact store "
                f"at {_store_path(self)}: {type(exc).__name__}: {exc}. Check that the store is reachable (its "
                "address, credentials and network), then continue the execution with `kitaru executions retry`."
            ) from exc

    store_outputs_in_kitarus_words.kitaru_wrapped = True  # type: ignore[attr-defined]
    StepRunner._store_output_artifacts = store_outputs_in_kitarus_words  # type: ignore[method-assign]


__all__ = ["SERVER_LIBRARIES", "STORAGE_LIBRARIES", "install", "is_storage_error"]

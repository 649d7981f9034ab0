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

Engine API touched: ``output_utils.prepare_output_artifact_uris`` (public
module function, called through its module by the step launcher) and the
private ``StepRunner._store_output_artifacts``, the one method through which
the engine stores a step's outputs; both are wrapped once per process, and
so is the cleanup after a failed attempt (``output_utils.remove_artifact_dirs``),
which would otherwise hide the translated error behind the SDK's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kitaru._engine import unreachable_store
from kitaru._engine.patches import replace_once
from kitaru.errors import KitaruArtifactStoreError, KitaruError

logger = logging.getLogger(__name__)

STORAGE_LIBRARIES = frozenset(
    {"botocore", "aiobotocore", "boto3", "s3fs", "gcsfs", "adlfs", "fsspec", "google", "azure", "aiohttp"}
)
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


def _store_path(stack: Any) -> str:
    try:
        return str(stack.artifact_store.path)
    except Exception:
        return "the artifact store"


def _checkpoint_name(step: Any) -> str:
    try:
        return str(step.spec.invocation_id)
    except Exception:
        return "this checkpoint"


def _in_kitarus_words(exc: Exception, *, step: Any, stack: Any) -> KitaruArtifactStoreError:
    unreachable_store.note_failure(exc)
    return KitaruArtifactStoreError(
        f"The output of checkpoint `{_checkpoint_name(step)}` could not be written to the artifact store "
        f"at {_store_path(stack)}: {type(exc).__name__}: {exc}. Check that the store is reachable (its "
        "address, credentials and network), then continue the execution with `kitaru executions retry`."
    )


def install() -> None:
    """Translate storage failures while the engine prepares and stores step outputs (idempotent).

    Two engine calls touch the store for a step's outputs: preparing their
    locations before the body runs (it checks that each location is new), and
    writing the values after it returned. An attempt that starts while the
    store is away (a checkpoint retry right after a failed write) fails in the
    first, a write cut off in the second.
    """
    from zenml.orchestrators import output_utils
    from zenml.orchestrators.step_runner import StepRunner

    replace_once(output_utils, "prepare_output_artifact_uris", _preparing_in_kitarus_words)
    replace_once(StepRunner, "_store_output_artifacts", _storing_in_kitarus_words)
    replace_once(output_utils, "remove_artifact_dirs", _removing_or_leaving)


def _preparing_in_kitarus_words(prepare_uris: Callable[..., Any]) -> Callable[..., Any]:
    def prepare_uris_in_kitarus_words(*args: Any, **kwargs: Any) -> Any:
        try:
            return prepare_uris(*args, **kwargs)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            raise _in_kitarus_words(exc, step=kwargs.get("step"), stack=kwargs.get("stack")) from exc

    return prepare_uris_in_kitarus_words


def _storing_in_kitarus_words(store_outputs: Callable[..., Any]) -> Callable[..., Any]:
    def store_outputs_in_kitarus_words(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return store_outputs(self, *args, **kwargs)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            # ZenML private API: the runner's step and stack.
            step, stack = getattr(self, "_step", None), getattr(self, "_stack", None)
            raise _in_kitarus_words(exc, step=step, stack=stack) from exc

    return store_outputs_in_kitarus_words


def _removing_or_leaving(remove_dirs: Callable[..., Any]) -> Callable[..., Any]:
    def remove_dirs_or_leave_them(*args: Any, **kwargs: Any) -> None:
        # The engine's only call: cleaning up after a failed attempt, inside its
        # ``except`` block. With the store away this fails as well and would
        # replace the attempt's own (translated) error with a bare SDK one. The
        # directories are left behind instead: they were never registered as
        # artifacts, and the next attempt writes to new ones. A store that just
        # refused a connection is not asked (each call waits out the SDK's retries).
        if unreachable_store.is_unreachable():
            logger.warning("Left the partial outputs of a failed attempt in the artifact store: it cannot be reached.")
            return
        try:
            remove_dirs(*args, **kwargs)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            unreachable_store.note_failure(exc)
            logger.warning("Left the partial outputs of a failed attempt in the artifact store: %s", exc)

    return remove_dirs_or_leave_them


__all__ = ["SERVER_LIBRARIES", "STORAGE_LIBRARIES", "install", "is_storage_error"]

"""Kitaru's exception hierarchy and failure classification.

Every error a user sees is a :class:`KitaruError`. The subclasses also inherit
from the matching built-in (``ValueError``, ``RuntimeError``,
``NotImplementedError``) so existing ``except`` clauses keep working.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class KitaruError(Exception):
    """Base class of every error raised by Kitaru."""


class KitaruUsageError(KitaruError, ValueError):
    """An API was called with invalid arguments or configuration."""


class KitaruContextError(KitaruError, RuntimeError):
    """A primitive was called where it is not allowed (see SPEC §2.0)."""


class KitaruStateError(KitaruError, RuntimeError):
    """The execution or store is not in a state that allows the operation."""


class KitaruRuntimeError(KitaruError, RuntimeError):
    """Something failed while running or inspecting an execution."""


class FailureOrigin(StrEnum):
    """Where a failed execution's error came from."""

    USER_CODE = "user_code"
    RUNTIME = "runtime"
    BACKEND = "backend"
    DIVERGENCE = "divergence"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    BUDGET = "budget"
    UNKNOWN = "unknown"


class KitaruExecutionError(KitaruRuntimeError):
    """An execution finished unsuccessfully.

    Attributes:
        exec_id: The execution that failed.
        status: Its final public status (``failed``, ``cancelled``).
        failure_origin: Where the failure came from.
    """

    def __init__(
        self,
        message: str,
        *,
        exec_id: str | None = None,
        status: str | None = None,
        failure_origin: FailureOrigin | None = None,
    ) -> None:
        super().__init__(message)
        self.exec_id = exec_id
        self.status = status
        self.failure_origin = failure_origin


class KitaruUserCodeError(KitaruExecutionError):
    """The execution failed because user code (a flow or checkpoint) raised."""


class KitaruDivergenceError(KitaruExecutionError):
    """A re-run's checkpoint sequence differs from the recorded journal."""


class KitaruCancelledError(KitaruExecutionError):
    """The execution was cancelled (``kitaru executions cancel``, or an aborted wait)."""


class KitaruTimeoutError(KitaruExecutionError):
    """A checkpoint attempt or a flow body ran past its ``timeout`` and was stopped.

    A checkpoint attempt raises it (the checkpoint's retries apply, each
    attempt with the full timeout; when none is left, the checkpoint call
    raises it in the flow body). An execution that failed this way, or whose
    flow body ran past the flow's timeout, has origin ``timeout``, and
    ``handle.wait()`` raises this class for it. ``kitaru executions retry``
    runs it again.

    Attributes:
        timeout: The timeout in seconds, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        timeout: float | None = None,
        exec_id: str | None = None,
        status: str | None = None,
        failure_origin: FailureOrigin | None = FailureOrigin.TIMEOUT,
    ) -> None:
        super().__init__(message, exec_id=exec_id, status=status, failure_origin=failure_origin)
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        return (_timeout_error, (str(self), self.timeout, self.exec_id, self.status))


def _timeout_error(message: str, timeout: float | None, exec_id: str | None, status: str | None) -> KitaruTimeoutError:
    return KitaruTimeoutError(message, timeout=timeout, exec_id=exec_id, status=status)


class KitaruBudgetExceededError(KitaruExecutionError):
    """A model request was refused because the execution's budget is used up; nothing was sent.

    Raised before each model request (``kitaru.llm()``, an adapter's
    request) once what the execution has spent reaches a limit of its
    :class:`kitaru.Budget`. An execution that fails this way has origin
    ``budget`` and ``handle.wait()`` raises this class for it.
    ``kitaru executions retry ID --budget-usd X`` (``--budget-tokens``,
    ``--budget-calls``) raises the limit and continues.

    Attributes:
        limit: Which limit was reached (``usd``, ``tokens`` or ``llm_calls``), when known.
        allowed: That limit's value.
        spent: What the execution had spent of it.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: str | None = None,
        allowed: float | None = None,
        spent: float | None = None,
        exec_id: str | None = None,
        status: str | None = None,
        failure_origin: FailureOrigin | None = FailureOrigin.BUDGET,
    ) -> None:
        super().__init__(message, exec_id=exec_id, status=status, failure_origin=failure_origin)
        self.limit = limit
        self.allowed = allowed
        self.spent = spent

    def __reduce__(self) -> tuple[Any, ...]:
        return (_budget_error, (str(self), self.limit, self.allowed, self.spent, self.exec_id, self.status))


def _budget_error(
    message: str, limit: str | None, allowed: float | None, spent: float | None, exec_id: str | None, status: str | None
) -> KitaruBudgetExceededError:
    return KitaruBudgetExceededError(
        message, limit=limit, allowed=allowed, spent=spent, exec_id=exec_id, status=status
    )


class KitaruBackendError(KitaruRuntimeError):
    """The store, server or another backend could not be reached or failed."""


class KitaruArtifactStoreError(KitaruBackendError):
    """A checkpoint's value could not be written to (or read from) the artifact store."""


class KitaruLogRetrievalError(KitaruBackendError):
    """Runtime logs could not be retrieved from the configured log store."""


class KitaruWaitValidationError(KitaruUsageError):
    """Input given to a pending wait does not match its schema."""


class KitaruUnstorableValueError(KitaruRuntimeError):
    """A stored value was never really stored: no serializer could write it.

    Raised where the value is needed again (a retry, a replay, a load);
    see :mod:`kitaru.serializers.unstorable`.

    Attributes:
        checkpoint: The checkpoint call that produced it, if known.
        type_name: The value's type (``module:qualname``).
        reason: Why it could not be stored.
        value_repr: The start of the value's ``repr`` (a hint, not the value).
    """

    def __init__(self, message: str, *, checkpoint: str | None, type_name: str, reason: str, value_repr: str) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.type_name = type_name
        self.reason = reason
        self.value_repr = value_repr


class KitaruStructuredOutputError(KitaruRuntimeError):
    """A model's answer did not fit ``kitaru.llm(response_format=...)``.

    Attributes:
        text: The model's whole text, as it answered.
    """

    def __init__(self, message: str, *, text: str) -> None:
        super().__init__(message)
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_structured_output_error, (str(self), self.text))


def _structured_output_error(message: str, text: str) -> KitaruStructuredOutputError:
    return KitaruStructuredOutputError(message, text=text)


class KitaruCassetteMiss(KitaruRuntimeError):
    """A model request run from a cassette is not in it (``KITARU_CASSETTE``, ``kitaru.testing.cassette``).

    Raised at once, before any credential is read or the provider is
    contacted (in ``record`` mode the request goes to the provider instead).
    The message names the call and shows how its request differs from the
    closest recorded one.

    Attributes:
        call: The call's name (``draft``, ``researcher_request_2``).
        cassette: The cassette file.
        closest: The closest recorded call's name, or None.
    """

    def __init__(self, message: str, *, call: str, cassette: str, closest: str | None = None) -> None:
        super().__init__(message)
        self.call = call
        self.cassette = cassette
        self.closest = closest

    def __reduce__(self) -> tuple[Any, ...]:
        return (_cassette_miss, (str(self), self.call, self.cassette, self.closest))


def _cassette_miss(message: str, call: str, cassette: str, closest: str | None) -> KitaruCassetteMiss:
    return KitaruCassetteMiss(message, call=call, cassette=cassette, closest=closest)


class KitaruFeatureNotAvailableError(KitaruError, NotImplementedError):
    """The feature is not available in this build or on this backend."""


_CANCELLED_HINTS = ("cancelled by user", "kitarucancellederror")
# A KeyboardInterrupt with a message: Kitaru's "Execution <id> was interrupted.",
# or a checkpoint's interruption as the engine adapter reports it.
_INTERRUPTED_HINTS = ("\nkeyboardinterrupt: ",)
_DIVERGENCE_HINTS = ("diverg", "durable call sequence", "replay mismatch")
_RUNTIME_HINTS = (
    "execution process died",
    "serialize",
    "serialization",
    "deserialize",
    "materializ",
    "hydrate",
    "reconstruct",
    "materializer",
)
_BACKEND_HINTS = (
    "backend communication",
    "connection refused",
    "transport error",
    "failed to fetch",
    "api unavailable",
)


_ORIGIN_OF_TYPE = {
    "KitaruArtifactStoreError": FailureOrigin.BACKEND,
    "KitaruBackendError": FailureOrigin.BACKEND,
    "ServerUnreachableError": FailureOrigin.BACKEND,
    "KitaruCancelledError": FailureOrigin.CANCELLED,
    "KitaruDivergenceError": FailureOrigin.DIVERGENCE,
    "KitaruTimeoutError": FailureOrigin.TIMEOUT,
    "KitaruBudgetExceededError": FailureOrigin.BUDGET,
    "DeadlineInterrupt": FailureOrigin.TIMEOUT,  # an attempt a flow's timeout stopped (kitaru.execution.deadlines)
}
"""Kitaru's own exceptions say where a failure came from, whatever their traceback mentions."""


def classify_failure_origin(
    status_reason: str | None, traceback: str | None, exception_type: str | None = None
) -> FailureOrigin:
    """Classify where a failure came from by looking at its exception type, reason and traceback.

    Args:
        status_reason: The execution's status reason, if any.
        traceback: The recorded traceback, if any.
        exception_type: The class name of the exception that ended it, if
            known, with or without its module.

    Returns:
        The origin of Kitaru's own exception types first; else the first
        matching origin in priority order: cancelled, interrupted, divergence,
        runtime, backend; otherwise ``user_code`` when a traceback exists,
        else ``unknown``.
    """
    own_type = (exception_type or "").rsplit(".", 1)[-1]  # "kitaru.errors.KitaruX" or "KitaruX"
    if own_type in _ORIGIN_OF_TYPE:
        return _ORIGIN_OF_TYPE[own_type]
    text = f"{status_reason or ''}\n{traceback or ''}".lower()
    for hints, origin in (
        (_CANCELLED_HINTS, FailureOrigin.CANCELLED),
        (_INTERRUPTED_HINTS, FailureOrigin.INTERRUPTED),
        (_DIVERGENCE_HINTS, FailureOrigin.DIVERGENCE),
        (_RUNTIME_HINTS, FailureOrigin.RUNTIME),
        (_BACKEND_HINTS, FailureOrigin.BACKEND),
    ):
        if any(hint in text for hint in hints):
            return origin
    return FailureOrigin.USER_CODE if traceback else FailureOrigin.UNKNOWN


def execution_error_class(origin: FailureOrigin) -> type[KitaruExecutionError]:
    """Return the exception class that represents a failure of ``origin``."""
    if origin is FailureOrigin.DIVERGENCE:
        return KitaruDivergenceError
    if origin is FailureOrigin.USER_CODE:
        return KitaruUserCodeError
    if origin is FailureOrigin.CANCELLED:
        return KitaruCancelledError
    if origin is FailureOrigin.TIMEOUT:
        return KitaruTimeoutError
    if origin is FailureOrigin.BUDGET:
        return KitaruBudgetExceededError
    return KitaruExecutionError


def build_recovery_command(exec_id: str, status: str) -> str | None:
    """Return the shell command that recovers an execution, if there is one."""
    if str(status) == "failed":
        return f"kitaru executions retry {exec_id}"
    return None

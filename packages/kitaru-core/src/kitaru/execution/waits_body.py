"""``kitaru.wait()`` in the flow body: its argument rules, its terminal lines, and halting.

A wait is recorded on the execution with a name, an optional question, the
JSON schema of the expected input and free-form metadata. The lifecycle
(SPEC §3.6):

1. The flow body calls ``kitaru.wait(...)``; the wait is recorded and the
   execution shows ``waiting``.
2. On an interactive local terminal the engine prompts inline and the body
   continues in the same process.
3. Otherwise this process polls the store every ``KITARU_WAIT_POLL_INTERVAL``
   seconds (default 5) for up to ``timeout`` seconds. Input given meanwhile
   (client, CLI, MCP, UI) continues the same process.
4. After the timeout the execution is *paused*: the body unwinds, the
   process is free to exit and the execution stays ``waiting``. Input can be
   given at any time; ``kitaru executions resume`` then re-runs the body,
   reuses every finished checkpoint and ``wait()`` returns the recorded input.
5. Aborting a wait stops the execution (public status ``cancelled``) and the
   body does not continue past the wait.

Pausing and aborting unwind the flow body with the engine's control-flow
signals, which subclass ``Exception``. So that a user's ``try/except
Exception`` around ``wait()`` cannot swallow them, Kitaru has the engine
record the execution paused *before* the signal is raised (a body that
returns anyway still ends ``waiting``, never ``completed``) and raise the same
signal again from the next checkpoint call or ``wait()`` of that body, so no
journaled work happens after an unanswered wait. :func:`is_flow_control`
tells them apart in broad ``except`` blocks.

Answering waits from any process lives with the client.
"""

from __future__ import annotations

import json
import math
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict
from kitaru.engine.runtime import NotInFlowBody, WaitsUnsupported
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruFeatureNotAvailableError,
    KitaruRuntimeError,
    KitaruUsageError,
    KitaruWaitValidationError,
)
from kitaru.execution.console import say
from kitaru.execution.runs import root_of
from kitaru.settings import KitaruSettings, seconds_or_none, settings
from kitaru.tracing import wait_span

DEFAULT_TIMEOUT = 600
"""Seconds a wait polls before pausing the execution, unless ``timeout=`` says otherwise."""

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between two checks for input, unless ``KITARU_WAIT_POLL_INTERVAL`` says otherwise."""

POLL_INTERVAL_ENV = KitaruSettings.variable("wait_poll_interval")


def poll_interval() -> float:
    """Seconds between two checks of the store while a wait is polled.

    ``KITARU_WAIT_POLL_INTERVAL`` overrides the default of 5 seconds (tests use
    a fraction of a second).

    Raises:
        KitaruUsageError: If the variable is not a positive number.
    """
    raw = settings().wait_poll_interval
    if not raw:
        return DEFAULT_POLL_INTERVAL
    value = seconds_or_none(raw)
    if value is None:
        raise KitaruUsageError(
            f"{POLL_INTERVAL_ENV} must be a positive number of seconds; got {raw!r}. "
            "Unset it to use the default of 5 seconds."
        )
    return value


def _seconds(value: float) -> str:
    return f"{value:g}s"


def validate_timeout(timeout: Any) -> float:
    """``wait(timeout=...)`` in seconds (the default when None).

    Raises:
        KitaruUsageError: Unless it is a finite number >= 0.
    """
    if timeout is None:
        return float(DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout < 0:
        raise KitaruUsageError(
            f"wait(timeout=...) must be a number of seconds >= 0; got {timeout!r}. It is how "
            "long this process keeps polling for input before pausing the execution."
        )
    return float(timeout)


def validate_name(name: Any) -> str | None:
    """``wait(name=...)``, stripped (None: an automatic name).

    Raises:
        KitaruUsageError: If it is not a non-empty string.
    """
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError(
            f"wait(name=...) must be a non-empty string; got {name!r}. Omit it to get "
            "an automatic name (wait_condition:0, wait_condition:1, ...)."
        )
    return name.strip()


def validate_question(question: Any) -> str | None:
    """``wait(question=...)``.

    Raises:
        KitaruUsageError: If it is not a string.
    """
    if question is None or isinstance(question, str):
        return question
    raise KitaruUsageError(f"wait(question=...) must be a string; got {type(question).__name__}.")


def validate_metadata(metadata: Any) -> dict[str, Any]:
    """``wait(metadata=...)`` as plain JSON values.

    Raises:
        KitaruUsageError: If it is not a dict of str keys to JSON values.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(key, str) for key in metadata):
        raise KitaruUsageError("wait(metadata=...) must be a dict with string keys.")
    try:
        return dict(json.loads(json.dumps(metadata)))
    except (TypeError, ValueError) as exc:
        raise KitaruUsageError(
            f"wait(metadata=...) must hold JSON values (str, numbers, bools, lists, dicts): {exc}"
        ) from None


def schema_of(schema: Any) -> dict[str, Any] | None:
    """Return the JSON schema of a ``wait(schema=...)`` type, or None for a gate.

    Raises:
        KitaruUsageError: If the type cannot be described as a JSON schema.
    """
    if schema is None:
        return None
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(schema).json_schema()
    except Exception as exc:
        raise KitaruUsageError(
            f"wait(schema={schema!r}) is not a type Kitaru can validate input against: {exc}. "
            "Use bool, str, int, float, a list/dict of those, or a pydantic model."
        ) from None


def is_flow_control(exc: BaseException) -> bool:
    """Whether ``exc`` is the signal that pauses or aborts a flow at a wait, or stops or interrupts it.

    Broad ``except Exception`` blocks in a flow body should re-raise it::

        try:
            answer = kitaru.wait(schema=bool)
        except Exception as exc:
            if is_flow_control(exc):
                raise
            ...
    """
    return get_engine().runtime.flow_control(exc) is not None


def running_execution(primitive: str) -> str:
    """The id of the execution whose flow body calls ``primitive`` (``kitaru.wait()``, ``kitaru.sleep()`` ...).

    A body that already swallowed a pause or an abort gets that signal
    again here, so nothing durable happens after an unanswered wait.

    Raises:
        KitaruRuntimeError: If no execution is running in this context.
    """
    runtime = get_engine().runtime
    run = runtime.current_run()
    if run is None:
        raise KitaruRuntimeError(
            f"{primitive} found no running execution in this context. Call it from the flow body of a flow "
            "started with my_flow.run(...)."
        )
    signal = runtime.halted()
    if signal is not None:
        raise signal
    return run.id


def _already_resolved(exec_id: str, name: str) -> bool:
    """Whether ``name`` was answered before (then ``wait()`` returns at once)."""
    try:
        waits = get_engine().runs.list_waits(exec_id)
    except Exception:  # only decides whether to print a line
        return False
    return any(wait.name == name and wait.status != "pending" for wait in waits)


def run_wait(
    *,
    schema: Any,
    name: str | None,
    question: str | None,
    timeout: int | float | None,
    metadata: dict[str, Any] | None,
) -> Any:
    """Wait for input inside the running flow body (``kitaru.wait``).

    Returns:
        The input validated as ``schema`` (a ``bool``, a model instance, ...),
        or None for a gate without schema.

    Raises:
        KitaruUsageError: If an argument is invalid.
        KitaruFeatureNotAvailableError: If the engine has no wait support.
        KitaruRuntimeError: If no execution is running in this context.
        KitaruContextError: If called from a checkpoint or a thread the body started.
        KitaruDivergenceError: If the wait was recorded with other arguments.
        KitaruWaitValidationError: If the recorded input no longer validates.
    """
    seconds = validate_timeout(timeout)
    name = validate_name(name)
    question = validate_question(question)
    recorded_metadata = validate_metadata(metadata)
    schema_of(schema)
    interval = poll_interval()

    exec_id = running_execution("kitaru.wait()")
    runtime = get_engine().runtime
    # Naming the wait here (with the engine's own counter) lets Kitaru print
    # it; the engine uses the same name, so resumes find the record.
    name = name or runtime.next_wait_name()
    if not _already_resolved(exec_id, name):
        say(f"Waiting on `{name}` (timeout={_seconds(seconds)}, poll={_seconds(interval)}).")
    try:
        with wait_span(name, question=question, timeout=seconds, outcome_of=runtime.flow_control):
            return runtime.wait(
                name=name,
                schema=schema,
                question=question,
                timeout=seconds,
                poll_interval=interval,
                metadata=recorded_metadata,
            )
    except WaitsUnsupported as exc:
        raise KitaruFeatureNotAvailableError(
            "kitaru.wait() needs an engine with durable wait support (ZenML >= 0.98 dynamic "
            f"pipelines); this installation has none ({exc}). Upgrade with "
            "`pip install -U kitaru`."
        ) from None
    except RecordConflict as exc:
        raise KitaruDivergenceError(
            f"Wait `{name}` of execution {exec_id} was recorded with a different schema, "
            f"question or type than this run of the flow body asks for ({exc}). Restore the "
            "original wait(...) arguments, or give the changed wait a new name=.",
            exec_id=exec_id,
            failure_origin=FailureOrigin.DIVERGENCE,
        ) from None
    except NotInFlowBody:
        raise KitaruContextError(
            "wait() must be called from the flow body itself, not from a checkpoint or a thread the body started."
        ) from None
    except ValueError as exc:
        # The recorded input no longer parses as ``schema`` (the type changed
        # between the answer and this resume, or a custom validator rejects it).
        raise KitaruWaitValidationError(
            f"The input recorded for wait `{name}` on execution {exec_id} does not validate "
            f"as {getattr(schema, '__name__', schema)!r}: {exc}. Keep the wait's schema "
            "unchanged between answering and resuming."
        ) from exc
    except BaseException as exc:
        kind = runtime.flow_control(exc)
        if kind == "paused":
            runtime.halt(exc, paused=True)
            command_value = "JSON" if schema is not None else "null"
            say(
                f"Pausing execution `{exec_id}`: waiting for input on `{name}`. Give it with "
                f"`kitaru executions input {exec_id} --value {command_value}`, then "
                f"`kitaru executions resume {_resumed_with(exec_id)}`."
            )
        elif kind == "aborted":
            runtime.halt(exc, paused=False)
            say(f"Wait `{name}` was aborted: execution `{exec_id}` is cancelled.")
        raise


def _resumed_with(exec_id: str) -> str:
    """The execution to resume to continue ``exec_id``: itself, or the top-level parent of a child flow."""
    try:
        return root_of(get_engine().runs.get_run(exec_id)).id
    except Exception:  # only a hint: never hide the pause
        return exec_id


__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_TIMEOUT",
    "POLL_INTERVAL_ENV",
    "is_flow_control",
    "poll_interval",
    "running_execution",
    "run_wait",
    "schema_of",
    "validate_metadata",
    "validate_name",
    "validate_question",
    "validate_timeout",
]

"""Durable waits: ``kitaru.wait()`` in a flow body, and answering waits from anywhere.

A wait is the engine's *wait condition* (``zenml.wait``): a record on the
execution with a name, an optional question, the JSON schema of the expected
input and free-form metadata. The lifecycle (SPEC §3.6):

1. The flow body calls ``kitaru.wait(...)``; the condition is recorded and the
   execution shows ``waiting``.
2. On an interactive local terminal the engine prompts inline (its prompt is
   neutral: "Waiting for input.", "Question: ...", "Press Ctrl+C to abort.")
   and the body continues in the same process.
3. Otherwise the runner polls the store every ``KITARU_WAIT_POLL_INTERVAL``
   seconds (default 5) for up to ``timeout`` seconds. Input given meanwhile
   (client, CLI, MCP, UI) continues the same process.
4. After the timeout the execution is *paused*: the body unwinds, the
   process is free to exit and the execution stays ``waiting``. Input can be
   given at any time; ``kitaru executions resume`` then re-runs the body,
   reuses every finished checkpoint and ``wait()`` returns the recorded input.
5. Aborting a wait stops the execution: the engine marks it stopped (public
   status ``cancelled``) and the body does not continue past the wait.

Pausing and aborting unwind the flow body with the engine's control-flow
exceptions, which subclass ``Exception``. So that a user's
``try/except Exception`` around ``wait()`` cannot swallow them, Kitaru marks
the runner paused *before* raising (a body that returns anyway still ends
``waiting``, never ``completed``) and raises the same signal again from the
next checkpoint call or ``wait()`` of that body, so no journaled work happens
after an unanswered wait. Use :func:`is_flow_control` to re-raise them
explicitly in broad ``except`` blocks.

This module is the flow-body side: :func:`run_wait` behind ``kitaru.wait()``,
its argument checks, and the guard that keeps a body from continuing past a
pause or an abort. Answering waits from any process (listing them, checking
input, continuing, aborting) lives in :mod:`kitaru._engine.waits_client`; its
names stay importable from here.
"""

from __future__ import annotations

import json
import math
import os
import weakref
from typing import Any

from kitaru._console import say
from kitaru._engine.bootstrap import load_engine
from kitaru._engine.waits_client import (
    _list_conditions,
    all_pending_waits,
    describe_execution,
    engine_status,
    pending_waits,
    resolve_wait,
    select_wait,
    to_pending_wait,
    validate_input,
)
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruFeatureNotAvailableError,
    KitaruRuntimeError,
    KitaruUsageError,
    KitaruWaitValidationError,
)

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_TIMEOUT",
    "POLL_INTERVAL_ENV",
    "all_pending_waits",
    "describe_execution",
    "engine_status",
    "is_flow_control",
    "pending_waits",
    "poll_interval",
    "resolve_wait",
    "run_wait",
    "schema_of",
    "select_wait",
    "to_pending_wait",
    "validate_input",
]

DEFAULT_TIMEOUT = 600
DEFAULT_POLL_INTERVAL = 5.0
POLL_INTERVAL_ENV = "KITARU_WAIT_POLL_INTERVAL"

# Runner -> the pause/abort signal its body already received (see module doc).
_halted: weakref.WeakKeyDictionary[Any, BaseException] = weakref.WeakKeyDictionary()


# -- in the flow body ---------------------------------------------------------------


def poll_interval() -> float:
    """Seconds between two checks of the store while a wait is polled.

    ``KITARU_WAIT_POLL_INTERVAL`` overrides the default of 5 seconds (tests use
    a fraction of a second).

    Raises:
        KitaruUsageError: If the variable is not a positive number.
    """
    raw = os.environ.get(POLL_INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_POLL_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0:
        raise KitaruUsageError(
            f"{POLL_INTERVAL_ENV} must be a positive number of seconds; got {raw!r}. "
            "Unset it to use the default of 5 seconds."
        )
    return value


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _validate_timeout(timeout: Any) -> float:
    if timeout is None:
        return float(DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout < 0:
        raise KitaruUsageError(
            f"wait(timeout=...) must be a number of seconds >= 0; got {timeout!r}. It is how "
            "long this process keeps polling for input before pausing the execution."
        )
    return float(timeout)


def _validate_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError(
            f"wait(name=...) must be a non-empty string; got {name!r}. Omit it to get "
            "an automatic name (wait_condition:0, wait_condition:1, ...)."
        )
    return name.strip()


def _validate_question(question: Any) -> str | None:
    if question is None or isinstance(question, str):
        return question
    raise KitaruUsageError(f"wait(question=...) must be a string; got {type(question).__name__}.")


def _validate_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(key, str) for key in metadata):
        raise KitaruUsageError("wait(metadata=...) must be a dict with string keys.")
    try:
        return json.loads(json.dumps(metadata))
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
    """Whether ``exc`` is the signal that pauses or aborts a flow at a wait.

    Broad ``except Exception`` blocks in a flow body should re-raise it::

        try:
            answer = kitaru.wait(schema=bool)
        except Exception as exc:
            if is_flow_control(exc):
                raise
            ...
    """
    from zenml.execution.pipeline.dynamic.runner import RunPaused, _WaitConditionAborted

    return isinstance(exc, (RunPaused, _WaitConditionAborted))


def _fresh(signal: BaseException) -> BaseException:
    try:
        return type(signal)(*signal.args)
    except Exception:
        return signal


def _halt(runner: Any, signal: BaseException, *, paused: bool) -> None:
    """Make sure the body cannot continue past a pause/abort it swallowed."""
    try:
        _halted[runner] = signal
    except TypeError:  # not weak-referenceable: the guard is best effort
        return
    if paused:
        mark = getattr(runner, "_mark_paused", None)
        if callable(mark):
            mark()

    def launch_step(*args: Any, **kwargs: Any) -> Any:
        raise _fresh(signal)

    # Checkpoint calls (sync, submit, map) all go through the runner's
    # launch_step, looked up on the instance at call time.
    runner.launch_step = launch_step


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
    """
    seconds = _validate_timeout(timeout)
    name = _validate_name(name)
    question = _validate_question(question)
    metadata = _validate_metadata(metadata)
    schema_of(schema)
    interval = poll_interval()

    load_engine()
    try:
        from zenml import wait as engine_wait
        from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext
        from zenml.execution.pipeline.dynamic.runner import RunPaused, _WaitConditionAborted
        from zenml.exceptions import EntityExistsError
    except ImportError as exc:
        raise KitaruFeatureNotAvailableError(
            "kitaru.wait() needs an engine with durable wait support (ZenML >= 0.98 dynamic "
            f"pipelines); this installation has none ({exc}). Upgrade with "
            "`pip install -U kitaru`."
        ) from None

    context = DynamicPipelineRunContext.get()
    if context is None:
        raise KitaruRuntimeError(
            "kitaru.wait() found no running execution in this context. Call it from the "
            "flow body of a flow started with my_flow.run(...)."
        )
    runner = context.runner
    signal = _halted.get(runner)
    if signal is not None:
        raise _fresh(signal)

    exec_id = str(context.run.id)
    # Naming the condition here (with the engine's own counter) lets Kitaru
    # print it; the engine uses the same name, so resumes find the record.
    name = name or context.next_wait_condition_name()
    if not _already_resolved(context.run.id, name):
        say(f"Waiting on `{name}` (timeout={_seconds(seconds)}, poll={_seconds(interval)}).")
    try:
        return engine_wait(
            schema=schema,
            timeout=seconds,  # type: ignore[arg-type]  (floats work; the hint says int)
            poll_interval=interval,  # type: ignore[arg-type]
            question=question,
            metadata=metadata,
            name=name,
        )
    except RunPaused as paused:
        _halt(runner, paused, paused=True)
        command_value = "JSON" if schema is not None else "null"
        say(
            f"Pausing execution `{exec_id}`: waiting for input on `{name}`. Give it with "
            f"`kitaru executions input {exec_id} --value {command_value}`, then "
            f"`kitaru executions resume {exec_id}`."
        )
        raise
    except _WaitConditionAborted as aborted:
        _halt(runner, aborted, paused=False)
        say(f"Wait `{name}` was aborted: execution `{exec_id}` is cancelled.")
        raise
    except EntityExistsError as exc:
        raise KitaruDivergenceError(
            f"Wait `{name}` of execution {exec_id} was recorded with a different schema, "
            f"question or type than this run of the flow body asks for ({exc}). Restore the "
            "original wait(...) arguments, or give the changed wait a new name=.",
            exec_id=exec_id,
            failure_origin=FailureOrigin.DIVERGENCE,
        ) from None
    except RuntimeError as exc:
        if "pipeline thread" in str(exc) or "inside a step" in str(exc):
            raise KitaruContextError(
                "wait() must be called from the flow body itself, not from a checkpoint or "
                "a thread the body started."
            ) from None
        raise
    except ValueError as exc:
        # The recorded input no longer parses as ``schema`` (the type changed
        # between the answer and this resume, or a custom validator rejects it).
        raise KitaruWaitValidationError(
            f"The input recorded for wait `{name}` on execution {exec_id} does not validate "
            f"as {getattr(schema, '__name__', schema)!r}: {exc}. Keep the wait's schema "
            "unchanged between answering and resuming."
        ) from exc


def _already_resolved(run_id: Any, name: str) -> bool:
    """Whether ``name`` was answered before (then ``wait()`` returns at once)."""
    try:
        conditions = _list_conditions(run_id)
    except Exception:  # only decides whether to print a line
        return False
    return any(c.name == name and str(c.status.value) != "pending" for c in conditions)

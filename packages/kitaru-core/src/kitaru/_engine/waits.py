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
"""

from __future__ import annotations

import json
import math
import os
import weakref
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from kitaru._console import say
from kitaru._engine.bootstrap import load_engine
from kitaru.client.models import PendingWait
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruFeatureNotAvailableError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
    KitaruWaitValidationError,
)

DEFAULT_TIMEOUT = 600
DEFAULT_POLL_INTERVAL = 5.0
POLL_INTERVAL_ENV = "KITARU_WAIT_POLL_INTERVAL"
_PAGE_SIZE = 100

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


def _list_conditions(run_id: UUID, *, status: str | None = None, hydrate: bool = False) -> list[Any]:
    from zenml.client import Client
    from zenml.utils.pagination_utils import depaginate

    return depaginate(
        Client().list_run_wait_conditions,
        pipeline_run=run_id,
        status=status,
        sort_by="asc:created",
        size=_PAGE_SIZE,
        hydrate=hydrate,
    )


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


# -- from any process -------------------------------------------------------------------


def _run_id(exec_id: str) -> UUID:
    try:
        return UUID(str(exec_id).strip())
    except ValueError:
        raise KitaruUsageError(
            f"Invalid execution id {exec_id!r}: expected a UUID such as the one "
            "`kitaru executions list` shows."
        ) from None


def _check_execution(run_id: UUID, exec_id: str) -> Any:
    from zenml.client import Client

    try:
        return Client().zen_store.get_run(run_id, hydrate=False)
    except KeyError:
        raise KitaruStateError(
            f"Execution '{exec_id}' does not exist. List executions with `kitaru executions list`."
        ) from None
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load execution '{exec_id}': {exc}") from exc


def _pending_conditions(exec_id: str) -> list[Any]:
    run_id = _run_id(exec_id)
    load_engine()
    _check_execution(run_id, exec_id)
    try:
        return _list_conditions(run_id, status="pending", hydrate=True)
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load the waits of execution '{exec_id}': {exc}") from exc


def to_pending_wait(condition: Any) -> PendingWait:
    """Build Kitaru's :class:`PendingWait` from an engine wait condition."""
    return PendingWait(
        wait_id=str(condition.id),
        name=condition.name,
        question=condition.question,
        schema=condition.data_schema,
        metadata=dict(condition.run_metadata or {}),
        entered_waiting_at=_utc(condition.created),
    )


def _utc(value: datetime | None) -> datetime | None:
    """Engine timestamps are naive UTC; Kitaru's models carry the timezone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def pending_waits(exec_id: str) -> list[PendingWait]:
    """Return the waits of an execution that are waiting for input, oldest first.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If the execution does not exist.
        KitaruBackendError: If the store cannot be read.
    """
    return [to_pending_wait(condition) for condition in _pending_conditions(exec_id)]


def all_pending_waits() -> list[tuple[str, list[PendingWait]]]:
    """Every execution that waits for input, with its pending waits (oldest first).

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    load_engine()
    from zenml.client import Client

    client = Client()
    grouped: dict[str, list[PendingWait]] = {}
    try:
        page = 1
        while True:
            result = client.list_run_wait_conditions(
                status="pending", sort_by="asc:created", page=page, size=_PAGE_SIZE, hydrate=True
            )
            for condition in result.items:
                grouped.setdefault(str(condition.run.id), []).append(to_pending_wait(condition))
            if page >= result.total_pages:
                break
            page += 1
    except Exception as exc:
        raise KitaruBackendError(f"Failed to list pending waits: {exc}") from exc
    return list(grouped.items())


def describe_execution(exec_id: str) -> tuple[str | None, str | None]:
    """The flow name and public status of an execution (None where unreadable)."""
    from zenml.client import Client

    from kitaru.client.status import public_status

    try:
        run = Client().zen_store.get_run(_run_id(exec_id), hydrate=True)
    except Exception:
        return None, None
    flow = (run.run_metadata or {}).get("kitaru_flow") or (run.pipeline.name if run.pipeline else None)
    try:
        status = str(public_status(run.status.value, has_active_wait=run.active_wait_condition is not None))
    except KitaruRuntimeError:
        status = str(run.status.value)
    return flow, status


def select_wait(exec_id: str, conditions: list[Any], selector: str) -> Any:
    """Pick the pending condition named ``selector`` (exact) or with that wait id.

    Raises:
        KitaruStateError: If nothing is pending, the name is ambiguous, or
            nothing matches.
    """
    if not conditions:
        raise KitaruStateError(f"Execution '{exec_id}' has no pending waits to resolve.")
    selector = selector.strip()
    by_name = [condition for condition in conditions if condition.name == selector]
    if len(by_name) > 1:
        ids = ", ".join(str(condition.id) for condition in by_name)
        raise KitaruStateError(
            f"Execution '{exec_id}' has several pending waits named '{selector}'. Select one "
            f"by wait id instead: {ids}."
        )
    if by_name:
        return by_name[0]
    by_id = [condition for condition in conditions if str(condition.id) == selector.lower()]
    if by_id:
        return by_id[0]
    available = ", ".join(condition.name for condition in conditions)
    raise KitaruStateError(
        f"Execution '{exec_id}' has no pending wait '{selector}'. Available waits: {available}."
    )


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    try:
        return json.loads(json.dumps(to_jsonable_python(value)))
    except Exception as exc:
        raise KitaruUsageError(
            f"Wait input must be JSON-serialisable; got {type(value).__name__}: {exc}"
        ) from None


def _show(value: Any) -> str:
    return json.dumps(value, default=str)


def _validation_error(exec_id: str, name: str, value: Any, schema: Any, reason: str) -> KitaruWaitValidationError:
    expected = _show(schema) if schema is not None else "no value (null): the wait is a continue/abort gate"
    return KitaruWaitValidationError(
        f"Invalid input for wait `{name}` on execution {exec_id}: value {_show(value)} {reason}. "
        f"Expected JSON schema: {expected}. The execution is still waiting; give a value "
        "that matches, or abort the wait."
    )


def validate_input(exec_id: str, name: str, value: Any, schema: dict[str, Any] | None) -> None:
    """Check ``value`` against a wait's JSON schema before sending it.

    Raises:
        KitaruWaitValidationError: Naming the wait, the value and the schema.
    """
    if schema is None:
        if value is not None:
            raise _validation_error(exec_id, name, value, None, "was given, but this wait takes no value")
        return
    try:
        import jsonschema
    except ImportError:  # the store validates too
        return
    try:
        jsonschema.validate(instance=value, schema=schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path)
        raise _validation_error(
            exec_id, name, value, schema, f"does not match ({exc.message}{f' at {where}' if where else ''})"
        ) from None
    except jsonschema.SchemaError:
        return


def resolve_wait(exec_id: str, selector: str, *, value: Any = None, abort: bool = False) -> PendingWait:
    """Answer (or abort) a pending wait of an execution.

    Continuing a wait whose runner is still polling lets that same process
    carry on. Continuing a *paused* execution records the input; run
    ``kitaru executions resume`` afterwards. Aborting stops the execution:
    the engine marks it stopped (public status ``cancelled``) and the flow
    does not continue past the wait.

    Args:
        exec_id: The execution id.
        selector: The wait's exact name or its wait id.
        value: The input (JSON-able; ignored when aborting).
        abort: Abort instead of continuing.

    Returns:
        The wait that was resolved (as it was while pending).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID or the value is not JSON.
        KitaruStateError: If no such wait is pending.
        KitaruWaitValidationError: If the value does not match the wait's
            schema; the execution stays waiting.
        KitaruBackendError: If the store fails.
    """
    from zenml.enums import RunWaitConditionResolution
    from zenml.exceptions import IllegalOperationError

    conditions = _pending_conditions(exec_id)
    condition = select_wait(exec_id, conditions, selector)
    name = condition.name
    result = None
    if not abort:
        result = _jsonable(value)
        validate_input(exec_id, name, result, condition.data_schema)
    from zenml.client import Client

    try:
        Client().resolve_run_wait_condition(
            condition.id,
            resolution=RunWaitConditionResolution.ABORT if abort else RunWaitConditionResolution.CONTINUE,
            result=result,
        )
    except IllegalOperationError as exc:
        if "already been resolved" in str(exc):
            raise KitaruStateError(
                f"Wait `{name}` on execution {exec_id} was already resolved by someone else. "
                f"Check it with `kitaru executions get {exec_id}`."
            ) from None
        if "do not accept a result" in str(exc):
            raise _validation_error(exec_id, name, result, None, "was given, but this wait takes no value") from None
        raise KitaruBackendError(f"Failed to resolve wait `{name}` on execution {exec_id}: {exc}") from exc
    except KeyError:
        raise KitaruStateError(
            f"Wait `{name}` on execution {exec_id} disappeared while resolving it. Check the "
            f"execution with `kitaru executions get {exec_id}`."
        ) from None
    except ValueError as exc:
        if "does not match expected schema" in str(exc):
            raise _validation_error(exec_id, name, result, condition.data_schema, "does not match") from None
        raise KitaruBackendError(f"Failed to resolve wait `{name}` on execution {exec_id}: {exc}") from exc
    except Exception as exc:
        raise KitaruBackendError(f"Failed to resolve wait `{name}` on execution {exec_id}: {exc}") from exc
    return to_pending_wait(condition)


def engine_status(exec_id: str) -> str | None:
    """The engine status of an execution (``paused``, ``running`` ...), None if unreadable."""
    from zenml.client import Client

    try:
        run = Client().zen_store.get_run(_run_id(exec_id), hydrate=False)
    except Exception:
        return None
    return str(run.status.value)

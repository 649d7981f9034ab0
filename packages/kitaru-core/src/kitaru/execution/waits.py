"""Answering durable waits from any process: find the wait, check the input, continue or abort.

``kitaru.wait()`` records a wait on its execution; while the flow body polls,
or after the execution paused, anyone may answer it (the client, the CLI,
MCP). The rules, in one place:

* :func:`pending_wait_records` loads the execution with the one run loader
  (:func:`kitaru.execution.runs.load_run`: same id and not-found messages as
  every reader) and lists its waits that wait for input, oldest first;
* :func:`select_wait` picks a wait by exact name, or by wait id when the
  name is ambiguous or unknown;
* :func:`validate_input` checks a value against the wait's JSON schema before
  anything is sent, so a bad value leaves the execution waiting;
* :func:`resolve_wait` continues or aborts the selected wait and words every
  refusal of the engine;
* :func:`execution_state` reads what happened next (paused, still polling,
  died).

The engine is reached through :mod:`kitaru.engine.waits` and
:mod:`kitaru.engine.runs`; :mod:`kitaru.client.waits` turns the records into
:class:`~kitaru.client.models.PendingWait`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict, RecordNotFound
from kitaru.engine.runs import WaitRecord
from kitaru.engine.waits import WaitInputRejected
from kitaru.errors import (
    KitaruBackendError,
    KitaruError,
    KitaruStateError,
    KitaruUsageError,
    KitaruWaitValidationError,
)
from kitaru.execution.events import receive_wait_topic
from kitaru.execution.ids import parse_execution_id
from kitaru.execution.runs import load_run
from kitaru.jsonable import dumps

PENDING = "pending"
"""The engine status of a wait that waits for input."""

GATE_EXPECTATION = "no value (null): the wait is a continue/abort gate"
NO_VALUE_ACCEPTED = "was given, but this wait takes no value"


def pending_wait_records(exec_id: str) -> list[WaitRecord]:
    """The waits of an execution that are waiting for input, oldest first.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If the execution does not exist.
        KitaruBackendError: If the store cannot be read.
    """
    run = load_run(exec_id)
    try:
        return get_engine().runs.list_waits(run.id, status=PENDING)
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load the waits of execution '{exec_id}': {exc}") from exc


def all_pending_wait_records() -> list[tuple[str, list[WaitRecord]]]:
    """Every execution that waits for input, with its pending waits (oldest first).

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    try:
        records = get_engine().waits.list_pending()
    except Exception as exc:
        raise KitaruBackendError(f"Failed to list pending waits: {exc}") from exc
    grouped: dict[str, list[WaitRecord]] = {}
    for record in records:
        grouped.setdefault(str(record.run_id), []).append(record)
    return list(grouped.items())


def select_wait(exec_id: str, waits: Sequence[Any], selector: str) -> Any:
    """Pick the pending wait named ``selector`` (exact) or with that wait id.

    Args:
        exec_id: The execution, for messages.
        waits: Its pending waits (anything with ``name`` and ``id``, such as
            :class:`~kitaru.engine.runs.WaitRecord`).
        selector: A wait name or wait id.

    Raises:
        KitaruStateError: If nothing is pending, the name is ambiguous, or
            nothing matches.
    """
    if not waits:
        raise KitaruStateError(f"Execution '{exec_id}' has no pending waits to resolve.")
    selector = selector.strip()
    by_name = [wait for wait in waits if wait.name == selector]
    if len(by_name) > 1:
        ids = ", ".join(str(wait.id) for wait in by_name)
        raise KitaruStateError(
            f"Execution '{exec_id}' has several pending waits named '{selector}'. Select one "
            f"by wait id instead: {ids}."
        )
    if by_name:
        return by_name[0]
    by_id = [wait for wait in waits if str(wait.id) == selector.lower()]
    if by_id:
        return by_id[0]
    available = ", ".join(wait.name for wait in waits)
    raise KitaruStateError(f"Execution '{exec_id}' has no pending wait '{selector}'. Available waits: {available}.")


def json_value(value: Any) -> Any:
    """Return ``value`` as plain JSON data (what the engine stores as the wait's answer).

    Raises:
        KitaruUsageError: If it cannot be represented as JSON.
    """
    try:
        return json.loads(json.dumps(to_jsonable_python(value)))
    except Exception as exc:
        raise KitaruUsageError(f"Wait input must be JSON-serialisable; got {type(value).__name__}: {exc}") from None


def _show(value: Any) -> str:
    return dumps(value)


def validation_error(exec_id: str, name: str, value: Any, schema: Any, reason: str) -> KitaruWaitValidationError:
    """The error for an input that does not fit a wait; it says the execution is still waiting."""
    expected = _show(schema) if schema is not None else GATE_EXPECTATION
    return KitaruWaitValidationError(
        f"Invalid input for wait `{name}` on execution {exec_id}: value {_show(value)} {reason}. "
        f"Expected JSON schema: {expected}. The execution is still waiting; give a value "
        "that matches, or abort the wait."
    )


def validate_input(exec_id: str, name: str, value: Any, schema: dict[str, Any] | None) -> None:
    """Check ``value`` against a wait's JSON schema before sending it.

    Without the optional ``jsonschema`` package only gates are checked here;
    the engine validates the value against the schema too.

    Raises:
        KitaruWaitValidationError: Naming the wait, the value and the schema.
    """
    if schema is None:
        if value is not None:
            raise validation_error(exec_id, name, value, None, NO_VALUE_ACCEPTED)
        return
    try:
        import jsonschema  # optional
    except ImportError:  # the store validates too
        return
    try:
        jsonschema.validate(instance=value, schema=schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path)
        raise validation_error(
            exec_id, name, value, schema, f"does not match ({exc.message}{f' at {where}' if where else ''})"
        ) from None
    except jsonschema.SchemaError:
        return


def resolve_wait(exec_id: str, selector: str, *, value: Any = None, abort: bool = False) -> WaitRecord:
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
        KitaruStateError: If no such wait is pending, or it is a
            ``kitaru.receive()``'s wait (answered by sending an event:
            ``kitaru executions send``; aborting it is allowed).
        KitaruWaitValidationError: If the value does not match the wait's
            schema; the execution stays waiting.
        KitaruBackendError: If the store fails.
    """
    wait = select_wait(exec_id, pending_wait_records(exec_id), selector)
    name = wait.name
    result = None
    topic = receive_wait_topic(name)
    if topic is not None and not abort:
        raise KitaruStateError(
            f"Wait `{name}` on execution {exec_id} is a kitaru.receive() waiting for an event on topic "
            f"`{topic}`; it takes no input (a value given here would be lost). Send the event instead: "
            f"`kitaru executions send {exec_id} {topic} --value JSON`."
        )
    if not abort:
        result = json_value(value)
        validate_input(exec_id, name, result, wait.schema)
    answers = get_engine().waits
    try:
        if abort:
            answers.abort(wait.id)
        else:
            answers.resolve(wait.id, result)
    except RecordConflict:
        raise KitaruStateError(
            f"Wait `{name}` on execution {exec_id} was already resolved by someone else. "
            f"Check it with `kitaru executions get {exec_id}`."
        ) from None
    except WaitInputRejected as exc:
        if not exc.takes_value:
            raise validation_error(exec_id, name, result, None, NO_VALUE_ACCEPTED) from None
        raise validation_error(exec_id, name, result, wait.schema, "does not match") from None
    except RecordNotFound:
        raise KitaruStateError(
            f"Wait `{name}` on execution {exec_id} disappeared while resolving it. Check the "
            f"execution with `kitaru executions get {exec_id}`."
        ) from None
    except Exception as exc:
        raise KitaruBackendError(f"Failed to resolve wait `{name}` on execution {exec_id}: {exc}") from exc
    return wait


def execution_state(exec_id: str) -> tuple[str | None, str | None]:
    """The engine status and status reason of an execution, after a wait of it was answered.

    The execution is loaded with the one run loader, so one whose process died
    is marked failed first. Where it cannot be loaded, the status is read
    without details (None when even that fails) and the reason is None.
    """
    try:
        run = load_run(exec_id)
        return run.status, run.status_reason
    except KitaruError:
        pass
    try:
        return get_engine().runs.get_run(parse_execution_id(exec_id), details=False).status, None
    except Exception:
        return None, None


__all__ = [
    "GATE_EXPECTATION",
    "NO_VALUE_ACCEPTED",
    "PENDING",
    "all_pending_wait_records",
    "execution_state",
    "json_value",
    "pending_wait_records",
    "resolve_wait",
    "select_wait",
    "validate_input",
    "validation_error",
]

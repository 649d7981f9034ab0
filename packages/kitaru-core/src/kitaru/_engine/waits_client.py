"""Answer durable waits from any process: list them, check the input, continue or abort.

The other half of :mod:`kitaru._engine.waits`, which holds ``kitaru.wait()``
in the flow body and describes a wait's lifecycle. Everything here works
through the store alone, from the client, the CLI or MCP, while the flow body
polls or after it paused:

* :func:`pending_waits` and :func:`all_pending_waits` list the waits that wait
  for input, oldest first, as :class:`~kitaru.client.models.PendingWait`;
* :func:`resolve_wait` picks a wait by exact name or wait id
  (:func:`select_wait`), checks the value against the wait's JSON schema
  before sending it (:func:`validate_input`), then continues or aborts it;
* :func:`describe_execution` and :func:`engine_status` read what the CLI
  shows next to a wait.

The flow body uses :func:`_list_conditions` too, to tell whether a wait was
answered before.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine
from kitaru._engine.journal_mapping import to_pending_wait
from kitaru.client.models import PendingWait
from kitaru.errors import (
    KitaruBackendError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
    KitaruWaitValidationError,
)

_PAGE_SIZE = 100


# -- from any process -------------------------------------------------------------------


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

"""Retry, resume and cancel executions; recover executions whose process died.

Retry and resume continue an execution *in place* (same execution id): the
engine re-runs the flow body, the journal hands back every checkpoint output
that already succeeded, and only what failed or never ran executes (see
:mod:`kitaru._engine.continuation`). On the local default the continuation
runs in the calling process and this call returns when it ends.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from kitaru._console import format_duration, say
from kitaru._engine import runs
from kitaru.execution import ownership
from kitaru._engine.bootstrap import load_engine
from kitaru.client.status import ExecutionStatus, public_status
from kitaru.errors import KitaruBackendError, KitaruStateError, KitaruUsageError

CRASH_MARKER = "execution process died"
"""Part of every crash reason; :func:`kitaru.errors.classify_failure_origin` maps it to ``runtime``."""

CANCEL_WAIT_SECONDS = 60.0


def _uuid(exec_id: str) -> UUID:
    try:
        return UUID(exec_id)
    except ValueError:
        raise KitaruUsageError(
            f"Invalid execution id {exec_id!r}: expected a UUID as shown by `kitaru executions list`."
        ) from None


def load_run(exec_id: str, *, hydrate: bool = True) -> Any:
    """Fetch an engine run, after marking it failed if its process died.

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    load_engine()
    from zenml.client import Client

    run_id = _uuid(exec_id)
    try:
        run = Client().zen_store.get_run(run_id, hydrate=hydrate)
    except KeyError:
        raise KitaruStateError(
            f"Execution '{exec_id}' was not found. List executions with `kitaru executions list`."
        ) from None
    except Exception as exc:
        raise KitaruBackendError(f"Failed to load execution '{exec_id}': {exc}") from exc
    if reconcile_crashed(run):
        run = Client().zen_store.get_run(run_id, hydrate=hydrate)
    return run


def reconcile_crashed(run: Any) -> bool:
    """Mark a running execution failed if the process running it has died.

    Returns:
        Whether the execution was marked failed.
    """
    from zenml.enums import ExecutionStatus as EngineStatus

    if run.status not in (EngineStatus.RUNNING, EngineStatus.RESUMING, EngineStatus.INITIALIZING):
        return False
    dead, why = ownership.owner_is_dead(str(run.id), dict(run.run_metadata or {}))
    if not dead:
        return False
    from zenml.client import Client

    if Client().zen_store.get_run(run.id, hydrate=False).status.is_finished:
        return False  # it finished between our two reads
    try:
        mark_failed(run, f"Kitaru: {CRASH_MARKER}: {why}. Retry it with: kitaru executions retry {run.id}")
    except Exception:  # lost a race with the owner publishing its outcome
        return Client().zen_store.get_run(run.id, hydrate=False).status.is_failed
    return True


def mark_failed(run: Any, reason: str) -> None:
    """Fail a run and its unfinished checkpoint attempts with ``reason``."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus as EngineStatus
    from zenml.models import PipelineRunUpdate, StepRunUpdate
    from zenml.models.v2.misc.exception_info import ExceptionInfo
    from zenml.utils.time_utils import utc_now

    client = Client()
    info = ExceptionInfo(traceback=reason, message=reason)
    for step_run in client.list_run_steps(pipeline_run_id=run.id, size=1000).items:
        if not step_run.status.is_finished and step_run.status != EngineStatus.RETRYING:
            client.zen_store.update_run_step(
                step_run.id, StepRunUpdate(status=EngineStatus.FAILED, end_time=utc_now(), exception_info=info)
            )
    client.zen_store.update_run(
        run.id, PipelineRunUpdate(status=EngineStatus.FAILED, status_reason=reason, exception_info=info)
    )


def _public(run: Any) -> ExecutionStatus:
    return public_status(run.status.value, has_active_wait=run.active_wait_condition is not None)


def _make_flow_importable(run: Any) -> None:
    """Let this process import the flow's module, wherever the user ran it from."""
    from kitaru._engine.sources import use_source_root

    root = (run.run_metadata or {}).get(runs.SOURCE_ROOT_KEY)
    if isinstance(root, str) and root:
        use_source_root(root)


def _continue(run: Any, *, reason: str, verb: str) -> None:
    """Set the run to resuming and let its orchestrator re-run the flow body."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus as EngineStatus
    from zenml.models import PipelineRunUpdate
    from zenml.stack import Stack

    if run.snapshot is None or run.snapshot.stack is None:
        raise KitaruStateError(
            f"Execution {run.id} cannot continue: its snapshot or stack was deleted."
        )
    _make_flow_importable(run)
    previous = run.status
    client = Client()
    try:
        run = client.zen_store.update_run(
            run.id, PipelineRunUpdate(status=EngineStatus.RESUMING, status_reason=reason)
        )
    except Exception as exc:
        raise KitaruStateError(
            f"Execution {run.id} cannot continue: {exc}. Another process may be continuing it already."
        ) from exc

    say(f"{verb} execution `{run.id}`.")
    started = time.perf_counter()
    stack = Stack.from_model(run.snapshot.stack)
    try:
        try:
            stack.orchestrator.resume_run(snapshot=run.snapshot, run=run, stack=stack)
        finally:
            ownership.release_run_lock(str(run.id))
    except (Exception, KeyboardInterrupt) as exc:  # the outcome is recorded on the execution
        refreshed = client.zen_store.get_run(run.id, hydrate=False)
        if refreshed.status == EngineStatus.RESUMING:  # failed before the body started
            client.zen_store.update_run(
                run.id, PipelineRunUpdate(status=previous, status_reason=f"Could not continue: {exc}")
            )
            raise KitaruStateError(f"Execution {run.id} could not continue: {exc}") from exc
        if isinstance(exc, KeyboardInterrupt) and refreshed.status not in (EngineStatus.STOPPING, EngineStatus.STOPPED):
            raise
    final = client.zen_store.get_run(run.id, hydrate=True)
    say(f"Execution {run.id} {_public(final)} in {format_duration(time.perf_counter() - started)}.")


def retry_execution(exec_id: str) -> None:
    """Re-run a failed execution in place, skipping checkpoints that succeeded.

    Raises:
        KitaruStateError: If the execution is not failed.
    """
    run = load_run(exec_id)
    status = _public(run)
    if status is not ExecutionStatus.FAILED:
        raise KitaruStateError(
            f"Only failed executions can be retried. Execution {exec_id} is {status}."
            + (" Resume it with `kitaru executions resume` once its wait is answered." if status is ExecutionStatus.WAITING else "")
        )
    _continue(run, reason="Retry requested.", verb="Retrying")


def resume_execution(exec_id: str) -> None:
    """Continue a paused execution whose waits have been answered.

    Raises:
        KitaruStateError: If a wait is still pending or the execution is not paused.
    """
    from zenml.enums import ExecutionStatus as EngineStatus

    run = load_run(exec_id)
    if run.active_wait_condition is not None:
        name = run.active_wait_condition.name
        raise KitaruStateError(
            f"Resolve pending wait input before resuming execution {exec_id}: it is waiting on "
            f"`{name}`. Answer it with `kitaru executions input {exec_id} --value JSON`."
        )
    if run.status != EngineStatus.PAUSED:
        raise KitaruStateError(
            f"Only paused executions can be resumed. Execution {exec_id} is {_public(run)}."
            + (f" Retry it with `kitaru executions retry {exec_id}`." if run.status == EngineStatus.FAILED else "")
        )
    _continue(run, reason="Resume requested.", verb="Resuming")


def cancel_execution(exec_id: str) -> None:
    """Stop an execution: a running one at its next checkpoint boundary or sooner.

    Raises:
        KitaruStateError: If the execution already finished, or does not stop
            within a minute.
    """
    from zenml.client import Client
    from zenml.enums import ExecutionStatus as EngineStatus
    from zenml.enums import RunWaitConditionResolution
    from zenml.models import PipelineRunUpdate

    client = Client()
    run = load_run(exec_id)
    if run.status.is_finished:
        raise KitaruStateError(
            f"Execution {exec_id} already finished with status {_public(run)}; there is nothing to cancel."
        )
    if run.status == EngineStatus.PAUSED or run.active_wait_condition is not None:
        if run.active_wait_condition is not None:
            client.resolve_run_wait_condition(
                run.active_wait_condition.id, resolution=RunWaitConditionResolution.ABORT
            )
        run = client.zen_store.get_run(run.id, hydrate=False)
        if not run.status.is_finished:
            client.zen_store.update_run(
                run.id, PipelineRunUpdate(status=EngineStatus.STOPPED, status_reason="Cancelled by user.")
            )
        return
    client.zen_store.update_run(
        run.id, PipelineRunUpdate(status=EngineStatus.STOPPING, status_reason="Cancelled by user.")
    )
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = client.zen_store.get_run(run.id, hydrate=True)
        if current.status.is_finished:
            return
        dead, _ = ownership.owner_is_dead(exec_id, dict(current.run_metadata or {}))
        if dead or ownership.OWNER_KEY not in (current.run_metadata or {}):
            client.zen_store.update_run(
                run.id, PipelineRunUpdate(status=EngineStatus.STOPPED, status_reason="Cancelled by user.")
            )
            return
        time.sleep(0.5)
    raise KitaruStateError(
        f"Execution {exec_id} was asked to stop but is still running after "
        f"{int(CANCEL_WAIT_SECONDS)}s; it stops at its next checkpoint boundary."
    )

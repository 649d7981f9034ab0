"""Child flows: a flow called in another flow's body runs as a child execution, journaled in its parent.

In a flow body, ``summarize(text)`` (or ``summarize.run(text).wait()``) runs
``summarize`` as an execution of its own, linked to the calling one: the
child records its parent, the parent lists its children, and the child runs
on the parent's stack, in the parent's process, before the call returns::

    @kitaru.flow
    def report(topics: list[str]) -> list[str]:
        return [summarize(topic) for topic in topics]   # one child execution per topic

The call is journaled in the parent like a checkpoint call: a synthetic
checkpoint of type :data:`FLOW_CALL_TYPE` (``flow_call``), named after the
child flow (``summarize``, ``summarize_2`` ...), whose inputs are the flow's
name, the child's execution id and the child's inputs, and whose output is
the child's result. So the journal's rules hold for it as for any call:

* when the parent continues (retry, resume) or is replayed, a call the
  journal recorded as completed hands back the recorded result without
  running the child again; a call made with other inputs, or in another
  order, is a divergence (:class:`~kitaru.errors.KitaruDivergenceError`);
* a child that did not complete (failed, cancelled, its process killed) is
  followed by a *new* child execution when its parent is retried: the engine
  never runs a finished execution again, and continues a child only through
  its parent. The failed child stays listed among the parent's children, and
  the call's synthetic checkpoint gets one attempt per child; with the cache
  on (the default), the new child's checkpoints that succeeded in the failed
  one are served from the cache instead of running again;
* a child that paused at a ``kitaru.wait()`` pauses its parent; answer the
  child's wait, then resume the parent: the same child continues.

A child's result is the child's own recorded result (SPEC §2.1), read inside
the synthetic checkpoint; when the child did not complete, that checkpoint
fails with :func:`child_failure`, which names the child and says that
retrying the parent runs it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord
from kitaru.errors import (
    KitaruContextError,
    KitaruExecutionError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
    execution_error_class,
)
from kitaru.execution.checkpoint_calls import CallableCheckpoint, check_journal, next_invocation_id, to_engine_input
from kitaru.execution.console import say
from kitaru.execution.definitions import FlowBase
from kitaru.execution.failures import build_failure
from kitaru.execution.keys import CHILD_CALL_KEY, FLOW_KEY, RESULT_KEY
from kitaru.execution.outputs import remember_output
from kitaru.execution.results import decode_result
from kitaru.execution.runs import load_run
from kitaru.execution.scope import FlowScope, current_checkpoint, current_flow
from kitaru.execution.status import ExecutionStatus, public_status
from kitaru.execution.submit import bind_parameters, current_submission, finish, start

FLOW_CALL_TYPE = "flow_call"
"""The checkpoint type of the synthetic checkpoint that journals a child flow call."""

INSIDE_CHECKPOINT_MESSAGE = (
    "A flow cannot be called inside a @checkpoint. Call it in the flow body, where it runs as a "
    "child execution: result = my_flow(...)."
)

CHILD_OPTIONS_MESSAGE = (
    "A child flow runs on its parent's stack and image: drop stack= and image= from `{name}.run(...)` "
    "in a flow body (cache= and retries= apply to the child)."
)


@dataclass(frozen=True)
class ChildOutcome:
    """How a child flow call ended.

    Attributes:
        exec_id: The child execution's id.
        completed: Whether it completed (``value`` is its result).
        value: Its result, when it completed.
    """

    exec_id: str
    completed: bool
    value: Any = None


def calling_flow() -> FlowScope | None:
    """The flow body a flow is being called from, or None outside any flow.

    Raises:
        KitaruContextError: Inside a checkpoint (a flow body starts child flows, a checkpoint cannot).
    """
    if current_checkpoint() is not None:
        raise KitaruContextError(INSIDE_CHECKPOINT_MESSAGE)
    return current_flow()


def call_child_flow(
    flow: FlowBase,
    scope: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    options: Mapping[str, Any],
    recorder: CallableCheckpoint,
) -> ChildOutcome:
    """Run ``flow`` as a child execution of the body of ``scope`` and journal the call.

    Args:
        flow: The child flow.
        scope: The calling flow body.
        args: Positional inputs of the child.
        kwargs: Keyword inputs of the child.
        options: ``stack``/``image``/``cache``/``retries`` of the call (only
            ``cache`` and ``retries`` may be set).
        recorder: The synthetic ``flow_call`` checkpoint that journals the call.

    Returns:
        The child's id, whether it completed, and its result.

    Raises:
        KitaruUsageError: For inputs that do not fit the flow, or ``stack=``/``image=``.
        KitaruDivergenceError: If the call differs from the parent's journal.
        KitaruStateError: If another live process is running the child.
        KitaruRuntimeError: If the child could not start.
    """
    if options.get("stack") is not None or options.get("image") is not None:
        raise KitaruUsageError(CHILD_OPTIONS_MESSAGE.format(name=flow.name))
    params = bind_parameters(flow, args, kwargs)
    runtime = get_engine().runtime
    signal = runtime.halted()
    if signal is not None:
        raise signal  # the body swallowed a pause or an abort: nothing more may start
    invocation_id = next_invocation_id(scope, flow.name, None)
    call = ((), {"flow": flow.name, "inputs": params})
    journaled = check_journal(runtime, recorder, scope, invocation_id, call, call)
    index = scope.next_call_index()
    if journaled:
        exec_id = str(scope.journal.by_id[invocation_id].parameters.get("exec_id"))
        value = _record(recorder, scope, flow.name, exec_id, params, invocation_id=invocation_id, index=index)
        say(f"Child flow `{invocation_id}` (execution {exec_id}) reused from {scope.journal.reused_from}.")
        return ChildOutcome(exec_id, completed=True, value=value)
    exec_id = _run_child(flow, scope, params, invocation_id, options)
    try:
        value = _record(recorder, scope, flow.name, exec_id, params, invocation_id=invocation_id, index=index)
    except Exception as exc:
        if runtime.flow_control(exc) is not None:
            raise  # a pause or abort unwinding the body
        return ChildOutcome(exec_id, completed=False)
    return ChildOutcome(exec_id, completed=True, value=value)


def _record(
    recorder: CallableCheckpoint,
    scope: FlowScope,
    flow_name: str,
    exec_id: str,
    params: Mapping[str, Any],
    *,
    invocation_id: str,
    index: int,
) -> Any:
    """Journal the call as the synthetic checkpoint and return its output (the child's result)."""
    runtime = get_engine().runtime
    inputs = {"flow": flow_name, "exec_id": exec_id, "inputs": to_engine_input(runtime, scope, dict(params))}
    handle = runtime.call(recorder.engine_checkpoint(), (), inputs, id=invocation_id, after=None, index=index)
    return remember_output(scope, handle)


def _run_child(
    flow: FlowBase, scope: FlowScope, params: Mapping[str, Any], invocation_id: str, options: Mapping[str, Any]
) -> str:
    """Run the child of this call (or continue the paused one it started before) and return its id."""
    runtime = get_engine().runtime
    parent_id = str(scope.execution_id)
    earlier = _current_state(latest_child(parent_id, invocation_id))
    resume: str | None = None
    if earlier is not None:
        status = public_status(earlier.status, has_active_wait=earlier.active_wait is not None)
        if status is ExecutionStatus.COMPLETED:  # it completed before this body could journal it
            say(f"Child flow `{invocation_id}` (execution {earlier.id}) reused: it completed before.")
            return earlier.id
        if status is ExecutionStatus.WAITING:
            resume = earlier.id

    def launch(engine_flow: Any) -> None:
        submission = current_submission()
        if submission is not None:  # recorded by the child's body as it starts
            submission.metadata[CHILD_CALL_KEY] = {"parent_exec_id": parent_id, "invocation_id": invocation_id}
        runtime.start_child(engine_flow, params, call_id=invocation_id, resume=resume)

    verb = "Continuing" if resume else "Starting"
    started = start(
        flow,
        launch,
        call={**options, "stack": runtime.active_stack()},
        announce=f"{verb} child flow `{flow.name}` of execution {parent_id}.",
    )
    if started.error is not None and runtime.flow_control(started.error) is not None:
        raise started.error  # the child paused: its parent pauses with it
    exec_id = started.exec_id or resume
    if exec_id is None:
        raise KitaruRuntimeError(f"Child flow '{flow.name}' could not be started: {started.error}") from started.error
    finish(replace(started, exec_id=exec_id), flow.name)
    return exec_id


def latest_child(parent_exec_id: str, invocation_id: str) -> RunRecord | None:
    """The last child execution that call ``invocation_id`` of the parent's body started, if any."""
    found = None
    for child in get_engine().runs.child_runs(parent_exec_id):
        call = child.metadata.get(CHILD_CALL_KEY)
        if isinstance(call, Mapping) and call.get("invocation_id") == invocation_id:
            found = child
    return found


def _current_state(child: RunRecord | None) -> RunRecord | None:
    """``child`` as it is now (a child whose process died is marked failed on the way).

    Raises:
        KitaruStateError: If a live process is still running it.
    """
    if child is None:
        return None
    child = load_run(child.id)
    status = public_status(child.status, has_active_wait=child.active_wait is not None)
    if status is ExecutionStatus.RUNNING:
        raise KitaruStateError(
            f"Child execution {child.id} is still being run by another live process; wait for it to "
            f"finish (or cancel it with `kitaru executions cancel {child.id}`), then retry its parent."
        )
    return child


def child_result(flow_name: str, exec_id: str) -> Any:
    """The result of child execution ``exec_id`` (the body of the synthetic ``flow_call`` checkpoint).

    Raises:
        KitaruExecutionError: If the child did not complete (:func:`child_failure`).
    """
    child = load_run(exec_id)
    status = public_status(child.status, has_active_wait=child.active_wait is not None)
    if status is not ExecutionStatus.COMPLETED:
        raise child_failure(child, parent_exec_id=_parent_of(child))
    return decode_result(exec_id, child.metadata.get(RESULT_KEY))


def _parent_of(child: RunRecord) -> str | None:
    call = child.metadata.get(CHILD_CALL_KEY)
    recorded = call.get("parent_exec_id") if isinstance(call, Mapping) else None
    return child.parent_run_id or (str(recorded) if recorded else None)


def child_failure(child: RunRecord, *, parent_exec_id: str | None) -> KitaruExecutionError:
    """The error for a child execution that did not complete, on one line.

    It names the child, says why it ended (its status reason, else its
    exception), and that retrying the parent runs the child again in place.
    """
    status = public_status(child.status, has_active_wait=child.active_wait is not None)
    failure = build_failure(
        status_reason=child.status_reason, exception_info=child.exception, fallback=f"Execution {child.id} {status}."
    )
    name = child.metadata.get(FLOW_KEY) or child.flow_name or "flow"
    reason = " ".join(failure.message.split())
    message = f"Child flow `{name}` (execution {child.id}) finished with status '{status}': {reason}"
    if parent_exec_id:
        message += f" Retry its parent to run it again: kitaru executions retry {parent_exec_id}"
    return execution_error_class(failure.origin)(
        message, exec_id=child.id, status=str(status), failure_origin=failure.origin
    )


__all__ = [
    "CHILD_OPTIONS_MESSAGE",
    "FLOW_CALL_TYPE",
    "INSIDE_CHECKPOINT_MESSAGE",
    "ChildOutcome",
    "call_child_flow",
    "calling_flow",
    "child_failure",
    "child_result",
    "latest_child",
]

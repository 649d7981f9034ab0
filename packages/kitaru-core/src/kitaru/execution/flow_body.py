"""The flow body, as the engine runs it: ownership, journal, scope and the recorded result.

The engine calls :func:`run_flow_body` (through the flow's published
entrypoint) inside the execution, in the submitting process on the local
default or on a remote orchestrator's pod. Before the user's function runs:

* the process takes ownership of the execution: a lock that dies with it, the
  owner and a first heartbeat as run metadata, and a supervisor thread
  (:mod:`kitaru.execution.ownership`), so a killed process is detected and a
  cancel interrupts the body promptly;
* what identifies the execution is recorded: the flow's name, the source
  root, and the frozen spec of the submission;
* when the execution continues (retry, resume), the engine is prepared to
  run failed calls again and the journal of recorded calls is built, so the
  body is checked against it (:mod:`kitaru.execution.journal`).

An ``async def`` body runs to its end on an event loop Kitaru starts for it
(:func:`kitaru.execution.loop_calls.run_to_end`): ``asyncio.run`` in the
engine's thread, or a fresh thread when that thread already runs a loop
(``my_flow.run()`` called from a coroutine). A synchronous body runs as is.

When the body returns, its value is recorded (:mod:`kitaru.execution.results`).
When it ends otherwise, the engine records what it raised, in Kitaru's words:

* paused at a wait: the owner record is released (a paused execution has no
  running owner; whoever resumes it claims it);
* cancelled (``kitaru executions cancel``): :class:`~kitaru.errors.KitaruCancelledError`;
* past the flow's ``timeout``: :class:`~kitaru.errors.KitaruTimeoutError`, origin
  ``timeout`` (:mod:`kitaru.execution.timeouts`);
* interrupted (Ctrl-C, SIGINT, SIGTERM): a :class:`KeyboardInterrupt` worded by Kitaru,
  so the execution is recorded with origin ``interrupted`` and stays retryable;
* anything else: the user's exception, as raised.

The engine's own stop signals never reach the record or the user.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Mapping
from typing import Any

from kitaru.engine import get_engine
from kitaru.errors import KitaruRuntimeError, KitaruStateError
from kitaru.execution import ownership
from kitaru.execution.definitions import FlowBase
from kitaru.execution.journal import Journal, journal_of
from kitaru.execution.keys import FLOW_KEY, RESULT_KEY, SOURCE_ROOT_KEY, SPEC_KEY
from kitaru.execution.lifecycle import cancelled, interrupted
from kitaru.execution.loop_calls import run_to_end, synchronous_body
from kitaru.execution.outputs import known_output_info
from kitaru.execution.override_values import body_sees, recorded_overrides
from kitaru.execution.results import encode_result
from kitaru.execution.scope import FlowScope, flow_scope
from kitaru.execution.submit import current_submission
from kitaru.execution.timeouts import execution_running, run_flow_body_timed
from kitaru.tracing import start_flow

logger = logging.getLogger("kitaru")


def _prepare_continuation(exec_id: str) -> tuple[Journal | None, dict[str, Any]]:
    """Prepare the engine to run the body of ``exec_id``.

    Returns:
        When it continues an execution (retry, resume): its journal, and the
        edited outputs of a replay's overridden calls, which the body must
        see again (:mod:`kitaru.execution.override_values`). When it is
        fresh: ``(None, {})``.
    """
    engine = get_engine()
    steps = engine.runtime.prepare_body(exec_id)
    if not steps:
        return None, {}
    return journal_of(exec_id, steps), recorded_overrides(engine.runs.get_run(exec_id).metadata, steps)


def stop_error(exec_id: str, exc: BaseException, supervisor: ownership.RunSupervisor) -> BaseException | None:
    """Kitaru's error for a body that was stopped from outside, or None to let ``exc`` through.

    Pauses and aborted waits pass through: the engine acts on its own signals.
    """
    kind = get_engine().runtime.flow_control(exc)
    if kind in ("paused", "aborted"):
        return None
    if supervisor.cancel_requested.is_set() or kind == "stopped":
        return cancelled(exec_id)
    if isinstance(exc, KeyboardInterrupt) or kind == "interrupted":
        return interrupted(exec_id)
    return None


def _paused(exc: BaseException | None) -> bool:
    runtime = get_engine().runtime
    signal = exc if exc is not None and runtime.flow_control(exc) == "paused" else runtime.halted()
    return signal is not None and runtime.flow_control(signal) == "paused"


def run_body(flow: FlowBase, params: Mapping[str, Any]) -> Any:
    """Run the user's function with the flow's inputs and return what it returned.

    An ``async def`` body runs on an event loop of its own; a synchronous
    one blocks the loop of this thread, if one runs, so ``async def``
    checkpoints it calls hand it values, not awaitables.
    """
    if inspect.iscoroutinefunction(flow.func):
        return run_to_end(lambda: flow.func(**params))
    with synchronous_body():
        return flow.func(**params)


def run_flow_body(flow: FlowBase, params: Mapping[str, Any]) -> None:
    """Run the user's flow body inside the engine's execution (called by the engine).

    Takes ownership of the execution, prepares the continuation of a retried
    or resumed execution, runs the body in the flow scope and records its
    return value.

    Raises:
        KitaruRuntimeError: If no execution is running in this context.
        KitaruStateError: If another live process is running this execution.
        KitaruCancelledError: If the execution was cancelled meanwhile.
        KeyboardInterrupt: If this process was interrupted (Ctrl-C).
    """
    engine = get_engine()
    run = engine.runtime.current_run()
    if run is None:
        raise KitaruRuntimeError("No execution is running in this context.")
    exec_id = run.id
    lock = ownership.RunLock(exec_id)
    if not lock.acquire():
        raise KitaruStateError(
            f"Execution {exec_id} is already being run by another live process; "
            "wait for it to finish or cancel it with `kitaru executions cancel`."
        )
    supervisor = ownership.RunSupervisor(exec_id)
    ended: BaseException | None = None
    trace = start_flow(flow.name, exec_id, run=lambda: engine.runs.get_run(exec_id))
    try:
        submission = current_submission()
        metadata: dict[str, Any] = {
            FLOW_KEY: flow.name,
            SOURCE_ROOT_KEY: engine.runtime.source_root() or "",
            ownership.OWNER_KEY: ownership.owner_record(),
            ownership.HEARTBEAT_KEY: ownership.utc_timestamp(),
        }
        if submission is not None:
            submission.exec_id = exec_id
            submission.supervisor = supervisor
            if submission.spec is not None:
                metadata[SPEC_KEY] = submission.spec
                submission.spec_logged = True
            metadata.update(submission.metadata)
        metadata.update(trace.metadata)
        engine.runs.log_run_metadata(exec_id, metadata)
        supervisor.start()

        scope = FlowScope(name=flow.name, flow_id=run.flow_id, execution_id=exec_id)
        journal, edited_outputs = _prepare_continuation(exec_id)
        scope.journal = journal or (submission.journal if submission is not None else None)
        scope.supervisor = supervisor
        try:
            spec = submission.spec if submission is not None else None
            with flow_scope(scope), body_sees(edited_outputs), execution_running(exec_id, spec) as limits:
                value = run_flow_body_timed(flow.name, exec_id, limits, lambda: run_body(flow, params))
        except BaseException as exc:
            ended = exc
            stopped = stop_error(exec_id, exc, supervisor)
            if stopped is None:
                raise
            raise stopped from None

        returned = known_output_info(scope, value)
        engine.runs.log_run_metadata(exec_id, {RESULT_KEY: encode_result(value, checkpoint_output=returned)})
        if submission is not None:
            submission.result = value
            submission.has_result = True
    finally:
        supervisor.stop()
        # What is leaving the body (None when it returned), then its spans are exported.
        trace.end(sys.exc_info()[1], paused=lambda: _paused(ended))
        try:
            if _paused(ended):
                ownership.release_owner(exec_id)
        except Exception as exc:  # never hide how the body ended
            logger.debug("Kitaru could not release the owner of paused execution %s: %s", exec_id, exc)
        # The lock stays held until the engine has recorded the outcome: see
        # ownership.release_run_lock, called by whoever started the run.


__all__ = ["run_body", "run_flow_body", "stop_error"]

"""The checkpoint body, as the engine runs it: the checkpoint scope, then the user's function.

The engine calls :func:`run_checkpoint_body` (through the checkpoint's
published entrypoint) inside the step: in the flow body's process on the
local default, in a step pod of its own on a remote orchestrator. It enters
the checkpoint scope (and a flow scope when only the engine's context
exists, as on a remote step pod) so ``log``, ``save`` and ``load`` know where
they are, and runs the user's function, stopped at the checkpoint's timeout
(:mod:`kitaru.execution.timeouts`).

An ``async def`` function is awaited (:func:`run_function`): on the flow
body's own event loop when the body awaited the call
(:func:`kitaru.execution.loop_calls.call_from_loop` launched it), else on an
event loop of its own::

    @kitaru.checkpoint
    async def fetch(url: str) -> str: ...

    @kitaru.flow
    async def agent(url: str) -> int:
        return len(await fetch(url))   # fetch's coroutine runs on agent's loop
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kitaru.engine import get_engine
from kitaru.execution.checkpoint_calls import CallableCheckpoint
from kitaru.execution.loop_calls import has_pending_work, pending_work, run_to_end
from kitaru.execution.scope import CheckpointScope, FlowScope, checkpoint_scope, current_flow, flow_scope
from kitaru.execution.timeouts import run_attempt_timed
from kitaru.tracing import checkpoint_attempt


def run_checkpoint_body(checkpoint: CallableCheckpoint, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """Run the user's checkpoint function inside the engine's step (called by the engine).

    Enters the checkpoint scope (and a flow scope when only the engine's
    context exists, as on a remote step pod) so ``log``/``save``/``load`` work.

    Raises:
        KitaruTimeoutError: If the attempt ran past the checkpoint's timeout.
    """
    runtime = get_engine().runtime
    step = runtime.current_step()
    scope = CheckpointScope(
        name=checkpoint.name, type=checkpoint.type, execution_id=step.run_id, checkpoint_id=step.step_id
    )

    def attempt() -> Any:
        return run_function(checkpoint.func, args, kwargs)

    with checkpoint_scope(scope), checkpoint_attempt(checkpoint.name, checkpoint.type, step.step_id, exec_id=step.run_id):
        if current_flow() is not None:
            return run_attempt_timed(checkpoint, step, attempt)
        flow = runtime.current_step_flow()
        with flow_scope(FlowScope(name=flow.name, flow_id=flow.id, execution_id=step.run_id)):
            return run_attempt_timed(checkpoint, step, attempt)


def run_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """Run a checkpoint's function and return what it returned, awaiting an ``async def`` one.

    An ``async def`` function runs on the flow body's loop when the body
    awaited the call (:func:`~kitaru.execution.loop_calls.pending_work`);
    otherwise (a sync flow body, ``.submit()``, ``.map()``, a step on another
    machine) on an event loop of its own.
    """
    if not inspect.iscoroutinefunction(func):
        return func(*args, **kwargs)
    if has_pending_work():
        return pending_work(*args, **kwargs)
    return run_to_end(lambda: func(*args, **kwargs))


__all__ = ["run_checkpoint_body", "run_function"]

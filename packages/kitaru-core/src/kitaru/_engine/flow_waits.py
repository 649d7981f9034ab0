"""ZenML's durable waits and flow-control signals, as the flow body sees them.

``zenml.wait`` records a *wait condition* on the run and polls for its input.
When it times out it raises ``RunPaused``; when someone aborts it,
``_WaitConditionAborted``. Both unwind the flow body and subclass
``Exception``, so a body may swallow them: :func:`halt` makes every later
step launch of that body raise the signal again, and marks the runner paused
first. Kitaru decides what to say and when (:mod:`kitaru.execution.waits_body`).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kitaru._engine.bootstrap import load_engine
from kitaru.engine.errors import RecordConflict
from kitaru.engine.runtime import NotInFlowBody, WaitsUnsupported

# Runner -> the pause/abort signal its body already received.
_halted: weakref.WeakKeyDictionary[Any, BaseException] = weakref.WeakKeyDictionary()


def run_context() -> Any:
    """ZenML's context of the dynamic run whose body runs in this thread, or None."""
    load_engine()
    from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

    return DynamicPipelineRunContext.get()


def _runner() -> Any:
    context = run_context()
    return context.runner if context is not None else None


def next_wait_name() -> str:
    """ZenML's automatic name for the next wait condition of this body."""
    return str(run_context().next_wait_condition_name())


def wait(
    *,
    name: str,
    schema: Any,
    question: str | None,
    timeout: float,
    poll_interval: float,
    metadata: Mapping[str, Any],
    interactive: bool = True,
) -> Any:
    """Record a wait condition and wait for its input (see :meth:`FlowRuntime.wait`)."""
    try:
        from zenml import wait as engine_wait
        from zenml.exceptions import EntityExistsError
    except ImportError as exc:
        raise WaitsUnsupported(str(exc)) from None
    try:
        with _prompting(interactive):
            # Floats work for timeout and poll_interval; ZenML's hints say int.
            return engine_wait(  # type: ignore[call-overload]
                schema=schema,
                timeout=timeout,
                poll_interval=poll_interval,
                question=question,
                metadata=dict(metadata),
                name=name,
            )
    except EntityExistsError as exc:
        raise RecordConflict(str(exc)) from None
    except RuntimeError as exc:
        if "pipeline thread" in str(exc) or "inside a step" in str(exc):
            raise NotInFlowBody(str(exc)) from None
        raise


@contextmanager
def _prompting(interactive: bool) -> Iterator[None]:
    """Let ZenML prompt on a terminal for this wait, or not.

    ZenML reads ``ZENML_DISABLE_INTERACTIVE_INPUT`` when a wait starts polling;
    it is set for this one call (the flow body's thread is the only one that
    waits) and restored afterwards.
    """
    from zenml.constants import ENV_ZENML_DISABLE_INTERACTIVE_INPUT

    if interactive:
        yield
        return
    before = os.environ.get(ENV_ZENML_DISABLE_INTERACTIVE_INPUT)
    os.environ[ENV_ZENML_DISABLE_INTERACTIVE_INPUT] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_ZENML_DISABLE_INTERACTIVE_INPUT, None)
        else:
            os.environ[ENV_ZENML_DISABLE_INTERACTIVE_INPUT] = before


def flow_control(exc: BaseException) -> str | None:
    """What ZenML's signal that unwinds a flow body means, else None.

    ``paused``/``aborted`` at a wait; ``stopped`` when ZenML stopped a step
    because the run is stopping; ``interrupted`` when its step signal handler
    turned SIGINT/SIGTERM into an exception (it does so when the process had
    no Python handler to chain to, e.g. SIGINT ignored in a background job).
    """
    # ZenML private API: the abort signal has no public name.
    from zenml.exceptions import RunInterruptedException, RunStoppedException
    from zenml.execution.pipeline.dynamic.runner import RunPaused, _WaitConditionAborted

    if isinstance(exc, RunPaused):
        return "paused"
    if isinstance(exc, _WaitConditionAborted):
        return "aborted"
    if isinstance(exc, RunStoppedException):
        return "stopped"
    if isinstance(exc, RunInterruptedException):
        return "interrupted"
    return None


def _fresh(signal: BaseException) -> BaseException:
    try:
        return type(signal)(*signal.args)
    except Exception:
        return signal


def halt(signal: BaseException, *, paused: bool) -> None:
    """Make sure this body cannot continue past a pause/abort it swallowed."""
    runner = _runner()
    if runner is None:
        return
    try:
        _halted[runner] = signal
    except TypeError:  # not weak-referenceable: the guard is best effort
        return
    if paused:
        # ZenML private API: records the run as paused now, whatever the body does next.
        mark = getattr(runner, "_mark_paused", None)
        if callable(mark):
            mark()

    def launch_step(*args: Any, **kwargs: Any) -> Any:
        raise _fresh(signal)

    # Checkpoint calls (sync, submit, map) all go through the runner's
    # launch_step, looked up on the instance at call time.
    runner.launch_step = launch_step


def halted() -> BaseException | None:
    """A fresh copy of the signal this body was halted with, or None."""
    runner = _runner()
    signal = _halted.get(runner) if runner is not None else None
    return _fresh(signal) if signal is not None else None


__all__ = ["flow_control", "halt", "halted", "next_wait_name", "run_context", "wait"]

"""Timeouts of checkpoint attempts and flow bodies: which one applies, and what happens at the deadline.

A checkpoint attempt may take ``@checkpoint(timeout=...)`` seconds, else the
execution's ``checkpoint_timeout``; a run of the flow body may take the
execution's ``timeout`` (``@flow(timeout=...)``, ``configure()``,
``[tool.kitaru]``, ``kitaru.yaml``: see :mod:`kitaru.config.timeouts`). The
execution's settings come from its frozen spec, so a retry or a resume uses
the timeouts the execution was started with::

    @kitaru.checkpoint(timeout=30, retries=1)
    def fetch(url: str) -> str: ...

    @kitaru.flow(timeout=600)
    def agent(url: str) -> int: ...

At the deadline the code is stopped the way a cancel stops it
(:mod:`kitaru.execution.deadlines`): a real SIGINT on the main thread, so a
call blocked in ``time.sleep`` or a socket read wakes up; an interrupt at the
next Python instruction on other threads (``.submit()``, ``.map()``); asyncio
cancellation for ``async def`` checkpoints. Then:

* a checkpoint attempt fails with :class:`~kitaru.errors.KitaruTimeoutError`
  ("Checkpoint `fetch` timed out after 30s (attempt 1 of 2)."), an ordinary
  failure: the checkpoint's retries apply, each attempt with the whole timeout;
* a flow body fails with :class:`~kitaru.errors.KitaruTimeoutError`
  ("Flow `agent` timed out after 600s."), so the execution is recorded
  ``failed`` with origin ``timeout``; a retry runs the body again with the
  whole timeout and skips the checkpoints that finished. A checkpoint
  running in the body's thread at the flow's deadline is interrupted without
  being retried; one running in another thread (``.submit()``) is not
  stopped by the flow's deadline, and the engine ends the execution once it
  has finished.

A cancel (``kitaru executions cancel``) or a Ctrl-C during a timed call
behaves as it does without a timeout. Synthetic checkpoints that run a
child flow get no checkpoint timeout (the child has its own flow timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from kitaru.config.timeouts import seconds_text
from kitaru.engine import get_engine
from kitaru.engine.runtime import CurrentStep
from kitaru.errors import KitaruTimeoutError
from kitaru.execution.child_flows import FLOW_CALL_TYPE
from kitaru.execution.deadlines import EXPIRED, Deadline, DeadlineInterrupt, run_coroutine_with_timeout
from kitaru.execution.keys import SPEC_KEY
from kitaru.execution.scope import current_flow

logger = logging.getLogger("kitaru")

T = TypeVar("T")

UNTIMED_TYPES = (FLOW_CALL_TYPE,)
"""Checkpoint types no checkpoint timeout applies to: a child flow call runs a whole execution."""


@dataclass(frozen=True)
class ExecutionTimeouts:
    """The timeouts and retries an execution was started with (from its frozen spec).

    Attributes:
        timeout: Seconds a run of the flow body may take, or None.
        checkpoint_timeout: Seconds a checkpoint attempt may take when its
            decorator sets none, or None.
        retries: The run-wide checkpoint retries.
    """

    timeout: float | None = None
    checkpoint_timeout: float | None = None
    retries: int = 0

    @classmethod
    def from_spec(cls, spec: Any) -> ExecutionTimeouts:
        """Read them from a frozen spec as recorded (``kitaru_execution_spec``); missing means none."""
        resolved = spec.get("resolved_execution") if isinstance(spec, Mapping) else None
        if not isinstance(resolved, Mapping):
            return cls()
        retries = resolved.get("retries")
        return cls(
            timeout=_seconds(resolved.get("timeout")),
            checkpoint_timeout=_seconds(resolved.get("checkpoint_timeout")),
            retries=retries if isinstance(retries, int) else 0,
        )


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


_by_execution: dict[str, ExecutionTimeouts] = {}


def execution_timeouts(exec_id: str) -> ExecutionTimeouts:
    """The timeouts of ``exec_id``: those its flow body registered here, else read from its spec once."""
    found = _by_execution.get(exec_id)
    if found is None:
        try:
            found = ExecutionTimeouts.from_spec(get_engine().runs.get_run(exec_id).metadata.get(SPEC_KEY))
        except Exception as exc:  # no spec readable now: none for this attempt, read again for the next
            logger.debug("Kitaru could not read the timeouts of execution %s: %s", exec_id, exc)
            return ExecutionTimeouts()
        _by_execution[exec_id] = found
    return found


@contextmanager
def execution_running(exec_id: str, spec: Any) -> Iterator[ExecutionTimeouts]:
    """Register the timeouts of the execution whose flow body runs in this process, for its checkpoints.

    Args:
        exec_id: The execution.
        spec: Its frozen spec (a fresh submission's), or None to read the
            recorded one (a retry, a resume).
    """
    _by_execution.pop(exec_id, None)
    timeouts = ExecutionTimeouts.from_spec(spec) if spec is not None else execution_timeouts(exec_id)
    _by_execution[exec_id] = timeouts
    try:
        yield timeouts
    finally:
        _by_execution.pop(exec_id, None)


def _cancel_requested() -> bool:
    flow = current_flow()
    supervisor = flow.supervisor if flow is not None else None
    return supervisor is not None and supervisor.cancel_requested.is_set()


# -- flow bodies ---------------------------------------------------------------------------------


def flow_timed_out(flow_name: str, seconds: float, exec_id: str) -> KitaruTimeoutError:
    """The error a flow body past its timeout ends with (the execution's failure)."""
    return KitaruTimeoutError(
        f"Flow `{flow_name}` timed out after {seconds_text(seconds)}. The checkpoints that finished are kept: "
        "a retry runs the body again, with the whole timeout.",
        timeout=seconds,
        exec_id=exec_id,
        status="failed",
    )


def run_flow_body_timed(flow_name: str, exec_id: str, timeouts: ExecutionTimeouts, body: Callable[[], T]) -> T:
    """Run a flow body, stopped at the execution's ``timeout`` (each run of the body gets all of it).

    Raises:
        KitaruTimeoutError: If the body was still running at the deadline
            (unless a cancel, a pause or an aborted wait ended it first).
    """
    if timeouts.timeout is None:
        return body()
    deadline = Deadline(
        timeouts.timeout,
        reason=f"Flow `{flow_name}` timed out after {seconds_text(timeouts.timeout)}.",
    )
    try:
        return deadline.run(body)
    except BaseException as exc:
        if deadline.fired and not _cancel_requested() and get_engine().runtime.flow_control(exc) is None:
            raise flow_timed_out(flow_name, timeouts.timeout, exec_id) from None
        raise


# -- checkpoint attempts -------------------------------------------------------------------------


class AttemptExpired(Exception):
    """An ``async def`` checkpoint's coroutine was cancelled at its timeout (turned into KitaruTimeoutError)."""


_ATTEMPT_SECONDS: ContextVar[float | None] = ContextVar("kitaru_attempt_timeout", default=None)


def checkpoint_timeout(checkpoint: Any, exec_id: str) -> float | None:
    """The timeout of an attempt of ``checkpoint``: its own, else the execution's ``checkpoint_timeout``."""
    own = getattr(checkpoint, "timeout", None)
    if own is not None:
        return float(own)
    if getattr(checkpoint, "type", None) in UNTIMED_TYPES:
        return None
    return execution_timeouts(exec_id).checkpoint_timeout


def _attempt_number(step: CurrentStep) -> int | None:
    try:
        for record in get_engine().runs.list_steps([step.run_id]):
            if record.id == step.step_id:
                return record.attempt
    except Exception as exc:  # the message goes without it
        logger.debug("Kitaru could not read attempt %s: %s", step.step_id, exc)
    return None


def checkpoint_timed_out(checkpoint: Any, seconds: float, step: CurrentStep) -> KitaruTimeoutError:
    """The error of a checkpoint attempt past its timeout: which checkpoint, after how long, which attempt."""
    retries = getattr(checkpoint, "retries", 0) or execution_timeouts(step.run_id).retries
    attempt = _attempt_number(step)
    which = f" (attempt {attempt} of {retries + 1})" if attempt is not None else ""
    return KitaruTimeoutError(
        f"Checkpoint `{checkpoint.name}` timed out after {seconds_text(seconds)}{which}.",
        timeout=seconds,
        exec_id=step.run_id,
    )


def run_attempt_timed(checkpoint: Any, step: CurrentStep, run: Callable[[], T]) -> T:
    """Run one checkpoint attempt (``run``), stopped at the checkpoint's timeout.

    A synchronous function is guarded by a :class:`Deadline` in this thread;
    an ``async def`` one (wrapped by :func:`timed_coroutine_function`) reads
    the timeout from this context and cancels its own coroutine.

    Raises:
        KitaruTimeoutError: If the attempt was still running at its deadline
            (an ordinary failure: the checkpoint's retries apply).
        KeyboardInterrupt: If a cancel was requested meanwhile (as without a timeout).
    """
    seconds = checkpoint_timeout(checkpoint, step.run_id)
    if seconds is None:
        return run()
    token = _ATTEMPT_SECONDS.set(seconds)
    deadline = Deadline(seconds)
    try:
        if getattr(checkpoint, "is_async", False):
            return run()
        return deadline.run(run)
    except (DeadlineInterrupt, AttemptExpired) as exc:
        if isinstance(exc, DeadlineInterrupt) and not deadline.owns(exc):
            raise  # an enclosing deadline's: the flow's timeout ends the call, no retry
        if _cancel_requested():
            raise KeyboardInterrupt from None  # a cancel that arrived with the deadline wins
        raise checkpoint_timed_out(checkpoint, seconds, step) from None
    finally:
        _ATTEMPT_SECONDS.reset(token)


def timed_coroutine_function(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an ``async def`` checkpoint function so its attempt is cancelled at the attempt's timeout.

    The timeout comes from :func:`run_attempt_timed` through this context
    (the coroutine runs on the flow's event loop or on one of its own, with a
    copy of the launching context). Without one it just awaits the function.
    """

    @wraps(func)
    async def with_timeout(*args: Any, **kwargs: Any) -> Any:
        seconds = _ATTEMPT_SECONDS.get()
        result = await run_coroutine_with_timeout(func(*args, **kwargs), seconds)
        if result is EXPIRED:
            raise AttemptExpired(f"timed out after {seconds}s")
        return result

    return with_timeout


__all__ = [
    "UNTIMED_TYPES",
    "AttemptExpired",
    "ExecutionTimeouts",
    "checkpoint_timed_out",
    "checkpoint_timeout",
    "execution_running",
    "execution_timeouts",
    "flow_timed_out",
    "run_attempt_timed",
    "run_flow_body_timed",
    "timed_coroutine_function",
]

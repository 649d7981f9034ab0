"""The ``@checkpoint`` decorator: durable units of work inside a flow.

Inside a running flow, calling a checkpoint runs it, persists its output and
returns the output *value*, so the flow body can use it as ordinary Python::

    @kitaru.checkpoint(retries=2, timeout=30)
    def fetch(url: str) -> str: ...

    @kitaru.flow
    def agent(url: str) -> int:
        return len(fetch(url))

Passing a checkpoint's output into another checkpoint still records the
lineage between the two. ``submit``, ``map`` and ``product`` run checkpoints
concurrently and return a :class:`CheckpointFuture`.

An ``async def`` checkpoint is awaited in an ``async def`` flow body (its
coroutine runs on the flow's event loop, and checkpoints awaited together
run together); called from synchronous code it returns its value, like any
checkpoint::

    @kitaru.checkpoint
    async def fetch(url: str) -> str: ...

    @kitaru.flow
    async def agent(urls: list[str]) -> int:
        pages = await asyncio.gather(*(fetch(url) for url in urls))
        return sum(len(page) for page in pages)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from kitaru._llm.call import TOOL_CALL_TYPE
from kitaru.config.timeouts import validate_timeout
from kitaru.engine import get_engine
from kitaru.engine.runtime import CheckpointSpec
from kitaru.errors import KitaruContextError, KitaruUsageError
from kitaru.execution.checkpoint_body import run_checkpoint_body
from kitaru.execution.checkpoint_calls import (
    CheckpointFuture,
    CheckpointMapFuture,
    await_checkpoint,
    call_checkpoint,
    map_checkpoint,
    submit_checkpoint,
)
from kitaru.execution.entrypoints import publish_entrypoint
from kitaru.execution.loop_calls import can_await_here
from kitaru.execution.naming import sanitize_name
from kitaru.execution.scope import FlowScope, current_checkpoint, current_flow
from kitaru.execution.timeouts import timed_coroutine_function

F = TypeVar("F", bound=Callable[..., Any])

_RUNTIMES = ("inline", "isolated")
OUTSIDE_FLOW_MESSAGE = "Checkpoints can only run inside a @flow."
NESTED_MESSAGE = "Nested checkpoint calls are not supported in the Kitaru MVP."
CONCURRENT_OUTSIDE_MESSAGE = (
    "Concurrent checkpoint execution is only available inside a running @flow."
)


def _normalize_runtime(runtime: Any) -> str | None:
    if runtime is None:
        return None
    value = getattr(runtime, "value", runtime)
    if isinstance(value, str) and value.strip().lower() in _RUNTIMES:
        return value.strip().lower()
    raise KitaruUsageError(
        f"Unsupported checkpoint runtime {runtime!r}. Expected one of: inline, isolated."
    )


class CheckpointDefinition:
    """A function decorated with ``@checkpoint``.

    Attributes:
        name: The checkpoint name (the sanitised function name).
        retries: How many times a failing call is re-run automatically.
        type: A free label; ``llm_call`` and ``tool_call`` are well known.
        runtime: ``inline``, ``isolated`` or None (engine default).
        timeout: Seconds one attempt may take, or None (the execution's
            ``checkpoint_timeout``, if any, applies).
        is_async: Whether the function is an ``async def`` (see :meth:`__call__`).
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        retries: int,
        type: str | None,
        runtime: Any,
        timeout: float | None = None,
    ) -> None:
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise KitaruUsageError("Checkpoint retries must be >= 0.")
        self.name = sanitize_name(func.__name__, fallback="checkpoint")
        self.timeout = validate_timeout(timeout, what=f"Checkpoint `{self.name}` timeout")
        self.is_async = inspect.iscoroutinefunction(func)
        # An async function cancels its own coroutine at the attempt's timeout, wherever it runs.
        self.func = timed_coroutine_function(func) if self.is_async else func
        self.retries = retries
        self.type = type
        self.runtime = _normalize_runtime(runtime)
        self._engine_checkpoint: Any = None
        functools.update_wrapper(self, func)
        definition = self

        def entrypoint(*args: Any, **kwargs: Any) -> Any:
            return run_checkpoint_body(definition, args, kwargs)

        self.entrypoint = publish_entrypoint(
            func, entrypoint, alias=f"__kitaru_checkpoint_source_{self.name}"
        )

    def engine_checkpoint(self) -> Any:
        """Return the engine's checkpoint for this one, building it on first use."""
        if self._engine_checkpoint is None:
            spec = CheckpointSpec(
                name=self.name,
                entrypoint=self.entrypoint,
                retries=self.retries,
                label=self.type,
                runtime=self.runtime,
                # A tool acts on the world (a mail, a ticket, a payment): another execution's
                # identical call is no reason to skip it. Its own retries reuse it through the journal.
                cacheable=self.type != TOOL_CALL_TYPE,
            )
            self._engine_checkpoint = get_engine().runtime.build_checkpoint(spec)
        return self._engine_checkpoint

    def _require_flow(self, concurrent: bool) -> FlowScope:
        if current_checkpoint() is not None:
            raise KitaruContextError(NESTED_MESSAGE)
        flow = current_flow()
        if flow is None:
            raise KitaruContextError(CONCURRENT_OUTSIDE_MESSAGE if concurrent else OUTSIDE_FLOW_MESSAGE)
        return flow

    def __call__(self, *args: Any, id: str | None = None, after: Any = None, **kwargs: Any) -> Any:
        """Run the checkpoint in the current flow and return its output value.

        An ``async def`` checkpoint called from asyncio code (an ``async def``
        flow body) returns an awaitable of its output value instead; the call
        runs when it is awaited. From synchronous code it returns the value.
        Which of the two depends on the caller, not on anything a type
        checker sees, hence ``Any``.

        Raises:
            KitaruContextError: Outside a flow, or inside another checkpoint
                (at the call, not at the ``await``).
        """
        flow = self._require_flow(concurrent=False)
        if self.is_async and can_await_here():
            return await_checkpoint(self, flow, args, kwargs, id=id, after=after)
        return call_checkpoint(self, flow, args, kwargs, id=id, after=after)

    def submit(self, *args: Any, id: str | None = None, after: Any = None, **kwargs: Any) -> CheckpointFuture:
        """Start the checkpoint concurrently; returns a future with ``.result()``."""
        flow = self._require_flow(concurrent=True)
        return submit_checkpoint(self, flow, args, kwargs, id=id, after=after)

    def map(self, *args: Any, after: Any = None, **kwargs: Any) -> CheckpointMapFuture:
        """Run one invocation per element of the iterable arguments, concurrently."""
        flow = self._require_flow(concurrent=True)
        return map_checkpoint(self, flow, args, kwargs, after=after, product=False)

    def product(self, *args: Any, after: Any = None, **kwargs: Any) -> CheckpointMapFuture:
        """Run one invocation per element of the cartesian product of the arguments."""
        flow = self._require_flow(concurrent=True)
        return map_checkpoint(self, flow, args, kwargs, after=after, product=True)

    def __repr__(self) -> str:
        return f"<kitaru checkpoint {self.name!r}>"


@overload
def checkpoint(func: F, /) -> CheckpointDefinition: ...
@overload
def checkpoint(
    func: None = None,
    /,
    *,
    retries: int = 0,
    type: str | None = None,
    runtime: Any = None,
    timeout: float | None = None,
) -> Callable[[F], CheckpointDefinition]: ...


def checkpoint(
    func: Callable[..., Any] | None = None,
    /,
    *,
    retries: int = 0,
    type: str | None = None,
    runtime: Any = None,
    timeout: float | None = None,
) -> Any:
    """Mark a function as a checkpoint: a durable, journaled unit of work.

    Use bare (``@checkpoint``) or with options (``@checkpoint(retries=2)``),
    on a function or an ``async def`` function.

    Args:
        func: The function (when used bare).
        retries: Automatic re-executions after an exception; every attempt is
            journaled. Must be >= 0.
        type: A free label stored with the checkpoint (``llm_call``,
            ``tool_call`` map to the engine's step types).
        runtime: ``"inline"`` or ``"isolated"`` (own container on remote
            orchestrators; local runs are always inline).
        timeout: Seconds one attempt may take. Past it the attempt is
            stopped (even in a blocking call, on the main thread) and fails
            with ``KitaruTimeoutError``; ``retries`` apply, each attempt with
            the whole timeout. None (the default) takes the configured
            ``checkpoint_timeout`` (``configure()``, ``kitaru.yaml``), if any.

    Returns:
        The checkpoint, or a decorator producing one.

    Raises:
        KitaruUsageError: If ``retries`` is negative, ``runtime`` unknown or
            ``timeout`` not a positive number of seconds.
    """

    def decorate(target: Callable[..., Any]) -> CheckpointDefinition:
        return CheckpointDefinition(target, retries=retries, type=type, runtime=runtime, timeout=timeout)

    if func is not None:
        return decorate(func)
    return decorate


__all__ = ["CheckpointDefinition", "CheckpointFuture", "CheckpointMapFuture", "checkpoint"]

"""Journaled calls from asyncio code: the engine works in a thread, the work runs on the caller's loop.

Launching a checkpoint is synchronous: the engine checks the journal, creates
the step run, runs the body and publishes the output. Called straight from a
coroutine, that would block the event loop, and a body that awaits something
(a model request through an async SDK client) would need a loop of its own,
where the client's connections, which belong to the caller's loop, cannot be
used.

:func:`call_from_loop` does it the other way round. The launch runs in a
worker thread (``asyncio.to_thread``, which carries the caller's context, so
the flow scope is there); the body, when the journal has no answer, hands the
coroutine back to the caller's loop (``run_coroutine_threadsafe``) and waits
for it. So the work runs on the loop that called, with its clients, while
the engine's bookkeeping runs beside it; a journaled call returns its
recorded output without running anything.

The work reaches the body through a context variable (:func:`pending_work`),
not as an input: inputs are stored and compared with the journal, and a
coroutine function is neither.

Two helpers decide where asyncio code runs when Kitaru starts it itself:

* :func:`run_to_end` runs a coroutine to its end from synchronous code: an
  ``async def`` flow body, or an ``async def`` checkpoint whose body was not
  started by :func:`call_from_loop` (called from a sync flow body, by
  ``.submit()``/``.map()``, on a remote step). It uses ``asyncio.run`` in
  this thread, or a fresh thread when this thread's loop is busy (synchronous
  code called from a coroutine).
* :func:`can_await_here` tells an ``async def`` checkpoint whether its
  caller is asyncio code, which awaits the call, or synchronous code, which
  wants the value. A synchronous flow body runs inside :func:`synchronous_body`,
  so a loop that ``my_flow.run()`` was called from (and that the body blocks)
  does not count.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from kitaru.errors import KitaruRuntimeError

T = TypeVar("T")

_PENDING: ContextVar[Callable[..., Any] | None] = ContextVar("kitaru_pending_loop_work", default=None)
_BLOCKED_LOOP: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("kitaru_blocked_loop", default=None)


async def call_from_loop(launch: Callable[[], Any], work: Callable[..., Awaitable[Any]]) -> Any:
    """Run a checkpoint launch in a thread while its body's work runs on this event loop.

    Args:
        launch: Calls the checkpoint (synchronously); its body calls
            :func:`pending_work` with the arguments it got to run ``work``.
        work: Makes the coroutine to run on the caller's loop, from the
            body's arguments, if the body runs.

    Returns:
        What ``launch`` returns: the checkpoint's output value.
    """
    loop = asyncio.get_running_loop()

    def run_on_caller_loop(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(_awaited(work, args, kwargs), loop).result()

    def launch_with_work() -> Any:
        _PENDING.set(run_on_caller_loop)  # this thread's own copy of the caller's context
        return launch()

    return await in_own_thread(launch_with_work)


async def in_own_thread(function: Callable[[], T]) -> T:
    """Run ``function`` in a new thread (with this context) and await its result.

    Not ``asyncio.to_thread``: the loop's default executor has a few threads
    only, and a launch holds its thread until the checkpoint's coroutine, run
    on this very loop, is done. Gathering more launches than the executor has
    threads would leave none for the coroutines' own ``getaddrinfo`` or
    ``to_thread`` calls, and the flow would hang.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():  # the awaiting task may have been cancelled meanwhile
            outcome()

    def target() -> None:
        try:
            result = context.run(function)
        except BaseException as error:  # handed to the awaiting task, which re-raises it
            loop.call_soon_threadsafe(settle, functools.partial(done.set_exception, error))
        else:
            loop.call_soon_threadsafe(settle, functools.partial(done.set_result, result))

    threading.Thread(target=target, name="kitaru-launch", daemon=True).start()
    return await done


def pending_work(*args: Any, **kwargs: Any) -> Any:
    """Run the work :func:`call_from_loop` handed to this checkpoint body with ``args``, and return its result.

    Raises:
        KitaruRuntimeError: When the body was not started by :func:`call_from_loop`.
    """
    run = _PENDING.get()
    if run is None:
        raise KitaruRuntimeError(
            "This checkpoint runs work handed over from an event loop, but was called without it; "
            "await it from async code in a flow."
        )
    return run(*args, **kwargs)


def has_pending_work() -> bool:
    """Whether this checkpoint body was started by :func:`call_from_loop` (else it runs its work itself)."""
    return _PENDING.get() is not None


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@contextmanager
def synchronous_body() -> Iterator[None]:
    """Run synchronous code that blocks the loop of this thread, if one runs (``my_flow.run()`` in a coroutine).

    Inside the block, :func:`can_await_here` is False while that loop is the
    running one: the code is synchronous, so a call must hand it values.
    """
    token = _BLOCKED_LOOP.set(running_loop())
    try:
        yield
    finally:
        _BLOCKED_LOOP.reset(token)


def can_await_here() -> bool:
    """Whether the caller is asyncio code, so a call may return an awaitable.

    True when an event loop runs in this thread and it is not the loop a
    synchronous flow body blocks (:func:`synchronous_body`).
    """
    loop = running_loop()
    return loop is not None and loop is not _BLOCKED_LOOP.get()


def run_to_end(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make()`` returns in an event loop of its own, from synchronous code, and return its result.

    The loop is ``asyncio.run``'s in this thread. When this thread already
    runs a loop (synchronous code called from a coroutine, which blocks that
    loop), it runs in a fresh thread instead, with a copy of this context
    (flow and checkpoint scopes, the engine's run), and this thread waits for
    it. If this thread is interrupted meanwhile (Ctrl-C, a cancel), the
    coroutine is cancelled and has ended before the interrupt goes on.

    Args:
        make: Makes the coroutine; called in the thread that runs it.
    """
    if running_loop() is None:
        return asyncio.run(make())
    return _run_in_fresh_thread(make)


def _run_in_fresh_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    context = contextvars.copy_context()
    outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
    tasks: list[asyncio.Task[Any]] = []
    interrupted = threading.Event()

    async def main() -> T:
        task = asyncio.current_task()
        if task is not None:
            tasks.append(task)
        if interrupted.is_set():  # interrupted before this task could be cancelled
            raise asyncio.CancelledError
        return await make()

    def run() -> None:
        try:
            outcome.set_result(context.run(asyncio.run, main()))
        except BaseException as exc:  # handed to the waiting thread
            outcome.set_exception(exc)

    thread = threading.Thread(target=run, name="kitaru-event-loop", daemon=True)
    thread.start()
    try:
        thread.join()
    except BaseException:  # interrupted (Ctrl-C, a cancel): end the coroutine first
        interrupted.set()
        for task in tasks:
            _cancel_soon(task)
        thread.join()
        raise
    return outcome.result()


def _cancel_soon(task: asyncio.Task[Any]) -> None:
    try:
        task.get_loop().call_soon_threadsafe(task.cancel)
    except RuntimeError:  # its loop already closed: the task has ended
        pass


async def _awaited(work: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return await work(*args, **kwargs)

"""Deadlines: stop the code running in a thread when its time is up, without a stray interrupt afterwards.

A :class:`Deadline` guards one run of a function (a checkpoint attempt, a flow
body) in the thread that runs it::

    deadline = Deadline(2.0)
    try:
        result = deadline.run(fetch, url)
    except DeadlineInterrupt as exc:
        if not deadline.owns(exc):
            raise          # another deadline's (an enclosing flow's), or not a deadline at all
        raise KitaruTimeoutError("...") from None

At the deadline a timer thread interrupts the guarded thread, the way a
cancel does (:class:`~kitaru.execution.ownership.RunSupervisor`):

* **main thread**: a real ``SIGINT`` sent to it (``pthread_kill``), so code
  blocked in a system call (``time.sleep``, a socket read) wakes up. While
  deadlines are armed, Kitaru's SIGINT handler sits in front of the previous
  one: a signal a deadline sent raises that deadline's
  :class:`DeadlineInterrupt`; any other SIGINT (Ctrl-C, a cancel) goes to the
  previous handler, exactly as without a deadline.
* **other threads** (``.submit()``/``.map()`` run checkpoints in threads):
  the interrupt is raised in the thread at its next Python instruction
  (``PyThreadState_SetAsyncExc``). A thread blocked in a system call is not
  woken: it is stopped when the call returns (POSIX offers no way to wake one
  thread's blocking call from Python).

``async def`` code is stopped by asyncio cancellation instead
(:func:`run_coroutine_with_timeout`).

Race-free by construction: the timer and the guarded thread decide under one
lock whether the deadline fired while the body was still running. A body
that returned (even a moment before the interrupt landed) keeps its result;
an interrupt for a body that already ended is swallowed by the handler (main
thread) or cleared before it is raised (other threads), and the handler is
only restored once the signal was delivered, so no ``KeyboardInterrupt``
reaches later code.

:class:`DeadlineInterrupt` is a ``KeyboardInterrupt``: ``except Exception``
in user code does not swallow it, and the engine does not retry a checkpoint
attempt that an *enclosing* deadline (the flow's) interrupted.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

DELIVERY_WAIT_SECONDS = 2.0
"""How long a finished main-thread body waits for its deadline's signal to arrive before the handler goes."""


class DeadlineInterrupt(KeyboardInterrupt):
    """Raised in the guarded thread when a :class:`Deadline` fires.

    Each deadline raises its own subclass, whose ``deadline`` attribute names
    it (:meth:`Deadline.owns`): a thread interrupt can only carry a class.
    """

    deadline: Deadline | None = None

    def __str__(self) -> str:
        reason = self.deadline.reason if self.deadline is not None else ""
        return reason or super().__str__()


_state_lock = threading.RLock()  # reentrant: the SIGINT handler runs on the main thread, maybe inside a holder
_armed: dict[int, list[Deadline]] = {}  # thread id -> its deadlines armed now, outermost first
_undelivered: list[Deadline] = []  # main-thread deadlines whose signal the handler has not seen yet
_previous_handler: Any = None


def _main_thread_id() -> int:
    return threading.main_thread().ident or 0


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """Kitaru's SIGINT handler while main-thread deadlines are armed."""
    with _state_lock:
        ours = list(_undelivered)
        _undelivered.clear()
        armed = _armed.get(_main_thread_id(), [])
        live = [deadline for deadline in armed if deadline in ours and deadline.running]
        previous = _previous_handler
    for deadline in ours:
        deadline.delivered.set()
    if live:
        raise live[0].interrupt()  # the outermost one that fired: an enclosing flow's wins
    if ours:
        return  # the signal of a body that already ended: nothing to interrupt
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.default_int_handler(signum, frame)


def _set_thread_interrupt(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in thread ``thread_id`` at its next Python instruction (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception is not None else None
    )


class Deadline:
    """A timeout for one run of a function in the current thread (see the module docstring).

    Attributes:
        seconds: The timeout.
        reason: What the interrupt says (``Flow `agent` timed out after 5s.``).
        fired: Whether the deadline passed while the body ran (set by the timer).
        running: Whether the guarded body runs (between arming and disarming).
        delivered: Set when the handler saw this deadline's signal (main thread).
        interrupt: This deadline's own :class:`DeadlineInterrupt` subclass.
    """

    def __init__(self, seconds: float, *, reason: str = "") -> None:
        self.seconds = seconds
        self.reason = reason
        self.fired = False
        self.running = False
        self.delivered = threading.Event()
        self.interrupt: type[DeadlineInterrupt] = type(
            "DeadlineInterrupt", (DeadlineInterrupt,), {"deadline": self, "__module__": __name__}
        )
        self._thread_id = threading.get_ident()
        self._on_main = threading.current_thread() is threading.main_thread()
        self._timer: threading.Timer | None = None

    def owns(self, exc: BaseException) -> bool:
        """Whether ``exc`` is this deadline's interrupt."""
        return isinstance(exc, DeadlineInterrupt) and exc.deadline is self

    def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` in this thread, interrupted at the deadline.

        Returns:
            What ``function`` returned, also when it returned just as the
            deadline passed.

        Raises:
            DeadlineInterrupt: This deadline's (see :meth:`owns`) when it
                fired while ``function`` ran; anything ``function`` raised.
        """
        outcome: list[T] = []
        try:
            try:
                self._arm()
                outcome.append(function(*args, **kwargs))
            except DeadlineInterrupt as exc:
                if not (self.owns(exc) and outcome):  # else: it landed after the body returned
                    raise
        finally:
            # Disarm even when an interrupt lands while disarming, at any Python instruction: the
            # loop is inline (not in a helper) because an interrupt can land on a call's first
            # instruction, before the callee's ``try``. This deadline's own interrupt means it fired
            # just now: disarm again. An enclosing deadline's is raised once this one is disarmed.
            enclosing: BaseException | None = None
            while True:
                try:
                    self._disarm()
                    break
                except DeadlineInterrupt as exc:
                    if not self.owns(exc):
                        enclosing = exc
            if enclosing is not None:
                raise enclosing
        return outcome[0]

    def _arm(self) -> None:
        global _previous_handler
        with _state_lock:
            self.running = True
            armed = _armed.setdefault(self._thread_id, [])
            if self._on_main and not armed:
                _previous_handler = signal.signal(signal.SIGINT, _on_sigint)
            armed.append(self)
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.name = "kitaru-deadline"
        self._timer.start()

    def _fire(self) -> None:
        with _state_lock:
            if not self.running:
                return
            self.fired = True
            if self._on_main:
                _undelivered.append(self)
                signal.pthread_kill(self._thread_id, signal.SIGINT)
            else:  # under the lock: the body cannot leave (and clear it) before the interrupt is set
                _set_thread_interrupt(self._thread_id, self.interrupt)

    def _disarm(self) -> None:
        """Stop the timer; once this returns, this deadline raises nothing more in this thread."""
        try:
            self._stop()
        finally:
            self._forget()

    def _stop(self) -> None:
        with _state_lock:
            self.running = False
            fired = self.fired
        if self._timer is not None:
            self._timer.cancel()
        if not fired:
            return
        if self._on_main:
            self._await_delivery()
            return
        with _state_lock:
            _set_thread_interrupt(self._thread_id, None)
            # Clearing dropped whatever was pending: an enclosing deadline that fired too must still land.
            fired_outer = [d for d in _armed.get(self._thread_id, []) if d is not self and d.running and d.fired]
            if fired_outer:
                _set_thread_interrupt(self._thread_id, fired_outer[0].interrupt)

    def _forget(self) -> None:
        global _previous_handler
        with _state_lock:
            armed = _armed.get(self._thread_id, [])
            if self in armed:
                armed.remove(self)
            if armed:
                return
            _armed.pop(self._thread_id, None)
            if self._on_main and signal.getsignal(signal.SIGINT) is _on_sigint:
                signal.signal(signal.SIGINT, _previous_handler)
                _previous_handler = None

    def _await_delivery(self) -> None:
        """Let the signal this deadline sent arrive while the handler still swallows it."""
        end = time.monotonic() + DELIVERY_WAIT_SECONDS
        while not self.delivered.is_set() and time.monotonic() < end:
            time.sleep(0.001)  # a signal interrupts the sleep and runs the handler


async def run_coroutine_with_timeout(awaitable: Awaitable[T], seconds: float | None) -> T | _Expired:
    """Await ``awaitable`` as a task, cancelling it after ``seconds`` (asyncio cancellation).

    Code that blocks the event loop without awaiting is only stopped at its
    next ``await``. A task that finishes despite the cancellation keeps its
    result; a ``TimeoutError`` the awaitable raises itself stays its own.

    Returns:
        Its result, or :data:`EXPIRED` when it was cancelled at the timeout.
    """
    if seconds is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except BaseException:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if task.cancelled() and (current is None or not current.cancelling()):
            return EXPIRED
        raise


class _Expired:
    """The marker :func:`run_coroutine_with_timeout` returns when the timeout passed."""

    def __repr__(self) -> str:
        return "EXPIRED"


EXPIRED = _Expired()


__all__ = [
    "DELIVERY_WAIT_SECONDS",
    "EXPIRED",
    "Deadline",
    "DeadlineInterrupt",
    "run_coroutine_with_timeout",
]

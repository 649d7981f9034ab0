"""A checkpoint interrupted by Ctrl-C is not attempted again by its retries.

The engine retries a failing step up to its configured retries, and counts
every exception as a failure, a ``KeyboardInterrupt`` included. So pressing
Ctrl-C in ``@checkpoint(retries=2)`` started the checkpoint again (a paid
model call repeated), and the user had to press Ctrl-C once per retry.

:func:`install` wraps two engine calls: the dynamic runner's ``launch_step``
(one checkpoint call, with its retry loop) and ``StepLauncher.launch`` (one
attempt). Once an attempt of a call is interrupted, every further attempt of
that call raises the same interruption at once, without running anything,
so the interruption ends the call as the first attempt's. The next call
starts afresh. The state is per thread, like the engine's retry loop.

Engine API touched: ``zenml.execution.pipeline.dynamic.runner.launch_step``
(a module-level name the runner calls) and ``StepLauncher.launch``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once

_state = threading.local()


def _interruption(exc: BaseException) -> bool:
    from zenml.exceptions import RunInterruptedException

    return isinstance(exc, KeyboardInterrupt | RunInterruptedException)


def _resetting_per_call(launch_call: Callable[..., Any]) -> Callable[..., Any]:
    def launch_call_once_interrupted(*args: Any, **kwargs: Any) -> Any:
        _state.interrupted = None
        try:
            return launch_call(*args, **kwargs)
        finally:
            _state.interrupted = None

    return launch_call_once_interrupted


def _unless_interrupted(launch_attempt: Callable[..., Any]) -> Callable[..., Any]:
    def launch_attempt_unless_interrupted(self: Any, *args: Any, **kwargs: Any) -> Any:
        interrupted = getattr(_state, "interrupted", None)
        if interrupted is not None:
            raise interrupted
        try:
            return launch_attempt(self, *args, **kwargs)
        except BaseException as exc:
            if _interruption(exc):
                _state.interrupted = exc
            raise

    return launch_attempt_unless_interrupted


def install() -> None:
    """Keep the engine's step retries from running an interrupted checkpoint again (idempotent)."""
    from zenml.execution.pipeline.dynamic import runner
    from zenml.orchestrators.step_launcher import StepLauncher

    replace_once(runner, "launch_step", _resetting_per_call)
    replace_once(StepLauncher, "launch", _unless_interrupted)


__all__ = ["install"]

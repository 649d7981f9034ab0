"""The engine's lines about launching a checkpoint attempt go to the flow's log stream.

Around every step attempt the engine's launcher opens a log stream of its
own (source ``prepare_step``): it holds the engine's lines "Step `x` has
started." and "... has finished in 0.05s." and nothing the user wrote. That
stream costs a log row in the store, and a log file written and flushed to
the artifact store when the attempt ends: about 13% of a trivial
checkpoint's time (``bench/``, 2026-12-04: 56.0 ms against 64.7 ms per
checkpoint, measured in the same process).

:func:`install` turns that stream off. The launcher's lines then land in the
stream that is open around it, the flow body's (``orchestrator``, Kitaru's
``runner`` source), where Kitaru's own "Checkpoint `x` finished in ..." lines
already are; they are engine lines, shown with ``-vv`` as before. What each
checkpoint printed or logged stays in its own ``step`` stream, written by the
step runner, which this does not touch.

Engine API touched: ``zenml.orchestrators.step_launcher.is_step_logging_enabled``
(the module-level name ``StepLauncher.launch`` calls to decide whether to open
the ``prepare_step`` stream).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once


def _never(step_logging_enabled: Callable[..., bool]) -> Callable[..., bool]:
    def launcher_opens_no_log_stream(*args: Any, **kwargs: Any) -> bool:
        return False

    return launcher_opens_no_log_stream


def install() -> None:
    """Stop the engine's launcher from opening a log stream per checkpoint attempt (idempotent)."""
    from zenml.orchestrators import step_launcher

    replace_once(step_launcher, "is_step_logging_enabled", _never)


__all__ = ["install"]

"""Look up the engine's source root once per running flow, not 17 times per checkpoint.

The engine turns every function, class and materializer it records into a
*source* relative to the source root, and it looks the root up again for each
one (``source_utils.get_source_root``): a walk from the working directory to
the file system root looking for a ``.zen`` repository, 17 times for a trivial
checkpoint. That walk was 8% of a checkpoint's time (``bench/``, 2026-12-04:
50.1 ms against 54.6 ms per checkpoint, in the same process).

While a flow body runs (the dynamic runner's ``run_pipeline``), the root
cannot sensibly change, so :func:`install` remembers the first answer until
the last running flow of the process ends. Setting a root
(``source_utils.set_custom_source_root``, which Kitaru's
:mod:`~kitaru._engine.source_root` uses) forgets it, so an explicit root is
never shadowed. Outside a running flow nothing is remembered, and the engine
looks the root up as before.

Engine API touched: ``zenml.utils.source_utils.get_source_root`` and
``set_custom_source_root`` (module-level names the engine's source helpers
call) and ``DynamicPipelineRunner.run_pipeline``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once

_lock = threading.Lock()
_running = 0
"""Flow bodies running in this process."""
_known: str | None = None
"""The root found while flows run; None when it must be looked up."""
_settings = 0
"""Roots set so far: a lookup that raced with a new root is not remembered."""


def _remembered_while_running(get_source_root: Callable[[], str]) -> Callable[[], str]:
    def source_root_looked_up_once_per_run() -> str:
        global _known
        known, settings = _known, _settings
        if known is not None:
            return known
        root = get_source_root()
        with _lock:
            if _running and settings == _settings:
                _known = root
        return root

    return source_root_looked_up_once_per_run


def _forgetting(set_custom_source_root: Callable[..., None]) -> Callable[..., None]:
    def set_and_forget_the_remembered_root(*args: Any, **kwargs: Any) -> None:
        global _known, _settings
        with _lock:
            _known = None
            _settings += 1
            set_custom_source_root(*args, **kwargs)

    return set_and_forget_the_remembered_root


def _counted(run_pipeline: Callable[..., Any]) -> Callable[..., Any]:
    def run_pipeline_remembering_the_root(*args: Any, **kwargs: Any) -> Any:
        global _running, _known
        with _lock:
            _running += 1
        try:
            return run_pipeline(*args, **kwargs)
        finally:
            with _lock:
                _running -= 1
                if not _running:
                    _known = None

    return run_pipeline_remembering_the_root


def install() -> None:
    """Remember the engine's source root while flow bodies run (idempotent)."""
    from zenml.execution.pipeline.dynamic.runner import DynamicPipelineRunner
    from zenml.utils import source_utils

    replace_once(source_utils, "get_source_root", _remembered_while_running)
    replace_once(source_utils, "set_custom_source_root", _forgetting)
    replace_once(DynamicPipelineRunner, "run_pipeline", _counted)


__all__ = ["install"]

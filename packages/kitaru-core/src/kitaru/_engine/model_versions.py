"""Skip the engine's model-version lookup for checkpoints that have no model configured.

When a step run is created, the engine's SQL store links it to a model
version if the step's configuration names a model. To find out, it builds
the whole step run response, metadata included, then reads ``config.model``
and, for Kitaru, always finds none: flows and checkpoints never configure
one. That lookup was about 5% of a trivial checkpoint's time (``bench/``,
2026-12-04: 52.5 ms against 55.8 ms per checkpoint, in the same process).

:func:`install` answers the question where it is free. The step launcher
holds the step's compiled configuration; while it launches a step whose
configuration and whose pipeline's configuration both name no model, the
store's lookup for that step run returns "no model version" at once, which
is what it would have computed. Anything else (a step with a model, a
pipeline run, a store call from another thread) takes the engine's path.

Engine API touched: ``StepLauncher.launch`` (its ``_step`` and ``_snapshot``)
and ``SqlZenStore._get_or_create_model_version_for_run``, wrapped at the first
launch after the SQL store is loaded.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once

_state = threading.local()
"""``launching_without_model``: this thread launches a step that configures no model."""


def _has_no_model(launcher: Any) -> bool:
    return launcher._step.config.model is None and launcher._snapshot.pipeline_configuration.model is None


def _noting_the_model(launch: Callable[..., Any]) -> Callable[..., Any]:
    def launch_noting_whether_a_model_is_configured(self: Any, *args: Any, **kwargs: Any) -> Any:
        _wrap_the_sql_store_once_loaded()
        outer = getattr(_state, "launching_without_model", False)
        _state.launching_without_model = _has_no_model(self)
        try:
            return launch(self, *args, **kwargs)
        finally:
            _state.launching_without_model = outer

    return launch_noting_whether_a_model_is_configured


def _skipped_without_a_model(lookup: Callable[..., Any]) -> Callable[..., Any]:
    from zenml.zen_stores.schemas import StepRunSchema

    def model_version_unless_none_is_configured(self: Any, run: Any) -> Any:
        if isinstance(run, StepRunSchema) and getattr(_state, "launching_without_model", False):
            return None
        return lookup(self, run)

    return model_version_unless_none_is_configured


def _wrap_the_sql_store_once_loaded() -> None:
    # A process connected to a server never loads the SQL store (importing it
    # costs about a second), and its server does the lookup.
    sql_store = sys.modules.get("zenml.zen_stores.sql_zen_store")
    if sql_store is not None:
        replace_once(sql_store.SqlZenStore, "_get_or_create_model_version_for_run", _skipped_without_a_model)


def install() -> None:
    """Skip the model-version lookup of steps that configure no model (idempotent)."""
    from zenml.orchestrators.step_launcher import StepLauncher

    replace_once(StepLauncher, "launch", _noting_the_model)


__all__ = ["install"]

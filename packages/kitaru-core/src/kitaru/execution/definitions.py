"""What Kitaru's domain knows of a ``@flow``: its name, function, defaults and engine flow.

:class:`kitaru.flows.FlowDefinition` (the SDK object users decorate with)
builds on :class:`FlowBase`, so the domain can recognise a flow wherever it
finds one, for example when a replay started from the CLI looks for the flow
that ran an execution (:func:`kitaru.execution.replay.find_flow`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitaru.budget import Budget
from kitaru.engine import get_engine


class FlowBase:
    """A flow as the domain sees it.

    Attributes:
        name: The flow name (the sanitised function name).
        func: The user's function.
        defaults: Decorator-level execution settings (stack, image, cache, retries).
        entrypoint: The function the engine calls and imports by name
            (:func:`kitaru.execution.entrypoints.publish_entrypoint`).
        budget: The ``@flow(budget=...)`` every execution starts with unless
            its run sets one (a :class:`kitaru.Budget`), or None.
    """

    name: str
    func: Callable[..., Any]
    defaults: dict[str, Any]
    entrypoint: Callable[..., Any]
    budget: Budget | None = None
    _engine_flow: Any = None

    def engine_flow(self) -> Any:
        """Return the engine's flow for this flow, building it on first use."""
        if self._engine_flow is None:
            self._engine_flow = get_engine().runtime.build_flow(self.name, self.entrypoint)
        return self._engine_flow


__all__ = ["FlowBase"]

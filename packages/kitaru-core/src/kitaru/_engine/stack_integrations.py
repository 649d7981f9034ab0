"""Only the integrations the active stack needs are activated when a flow starts.

The engine activates every installed integration each time it compiles a
pipeline, to register their materializers. With Kitaru's cloud extras
installed that imports the GCP, Azure and AWS SDKs on every run: 4.7 s of a
local run here (GCP 1.9 s, Azure 1.1 s, AWS 0.45 s, pandas 0.36 s, and
0.76 s to check which are installed), for a stack that uses none of them.

Kitaru stores values with its own serializers, never with an integration's
materializer, and the engine's service connectors and stack-component
flavors import their integration's modules when they are used. So
:func:`install` narrows the activation to the integrations named by the
active stack's components (an ``s3://`` artifact store activates ``s3``; a
SageMaker stack ``aws``, ...). When the stack cannot be read, every
integration is activated as before.

Engine API touched: ``IntegrationRegistry.activate_integrations`` (replaced
on the class), ``Integration.check_installation``/``activate``, and
``ComponentResponse.integration`` of the active stack's components.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kitaru._engine.patches import replace_once

logger = logging.getLogger("kitaru")


def active_stack_integrations() -> set[str] | None:
    """The integration names of the active stack's components, or None when the stack cannot be read."""
    from zenml.client import Client

    try:
        stack = Client().active_stack_model
        return {
            component.integration
            for components in stack.components.values()
            for component in components
            if component.integration
        }
    except Exception as exc:  # noqa: BLE001 - fall back to activating everything
        logger.debug("Could not read the active stack's integrations: %s", exc)
        return None


def _for_the_active_stack(activate_all: Callable[..., Any]) -> Callable[..., Any]:
    def activate_for_the_active_stack(self: Any) -> None:
        needed = active_stack_integrations()
        if needed is None:
            activate_all(self)
            return
        for name in sorted(needed):
            integration = self.integrations.get(name)
            if integration is None or not integration.check_installation():
                continue
            try:
                integration.activate()
            except Exception as exc:  # noqa: BLE001 - as the engine does: log and go on
                logger.debug("Could not activate the %s integration: %s", name, exc)

    return activate_for_the_active_stack


def install() -> None:
    """Activate only the active stack's integrations when the engine asks for all of them (idempotent)."""
    from zenml.integrations.registry import IntegrationRegistry

    replace_once(IntegrationRegistry, "activate_integrations", _for_the_active_stack)

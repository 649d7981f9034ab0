"""Read the active stack's log-store component: where runtime logs really go.

The ``kitaru log-store`` preference is only a preference (SPEC §7). What a run
actually does with its logs is decided by the stack it runs on:

* a stack **without** a log-store component keeps runtime logs in its artifact
  store (the engine builds an ``artifact`` log store from it on the fly);
* a stack **with** one (engine flavor ``otel``, ``datadog`` or a custom one)
  exports them to that backend.

:func:`active_stack_log_store` reports which case the active stack is in, so
``kitaru log-store show`` and ``kitaru status`` can warn when the preference
and the stack disagree. :func:`engine_log_store_flavors` lists the log-store
flavors the engine knows, which the log-store contract suite uses to check a
plugin's ``LogStoreSpec.flavor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kitaru._engine.bootstrap import load_engine
from kitaru.errors import KitaruBackendError


@dataclass(frozen=True)
class StackLogStore:
    """The log-store component of one stack, as plain data.

    Attributes:
        stack_name: The stack's name.
        component_name: The log-store component's name, or ``None`` when the
            stack has none (its logs then go to its artifact store).
        flavor: The component's engine flavor (``otel``, ``datadog``), or
            ``None`` when the stack has no log-store component.
        endpoint: The component's configured ``endpoint``, if any. Never
            holds credentials the component keeps in other fields.
    """

    stack_name: str
    component_name: str | None = None
    flavor: str | None = None
    endpoint: str | None = None


def _client() -> Any:
    load_engine()
    from zenml.client import Client

    return Client()


def active_stack_log_store() -> StackLogStore:
    """Describe the active stack's log-store component (contacts the store).

    Returns:
        The active stack's name and its log-store component (all ``None``
        fields when the stack has no log-store component).

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent.
        KitaruBackendError: If the store cannot be read.
    """
    from zenml.enums import StackComponentType

    try:
        stack = _client().active_stack_model
        models = list(stack.components.get(StackComponentType.LOG_STORE) or ())
    except Exception as exc:
        raise KitaruBackendError(
            f"Could not read the active stack's log store: {type(exc).__name__}: {exc}. "
            "If you use a server, check it is running (`kitaru status`)."
        ) from exc
    if not models:
        return StackLogStore(stack_name=str(stack.name))
    model = models[0]
    endpoint = (model.configuration or {}).get("endpoint")
    return StackLogStore(
        stack_name=str(stack.name),
        component_name=str(model.name),
        flavor=str(model.flavor_name),
        endpoint=str(endpoint) if endpoint else None,
    )


def engine_log_store_flavors() -> frozenset[str]:
    """Names of the log-store flavors the engine knows.

    The engine's built-in flavors (``otel``, ``datadog``) are always listed;
    custom flavors registered in the store are added when the store can be
    reached.

    Returns:
        The flavor names.
    """
    load_engine()
    from zenml.enums import StackComponentType
    from zenml.stack.flavor_registry import FlavorRegistry

    builtins = (flavor() for flavor in FlavorRegistry().builtin_flavors)
    names = {flavor.name for flavor in builtins if flavor.type == StackComponentType.LOG_STORE}
    try:
        names.update(model.name for model in _client().get_flavors_by_type(StackComponentType.LOG_STORE))
    except Exception:  # the store is optional here: built-ins are enough to check names
        pass
    return frozenset(names)


__all__ = ["StackLogStore", "active_stack_log_store", "engine_log_store_flavors"]

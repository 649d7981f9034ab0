"""ZenML's log-store components as Kitaru's :class:`~kitaru.engine.log_stores.LogStoreComponents`."""

from __future__ import annotations

from kitaru._engine.bootstrap import client, load_engine
from kitaru.engine.log_stores import StackLogStore


class ZenMLLogStores:
    """The active stack's log-store component and the engine's log-store flavors."""

    def active_stack_log_store(self) -> StackLogStore:
        from zenml.enums import StackComponentType

        stack = client().active_stack_model
        models = list(stack.components.get(StackComponentType.LOG_STORE) or ())
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

    def log_store_flavors(self) -> frozenset[str]:
        load_engine()
        from zenml.enums import StackComponentType
        from zenml.stack.flavor_registry import FlavorRegistry

        builtins = (flavor() for flavor in FlavorRegistry().builtin_flavors)
        names = {flavor.name for flavor in builtins if flavor.type == StackComponentType.LOG_STORE}
        try:
            names.update(model.name for model in client().get_flavors_by_type(StackComponentType.LOG_STORE))
        except Exception:  # noqa: BLE001  (the store is optional here: built-ins are enough to check names)
            pass
        return frozenset(names)


__all__ = ["ZenMLLogStores"]

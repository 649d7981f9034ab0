"""The port for log-store components: where a stack really sends its runtime logs.

The ``kitaru log-store`` preference is only a preference (SPEC §7); what a run
does with its logs is decided by the stack it runs on. A stack **without** a
log-store component keeps runtime logs in its artifact store; a stack
**with** one (engine flavor ``otel``, ``datadog`` or a custom one) exports
them there. The adapter reports which case the active stack is in and which
log-store flavors the engine knows; :mod:`kitaru.stacks.log_store` words the
errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class LogStoreComponents(Protocol):
    """What Kitaru needs from an engine about log-store components."""

    def active_stack_log_store(self) -> StackLogStore:
        """The active stack's name and its log-store component (contacts the store)."""
        ...

    def log_store_flavors(self) -> frozenset[str]:
        """The log-store flavors the engine knows: its built-ins, plus those registered in the store when it answers."""
        ...


__all__ = ["LogStoreComponents", "StackLogStore"]

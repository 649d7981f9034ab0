"""Kitaru: durable execution for AI agents.

Decorate the orchestration function with :func:`flow` and its units of work
with :func:`checkpoint`; every checkpoint's output is persisted, so executions
survive crashes and can be retried, resumed and replayed::

    import kitaru

    @kitaru.checkpoint
    def research(topic: str) -> str:
        return f"notes on {topic}"

    @kitaru.flow
    def agent(topic: str) -> str:
        return research(topic).upper()

    print(agent.run("durability").wait())

Importing ``kitaru`` is cheap: the engine (ZenML) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitaru.budget import Budget
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruBudgetExceededError,
    KitaruCassetteMiss,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruError,
    KitaruExecutionError,
    KitaruFeatureNotAvailableError,
    KitaruLogRetrievalError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruStructuredOutputError,
    KitaruTimeoutError,
    KitaruUsageError,
    KitaruUserCodeError,
    KitaruWaitValidationError,
)
from kitaru.lazy_exports import load_export
from kitaru.plugins.hookspecs import hookimpl as hookimpl  # the one import a plugin author needs

if TYPE_CHECKING:  # what editors and type checkers see; at run time these load on first use
    from kitaru.checkpoints import checkpoint
    from kitaru.client import KitaruClient
    from kitaru.config import ImageSettings, KitaruConfig, configure
    from kitaru.connection import connect
    from kitaru.flows import FlowHandle, flow
    from kitaru.primitives import llm, load, log, receive, save, sleep, sleep_until, wait
    from kitaru.stacks import StackInfo, create_stack, current_stack, delete_stack, list_stacks, use_stack

__version__ = "0.1.0"

# Public names that live in submodules, imported on first attribute access so
# that ``import kitaru`` stays fast and never imports the engine.
_LAZY: dict[str, str] = {
    "flow": "kitaru.flows",
    "FlowHandle": "kitaru.flows",
    "checkpoint": "kitaru.checkpoints",
    "log": "kitaru.primitives",
    "save": "kitaru.primitives",
    "load": "kitaru.primitives",
    "wait": "kitaru.primitives",
    "receive": "kitaru.primitives",
    "sleep": "kitaru.primitives",
    "sleep_until": "kitaru.primitives",
    "llm": "kitaru.primitives",
    "configure": "kitaru.config",
    "KitaruConfig": "kitaru.config",
    "ImageSettings": "kitaru.config",
    "connect": "kitaru.connection",
    "StackInfo": "kitaru.stacks",
    "list_stacks": "kitaru.stacks",
    "current_stack": "kitaru.stacks",
    "use_stack": "kitaru.stacks",
    "create_stack": "kitaru.stacks",
    "delete_stack": "kitaru.stacks",
    "KitaruClient": "kitaru.client",
}

__all__ = [
    "flow",
    "checkpoint",
    "FlowHandle",
    "log",
    "save",
    "load",
    "wait",
    "receive",
    "sleep",
    "sleep_until",
    "llm",
    "configure",
    "connect",
    "KitaruConfig",
    "ImageSettings",
    "StackInfo",
    "list_stacks",
    "current_stack",
    "use_stack",
    "create_stack",
    "delete_stack",
    "KitaruClient",
    "FailureOrigin",
    "KitaruError",
    "KitaruUsageError",
    "KitaruContextError",
    "KitaruStateError",
    "KitaruStructuredOutputError",
    "KitaruRuntimeError",
    "KitaruExecutionError",
    "KitaruUserCodeError",
    "KitaruDivergenceError",
    "KitaruBackendError",
    "KitaruLogRetrievalError",
    "KitaruWaitValidationError",
    "KitaruFeatureNotAvailableError",
    "KitaruTimeoutError",
    "Budget",
    "KitaruBudgetExceededError",
    "KitaruCassetteMiss",
]


def __getattr__(name: str) -> Any:
    return load_export(__name__, _LAZY, name, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

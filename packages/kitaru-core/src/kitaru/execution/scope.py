"""Where are we? Flow and checkpoint scopes, tracked with context variables.

The flow scope is set while a flow body runs; the checkpoint scope while a
checkpoint function runs. Primitives (``log``, ``save``, ``wait``, ``llm``)
and checkpoint calls look at them to enforce the call-site rules of SPEC §2.0
and to find the execution they belong to::

    from kitaru.execution.scope import current_checkpoint, current_flow

    if current_checkpoint() is not None:
        ...  # inside a @checkpoint
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FlowScope:
    """The flow body currently running in this context.

    Attributes:
        name: The flow's name.
        flow_id: The engine's id of the flow.
        execution_id: The execution the body runs for.
        outputs: ``id(value) -> (value, handle, info)`` for every checkpoint
            output the body received: passing that value on to another
            checkpoint records the lineage instead of storing it again.
        llm_calls: How many ``kitaru.llm()`` calls the body made.
        llm_names: Their names (each is also an invocation id).
        journal: The recorded calls when the body continues an execution
            (retry, resume) or replays one (:class:`kitaru.execution.journal.Journal`).
        supervisor: The owning process's supervisor (knows whether a cancel
            was requested).
        call_counts: Calls per checkpoint name so far, to name invocations as
            the engine does.
        calls_made: Checkpoint calls (and maps) the body made so far: the
            next call's index, recorded so calls list in call order.
        budget_ledger: What this run of the body knows of its execution's
            budget and spending, read at its first model request
            (:class:`kitaru.execution.budgets.Ledger`).
        positions: Calls so far per label (``sleep``, ``receive:<topic>``),
            counted by :meth:`next_position`.
    """

    name: str
    flow_id: str | None
    execution_id: str | None
    outputs: dict[int, tuple[Any, Any, Any]] = field(default_factory=dict)
    llm_calls: int = 0
    llm_names: set[str] = field(default_factory=set)
    journal: Any = None
    supervisor: Any = None
    call_counts: dict[str, int] = field(default_factory=dict)
    calls_made: int = 0
    budget_ledger: Any = None
    positions: dict[str, int] = field(default_factory=dict)
    counting: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """Held while a counter moves: agent adapters and async checkpoints launch calls from threads."""

    def next_call_index(self) -> int:
        """The position of the next checkpoint call in this body (0 for the first)."""
        with self.counting:
            index = self.calls_made
            self.calls_made += 1
            return index

    def next_position(self, label: str) -> int:
        """The position of the next call labelled ``label`` in this run of the body (0 for the first).

        Primitives that are named by their order in the body count here:
        ``kitaru.sleep()`` under ``sleep`` (``sleep:0``, ``sleep:1`` ...), the
        receives of a topic under ``receive:<topic>``. A retried or resumed
        body runs with a new scope, so it counts from 0 again and meets the
        same names in the same order.
        """
        with self.counting:
            position = self.positions.get(label, 0)
            self.positions[label] = position + 1
            return position

    def next_invocation_id(self, checkpoint: str, explicit_id: str | None) -> str:
        """The invocation id the engine gives the next call (``name``, ``name_2`` ...)."""
        if explicit_id:
            return explicit_id
        with self.counting:
            count = self.call_counts.get(checkpoint, 0) + 1
            self.call_counts[checkpoint] = count
        return checkpoint if count == 1 else f"{checkpoint}_{count}"


@dataclass
class CheckpointScope:
    """The checkpoint function currently running in this context."""

    name: str
    type: str | None
    execution_id: str | None
    checkpoint_id: str | None
    llm_calls: int = 0
    llm_names: set[str] = field(default_factory=set)


_flow_scope: ContextVar[FlowScope | None] = ContextVar("kitaru_flow_scope", default=None)
_checkpoint_scope: ContextVar[CheckpointScope | None] = ContextVar("kitaru_checkpoint_scope", default=None)


def current_flow() -> FlowScope | None:
    """Return the running flow's scope, or None outside a flow."""
    return _flow_scope.get()


def current_checkpoint() -> CheckpointScope | None:
    """Return the running checkpoint's scope, or None outside a checkpoint."""
    return _checkpoint_scope.get()


@contextmanager
def flow_scope(scope: FlowScope) -> Iterator[FlowScope]:
    """Enter ``scope`` as the current flow for the duration of the block."""
    token = _flow_scope.set(scope)
    try:
        yield scope
    finally:
        _flow_scope.reset(token)


@contextmanager
def checkpoint_scope(scope: CheckpointScope) -> Iterator[CheckpointScope]:
    """Enter ``scope`` as the current checkpoint for the duration of the block."""
    token = _checkpoint_scope.set(scope)
    try:
        yield scope
    finally:
        _checkpoint_scope.reset(token)


__all__ = ["CheckpointScope", "FlowScope", "checkpoint_scope", "current_checkpoint", "current_flow", "flow_scope"]

"""The port for answering durable waits from any process: list them, continue or abort one.

A wait (``kitaru.wait()``) is recorded on its execution as a
:class:`~kitaru.engine.runs.WaitRecord`; the waits of one execution are
read with :meth:`kitaru.engine.runs.RunStore.list_waits`. Which wait a
selector means, whether an input is valid and every message are Kitaru's
rules (:mod:`kitaru.execution.waits`); the engine only stores the answer.
Raising ``kitaru.wait()`` in a flow body is the runtime's job
(:mod:`kitaru.engine.runtime`).

Errors: :class:`~kitaru.engine.errors.RecordNotFound` for a wait that no
longer exists, :class:`~kitaru.engine.errors.RecordConflict` for one that was
resolved meanwhile, :class:`WaitInputRejected` when the engine refuses the
value; other engine errors propagate.
"""

from __future__ import annotations

from typing import Any, Protocol

from kitaru.engine.runs import WaitRecord


class WaitInputRejected(ValueError):
    """The engine refused a wait's input.

    Attributes:
        takes_value: False when the wait is a gate that accepts no value;
            True when the value did not match the wait's schema.
    """

    def __init__(self, detail: str, *, takes_value: bool) -> None:
        super().__init__(detail)
        self.takes_value = takes_value


class WaitAnswers(Protocol):
    """Answer waits that are pending, from any process."""

    def list_pending(self) -> list[WaitRecord]:
        """Every pending wait of every execution, oldest first (each record carries its ``run_id``)."""
        ...

    def resolve(self, wait_id: str, value: Any) -> None:
        """Continue a pending wait with ``value`` (JSON data; None for a gate)."""
        ...

    def abort(self, wait_id: str) -> None:
        """Abort a pending wait: the engine stops its execution."""
        ...


__all__ = ["WaitAnswers", "WaitInputRejected"]

"""ZenML's run wait conditions as Kitaru's :class:`~kitaru.engine.waits.WaitAnswers`.

Translation only: list pending wait conditions, resolve one with
``CONTINUE`` or ``ABORT``, and turn ZenML's refusals into the port's errors
(:class:`~kitaru.engine.errors.RecordNotFound`,
:class:`~kitaru.engine.errors.RecordConflict`,
:class:`~kitaru.engine.waits.WaitInputRejected`). Kitaru's rules and messages
for answering waits live in :mod:`kitaru.execution.waits`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru._engine.run_store import WAIT_PAGE_SIZE, client, wait_record
from kitaru.engine.errors import RecordConflict, RecordNotFound
from kitaru.engine.runs import WaitRecord
from kitaru.engine.waits import WaitInputRejected


class ZenMLWaitAnswers:
    """Pending wait conditions in ZenML's store, and their resolution."""

    def list_pending(self) -> list[WaitRecord]:
        engine = client()
        found: list[WaitRecord] = []
        page = 1
        while True:
            result = engine.list_run_wait_conditions(
                status="pending", sort_by="asc:created", page=page, size=WAIT_PAGE_SIZE, hydrate=True
            )
            found.extend(wait_record(condition, run_id=str(condition.run.id)) for condition in result.items)
            if page >= result.total_pages:
                return found
            page += 1

    def resolve(self, wait_id: str, value: Any) -> None:
        from zenml.enums import RunWaitConditionResolution

        self._resolve(wait_id, RunWaitConditionResolution.CONTINUE, value)

    def abort(self, wait_id: str) -> None:
        from zenml.enums import RunWaitConditionResolution

        self._resolve(wait_id, RunWaitConditionResolution.ABORT, None)

    def _resolve(self, wait_id: str, resolution: Any, result: Any) -> None:
        from zenml.exceptions import IllegalOperationError

        try:
            client().resolve_run_wait_condition(UUID(wait_id), resolution=resolution, result=result)
        except IllegalOperationError as exc:
            if "already been resolved" in str(exc):
                raise RecordConflict(str(exc)) from exc
            if "do not accept a result" in str(exc):
                raise WaitInputRejected(str(exc), takes_value=False) from exc
            raise
        except KeyError:
            raise RecordNotFound(wait_id) from None
        except ValueError as exc:
            if "does not match expected schema" in str(exc):
                raise WaitInputRejected(str(exc), takes_value=True) from exc
            raise


__all__ = ["ZenMLWaitAnswers"]

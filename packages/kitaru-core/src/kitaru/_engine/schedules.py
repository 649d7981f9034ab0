"""ZenML's schedules as Kitaru's :class:`~kitaru.engine.schedules.EngineSchedules`.

Translation only. A Kitaru :class:`~kitaru.engine.schedules.ScheduleRequest`
becomes ZenML's ``Schedule(name=..., cron_expression=...)``, passed to the
configured pipeline with ``with_options(schedule=...)`` (:func:`schedule_options`
is that request, exactly); calling the pipeline then registers the schedule in
the store and with the orchestrator (a Kubernetes CronJob, a Vertex AI or
SageMaker schedule, an AzureML job schedule) instead of running it. Whether a
stack can is its orchestrator's ``config.is_schedulable``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from kitaru._engine.bootstrap import client, load_engine
from kitaru.engine.schedules import ScheduleRequest, SchedulesUnsupported


def schedule_options(request: ScheduleRequest) -> dict[str, Any]:
    """The ``with_options(...)`` keywords that put a pipeline on ``request``'s schedule."""
    from zenml.config.schedule import Schedule

    return {"schedule": Schedule(name=request.name, cron_expression=request.cron_expression)}


class ZenMLSchedules:
    """Schedules run by the active stack's orchestrator."""

    def supports_schedules(self) -> bool:
        load_engine()
        return bool(client().active_stack.orchestrator.config.is_schedulable)

    def create(self, flow: Any, params: Mapping[str, Any], request: ScheduleRequest) -> str:
        if not self.supports_schedules():
            raise SchedulesUnsupported(str(client().active_stack_model.name))
        before = set(self._ids(request.name))
        try:
            # With a schedule, calling the pipeline registers the schedule and returns None.
            flow.with_options(**schedule_options(request))(**params)
        except BaseException:
            # ZenML records the schedule before it builds the image and hands it to the
            # orchestrator; when a later step fails, drop that record (nothing runs it).
            for schedule_id in set(self._ids(request.name)) - before:
                with contextlib.suppress(Exception):
                    client().zen_store.delete_schedule(schedule_id=schedule_id, soft=False)
            raise
        created = [schedule_id for schedule_id in self._ids(request.name) if schedule_id not in before]
        if not created:  # pragma: no cover - ZenML registers it before returning
            raise RuntimeError(f"the engine did not record schedule '{request.name}'")
        return str(created[0])

    @staticmethod
    def _ids(name: str) -> list[Any]:
        """Ids of the engine's schedules of this name, newest first."""
        page = client().list_schedules(name=name, size=50, sort_by="desc:created")
        return [item.id for item in page.items]

    def delete(self, schedule_id: str) -> None:
        try:
            client().delete_schedule(schedule_id)
        except KeyError:
            return  # already gone


__all__ = ["ZenMLSchedules", "schedule_options"]

"""The port for schedules the engine keeps: orchestrators that start runs on a cron by themselves.

Remote orchestrators (Kubernetes, Vertex AI, SageMaker, AzureML) run
schedules themselves; the local default does not, so Kitaru keeps those
itself (:mod:`kitaru.schedules`). Which stack gets which, every check and
every message are Kitaru's; the engine only answers whether the active
stack can, and creates and deletes what it is asked::

    schedules = get_engine().schedules
    if schedules.supports_schedules():
        schedule_id = schedules.create(configured_flow, {"topic": "x"},
                                       ScheduleRequest(name="nightly", cron_expression="0 7 * * *"))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class SchedulesUnsupported(RuntimeError):
    """The active stack's orchestrator cannot run schedules."""


@dataclass(frozen=True)
class ScheduleRequest:
    """A schedule for the engine to create.

    Attributes:
        name: The schedule's name (Kitaru's schedule name).
        cron_expression: Five-field cron expression.
    """

    name: str
    cron_expression: str


class EngineSchedules(Protocol):
    """Create and delete schedules that the active stack's orchestrator runs."""

    def supports_schedules(self) -> bool:
        """Whether the active stack's orchestrator runs schedules."""
        ...

    def create(self, flow: Any, params: Mapping[str, Any], request: ScheduleRequest) -> str:
        """Hand ``flow`` (configured by the runtime) with ``params`` to the orchestrator on a schedule.

        Returns:
            The engine's schedule id.

        Raises:
            SchedulesUnsupported: If the active stack cannot run schedules.
        """
        ...

    def delete(self, schedule_id: str) -> None:
        """Delete an engine schedule (a schedule that no longer exists is not an error)."""
        ...


__all__ = ["EngineSchedules", "ScheduleRequest", "SchedulesUnsupported"]

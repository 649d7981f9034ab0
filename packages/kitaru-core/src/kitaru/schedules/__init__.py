"""Schedules: run a flow on a cron, on the local default and on remote stacks.

::

    kitaru schedule create nightly-report agents.py:report --cron "0 7 * * *" --args '{"topic": "sales"}'
    kitaru schedule list
    kitaru schedule run-due          # from cron or a systemd timer, every minute
    kitaru schedule delete nightly-report

The same from Python::

    from kitaru.schedules import create_schedule, list_schedules, run_due

    create_schedule("nightly-report", "agents.py:report", cron="0 7 * * *", args={"topic": "sales"})
    report = run_due()
    for fire in report.started:
        print(fire.name, fire.execution_id, fire.status, fire.missed_count)

Where a schedule lives depends on its flow's stack: an orchestrator that runs
schedules (Kubernetes, Vertex AI, SageMaker, AzureML) gets it through the
engine port (:mod:`kitaru.engine.schedules`); on the local default Kitaru keeps
it in ``schedules.json`` in its config directory and ``run-due`` starts what is
due, reporting missed fire times instead of dropping them (the catch-up policy
is in :mod:`kitaru.schedules.due`).

Modules: :mod:`~kitaru.schedules.records` (the record, name rules),
:mod:`~kitaru.schedules.cron` (cron expressions), :mod:`~kitaru.schedules.due`
(due and missed fire times), :mod:`~kitaru.schedules.store` (the file, under
the lock), :mod:`~kitaru.schedules.manage` (create/list/get/delete),
:mod:`~kitaru.schedules.runner` (run-due).
"""

from __future__ import annotations

from kitaru.schedules.due import DueFire
from kitaru.schedules.manage import (
    ScheduleStatus,
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
)
from kitaru.schedules.records import Schedule
from kitaru.schedules.runner import RunDueReport, StartedFire, TakenFire, run_due

__all__ = [
    "DueFire",
    "RunDueReport",
    "Schedule",
    "ScheduleStatus",
    "StartedFire",
    "TakenFire",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "run_due",
]

"""Create, list, get and delete schedules.

::

    from kitaru.schedules import create_schedule, delete_schedule, list_schedules

    create_schedule("nightly-report", "agents.py:report", cron="0 7 * * *", args={"topic": "sales"})
    for status in list_schedules():
        print(status.schedule.name, status.next_fire_at, status.schedule.missed_count)
    delete_schedule("nightly-report")

:func:`create_schedule` checks everything before it writes anything: the
name, the cron expression, the target (it is loaded, as ``kitaru run`` loads
it) and the arguments (they must fit the flow's parameters). Then it picks
where the schedule lives:

* the stack the flow runs on has an orchestrator that runs schedules
  (Kubernetes, Vertex AI, SageMaker, AzureML): the engine gets the schedule
  and its orchestrator starts the runs; Kitaru keeps a record of it so that
  ``list`` and ``delete`` cover it;
* otherwise (the local default): Kitaru keeps it in ``schedules.json``
  (:mod:`kitaru.schedules.store`) and ``kitaru schedule run-due``
  (:func:`kitaru.schedules.runner.run_due`) starts what is due.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kitaru.config import resolve_execution_config
from kitaru.engine import get_engine
from kitaru.engine.schedules import ScheduleRequest
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru.execution.sources import ensure_source_root, use_source_root
from kitaru.execution.submit import bind_parameters, on_stack, run_options
from kitaru.jsonable import json_problem
from kitaru.schedules import store
from kitaru.schedules.cron import check_cron
from kitaru.schedules.due import DueFire, due_fire, next_fire_time
from kitaru.schedules.records import ENGINE, LOCAL, Schedule, check_name
from kitaru.targets import RUN_OPTION_NAMES, FlowTarget, load_flow_target


@dataclass(frozen=True)
class ScheduleStatus:
    """A schedule and what is next for it, at one moment.

    Attributes:
        schedule: The record.
        next_fire_at: Its next fire time after now.
        due_at: The fire time ``run-due`` would start now (None when nothing
            is due; always None for engine schedules, which the orchestrator starts).
        pending_missed_count: Fire times that ``run-due`` would report
            missed now (they add to ``schedule.missed_count`` when it runs).
    """

    schedule: Schedule
    next_fire_at: datetime
    due_at: datetime | None
    pending_missed_count: int

    def to_json(self) -> dict[str, Any]:
        """The schedule's fields plus ``next_fire_at``, ``due_at`` and ``pending_missed_count``."""
        due = self.due_at
        return {
            **self.schedule.to_json(),
            "next_fire_at": self.next_fire_at.astimezone(UTC).isoformat(),
            "due_at": None if due is None else due.astimezone(UTC).isoformat(),
            "pending_missed_count": self.pending_missed_count,
        }


def check_args(args: Any) -> dict[str, Any]:
    """Validate a schedule's flow inputs: a JSON object of parameter names to JSON values.

    Raises:
        KitaruUsageError: If ``args`` is not a mapping with string keys, holds
            values that are not JSON, or uses a name ``run()`` reserves.
    """
    if args is None:
        return {}
    if not isinstance(args, Mapping):
        raise KitaruUsageError(
            f"Schedule arguments must be a JSON object of flow parameter names to values, e.g. "
            f'{{"topic": "sales"}}; got {type(args).__name__}.'
        )
    bad = sorted(repr(key) for key in args if not isinstance(key, str))
    if bad:
        raise KitaruUsageError(f"Schedule argument names must be strings; got {', '.join(bad)}.")
    problem = json_problem(dict(args), "the arguments")
    if problem:
        raise KitaruUsageError(
            f"Schedule arguments must be JSON values (strings, numbers, booleans, null, lists, objects): {problem}."
        )
    value: dict[str, Any] = json.loads(json.dumps(dict(args)))
    reserved = sorted(set(value) & set(RUN_OPTION_NAMES))
    if reserved:
        raise KitaruUsageError(
            f"Schedule arguments cannot be named {', '.join(reserved)}: run() uses those names for its options."
        )
    return value


def _check_new_name(name: str, schedules: Mapping[str, Schedule]) -> None:
    existing = schedules.get(name)
    if existing is not None:
        raise KitaruUsageError(
            f"A schedule named '{name}' already exists (target {existing.target}, cron '{existing.cron}'). "
            f"Choose another name, or delete it first: kitaru schedule delete {name}"
        )


def _engine_schedule(loaded: FlowTarget, params: Mapping[str, Any], name: str, cron: str) -> tuple[str, str] | None:
    """Hand the schedule to the flow's stack if its orchestrator runs schedules.

    Returns:
        ``(stack name, engine schedule id)``, or None when the stack cannot
        (Kitaru keeps the schedule itself).
    """
    engine = get_engine()
    runtime = engine.runtime
    flow = loaded.flow
    resolved = resolve_execution_config(active_stack=runtime.active_stack(), decorator=flow.defaults, call={})
    with on_stack(runtime, resolved.stack):
        if not engine.schedules.supports_schedules():
            return None
        if loaded.source_root is not None:
            use_source_root(loaded.source_root)
        ensure_source_root(flow.func)
        configured = runtime.configure_flow(flow.engine_flow(), run_options(resolved))
        stack = runtime.active_stack()
        try:
            schedule_id = engine.schedules.create(configured, params, ScheduleRequest(name=name, cron_expression=cron))
        except Exception as exc:  # the orchestrator's own failure (image build, credentials, API)
            raise KitaruBackendError(
                f"Stack '{stack}' could not create schedule '{name}': {type(exc).__name__}: {exc}. Nothing was "
                "saved; fix the stack (or run on a local stack, where `kitaru schedule run-due` starts it) and "
                "create the schedule again."
            ) from exc
        return stack, schedule_id


def create_schedule(
    name: str,
    target: str,
    *,
    cron: str,
    args: Mapping[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> Schedule:
    """Create a schedule that runs a flow on a cron.

    Args:
        name: Unique name: letters, digits, ``_``, ``.``, ``-``.
        target: The flow, as ``kitaru run`` takes it: ``<module_or_file.py>:<flow>``.
        cron: Five-field cron expression (local time), e.g. ``"0 7 * * *"``.
        args: The flow's inputs by parameter name (JSON values).
        base_dir: The directory a relative target is resolved from; the
            current directory by default. ``run-due`` loads it from there.

    Returns:
        The schedule as recorded.

    Raises:
        KitaruUsageError: For a bad name, cron expression, target or
            arguments, or a name that is taken; nothing is written then.
        KitaruBackendError: If the stack's orchestrator runs schedules but
            could not create this one; nothing is written then.
    """
    name = check_name(name)
    cron = check_cron(cron)
    inputs = check_args(args)
    _check_new_name(name, store.load())
    base = Path(base_dir).expanduser().resolve() if base_dir is not None else Path.cwd().resolve()
    loaded = load_flow_target(target, base_dir=base)
    params = bind_parameters(loaded.flow, (), inputs)
    record = Schedule(name=name, target=loaded.target, cron=cron, args=inputs, base_dir=str(base))
    placed = _engine_schedule(loaded, params, name, cron)
    if placed is not None:
        record = record.with_changes(backend=ENGINE, stack=placed[0], engine_id=placed[1])
    try:
        with store.transaction() as schedules:
            _check_new_name(name, schedules)  # another process may have taken the name meanwhile
            schedules[name] = record
    except KitaruUsageError:
        if record.engine_id is not None:
            get_engine().schedules.delete(record.engine_id)
        raise
    return record


def _missing(name: str, schedules: Mapping[str, Schedule]) -> KitaruUsageError:
    known = ", ".join(schedules) or "none yet"
    return KitaruUsageError(f"No schedule named '{name}'. Schedules: {known} (see `kitaru schedule list`).")


def status_at(schedule: Schedule, now: datetime) -> ScheduleStatus:
    """What is next for ``schedule`` at ``now``."""
    due: DueFire | None = due_fire(schedule, now) if schedule.backend == LOCAL else None
    return ScheduleStatus(
        schedule=schedule,
        next_fire_at=next_fire_time(schedule, now),
        due_at=due.fire_at if due is not None else None,
        pending_missed_count=due.missed_count if due is not None else 0,
    )


def check_now(now: datetime | None) -> datetime:
    """The moment to evaluate schedules at: ``now`` (timezone-aware), or the current time.

    Raises:
        KitaruUsageError: If ``now`` has no time zone.
    """
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise KitaruUsageError("`now` must be a timezone-aware datetime, e.g. datetime.now(UTC).")
    return now


def list_schedules(*, now: datetime | None = None) -> list[ScheduleStatus]:
    """Every schedule, in creation order, with its next fire time, due fire and missed counts.

    Args:
        now: Evaluate at this moment (timezone-aware) instead of the current time.
    """
    moment = check_now(now)
    return [status_at(schedule, moment) for schedule in store.load().values()]


def get_schedule(name: str, *, now: datetime | None = None) -> ScheduleStatus:
    """One schedule by name.

    Raises:
        KitaruUsageError: If there is no schedule of that name.
    """
    name = check_name(name)
    schedules = store.load()
    if name not in schedules:
        raise _missing(name, schedules)
    return status_at(schedules[name], check_now(now))


def delete_schedule(name: str) -> Schedule:
    """Delete a schedule (an engine schedule is deleted from the orchestrator too).

    Returns:
        The deleted schedule.

    Raises:
        KitaruUsageError: If there is no schedule of that name.
    """
    name = check_name(name)
    known = store.load()
    if name not in known:
        raise _missing(name, known)  # before taking the lock: a refused delete leaves no file behind
    with store.transaction() as schedules:
        if name not in schedules:
            raise _missing(name, schedules)
        record = schedules[name]
        if record.engine_id is not None:
            get_engine().schedules.delete(record.engine_id)
        del schedules[name]
    return record


__all__ = [
    "ScheduleStatus",
    "check_args",
    "check_now",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "status_at",
]

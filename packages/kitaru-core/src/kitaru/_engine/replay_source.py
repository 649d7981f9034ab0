"""Read what a replay starts from: the source execution's calls, its state and its flow.

* :func:`load_calls` reads every checkpoint call of the source execution (its
  latest attempt, with upstream links, inputs and outputs) as
  :class:`~kitaru._engine.replay_plan.SourceCall` values to plan with.
* :func:`_require_finished` refuses a source that may still change (a paused
  source replays fine).
* :func:`find_flow` finds the flow object that ran the source, so that a
  replay can start from any process (client, CLI, MCP), not only from
  ``<flow>.replay(...)`` in the flow's own code.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from kitaru._engine.replay_plan import SourceCall
from kitaru.client.status import public_status
from kitaru.errors import KitaruStateError

if TYPE_CHECKING:
    from kitaru.flows import FlowDefinition

_STEP_PAGE_SIZE = 1000
# Engine statuses of a source that may still change (paused sources replay fine).
_UNFINISHED = {"initializing", "provisioning", "running", "retrying", "resuming", "stopping"}


# -- the source execution's calls ----------------------------------------------------------


def load_calls(run_id: Any) -> list[SourceCall]:
    """Read every checkpoint call of a run, with links, inputs and outputs."""
    from zenml.client import Client

    client = Client()
    steps: list[Any] = []
    page = 1
    while True:
        result = client.list_run_steps(
            pipeline_run_id=run_id, exclude_retried=False, sort_by="asc:created",
            size=_STEP_PAGE_SIZE, page=page, hydrate=True,
        )
        steps.extend(result.items)
        if page >= result.total_pages or not result.items:
            break
        page += 1
    groups: dict[str, list[Any]] = {}
    for step in sorted(steps, key=lambda s: (s.created, str(s.id))):
        groups.setdefault(step.name, []).append(step)
    invocation_of = {str(step.id): name for name, attempts in groups.items() for step in attempts}
    calls = []
    for name, attempts in groups.items():
        latest = attempts[-1]
        # The checkpoint's return value(s) only: values it stored with
        # kitaru.save() (an LLM call's prompt and response, say) are not
        # outputs a replay override could replace.
        outputs = {
            key: items
            for key, items in (latest.outputs or {}).items()
            if any(_is_step_output(artifact) for artifact in items)
        }
        parents = (invocation_of.get(str(parent)) for parent in latest.parent_step_ids or [])
        calls.append(
            SourceCall(
                invocation_id=name,
                checkpoint=latest.config.name if latest.config else name,
                call_id=str(latest.id),
                attempt_ids=frozenset(str(step.id) for step in attempts),
                status=str(latest.status.value),
                successful=latest.status.is_successful,
                started=attempts[0].start_time or attempts[0].created,
                parents=tuple(dict.fromkeys(p for p in parents if p is not None and p != name)),
                outputs=tuple(artifact for items in outputs.values() for artifact in items),
                output_names=tuple(outputs),
                inputs={key: tuple(str(a.id) for a in items) for key, items in (latest.inputs or {}).items()},
            )
        )
    return calls


def _is_step_output(artifact: Any) -> bool:
    save_type = getattr(artifact, "save_type", None)
    value = getattr(save_type, "value", save_type)
    return value in (None, "step_output")


# -- is it finished ----------------------------------------------------------------------------


def _require_finished(run: Any) -> None:
    status = str(run.status.value)
    if status in _UNFINISHED:
        public = public_status(status, has_active_wait=run.active_wait_condition is not None)
        raise KitaruStateError(
            f"Execution {run.id} is still {public} (engine status: {status}); replay it once it "
            f"has finished, or cancel it first with `kitaru executions cancel {run.id}`."
        )


# -- the flow that ran it -----------------------------------------------------------------------


def _flow_in(module: Any, name: str, alias: str | None) -> FlowDefinition | None:
    from kitaru.flows import FlowDefinition

    for value in list(vars(module).values()):
        if isinstance(value, FlowDefinition) and value.name == name:
            return value
    entrypoint = getattr(module, alias, None) if alias else None
    for cell in getattr(entrypoint, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, FlowDefinition) and value.name == name:
            return value
    return None


def find_flow(run: Any) -> FlowDefinition:
    """Find the flow object that ran ``run``.

    Imports the module recorded in the run (from the source root recorded at
    submission), then tries loaded modules whose name ends with it, then
    ``__main__``.

    Raises:
        KitaruStateError: If the flow cannot be found.
    """
    from kitaru._engine.lifecycle import _make_flow_importable

    name = run.pipeline.name if run.pipeline is not None else None
    source = run.snapshot.pipeline_spec.source if run.snapshot and run.snapshot.pipeline_spec else None
    module_name = getattr(source, "module", None)
    alias = getattr(source, "attribute", None)
    if not name or not module_name:
        raise KitaruStateError(
            f"Execution {run.id} does not record which flow ran it, so it cannot be replayed "
            "from here. Call `<flow>.replay(...)` from Python instead."
        )
    _make_flow_importable(run)
    candidates: list[Any] = []
    problem = None
    try:
        candidates.append(importlib.import_module(module_name))
    except Exception as exc:  # the user's module may fail to import here
        problem = f"{type(exc).__name__}: {exc}"
    for key, module in list(sys.modules.items()):
        if module is not None and (key.endswith(f".{module_name}") or module_name.endswith(f".{key}")):
            candidates.append(module)
    if "__main__" in sys.modules:
        candidates.append(sys.modules["__main__"])
    for module in candidates:
        found = _flow_in(module, name, alias)
        if found is not None:
            return found
    why = f"importing module `{module_name}` failed: {problem}" if problem else f"`{module_name}` has no flow `{name}`"
    raise KitaruStateError(
        f"Cannot find flow `{name}` to replay execution {run.id}: {why}. Run the replay where the "
        f"flow's module can be imported, or call `{name}.replay(...)` from Python."
    )

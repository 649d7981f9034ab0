"""Replay an execution into a new one, reusing every checkpoint before a chosen point.

::

    handle = writer.replay(exec_id, from_="write_draft",
                           overrides={"checkpoint.research": "edited notes"})
    new_id = replay_execution(exec_id, from_="write_draft")   # from any process

1. The source execution's checkpoint calls are read (:func:`load_calls`) and
   put in order (:func:`~kitaru.execution.replay_plan.order_calls`).
2. The *frontier* is the earliest of the ``from_`` checkpoint and every
   consumer of an overridden output (:mod:`kitaru.execution.replay_plan`).
   Calls before it are *reused*: the engine records them in the new
   execution with the same outputs and a link to the original call, and
   hands the flow body the recorded output without running anything. The
   body must make them as the source did, which the journal checks. From the
   frontier on, every call executes again (with the cache off unless the
   caller passes ``cache=True``).
3. Each override value is stored once, with Kitaru's serializers, and wired as
   an input override into every later call that consumed the overridden
   output. When the overridden checkpoint itself is reused, the flow body
   receives the edited value as its output too, so values the body computes
   from it change as well (on runtimes where the body runs in this process).
4. The new execution records its source, start and overrides
   (:mod:`kitaru.execution.replay_record`): the edited value is the
   overridden call's output there, for the client and for a later replay of
   it, which keeps the edited value of every call it reuses.

The replay is submitted through the one submission path
(:mod:`kitaru.execution.submit`), like ``my_flow.run(...)``.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Mapping
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord, StepRecord
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruDivergenceError,
    KitaruError,
    KitaruStateError,
    KitaruUsageError,
)
from kitaru.execution.artifacts import load_artifact
from kitaru.execution.call_order import attempts_by_call
from kitaru.execution.console import say
from kitaru.execution.definitions import FlowBase
from kitaru.execution.journal import journal_of
from kitaru.execution.keys import RESULT_KEY
from kitaru.execution.override_values import body_sees, is_step_output
from kitaru.execution.replay_plan import (
    ReplayPlan,
    SourceCall,
    order_calls,
    parse_overrides,
    plan_replay,
    require_selector,
)
from kitaru.execution.replay_record import ReplayRecord, replay_record
from kitaru.execution.runs import load_run
from kitaru.execution.sources import make_flow_importable
from kitaru.execution.status import public_status
from kitaru.execution.submit import Submitted, current_submission, finish, start

UNFINISHED = frozenset({"initializing", "provisioning", "running", "retrying", "resuming", "stopping"})
"""Engine statuses of a source that may still change (a paused source replays fine)."""


# -- the source execution ----------------------------------------------------------------


def source_calls(
    groups: Mapping[str, list[StepRecord]], output_overrides: Mapping[str, str] | None = None
) -> list[SourceCall]:
    """Every checkpoint call of the source, as :class:`SourceCall` values to plan with.

    Args:
        groups: The source's attempts by invocation id (:func:`~kitaru.execution.call_order.attempts_by_call`).
        output_overrides: When the source is itself a replay, the calls whose
            output it overrode: invocation id -> artifact id of the edited
            value (:meth:`~kitaru.execution.replay_record.ReplayRecord.output_overrides`).
    """
    output_overrides = output_overrides or {}
    invocation_of = {step.id: name for name, attempts in groups.items() for step in attempts}
    calls = []
    for name, attempts in groups.items():
        latest = attempts[-1]
        # The checkpoint's return value(s) only: values it stored with
        # kitaru.save() (an LLM call's prompt and response, say) are not
        # outputs a replay override could replace.
        outputs = {
            key: items for key, items in latest.outputs.items() if any(is_step_output(a.save_type) for a in items)
        }
        parents = (invocation_of.get(parent) for parent in latest.parent_ids)
        first = attempts[0]
        calls.append(
            SourceCall(
                invocation_id=name,
                checkpoint=latest.checkpoint,
                call_id=latest.id,
                attempt_ids=frozenset(step.id for step in attempts),
                status=latest.status,
                successful=latest.successful,
                started=first.started or first.created,  # type: ignore[arg-type]
                parents=tuple(dict.fromkeys(p for p in parents if p is not None and p != name)),
                outputs=tuple(artifact for items in outputs.values() for artifact in items),
                output_names=tuple(outputs),
                inputs=dict(latest.inputs),
                override_id=output_overrides.get(name),
            )
        )
    return calls


def load_calls(run: RunRecord) -> list[SourceCall]:
    """Read every checkpoint call of an execution, with links, inputs, outputs and recorded overrides."""
    record = replay_record(run.metadata)
    overridden = record.output_overrides() if record is not None else None
    return source_calls(attempts_by_call(get_engine().runs.list_steps([run.id])), overridden)


def require_finished(run: RunRecord) -> None:
    """Refuse a source that may still change (a paused source replays fine).

    Raises:
        KitaruStateError: If the source is still running.
    """
    if run.status in UNFINISHED:
        public = public_status(run.status, has_active_wait=run.active_wait is not None)
        raise KitaruStateError(
            f"Execution {run.id} is still {public} (engine status: {run.status}); replay it once it "
            f"has finished, or cancel it first with `kitaru executions cancel {run.id}`."
        )


# -- the flow that ran it ---------------------------------------------------------------------


def _flow_in(module: Any, name: str, alias: str | None) -> FlowBase | None:
    for value in list(vars(module).values()):
        if isinstance(value, FlowBase) and value.name == name:
            return value
    entrypoint = getattr(module, alias, None) if alias else None
    for cell in getattr(entrypoint, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, FlowBase) and value.name == name:
            return value
    return None


def find_flow(run: RunRecord) -> FlowBase:
    """Find the flow object that ran ``run``.

    Imports the module recorded in the run (from the source root recorded at
    submission), then tries loaded modules whose name ends with it, then
    ``__main__``.

    Raises:
        KitaruStateError: If the flow cannot be found.
    """
    name = run.flow_name
    module_name = run.flow_source.module if run.flow_source is not None else None
    alias = run.flow_source.attribute if run.flow_source is not None else None
    if not name or not module_name:
        raise KitaruStateError(
            f"Execution {run.id} does not record which flow ran it, so it cannot be replayed "
            "from here. Call `<flow>.replay(...)` from Python instead."
        )
    make_flow_importable(run)
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


# -- running it -------------------------------------------------------------------------------


def _check_inputs(flow: FlowBase, flow_inputs: Mapping[str, Any]) -> dict[str, Any]:
    names = list(inspect.signature(flow.func).parameters)
    unknown = sorted(set(flow_inputs) - set(names))
    if unknown:
        raise KitaruUsageError(
            f"Unknown input {', '.join(repr(name) for name in unknown)} for flow "
            f"'{flow.name}'. Its inputs are: {', '.join(names) or 'none'}."
        )
    return dict(flow_inputs)


def _prepare(
    flow: FlowBase, exec_id: str, from_: Any, overrides: Any
) -> tuple[RunRecord, dict[str, list[StepRecord]], ReplayPlan]:
    """Validate everything and plan the replay before anything is written."""
    selector = require_selector(from_)
    parsed = parse_overrides(overrides)
    run = load_run(exec_id)
    require_finished(run)
    if run.flow_name is not None and run.flow_name != flow.name:
        raise KitaruUsageError(
            f"Execution {run.id} belongs to flow '{run.flow_name}', not '{flow.name}'. Replay "
            f"it with that flow, or with `kitaru executions replay {run.id} --from {selector}`."
        )
    record = replay_record(run.metadata)
    try:
        groups = attempts_by_call(get_engine().runs.list_steps([run.id]))
        calls = order_calls(source_calls(groups, record.output_overrides() if record is not None else None))
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to replay execution {run.id}: cannot read its checkpoints: {exc}") from exc
    return run, groups, plan_replay(run.id, calls, selector, parsed)


def _edited_outputs(plan: ReplayPlan) -> dict[str, Any]:
    """Where the body finds each reused, overridden call's output -> the edited value.

    The lineage still points at the original output, which every consumer
    receives as the override. A value an earlier replay overrode
    (:class:`~kitaru.execution.replay_plan.Inherited`) is loaded once and
    handed over the same way.
    """
    values: list[tuple[SourceCall, Any]] = [(item.source, item.value) for item in plan.overrides]
    values += [(item.source, load_artifact(item.artifact_id, item.source.invocation_id)) for item in plan.inherited]
    return {
        source.outputs[0].uri: value
        for source, value in values
        if source.invocation_id in plan.reused and source.outputs
    }


def replay_failure(exec_id: str, exc: BaseException | None, new_id: str | None = None) -> KitaruError:
    """The error for a replay the engine could not carry out.

    Args:
        exec_id: The source execution.
        exc: What the engine raised (None if it returned no execution).
        new_id: The new execution, if the engine created one.

    Returns:
        A :class:`~kitaru.errors.KitaruDivergenceError` when the engine found
        that the flow no longer matches its recorded checkpoints, else a
        :class:`~kitaru.errors.KitaruBackendError` (Kitaru's own errors pass).
    """
    if isinstance(exc, KitaruError):
        return exc
    text = str(exc) if exc is not None else "the engine returned no execution"
    if "diverg" in text.lower() or "original run" in text:
        where = f" The new execution {new_id} failed." if new_id else ""
        return KitaruDivergenceError(
            f"Failed to replay execution {exec_id}: the flow no longer matches its recorded "
            f"checkpoints ({text}).{where} Replay from an earlier checkpoint.",
            exec_id=new_id or exec_id,
            status="failed" if new_id else None,
            failure_origin=FailureOrigin.DIVERGENCE,
        )
    return KitaruBackendError(f"Failed to replay execution {exec_id}: {text}")


def _replay_record(plan: ReplayPlan, uploaded: Mapping[str, str], selector: str) -> ReplayRecord:
    return ReplayRecord(
        source_exec_id=plan.source_exec_id,
        from_checkpoint=selector,
        start=plan.frontier.invocation_id,
        reused=plan.reused,
        overrides={item.source.invocation_id: uploaded[item.key] for item in plan.overrides},
        inherited={item.source.invocation_id: item.artifact_id for item in plan.inherited},
    )


def _record(new_id: str, plan: ReplayPlan, uploaded: Mapping[str, str], selector: str) -> None:
    """Record what the replay did (:mod:`kitaru.execution.replay_record`).

    Each override is recorded as the output of its call in the new execution,
    so reading that call's output gives the edited value. When the body
    returned a reused call's output as is and that output was overridden, the
    result points at the edited value too. (A body that runs in this process
    records the same record as it starts, so an execution whose replay
    process died keeps it for its retry.)
    """
    record = _replay_record(plan, uploaded, selector)
    metadata = record.to_metadata()
    edited = record.output_overrides()
    result = load_run(new_id, action="refresh").metadata.get(RESULT_KEY) if edited else None
    returned = result if isinstance(result, dict) and result.get("kind") == "checkpoint_output" else None
    if returned is not None:
        for source in [item.source for item in plan.overrides] + [item.source for item in plan.inherited]:
            if source.invocation_id in plan.reused and returned.get("artifact_id") in {a.id for a in source.outputs}:
                metadata[RESULT_KEY] = {
                    "kind": "checkpoint_output",
                    "artifact_id": edited[source.invocation_id],
                    "checkpoint": source.invocation_id,
                }
    get_engine().runs.log_run_metadata(new_id, metadata)


def _say_overrides(plan: ReplayPlan, new_id: str) -> None:
    """The progress lines naming each overridden call."""
    for item in plan.overrides:
        name = item.source.invocation_id
        say(f"Checkpoint `{name}` overridden: execution {new_id} records the edited value as its output.")
    for inherited in plan.inherited:
        say(
            f"Checkpoint `{inherited.source.invocation_id}` reused with the value overridden in execution "
            f"{plan.source_exec_id}."
        )


def replay_flow(
    flow: FlowBase,
    exec_id: str,
    *,
    from_: str,
    overrides: Mapping[str, Any] | None = None,
    flow_inputs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Submitted:
    """Replay ``exec_id`` of ``flow`` into a new execution.

    Args:
        flow: The flow the source execution ran.
        exec_id: The source execution.
        from_: The checkpoint to start from (name, invocation id or call ID).
        overrides: ``{"checkpoint.<selector>": value}`` edited outputs.
        flow_inputs: Flow inputs that replace the source's.
        options: ``stack``/``image``/``cache``/``retries`` for this replay
            (``cache`` defaults to off so re-run checkpoints really run).

    Raises:
        KitaruUsageError: For an empty selector, bad override keys or unknown inputs.
        KitaruStateError: For a running source, another flow's execution, or a
            selector/override that does not fit the source (see
            :func:`~kitaru.execution.replay_plan.plan_replay`).
        KitaruDivergenceError: If the engine reports that the flow diverged.
        KitaruBackendError: If the engine could not start the replay.
    """
    inputs = _check_inputs(flow, flow_inputs or {})
    run, groups, plan = _prepare(flow, exec_id, from_, overrides)
    call = {"stack": None, "image": None, "cache": None, "retries": None, **(options or {})}
    call["cache"] = bool(call["cache"])  # re-run checkpoints run unless cache=True
    # The body must call the reused checkpoints as the source did (same
    # checkpoint, same inputs); otherwise their outputs would not fit.
    journal = journal_of(
        plan.source_exec_id,
        [attempts[-1] for name, attempts in groups.items() if name in plan.reused],
        strict_order=False,
        compare_artifacts=False,
        reused_from=f"execution {plan.source_exec_id}",
    )
    runtime = get_engine().runtime
    uploaded: dict[str, str] = {}
    selector = str(from_).strip()

    def launch(engine_flow: Any) -> Any:
        uploaded.update({item.key: runtime.upload(item.value) for item in plan.overrides})
        submission = current_submission()
        if submission is not None:  # the body runs here: it records the replay as it starts
            submission.metadata.update(_replay_record(plan, uploaded, selector).to_metadata())
        step_inputs: dict[str, dict[str, str]] = {}
        for inherited in plan.inherited:
            for consumer, input_name in inherited.consumers:
                step_inputs.setdefault(consumer, {})[input_name] = inherited.artifact_id
        for item in plan.overrides:
            for consumer, input_name in item.consumers:
                step_inputs.setdefault(consumer, {})[input_name] = uploaded[item.key]
        with body_sees(_edited_outputs(plan)):
            return runtime.start_replay(
                engine_flow, source_run_id=run.id, skip=plan.reused, step_inputs=step_inputs, flow_inputs=inputs
            )

    started = start(
        flow,
        launch,
        call=call,
        announce=f"Replaying execution `{plan.source_exec_id}` from `{plan.frontier.invocation_id}`.",
        journal=journal,
    )
    error = started.error
    if started.exec_id is None:
        raise replay_failure(plan.source_exec_id, error) from error
    if isinstance(error, Exception) and not isinstance(error, KitaruError) and "original run" in str(error):
        raise replay_failure(plan.source_exec_id, error, started.exec_id) from error
    submitted = finish(started, flow.name, record=lambda new_id: _record(new_id, plan, uploaded, selector))
    _say_overrides(plan, submitted.exec_id)
    return submitted


# -- replay from any process (client, CLI, MCP) ------------------------------------------------


def replay_execution(
    exec_id: str,
    *,
    from_: str,
    overrides: Mapping[str, Any] | None = None,
    flow_inputs: Mapping[str, Any] | None = None,
) -> str:
    """Replay an execution in this process (client, CLI, MCP) and return the new execution id.

    Finds the flow that ran the source (:func:`find_flow`) and replays on the
    source's stack.

    Raises:
        KitaruStateError: If the source is still running or its flow cannot be
            found; see also :func:`replay_flow`.
    """
    require_selector(from_)
    parse_overrides(overrides)
    run = load_run(exec_id, with_source=True)
    require_finished(run)
    flow = find_flow(run)
    submitted = replay_flow(
        flow, run.id, from_=from_, overrides=overrides, flow_inputs=flow_inputs, options={"stack": run.stack_name}
    )
    return submitted.exec_id


__all__ = [
    "UNFINISHED",
    "find_flow",
    "load_calls",
    "replay_execution",
    "replay_failure",
    "replay_flow",
    "require_finished",
    "source_calls",
]

"""Replay an execution into a new one, reusing every checkpoint before a chosen point.

::

    handle = writer.replay(exec_id, from_="write_draft",
                           overrides={"checkpoint.research": "edited notes"})

Replay maps onto the engine's ``Pipeline.replay`` (which works on the local
default; the store's server-side replay does not):

1. The source execution's checkpoint calls are put in order: Kahn's algorithm
   over the recorded upstream links, ties broken by invocation id; by when
   they ran if nothing was linked (see :func:`order_calls`).
2. The *frontier* is the earliest of the ``from_`` checkpoint and every
   consumer of an overridden output. Calls before it are *reused*: the engine
   records them in the new execution as skipped, with the same output
   artifacts and a link to the original call, and hands the flow body the
   recorded output without running anything. From the frontier on, every call
   executes again (with the cache off unless the caller passes ``cache=True``).
3. Each override value is stored once, with Kitaru's serializers, and wired as
   an input override into every later call that consumed the overridden
   output. When the overridden checkpoint itself is reused, the flow body
   receives the edited value as its output too, so values the body computes
   from it change as well (on runtimes where the body runs in this process).
"""

from __future__ import annotations

import heapq
import importlib
import inspect
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kitaru._console import format_duration, say
from kitaru._engine import ownership, runs
from kitaru.client.status import public_status
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruDivergenceError,
    KitaruError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
)

if TYPE_CHECKING:
    from kitaru.flows import FlowDefinition, FlowHandle

OVERRIDE_PREFIX = "checkpoint."
REPLAY_KEY = "kitaru_replay"
_STEP_PAGE_SIZE = 1000
# Engine statuses of a source that may still change (paused sources replay fine).
_UNFINISHED = {"initializing", "provisioning", "running", "retrying", "resuming", "stopping"}


# -- terminal lines -------------------------------------------------------------------


@dataclass(frozen=True)
class _Reuse:
    source_exec_id: str
    invocations: frozenset[str]


_reusing: ContextVar[_Reuse | None] = ContextVar("kitaru_replay_reuse", default=None)


def reuse_line(invocation_id: str) -> str:
    """The terminal line for a checkpoint call whose output existed before the call.

    Inside a replay, calls before the frontier say where they were reused from;
    anything else that found its output already stored was a cache hit.
    """
    reuse = _reusing.get()
    if reuse is not None and invocation_id in reuse.invocations:
        return f"Checkpoint `{invocation_id}` reused from execution {reuse.source_exec_id}."
    return f"Checkpoint `{invocation_id}` cached."


# -- the source execution's calls ----------------------------------------------------------


@dataclass(frozen=True)
class SourceCall:
    """One checkpoint call of the source execution (its latest attempt)."""

    invocation_id: str
    checkpoint: str
    call_id: str
    attempt_ids: frozenset[str]
    status: str
    successful: bool
    started: datetime
    parents: tuple[str, ...] = ()
    outputs: tuple[Any, ...] = ()
    output_names: tuple[str, ...] = ()
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
        outputs = latest.outputs or {}
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


def order_calls(calls: list[SourceCall]) -> list[SourceCall]:
    """Order calls so that every call comes after the calls it consumed.

    Kahn's algorithm over the recorded upstream links, ties broken by
    invocation id. The engine links each call the body makes to the calls
    before it, so the order also keeps dependencies that go through values
    the body computed. Without any links, calls are ordered by when they ran.

    Raises:
        KitaruRuntimeError: If the links form a cycle.
    """
    by_id = {call.invocation_id: call for call in calls}
    pending = {call.invocation_id: 0 for call in calls}
    children: dict[str, list[str]] = {call.invocation_id: [] for call in calls}
    for call in calls:
        for parent in call.parents:
            if parent in by_id:
                pending[call.invocation_id] += 1
                children[parent].append(call.invocation_id)
    if not any(children.values()):
        return sorted(calls, key=lambda call: (call.started, call.invocation_id))

    ready = [name for name, count in pending.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[SourceCall] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(by_id[name])
        for child in children[name]:
            pending[child] -= 1
            if pending[child] == 0:
                heapq.heappush(ready, child)
    if len(ordered) != len(calls):
        stuck = sorted(set(by_id) - {call.invocation_id for call in ordered})
        raise KitaruRuntimeError(
            f"The recorded links between checkpoints {', '.join(stuck)} form a cycle, so they "
            "have no replay order. The execution's records are inconsistent; replay from a "
            "checkpoint before them or run the flow again."
        )
    return ordered


def select_call(exec_id: str, calls: list[SourceCall], selector: str) -> SourceCall:
    """Find the call named by a checkpoint name, invocation id or call id.

    An invocation id names exactly one call; a checkpoint name that ran
    several times is ambiguous.

    Raises:
        KitaruStateError: If nothing matches, or a name matches several calls.
    """
    for call in calls:
        if call.invocation_id == selector:
            return call
    lowered = selector.lower()
    for call in calls:
        if lowered in call.attempt_ids:
            return call
    named = [call for call in calls if call.checkpoint == selector]
    if len(named) == 1:
        return named[0]
    if named:
        choices = ", ".join(f"{call.invocation_id} (call ID {call.call_id})" for call in named)
        raise KitaruStateError(
            f"Checkpoint selector '{selector}' is ambiguous: checkpoint `{selector}` ran "
            f"{len(named)} times in execution {exec_id}: {choices}. Use a checkpoint call ID "
            "instead (or the invocation id)."
        )
    available = ", ".join(call.invocation_id for call in calls)
    raise KitaruStateError(f"Unknown checkpoint selector '{selector}'. Available checkpoints: {available}.")


# -- the plan -------------------------------------------------------------------------------


def require_selector(from_: Any) -> str:
    """Validate ``from_``.

    Raises:
        KitaruUsageError: If it is not a non-empty string.
    """
    if not isinstance(from_, str) or not from_.strip():
        raise KitaruUsageError(
            "Replay needs a checkpoint to start from: pass from_= (CLI: --from) with a "
            "checkpoint name, invocation id or call ID (see `kitaru executions get <id>`)."
        )
    return from_.strip()


def parse_overrides(overrides: Mapping[str, Any] | None) -> list[tuple[str, str, Any]]:
    """Validate override keys; returns ``(key, selector, value)`` triples.

    Raises:
        KitaruUsageError: For a non-mapping, a ``wait.*`` key, a key without the
            ``checkpoint.`` prefix, or one that names no checkpoint.
    """
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise KitaruUsageError(
            "overrides must be a mapping of `checkpoint.<selector>` keys to values, e.g. "
            "{'checkpoint.research': 'edited notes'}."
        )
    parsed = []
    for key, value in overrides.items():
        text = key.strip() if isinstance(key, str) else ""
        if text.startswith("wait."):
            raise KitaruUsageError(
                f"Override key '{key}' targets a wait, and waits cannot be pre-answered in a "
                "replay. Replay without it and answer the wait when the new execution reaches "
                "it (`kitaru executions input <id> --value JSON`)."
            )
        if not text.startswith(OVERRIDE_PREFIX):
            raise KitaruUsageError(
                f"Override keys must start with `checkpoint.` (e.g. `checkpoint.research`); got {key!r}."
            )
        selector = text[len(OVERRIDE_PREFIX):].strip()
        if not selector:
            raise KitaruUsageError(
                f"Override key {key!r} names no checkpoint. Use `checkpoint.<name>`, "
                "`checkpoint.<invocation id>` or `checkpoint.<call id>`."
            )
        parsed.append((text, selector, value))
    return parsed


@dataclass(frozen=True)
class Override:
    """An edited checkpoint output and the inputs it replaces."""

    key: str
    source: SourceCall
    value: Any
    consumers: tuple[tuple[str, str], ...]  # (invocation id, input name)


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay reuses, overrides and runs again."""

    source_exec_id: str
    selected: SourceCall
    frontier: SourceCall
    reused: tuple[str, ...]
    overrides: tuple[Override, ...]


def _consumers(exec_id: str, source: SourceCall, calls: list[SourceCall], key: str) -> tuple[tuple[str, str], ...]:
    """Every ``(invocation id, input name)`` that received ``source``'s output."""
    produced = {str(artifact.id) for artifact in source.outputs}
    found = []
    for call in calls:
        for input_name, artifact_ids in call.inputs.items():
            if not produced.intersection(artifact_ids):
                continue
            if len(artifact_ids) > 1:
                raise KitaruUsageError(
                    f"Cannot apply {key!r}: checkpoint `{call.invocation_id}` receives that output "
                    f"inside its list input `{input_name}` together with other values, and an "
                    f"override replaces a whole input. Override `{call.invocation_id}`'s "
                    "upstream differently, or replay from it without overrides."
                )
            found.append((call.invocation_id, input_name))
    if not found:
        raise KitaruStateError(
            f"Checkpoint override has no downstream consumer: no later checkpoint of execution "
            f"{exec_id} received the output of `{source.invocation_id}` ({key!r}). Override the "
            "checkpoint that consumes it instead, or replay with different flow inputs."
        )
    return tuple(found)


def plan_replay(
    exec_id: str, calls: list[SourceCall], selector: str, overrides: list[tuple[str, str, Any]]
) -> ReplayPlan:
    """Work out the frontier, the reused calls and where overrides go.

    Args:
        exec_id: The source execution.
        calls: Its calls, in replay order (:func:`order_calls`).
        selector: The ``from_`` selector.
        overrides: Parsed overrides (:func:`parse_overrides`).

    Raises:
        KitaruStateError: For a source without checkpoints, an unknown or
            ambiguous selector, an override without consumers, or a call
            before the frontier that did not complete.
        KitaruUsageError: For an override of a checkpoint without exactly one
            output, or two overrides of the same checkpoint.
    """
    if not calls:
        raise KitaruStateError(
            f"Execution {exec_id} has no checkpoint calls, so there is nothing to replay from. "
            "Run the flow again instead."
        )
    selected = select_call(exec_id, calls, selector)
    position = {call.invocation_id: index for index, call in enumerate(calls)}
    planned: list[Override] = []
    for key, target, value in overrides:
        source = select_call(exec_id, calls, target)
        if any(item.source.invocation_id == source.invocation_id for item in planned):
            raise KitaruUsageError(
                f"Checkpoint `{source.invocation_id}` is overridden twice; keep one override per checkpoint."
            )
        if not source.successful:
            raise KitaruStateError(
                f"Cannot apply {key!r}: checkpoint `{source.invocation_id}` did not complete in execution "
                f"{exec_id} (status: {source.status}), so it has no output to override. Replay from it instead."
            )
        if len(source.output_names) != 1:
            raise KitaruUsageError(
                f"Cannot apply {key!r}: checkpoint `{source.invocation_id}` recorded "
                f"{len(source.output_names)} outputs in execution {exec_id}; only a checkpoint "
                "with exactly one output can be overridden."
            )
        planned.append(Override(key, source, value, _consumers(exec_id, source, calls, key)))
    consumers = [position[consumer] for item in planned for consumer, _ in item.consumers]
    start = min([position[selected.invocation_id], *consumers])
    reused = calls[:start]
    for call in reused:
        if not call.successful:
            raise KitaruStateError(
                f"Checkpoint `{call.invocation_id}` comes before the replay start "
                f"`{calls[start].invocation_id}` but did not complete in execution {exec_id} "
                f"(status: {call.status}), so it cannot be reused. Replay from "
                f"`{call.invocation_id}` or an earlier checkpoint."
            )
    reused_ids = tuple(call.invocation_id for call in reused)
    return ReplayPlan(exec_id, selected, calls[start], reused_ids, tuple(planned))


# -- running it -----------------------------------------------------------------------------


def _require_finished(run: Any) -> None:
    status = str(run.status.value)
    if status in _UNFINISHED:
        public = public_status(status, has_active_wait=run.active_wait_condition is not None)
        raise KitaruStateError(
            f"Execution {run.id} is still {public} (engine status: {status}); replay it once it "
            f"has finished, or cancel it first with `kitaru executions cancel {run.id}`."
        )


def _check_inputs(definition: FlowDefinition, flow_inputs: Mapping[str, Any]) -> dict[str, Any]:
    names = list(inspect.signature(definition.func).parameters)
    unknown = sorted(set(flow_inputs) - set(names))
    if unknown:
        raise KitaruUsageError(
            f"Unknown input {', '.join(repr(name) for name in unknown)} for flow "
            f"'{definition.name}'. Its inputs are: {', '.join(names) or 'none'}."
        )
    return dict(flow_inputs)


def _prepare(definition: FlowDefinition, exec_id: str, from_: Any, overrides: Any) -> tuple[Any, ReplayPlan]:
    """Validate everything and plan the replay before anything is written."""
    from kitaru._engine.lifecycle import load_run

    selector = require_selector(from_)
    parsed = parse_overrides(overrides)
    run = load_run(exec_id)
    _require_finished(run)
    if run.pipeline is not None and run.pipeline.name != definition.name:
        raise KitaruUsageError(
            f"Execution {run.id} belongs to flow '{run.pipeline.name}', not '{definition.name}'. Replay "
            f"it with that flow, or with `kitaru executions replay {run.id} --from {selector}`."
        )
    try:
        calls = order_calls(load_calls(run.id))
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to replay execution {run.id}: cannot read its checkpoints: {exc}") from exc
    return run, plan_replay(str(run.id), calls, selector, parsed)


def _upload(value: Any) -> Any:
    """Store an override value with Kitaru's serializers; returns the artifact id."""
    from zenml import ExternalArtifact

    from kitaru._engine.materializer import KitaruMaterializer

    return ExternalArtifact(
        value=value, materializer=KitaruMaterializer,
        store_artifact_metadata=False, store_artifact_visualizations=False,
    ).upload_by_value()


@contextmanager
def _body_sees_overrides(plan: ReplayPlan) -> Iterator[None]:
    """Hand the flow body the override value as the output of a reused, overridden call.

    The body loads a call's output by its artifact URI, taking a value kept
    in memory for that URI first (``remember_output``), so keeping the
    override there makes the body see it. The lineage still points at the
    original output, which every consumer receives as the override.
    """
    from kitaru._engine.serialization import remember_fresh_value, take_fresh_value

    primed = []
    for item in plan.overrides:
        if item.source.invocation_id in plan.reused and item.source.outputs:
            remember_fresh_value(item.source.outputs[0].uri, item.value)
            primed.append(item.source.outputs[0].uri)
    try:
        yield
    finally:
        for uri in primed:
            take_fresh_value(uri)


def _failure(exec_id: str, exc: BaseException | None, new_id: str | None = None) -> KitaruError:
    """The error for a replay the engine could not carry out."""
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


def _record(new_id: str, plan: ReplayPlan, uploaded: Mapping[str, Any], selector: str) -> None:
    """Journal what the replay did; point the result at an override the body returned as is."""
    metadata: dict[str, Any] = {
        REPLAY_KEY: {
            "source_exec_id": plan.source_exec_id,
            "from": selector,
            "start": plan.frontier.invocation_id,
            "reused": list(plan.reused),
            "overrides": {item.source.invocation_id: str(uploaded[item.key]) for item in plan.overrides},
        }
    }
    result = runs.fetch_run(new_id).metadata.get(runs.RESULT_KEY) if plan.overrides else None
    for item in plan.overrides:
        returned = isinstance(result, dict) and result.get("kind") == "checkpoint_output"
        if returned and item.source.invocation_id in plan.reused and result.get("artifact_id") in {
            str(artifact.id) for artifact in item.source.outputs
        }:
            metadata[runs.RESULT_KEY] = {
                "kind": "checkpoint_output",
                "artifact_id": str(uploaded[item.key]),
                "checkpoint": item.source.invocation_id,
            }
    runs.log_run_metadata(new_id, metadata)


def replay_flow(
    definition: FlowDefinition,
    exec_id: str,
    *,
    from_: str,
    overrides: Mapping[str, Any] | None = None,
    flow_inputs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> FlowHandle:
    """Replay ``exec_id`` of ``definition`` into a new execution and return its handle.

    Args:
        definition: The flow the source execution ran.
        exec_id: The source execution.
        from_: The checkpoint to start from (name, invocation id or call ID).
        overrides: ``{"checkpoint.<selector>": value}`` edited outputs.
        flow_inputs: Flow inputs that replace the source's.
        options: ``stack``/``image``/``cache``/``retries`` for this replay
            (``cache`` defaults to off so re-run checkpoints really run).

    Raises:
        KitaruUsageError: For an empty selector, bad override keys or unknown inputs.
        KitaruStateError: For a running source, another flow's execution, or a
            selector/override that does not fit the source (see :func:`plan_replay`).
        KitaruDivergenceError: If the engine reports that the flow diverged.
        KitaruBackendError: If the engine could not start the replay.
    """
    from zenml.client import Client

    from kitaru._engine import flows as engine_flows
    from kitaru.config import build_frozen_spec, resolve_execution_config
    from kitaru.flows import FlowHandle

    inputs = _check_inputs(definition, flow_inputs or {})
    run, plan = _prepare(definition, exec_id, from_, overrides)
    call = {"stack": None, "image": None, "cache": None, "retries": None, **(options or {})}
    call["cache"] = bool(call["cache"])  # re-run checkpoints run unless cache=True
    resolved = resolve_execution_config(
        active_stack=Client().active_stack_model.name, decorator=definition.defaults, call=call
    )
    spec = build_frozen_spec(
        resolved=resolved, flow_defaults=definition.defaults, server_url=None, project=None, model_registry=None
    ).model_dump(mode="json")
    engine_pipeline = definition.engine_pipeline().with_options(**engine_flows._engine_options(resolved))

    submission = engine_flows._Submission(spec=spec)
    token = engine_flows._submission.set(submission)
    reuse_token = _reusing.set(_Reuse(plan.source_exec_id, frozenset(plan.reused)))
    started = time.perf_counter()
    say(f"Replaying execution `{plan.source_exec_id}` from `{plan.frontier.invocation_id}`.")
    error: BaseException | None = None
    engine_run = None
    uploaded: dict[str, Any] = {}
    try:
        with engine_flows._activated_stack(resolved.stack):
            uploaded = {item.key: _upload(item.value) for item in plan.overrides}
            step_inputs: dict[str, dict[str, Any]] = {}
            for item in plan.overrides:
                for consumer, input_name in item.consumers:
                    step_inputs.setdefault(consumer, {})[input_name] = uploaded[item.key]
            with _body_sees_overrides(plan):
                engine_run = engine_pipeline.replay(
                    pipeline_run=run.id,
                    skip=set(plan.reused),
                    step_input_overrides=step_inputs or None,
                    input_overrides=inputs or None,
                )
    except Exception as exc:  # a failure of the body is recorded on the new execution
        error = exc
    except KeyboardInterrupt as exc:  # a cancel from elsewhere, as in submit_flow
        if submission.supervisor is None or not submission.supervisor.cancel_requested.is_set():
            raise
        error = exc
    finally:
        _reusing.reset(reuse_token)
        engine_flows._submission.reset(token)
        if submission.exec_id is not None:  # the engine has recorded the outcome
            ownership.release_run_lock(submission.exec_id)

    new_id = submission.exec_id or (str(engine_run.id) if engine_run is not None else None)
    if new_id is None:
        raise _failure(plan.source_exec_id, error) from error
    if isinstance(error, Exception) and not isinstance(error, KitaruError) and "original run" in str(error):
        raise _failure(plan.source_exec_id, error, new_id) from error
    if not submission.spec_logged:
        runs.log_run_metadata(new_id, {runs.SPEC_KEY: spec, "kitaru_flow": definition.name})
    _record(new_id, plan, uploaded, str(from_).strip())
    handle = FlowHandle(new_id, local_result=submission.result, has_local_result=submission.has_result)
    status = public_status(engine_run.status) if engine_run is not None else handle.status
    say(f"Execution {new_id} {status} in {format_duration(time.perf_counter() - started)}.")
    return handle


# -- replay from any process (client, CLI) ------------------------------------------------------


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


def replay_execution(
    exec_id: str,
    *,
    from_: str,
    overrides: Mapping[str, Any] | None = None,
    flow_inputs: Mapping[str, Any] | None = None,
) -> str:
    """Replay an execution in this process (client, CLI, MCP) and return the new execution id.

    Raises:
        KitaruStateError: If the source is still running or its flow cannot be
            found; see also :func:`replay_flow`.
    """
    from kitaru._engine.lifecycle import load_run

    require_selector(from_)
    parse_overrides(overrides)
    run = load_run(exec_id)
    _require_finished(run)
    definition = find_flow(run)
    stack = run.snapshot.stack.name if run.snapshot is not None and run.snapshot.stack is not None else None
    handle = replay_flow(
        definition, str(run.id), from_=from_, overrides=overrides, flow_inputs=flow_inputs, options={"stack": stack}
    )
    return handle.exec_id

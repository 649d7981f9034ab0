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

The work is split in three modules. :mod:`kitaru._engine.replay_plan` decides
what is reused, overridden and run again (pure logic);
:mod:`kitaru._engine.replay_source` reads the source execution and finds the
flow that ran it; this module runs the replay and records what it did. The
names of the other two stay importable from here.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kitaru._console import format_duration, say
from kitaru._engine import runs
from kitaru.execution import ownership
from kitaru._engine.replay_plan import (
    OVERRIDE_PREFIX,
    Override,
    ReplayPlan,
    SourceCall,
    order_calls,
    parse_overrides,
    plan_replay,
    require_selector,
    select_call,
)
from kitaru._engine.replay_source import _require_finished, find_flow, load_calls
from kitaru.client.status import public_status
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruDivergenceError,
    KitaruError,
    KitaruUsageError,
)

if TYPE_CHECKING:
    from kitaru.flows import FlowDefinition, FlowHandle

__all__ = [
    "OVERRIDE_PREFIX",
    "REPLAY_KEY",
    "Override",
    "ReplayPlan",
    "SourceCall",
    "find_flow",
    "load_calls",
    "order_calls",
    "parse_overrides",
    "plan_replay",
    "replay_execution",
    "replay_flow",
    "require_selector",
    "select_call",
]

REPLAY_KEY = "kitaru_replay"


# -- running it -----------------------------------------------------------------------------


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
    resolved, registry = engine_flows.with_model_registry(resolved)
    spec = build_frozen_spec(
        resolved=resolved,
        flow_defaults=definition.defaults,
        server_url=None,
        project=None,
        model_registry=registry,
    ).model_dump(mode="json")
    engine_pipeline = definition.engine_pipeline().with_options(**engine_flows._engine_options(resolved))

    from kitaru._engine.continuation import journal_of

    submission = engine_flows._Submission(spec=spec)
    # The body must call the reused checkpoints as the source did (same
    # checkpoint, same inputs); otherwise their outputs would not fit.
    submission.journal = journal_of(
        plan.source_exec_id,
        [step for name, step in run.steps.items() if name in plan.reused],
        strict_order=False,
        compare_artifacts=False,
        reused_from=f"execution {plan.source_exec_id}",
    )
    token = engine_flows._submission.set(submission)
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

"""Run checkpoints as engine steps.

A checkpoint becomes a ZenML step whose single output is written by Kitaru's
serializers. Calling it from a flow body launches the step synchronously in
the dynamic pipeline and hands the body the output *value*; the value's
engine handle is remembered so passing it into another checkpoint records
lineage instead of uploading it again.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import datetime, timezone
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kitaru import _scope
from kitaru._console import format_duration, say
from kitaru._engine.bootstrap import load_engine

if TYPE_CHECKING:
    from kitaru.checkpoints import CheckpointDefinition

_STEP_TYPES = {"llm_call": "llm_call", "tool_call": "tool_call"}


def build_engine_step(definition: CheckpointDefinition) -> Any:
    """Build the ZenML step for ``definition``."""
    load_engine()
    from zenml import step
    from zenml.config.retry_config import StepRetryConfig
    from zenml.enums import StepRuntime, StepType

    from kitaru._engine.materializer import KitaruMaterializer

    step_type = _STEP_TYPES.get(definition.type or "")
    return step(
        definition.entrypoint,
        name=definition.name,
        step_type=StepType(step_type) if step_type else None,
        output_materializers=KitaruMaterializer,
        retry=StepRetryConfig(max_retries=definition.retries, delay=0, backoff=0)
        if definition.retries
        else None,
        extra={"kitaru": {"boundary": "checkpoint", "type": definition.type}},
        runtime=StepRuntime(definition.runtime) if definition.runtime else None,
        enable_artifact_visualization=False,
        # The serializer header already says what the value is; skipping the
        # engine's per-artifact metadata saves several store writes per call.
        enable_artifact_metadata=False,
    )


def run_checkpoint_body(definition: CheckpointDefinition, args: tuple, kwargs: dict) -> Any:
    """Run the user's checkpoint function inside the engine step.

    Enters the checkpoint scope (and a flow scope when only the engine's
    context exists, as on a remote step pod) so ``log``/``save``/``load`` work.
    """
    from zenml import get_step_context

    context = get_step_context()
    run_id = str(context.pipeline_run.id)
    checkpoint = _scope.CheckpointScope(
        name=definition.name,
        type=definition.type,
        execution_id=run_id,
        checkpoint_id=str(context.step_run.id),
    )
    with _scope.checkpoint_scope(checkpoint):
        if _scope.current_flow() is not None:
            return definition.func(*args, **kwargs)
        flow = _scope.FlowScope(
            name=context.pipeline.name, flow_id=str(context.pipeline.id), execution_id=run_id
        )
        with _scope.flow_scope(flow):
            return definition.func(*args, **kwargs)


# -- inputs -------------------------------------------------------------------


def _parameter_limit() -> int:
    try:
        return int(os.environ.get("ZENML_PARAMETER_SIZE_THRESHOLD", "65536"))
    except ValueError:
        return 65536


def _is_small_json(value: Any) -> bool:
    from kitaru.serializers.builtin import _is_json_able

    if isinstance(value, tuple) or not _is_json_able(value):
        return False
    try:
        return len(json.dumps(value)) <= _parameter_limit()
    except (TypeError, ValueError):
        return False


def _known_output(flow: _scope.FlowScope, value: Any) -> Any:
    entry = flow.outputs.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    return None


def to_engine_input(flow: _scope.FlowScope, value: Any) -> Any:
    """Translate a value from the flow body into what the engine step receives.

    * a future or the output value of an earlier checkpoint → its engine
      handle (lineage, no upload);
    * a small JSON-able value → a step parameter (no artifact at all);
    * anything else → an artifact written by Kitaru's serializers.
    """
    if isinstance(value, CheckpointFuture):
        return value.engine_future
    handle = _known_output(flow, value)
    if handle is not None:
        return handle
    if isinstance(value, list) and value:
        handles = [_known_output(flow, item) for item in value]
        if all(item is not None for item in handles):
            return handles
    if _is_small_json(value):
        return value
    from zenml import ExternalArtifact

    from kitaru._engine.materializer import KitaruMaterializer

    return ExternalArtifact(value=value, materializer=KitaruMaterializer)


def _engine_after(after: Any) -> Any:
    if after is None:
        return None
    if isinstance(after, CheckpointFuture):
        return after.engine_future
    if isinstance(after, Iterable) and not isinstance(after, (str, bytes)):
        return [item.engine_future if isinstance(item, CheckpointFuture) else item for item in after]
    return after


def _engine_arguments(flow: _scope.FlowScope, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    return (
        tuple(to_engine_input(flow, value) for value in args),
        {name: to_engine_input(flow, value) for name, value in kwargs.items()},
    )


def _call_inputs(
    definition: CheckpointDefinition, args: tuple, kwargs: dict, engine_args: tuple, engine_kwargs: dict
) -> dict[str, Any]:
    """Each input of a call: the body's value and, if passed as artifacts, their ids."""
    import inspect

    from kitaru._engine.continuation import CallInput

    signature = inspect.signature(definition.func)
    try:
        values = signature.bind_partial(*args, **kwargs).arguments
        engine_values = signature.bind_partial(*engine_args, **engine_kwargs).arguments
    except TypeError:
        return {}
    inputs = {}
    for name, value in values.items():
        if isinstance(value, CheckpointFuture) or (
            isinstance(value, list) and any(isinstance(item, CheckpointFuture) for item in value)
        ):
            continue  # resolved by the engine; its lineage is compared through the producer
        engine_value = engine_values.get(name)
        items = engine_value if isinstance(engine_value, list) else [engine_value]
        ids = tuple(item.id for item in items) if items and all(hasattr(item, "step_name") for item in items) else None
        inputs[name] = CallInput(value=value, artifact_ids=ids)
    return inputs


def _load_recorded_input(artifact_id: Any) -> Any:
    from zenml.client import Client

    from kitaru._engine.artifacts import load_artifact_value

    return load_artifact_value(Client().get_artifact_version(artifact_id), "a recorded checkpoint input")


def _check_journal(
    definition: CheckpointDefinition,
    flow: _scope.FlowScope,
    invocation_id: str,
    call: tuple[tuple, dict],
    engine_call: tuple[tuple, dict],
) -> bool:
    """Compare this call with the journal of a continued execution.

    Returns:
        Whether the journal recorded this call (its output will be reused).

    Raises:
        KitaruDivergenceError: If the call differs from the journal.
    """
    journal = flow.journal
    if journal is None:
        return False
    known = invocation_id in journal.by_id
    inputs = _call_inputs(definition, *call, *engine_call)
    journal.check(definition.name, invocation_id, inputs, _load_recorded_input)
    return known


def remember_output(flow: _scope.FlowScope, handle: Any) -> Any:
    """Load the value behind an engine output handle and remember its lineage.

    Raises:
        KitaruRuntimeError: If the stored value cannot be loaded; the message
            names the checkpoint and the value's type.
    """
    from kitaru._engine.artifacts import load_artifact_value
    from kitaru._engine.serialization import take_fresh_value

    found, value = take_fresh_value(handle.uri)
    if not found:
        value = load_artifact_value(handle, f"the output of checkpoint `{handle.step_name}`")
    flow.outputs[id(value)] = (value, handle)
    return value


# -- calls --------------------------------------------------------------------


def call_checkpoint(
    definition: CheckpointDefinition, flow: _scope.FlowScope, args: tuple, kwargs: dict, *, id: str | None, after: Any
) -> Any:
    """Run a checkpoint synchronously and return its output value."""
    step = definition.engine_step()
    engine_args, engine_kwargs = _engine_arguments(flow, args, kwargs)
    invocation_id = flow.next_invocation_id(definition.name, id)
    journaled = _check_journal(definition, flow, invocation_id, (args, kwargs), (engine_args, engine_kwargs))
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    started = time.perf_counter()
    try:
        handle = step(*engine_args, id=id, after=_engine_after(after), **engine_kwargs)
    except BaseException as exc:
        from kitaru._engine.waits import is_flow_control

        if is_flow_control(exc):
            raise  # a pause or abort unwinding the body, not a checkpoint failure
        cancelled = flow.supervisor is not None and flow.supervisor.cancel_requested.is_set()
        outcome = "cancelled" if cancelled else "failed"
        say(f"Checkpoint `{invocation_id}` {outcome} after {format_duration(time.perf_counter() - started)}.")
        raise
    value = remember_output(flow, handle)
    if journaled:
        say(f"Checkpoint `{handle.step_name}` reused from {flow.journal.reused_from}.")
    elif _was_reused(handle, started_at):
        say(f"Checkpoint `{handle.step_name}` cached.")
    else:
        say(f"Checkpoint `{handle.step_name}` finished in {format_duration(time.perf_counter() - started)}.")
    return value


def _was_reused(handle: Any, started_at: datetime) -> bool:
    """Whether the output existed before this call (a cache hit or a reused result)."""
    created = getattr(getattr(handle, "body", None), "created", None)
    if created is None:
        return False
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc).replace(tzinfo=None)
    return created < started_at


class CheckpointFuture:
    """A checkpoint running concurrently; ``result()`` returns its output value.

    Pass the future itself to another checkpoint (or to ``after=``) to make
    that checkpoint wait for it and record the lineage.
    """

    def __init__(self, engine_future: Any, flow: _scope.FlowScope, name: str) -> None:
        self.engine_future = engine_future
        self._flow = flow
        self._name = name

    def result(self) -> Any:
        """Wait for the checkpoint and return its output value."""
        return remember_output(self._flow, self.engine_future.result())

    def load(self) -> Any:
        """Alias of :meth:`result`."""
        return self.result()

    def __repr__(self) -> str:
        return f"<CheckpointFuture {self._name!r}>"


class CheckpointMapFuture(CheckpointFuture):
    """Several invocations of one checkpoint (``map``/``product``).

    Wraps either the engine's map future (when mapping over a checkpoint
    output) or a list of futures Kitaru submitted itself (plain iterables).
    """

    def result(self) -> list[Any]:
        """Wait for every invocation and return their output values in order."""
        if isinstance(self.engine_future, list):
            return [future.result() for future in self.engine_future]
        return [remember_output(self._flow, outputs) for outputs in self.engine_future.result()]


def submit_checkpoint(
    definition: CheckpointDefinition, flow: _scope.FlowScope, args: tuple, kwargs: dict, *, id: str | None, after: Any
) -> CheckpointFuture:
    """Start a checkpoint concurrently."""
    engine_args, engine_kwargs = _engine_arguments(flow, args, kwargs)
    invocation_id = flow.next_invocation_id(definition.name, id)
    _check_journal(definition, flow, invocation_id, (args, kwargs), (engine_args, engine_kwargs))
    future = definition.engine_step().submit(
        *engine_args, id=id, after=_engine_after(after), **engine_kwargs
    )
    return CheckpointFuture(future, flow, invocation_id)


def map_checkpoint(
    definition: CheckpointDefinition, flow: _scope.FlowScope, args: tuple, kwargs: dict, *, after: Any, product: bool
) -> CheckpointMapFuture:
    """Fan a checkpoint out over its iterable arguments.

    Mapping over a checkpoint's output uses the engine's map (the expansion is
    journaled); mapping over plain iterables submits one invocation per item.
    """
    if not any(_known_output(flow, value) is not None for value in (*args, *kwargs.values())):
        return CheckpointMapFuture(
            _submit_each(definition, flow, args, kwargs, after=after, product=product),
            flow,
            definition.name,
        )
    engine_args, engine_kwargs = _engine_arguments(flow, args, kwargs)
    step = definition.engine_step()
    launch = step.product if product else step.map
    future = launch(*engine_args, after=_engine_after(after), **engine_kwargs)
    return CheckpointMapFuture(future, flow, definition.name)


def _submit_each(
    definition: CheckpointDefinition, flow: _scope.FlowScope, args: tuple, kwargs: dict, *, after: Any, product: bool
) -> list[CheckpointFuture]:
    names = list(kwargs)
    columns = [list(value) for value in (*args, *kwargs.values())]
    if not product and len({len(column) for column in columns}) > 1:
        from kitaru.errors import KitaruUsageError

        raise KitaruUsageError(
            f"{definition.name}.map() needs iterables of equal length; got lengths "
            f"{[len(column) for column in columns]}. Use .product() for all combinations."
        )
    rows = itertools.product(*columns) if product else zip(*columns)
    futures = []
    for row in rows:
        positional, keyword = row[: len(args)], dict(zip(names, row[len(args) :]))
        futures.append(submit_checkpoint(definition, flow, positional, keyword, id=None, after=after))
    return futures

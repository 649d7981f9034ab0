"""Checkpoint calls in a flow body: how inputs travel, the journal check, the terminal lines.

Calling a checkpoint in a flow body launches it in the engine and hands the
body its output *value* (:mod:`kitaru.execution.outputs`). Kitaru decides how
each argument reaches the engine (:func:`to_engine_input`):

* a future, or the output value of an earlier checkpoint, travels as that
  output's handle: lineage, nothing stored again;
* a small JSON-able value travels as a plain parameter: no artifact at all
  (a third of a bare engine step's cost is uploading plain inputs);
* anything else is stored once with Kitaru's serializers.

When the execution continues (retry, resume) or replays another, each call
is checked against the journal first (:mod:`kitaru.execution.journal`). Each
call prints one line: finished, cached, reused, failed or cancelled.

A call is prepared in the body (:func:`prepare_call`: inputs, invocation id,
call index, journal check), then launched (:func:`launch_call`). An ``async
def`` checkpoint awaited by asyncio code (:func:`await_checkpoint`) goes
through the same two steps, with the launch in a worker thread and its
coroutine on the body's event loop (:mod:`kitaru.execution.loop_calls`).
"""

from __future__ import annotations

import inspect
import itertools
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from kitaru.engine import get_engine
from kitaru.engine.runtime import FlowRuntime
from kitaru.errors import KitaruUsageError
from kitaru.execution.console import checkpoint_running, format_duration, say
from kitaru.execution.journal import CallInput
from kitaru.execution.loop_calls import call_from_loop
from kitaru.execution.outputs import known_output, receive_output, remember_output
from kitaru.execution.scope import FlowScope
from kitaru.execution.values import load_artifact
from kitaru.serializers.builtin import is_json_able
from kitaru.tracing import CallSpan, checkpoint_span


class CallableCheckpoint(Protocol):
    """What a call needs from a checkpoint (:class:`kitaru.checkpoints.CheckpointDefinition`)."""

    name: str
    type: str | None
    func: Callable[..., Any]

    def engine_checkpoint(self) -> Any:
        """The engine's checkpoint (built once)."""
        ...


# -- futures --------------------------------------------------------------------


class CheckpointFuture:
    """A checkpoint running concurrently; ``result()`` returns its output value.

    Returned by ``my_checkpoint.submit(...)``. Pass the future itself to
    another checkpoint (or to ``after=``) to make that checkpoint wait for it
    and record the lineage::

        draft = write.submit(topic)
        review(draft)            # waits for write, records write -> review
        print(draft.result())
    """

    def __init__(self, engine_future: Any, flow: FlowScope, name: str) -> None:
        self.engine_future = engine_future
        self._flow = flow
        self._name = name

    def result(self) -> Any:
        """Wait for the checkpoint and return its output value."""
        return remember_output(self._flow, get_engine().runtime.result(self.engine_future))

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
        handles = get_engine().runtime.results(self.engine_future)
        return [remember_output(self._flow, handle) for handle in handles]


# -- inputs -----------------------------------------------------------------------


def is_small_json(runtime: FlowRuntime, value: Any) -> bool:
    """Whether ``value`` travels as a plain parameter (JSON-able, not a tuple, within the engine's limit)."""
    if isinstance(value, tuple) or not is_json_able(value):
        return False
    try:
        return len(json.dumps(value)) <= runtime.parameter_limit()
    except (TypeError, ValueError):
        return False


def to_engine_input(runtime: FlowRuntime, flow: FlowScope, value: Any) -> Any:
    """Translate a value from the flow body into what the engine's checkpoint receives.

    * a future or the output value of an earlier checkpoint -> its handle
      (lineage, no upload);
    * a small JSON-able value -> a plain parameter (no artifact at all);
    * anything else -> an artifact written by Kitaru's serializers.
    """
    if isinstance(value, CheckpointFuture):
        return value.engine_future
    handle = known_output(flow, value)
    if handle is not None:
        return handle
    if isinstance(value, list) and value:
        handles = [known_output(flow, item) for item in value]
        if all(item is not None for item in handles):
            return handles
    if is_small_json(runtime, value):
        return value
    return runtime.input_artifact(value)


def engine_after(after: Any) -> Any:
    """Translate ``after=`` (futures or lists of them) for the engine."""
    if after is None:
        return None
    if isinstance(after, CheckpointFuture):
        return after.engine_future
    if isinstance(after, Iterable) and not isinstance(after, (str, bytes)):
        return [item.engine_future if isinstance(item, CheckpointFuture) else item for item in after]
    return after


def engine_arguments(
    runtime: FlowRuntime, flow: FlowScope, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Translate every argument of a call (:func:`to_engine_input`)."""
    return (
        tuple(to_engine_input(runtime, flow, value) for value in args),
        {name: to_engine_input(runtime, flow, value) for name, value in kwargs.items()},
    )


def call_inputs(
    runtime: FlowRuntime,
    checkpoint: CallableCheckpoint,
    call: tuple[tuple[Any, ...], Mapping[str, Any]],
    engine_call: tuple[tuple[Any, ...], Mapping[str, Any]],
) -> dict[str, CallInput]:
    """Each input of a call: the body's value and, if it travels as outputs, their artifact ids."""
    signature = inspect.signature(checkpoint.func)
    try:
        values = signature.bind_partial(*call[0], **call[1]).arguments
        engine_values = signature.bind_partial(*engine_call[0], **engine_call[1]).arguments
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
        ids = [runtime.output_id(item) for item in items]
        artifact_ids = tuple(ids) if ids and all(item is not None for item in ids) else None
        inputs[name] = CallInput(value=value, artifact_ids=artifact_ids)
    return inputs


def _load_recorded_input(artifact_id: Any) -> Any:
    return load_artifact(str(artifact_id), "a recorded checkpoint input")


def check_journal(
    runtime: FlowRuntime,
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    invocation_id: str,
    call: tuple[tuple[Any, ...], Mapping[str, Any]],
    engine_call: tuple[tuple[Any, ...], Mapping[str, Any]],
) -> bool:
    """Compare this call with the journal of a continued or replayed execution.

    Returns:
        Whether the journal recorded this call (its output will be reused).

    Raises:
        KitaruDivergenceError: If the call differs from the journal.
    """
    journal = flow.journal
    if journal is None:
        return False
    known = invocation_id in journal.by_id
    journal.check(
        checkpoint.name, invocation_id, call_inputs(runtime, checkpoint, call, engine_call), _load_recorded_input
    )
    return bool(known)


# -- calls ----------------------------------------------------------------------


def next_invocation_id(flow: FlowScope, name: str, explicit_id: str | None) -> str:
    """The invocation id the engine gives the next call of checkpoint ``name``.

    ``explicit_id`` if given; else the first of ``name``, ``name_2`` ... that
    no ``kitaru.llm()`` call of the body took (the engine skips those too).
    """
    invocation_id = flow.next_invocation_id(name, explicit_id)
    while not explicit_id and invocation_id in flow.llm_names:
        invocation_id = flow.next_invocation_id(name, None)
    return invocation_id


@dataclass(frozen=True)
class PreparedCall:
    """A checkpoint call checked and numbered in the flow body, ready to launch (:func:`launch_call`).

    Attributes:
        flow: The flow body's scope.
        engine_checkpoint: The engine's checkpoint.
        engine_args: The positional arguments, as the engine receives them.
        engine_kwargs: The keyword arguments, as the engine receives them.
        invocation_id: The invocation id the call gets.
        journaled: Whether the journal recorded this call (its output is reused).
        index: The call's position in the body.
        id: The invocation id the engine is given (None: the engine names the call).
        after: ``after=``, translated for the engine.
        checkpoint: The checkpoint's name.
        checkpoint_type: Its ``@checkpoint(type=...)`` label.
    """

    flow: FlowScope
    engine_checkpoint: Any
    engine_args: tuple[Any, ...]
    engine_kwargs: dict[str, Any]
    invocation_id: str
    journaled: bool
    index: int
    id: str | None
    after: Any
    checkpoint: str = ""
    checkpoint_type: str | None = None


def prepare_call(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    id: str | None,
    after: Any,
) -> PreparedCall:
    """Translate a call's arguments, name it, number it and check it against the journal.

    Runs in the flow body, in call order: this is what makes invocation ids
    and call indexes the same in every run of the body.

    Raises:
        KitaruDivergenceError: If the call differs from the journal.
    """
    runtime = get_engine().runtime
    engine_checkpoint = checkpoint.engine_checkpoint()
    engine_args, engine_kwargs = engine_arguments(runtime, flow, args, kwargs)
    invocation_id = next_invocation_id(flow, checkpoint.name, id)
    journaled = check_journal(runtime, checkpoint, flow, invocation_id, (args, kwargs), (engine_args, engine_kwargs))
    return PreparedCall(
        flow=flow,
        engine_checkpoint=engine_checkpoint,
        engine_args=engine_args,
        engine_kwargs=engine_kwargs,
        invocation_id=invocation_id,
        journaled=journaled,
        index=flow.next_call_index(),
        id=id,
        after=engine_after(after),
        checkpoint=checkpoint.name,
        checkpoint_type=checkpoint.type,
    )


def launch_call(call: PreparedCall) -> Any:
    """Launch a prepared call in the engine, wait for it, print its line and return its output value.

    The call is a span of the flow's trace when the process traces (:mod:`kitaru.tracing`).
    """
    with checkpoint_span(
        call.invocation_id, checkpoint=call.checkpoint, type=call.checkpoint_type, index=call.index
    ) as traced:
        return _launch(call, traced)


def _launch(call: PreparedCall, traced: CallSpan) -> Any:
    runtime = get_engine().runtime
    flow = call.flow
    started = time.perf_counter()
    try:
        with checkpoint_running(call.invocation_id):
            handle = runtime.call(
                call.engine_checkpoint,
                call.engine_args,
                call.engine_kwargs,
                id=call.id,
                after=call.after,
                index=call.index,
            )
    except BaseException as exc:
        if runtime.flow_control(exc) is not None:
            traced.stopped("stopped")
            raise  # a pause or abort unwinding the body, not a checkpoint failure
        cancelled = flow.supervisor is not None and flow.supervisor.cancel_requested.is_set()
        outcome = "cancelled" if cancelled else "failed"
        if cancelled:
            traced.stopped("cancelled")
        say(f"Checkpoint `{call.invocation_id}` {outcome} after {format_duration(time.perf_counter() - started)}.")
        raise
    value, info = receive_output(flow, handle)
    if call.journaled:
        traced.finished("journal", reused_from=flow.journal.reused_from)
        say(f"Checkpoint `{info.invocation_id}` reused from {flow.journal.reused_from}.")
    elif runtime.served_from_cache(info.invocation_id):
        traced.finished("cache")
        say(f"Checkpoint `{info.invocation_id}` cached.")
    else:
        traced.finished("executed")
        say(f"Checkpoint `{info.invocation_id}` finished in {format_duration(time.perf_counter() - started)}.")
    return value


def call_checkpoint(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    id: str | None,
    after: Any,
) -> Any:
    """Run a checkpoint synchronously and return its output value."""
    return launch_call(prepare_call(checkpoint, flow, args, kwargs, id=id, after=after))


async def await_checkpoint(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    id: str | None,
    after: Any,
) -> Any:
    """Run an ``async def`` checkpoint from asyncio code in the flow body and return its output value.

    The call is prepared on the flow's loop when it is first awaited, so
    calls awaited together are named and numbered in the order they start
    (for ``asyncio.gather``, the order of its arguments). The launch then runs in a worker thread and the
    checkpoint's coroutine on this loop (:func:`~kitaru.execution.loop_calls.call_from_loop`);
    the engine is given the invocation id, because concurrent launches reach
    it in no fixed order.
    """
    call = prepare_call(checkpoint, flow, args, kwargs, id=id, after=after)
    named = replace(call, id=call.invocation_id)
    return await call_from_loop(lambda: launch_call(named), checkpoint.func)


def submit_checkpoint(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    id: str | None,
    after: Any,
) -> CheckpointFuture:
    """Start a checkpoint concurrently."""
    runtime = get_engine().runtime
    engine_args, engine_kwargs = engine_arguments(runtime, flow, args, kwargs)
    invocation_id = next_invocation_id(flow, checkpoint.name, id)
    check_journal(runtime, checkpoint, flow, invocation_id, (args, kwargs), (engine_args, engine_kwargs))
    future = runtime.submit(
        checkpoint.engine_checkpoint(),
        engine_args,
        engine_kwargs,
        id=id,
        after=engine_after(after),
        index=flow.next_call_index(),
    )
    return CheckpointFuture(future, flow, invocation_id)


def map_checkpoint(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    after: Any,
    product: bool,
) -> CheckpointMapFuture:
    """Fan a checkpoint out over its iterable arguments.

    Mapping over a checkpoint's output uses the engine's map (the expansion is
    journaled); mapping over plain iterables submits one invocation per item.
    """
    if not any(known_output(flow, value) is not None for value in (*args, *kwargs.values())):
        futures = _submit_each(checkpoint, flow, args, kwargs, after=after, product=product)
        return CheckpointMapFuture(futures, flow, checkpoint.name)
    runtime = get_engine().runtime
    engine_args, engine_kwargs = engine_arguments(runtime, flow, args, kwargs)
    future = runtime.map(
        checkpoint.engine_checkpoint(),
        engine_args,
        engine_kwargs,
        after=engine_after(after),
        product=product,
        index=flow.next_call_index(),
    )
    return CheckpointMapFuture(future, flow, checkpoint.name)


def _submit_each(
    checkpoint: CallableCheckpoint,
    flow: FlowScope,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    after: Any,
    product: bool,
) -> list[CheckpointFuture]:
    names = list(kwargs)
    columns = [list(value) for value in (*args, *kwargs.values())]
    if not product and len({len(column) for column in columns}) > 1:
        raise KitaruUsageError(
            f"{checkpoint.name}.map() needs iterables of equal length; got lengths "
            f"{[len(column) for column in columns]}. Use .product() for all combinations."
        )
    rows = itertools.product(*columns) if product else zip(*columns, strict=False)
    futures = []
    for row in rows:
        positional, keyword = row[: len(args)], dict(zip(names, row[len(args) :], strict=True))
        futures.append(submit_checkpoint(checkpoint, flow, positional, keyword, id=None, after=after))
    return futures


__all__ = [
    "CallableCheckpoint",
    "CheckpointFuture",
    "CheckpointMapFuture",
    "PreparedCall",
    "await_checkpoint",
    "call_checkpoint",
    "call_inputs",
    "check_journal",
    "engine_after",
    "engine_arguments",
    "is_small_json",
    "launch_call",
    "map_checkpoint",
    "next_invocation_id",
    "prepare_call",
    "submit_checkpoint",
    "to_engine_input",
]

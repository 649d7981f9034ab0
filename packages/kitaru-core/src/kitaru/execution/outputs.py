"""Checkpoint outputs in the flow body: values the body holds, and the lineage behind them.

A checkpoint call hands the flow body its output *value*, so the body is
ordinary Python. The engine's handle of that output is remembered next to
the value (:attr:`FlowScope.outputs <kitaru.execution.scope.FlowScope>`):
passing the very same object into another checkpoint records the lineage
between the two calls instead of storing the value again.

Reading the value is usually free: the codec kept the value it just stored
in memory (:mod:`kitaru.serializers.fresh`), so the body takes it from
there; otherwise it is read from the artifact store.

A value no serializer can store is kept for the flow body that produced it
(:func:`run_values`): that body and its checkpoints get the real object,
while a retry or replay, which runs another flow body, gets a clear error
instead (:mod:`kitaru.serializers.unstorable`).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.runtime import OutputInfo
from kitaru.execution.scope import FlowScope, current_flow
from kitaru.execution.values import load_value
from kitaru.serializers.fresh import take_fresh_value
from kitaru.serializers.unstorable import use_run_values

_kept_values: dict[int, dict[str, Any]] = {}
"""``id(flow scope) -> kept values``, dropped when the flow scope is."""

_kept_lock = threading.Lock()  # concurrent checkpoints of one flow share one dict


def run_values() -> dict[str, Any] | None:
    """The values the running flow body keeps because they could not be stored (None outside a flow).

    One dict per flow body (its :class:`FlowScope`), released with it, so a
    value never reaches another run in the same process. Checkpoints see
    their flow's scope (the engine runs them in a copy of the body's context).
    """
    flow = current_flow()
    if flow is None:
        return None
    key = id(flow)
    with _kept_lock:
        kept = _kept_values.get(key)
        if kept is None:
            kept = _kept_values[key] = {}
            weakref.finalize(flow, _kept_values.pop, key, None)
    return kept


use_run_values(run_values)


def receive_output(flow: FlowScope, handle: Any) -> tuple[Any, OutputInfo]:
    """Return the value behind an output handle (and what is known about it); remember its lineage.

    Raises:
        KitaruRuntimeError: If the stored value cannot be loaded; the message
            names the checkpoint and the value's type.
    """
    runtime = get_engine().runtime
    info = runtime.describe_output(handle)
    found, value = take_fresh_value(info.location)
    if not found:
        value = load_value(
            lambda: runtime.load_output(handle),
            f"the output of checkpoint `{info.invocation_id}`",
            lambda: runtime.output_data_type(handle),
        )
    flow.outputs[id(value)] = (value, handle, info)
    return value, info


def remember_output(flow: FlowScope, handle: Any) -> Any:
    """Return the value behind an output handle and remember its lineage (see :func:`receive_output`)."""
    return receive_output(flow, handle)[0]


def known_output(flow: FlowScope, value: Any) -> Any:
    """The output handle behind ``value`` if it is a checkpoint output the body received, else None."""
    entry = flow.outputs.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    return None


def known_output_info(flow: FlowScope, value: Any) -> OutputInfo | None:
    """What is known about the checkpoint output ``value``, if it is one."""
    entry = flow.outputs.get(id(value))
    if entry is not None and entry[0] is value:
        info: OutputInfo = entry[2]
        return info
    return None


__all__ = ["known_output", "known_output_info", "receive_output", "remember_output", "run_values"]

"""Compare two executions: what changed between the run that worked and the one that did not.

``KitaruClient().executions.diff(a, b)`` (and ``kitaru executions diff A B``,
and the MCP tool ``kitaru_executions_diff``) loads both executions and
returns an :class:`ExecutionDiff`:

* **checkpoints**: the checkpoint calls of both, matched by invocation id
  (``research``, ``research_2``, or an explicit ``id=``), the name the
  divergence check matches a re-run body against its journal by: the n-th
  call of a checkpoint in A meets the n-th call of the same checkpoint in B.
  Each pair gets a :data:`CHANGE_KINDS` kind: ``same``, ``changed``,
  ``added`` (only in B) or ``removed`` (only in A); a changed pair lists
  which of :data:`CALL_FIELDS` differ. Calls keep their call order (B's
  calls are merged into A's order where they first appear);
* **inputs**: the arguments each flow was called with;
* **result**: the value each flow body returned;
* **llm**: each execution's LLM calls, tokens and cost (``llm_usage``).

Values are loaded through the serializers that wrote them and compared as
JSON (:func:`kitaru.jsonable.to_jsonable`, keys sorted). A value that cannot
be loaded (its artifact was deleted, or its type cannot be imported here) is
``None`` and its reason is in the side's ``unavailable``; a field that could
not be compared is listed in ``unknown``, never guessed ``same``::

    diff = KitaruClient().executions.diff("0b6f3c", "7d2e91")
    [(call.name, call.change, call.changed) for call in diff.checkpoints]
    # [('research', 'changed', ['inputs', 'output', 'tokens']), ('publish', 'same', [])]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from kitaru._llm.usage import summarize
from kitaru.client.mapping import STEP_OUTPUT_SAVE_TYPES
from kitaru.client.models import ArtifactRef, CheckpointCall, Execution
from kitaru.client.reading import get_execution
from kitaru.execution.keys import RESULT_KEY
from kitaru.execution.results import decode_result
from kitaru.execution.runs import load_run
from kitaru.jsonable import to_jsonable

CHANGE_KINDS: tuple[str, ...] = ("same", "changed", "added", "removed")
"""How a checkpoint call of B compares with A's call of the same invocation id."""

CALL_FIELDS: tuple[str, ...] = ("inputs", "output", "status", "attempts", "model", "tokens")
"""What a ``changed`` call may list as changed, in this order."""

TOKEN_KEYS: tuple[str, ...] = ("input", "output", "total")
"""The keys of a call side's ``tokens``."""

SIDES: tuple[str, str] = ("a", "b")


@dataclass(frozen=True)
class CallSide:
    """One execution's call in a pair.

    Attributes:
        call_id: The id of its latest attempt.
        status: Its status (``completed``, ``failed`` ...).
        attempts: How many attempts it took.
        checkpoint_type: ``llm_call``, ``tool_call``, the ``@checkpoint(type=...)`` label, or None.
        inputs: What it received, by parameter name (artifact inputs loaded).
        output: What it returned (None when it returned nothing or failed;
            ``{name: value}`` for a checkpoint with several outputs).
        model: The models its LLM requests went to (empty when it made none).
        tokens: ``{"input", "output", "total"}`` summed over its LLM requests
            and attempts, or None when it made none.
        cost_usd: What those requests cost, None when unknown or none.
        unavailable: Values that could not be loaded: ``"output"`` or
            ``"inputs.<name>"`` -> why.
    """

    call_id: str
    status: str
    attempts: int
    checkpoint_type: str | None
    inputs: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    model: list[str] = field(default_factory=list)
    tokens: dict[str, int] | None = None
    cost_usd: float | None = None
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallDiff:
    """A checkpoint call of A and/or B.

    Attributes:
        name: The invocation id both are matched by.
        change: One of :data:`CHANGE_KINDS`.
        a: The call in A (None when ``added``).
        b: The call in B (None when ``removed``).
        changed: The :data:`CALL_FIELDS` that differ (a ``changed`` call only).
        unknown: Fields that could not be compared because a value could not be loaded.
    """

    name: str
    change: str
    a: CallSide | None
    b: CallSide | None
    changed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InputsDiff:
    """The flow inputs of A and B: ``changed`` names those that differ (or only one has)."""

    a: dict[str, Any]
    b: dict[str, Any]
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ResultDiff:
    """The flow results of A and B.

    Attributes:
        a: A's result (None when it has none or it cannot be loaded).
        b: B's result.
        changed: Whether they differ.
        unknown: Whether they could not be compared (a side is in ``unavailable``).
        unavailable: ``"a"``/``"b"`` -> why that result is missing.
    """

    a: Any
    b: Any
    changed: bool
    unknown: bool
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LlmDiff:
    """LLM usage side by side: each is an execution's ``llm_usage`` (None when it made no LLM call).

    ``changed`` names the totals that differ: ``calls``, ``tokens_input``,
    ``tokens_output``, ``total_tokens``, ``cost_usd``.
    """

    a: dict[str, Any] | None
    b: dict[str, Any] | None
    changed: list[str] = field(default_factory=list)


LLM_TOTALS: tuple[str, ...] = ("calls", "tokens_input", "tokens_output", "total_tokens", "cost_usd")
"""The totals :class:`LlmDiff` compares."""


@dataclass(frozen=True)
class ExecutionDiff:
    """What ``executions.diff(a, b)`` returns (its JSON is ``kitaru executions diff -o json``'s item).

    Attributes:
        a: A's execution id.
        b: B's execution id.
        flows: ``{"a": flow name, "b": flow name}``.
        same_flow: Whether both ran the same flow (executions of different
            flows can be compared; ``warnings`` says so).
        status: ``{"a": status, "b": status}``.
        checkpoints: Every call of either, in call order.
        inputs: The flow inputs.
        result: The flow results.
        llm: The LLM usage totals.
        counts: How many calls are of each of :data:`CHANGE_KINDS`.
        warnings: What to keep in mind reading the diff.
    """

    a: str
    b: str
    flows: dict[str, str | None]
    same_flow: bool
    status: dict[str, str]
    checkpoints: list[CallDiff]
    inputs: InputsDiff
    result: ResultDiff
    llm: LlmDiff
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


# -- values -------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """``value`` as JSON with sorted keys: two values are the same when these are equal."""
    return json.dumps(to_jsonable(value), sort_keys=True)


class ValueLoader:
    """Loads stored values once each, keeping why a value could not be loaded."""

    def __init__(self) -> None:
        self.loaded: dict[str, tuple[Any, str | None]] = {}

    def load(self, artifact: ArtifactRef) -> tuple[Any, str | None]:
        """``(value, None)``, or ``(None, why)`` when it cannot be loaded."""
        if artifact.artifact_id not in self.loaded:
            try:
                self.loaded[artifact.artifact_id] = (artifact.load(), None)
            except Exception as exc:  # a deleted artifact, an unimportable type: report, do not crash
                why = f"could not be loaded: {exc}" if str(exc) else f"could not be loaded ({type(exc).__name__})"
                self.loaded[artifact.artifact_id] = (None, why)
        return self.loaded[artifact.artifact_id]

    def load_id(self, artifact_id: str, name: str, producing_call: str | None) -> tuple[Any, str | None]:
        """Load an artifact known only by id (an artifact input)."""
        ref = ArtifactRef(artifact_id, name, None, "", producing_call)
        return self.load(ref)


def call_side(call: CheckpointCall, loader: ValueLoader) -> CallSide:
    """One call's side of a pair, its values loaded."""
    unavailable: dict[str, str] = {}
    inputs: dict[str, Any] = {}
    artifact_values: dict[str, list[Any]] = {}
    for item in call.inputs:
        if item.artifact_id is None:
            inputs[item.name] = item.value
            continue
        value, why = loader.load_id(item.artifact_id, item.name, item.producing_call)
        artifact_values.setdefault(item.name, []).append(value)
        if why is not None:
            unavailable[f"inputs.{item.name}"] = why
    for name, values in artifact_values.items():
        inputs[name] = values[0] if len(values) == 1 else values
    outputs = [ref for ref in call.artifacts if ref.save_type in STEP_OUTPUT_SAVE_TYPES]
    loaded = {ref.name: loader.load(ref) for ref in outputs}
    for name, (_, why) in loaded.items():
        if why is not None:
            unavailable["output" if len(outputs) == 1 else f"output.{name}"] = why
    output: Any = None
    if len(loaded) == 1:
        output = next(iter(loaded.values()))[0]
    elif loaded:
        output = {name: value for name, (value, _) in loaded.items()}
    usage = summarize([call])
    return CallSide(
        call_id=call.call_id,
        status=str(call.status),
        attempts=len(call.attempts) or 1,
        checkpoint_type=call.checkpoint_type,
        inputs=inputs,
        output=output,
        model=models_of(call),
        tokens=(
            dict(zip(TOKEN_KEYS, (usage["tokens_input"], usage["tokens_output"], usage["total_tokens"]), strict=True))
            if usage and usage.get("calls_with_usage")
            else None
        ),
        cost_usd=usage.get("cost_usd") if usage else None,
        unavailable=unavailable,
    )


def models_of(call: CheckpointCall) -> list[str]:
    """The models a call's LLM requests went to, each once, in the order they were made."""
    models: list[str] = []
    for metadata in [attempt.metadata for attempt in call.attempts] or [call.metadata]:
        entries = metadata.get("llm_calls")
        if not isinstance(entries, Mapping):
            continue
        for entry in entries.values():
            if isinstance(entry, Mapping):
                model = entry.get("resolved_model") or entry.get("provider_model") or entry.get("requested_model")
                if model and str(model) not in models:
                    models.append(str(model))
    return models


# -- comparing ----------------------------------------------------------------------------


def differing_keys(a: Mapping[str, Any], b: Mapping[str, Any], skip: Iterable[str] = ()) -> list[str]:
    """Keys whose values differ (or that only one mapping has), in A's order then B's; ``skip`` left out."""
    skipped = set(skip)
    keys = [key for key in dict.fromkeys([*a, *b]) if key not in skipped]
    return [key for key in keys if key not in a or key not in b or canonical(a[key]) != canonical(b[key])]


def compare_calls(name: str, a: CallSide | None, b: CallSide | None) -> CallDiff:
    """Pair two sides of one invocation id (either may be missing)."""
    if a is None or b is None:
        return CallDiff(name=name, change="added" if a is None else "removed", a=a, b=b)
    changed: list[str] = []
    unknown: list[str] = []
    unreadable = {key.split(".", 1)[1] for key in (*a.unavailable, *b.unavailable) if key.startswith("inputs.")}
    if differing_keys(a.inputs, b.inputs, skip=unreadable):
        changed.append("inputs")
    elif unreadable:
        unknown.append("inputs")
    output_unreadable = any(key.startswith("output") for key in (*a.unavailable, *b.unavailable))
    if output_unreadable:
        unknown.append("output")
    elif canonical(a.output) != canonical(b.output):
        changed.append("output")
    for field_name, left, right in (
        ("status", a.status, b.status),
        ("attempts", a.attempts, b.attempts),
        ("model", a.model, b.model),
        ("tokens", a.tokens, b.tokens),
    ):
        if left != right:
            changed.append(field_name)
    ordered = [field_name for field_name in CALL_FIELDS if field_name in changed]
    return CallDiff(name=name, change="changed" if ordered else "same", a=a, b=b, changed=ordered, unknown=unknown)


def call_order(a_names: list[str], b_names: list[str]) -> list[str]:
    """Every invocation id of A and B once: A's order, with B's own calls where B made them."""
    merged: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a_names, b=b_names, autojunk=False).get_opcodes():
        merged.extend(a_names[i1:i2])
        if tag != "equal":
            merged.extend(b_names[j1:j2])
    return list(dict.fromkeys(merged))


def flow_result(execution: Execution, metadata: Mapping[str, Any], loader: ValueLoader) -> tuple[Any, str | None]:
    """The flow's result, or ``(None, why)`` when it cannot be loaded.

    An execution that recorded no result (it failed, or has not finished)
    has a known result: none. Completed on one side and failed on the other
    is then a changed result, not an unknown one.
    """
    record = metadata.get(RESULT_KEY)
    if not record:
        return None, None
    try:
        if isinstance(record, Mapping) and record.get("kind") != "json" and record.get("artifact_id"):
            return loader.load_id(str(record["artifact_id"]), "result", record.get("checkpoint"))
        return decode_result(execution.exec_id, record), None
    except Exception as exc:
        return None, f"could not be loaded: {exc}"


def compare_llm(a: dict[str, Any] | None, b: dict[str, Any] | None) -> LlmDiff:
    """The LLM usage totals of A and B, and which differ."""
    left, right = a or {}, b or {}
    return LlmDiff(a=a, b=b, changed=[key for key in LLM_TOTALS if left.get(key) != right.get(key)])


def diff_executions(a_id: str, b_id: str) -> ExecutionDiff:
    """Compare execution ``a_id`` (the reference) with ``b_id``.

    Args:
        a_id: A full execution id (resolve short ids first).
        b_id: Another full execution id, or the same one (every call is then ``same``).

    Raises:
        KitaruStateError: If either execution does not exist.
        KitaruBackendError: If the store cannot be read.
    """
    loader = ValueLoader()
    executions = {"a": get_execution(a_id), "b": get_execution(b_id)}
    runs = {"a": load_run(a_id), "b": load_run(b_id)}
    sides = {side: {call.name: call_side(call, loader) for call in executions[side].checkpoints} for side in SIDES}
    names = call_order(list(sides["a"]), list(sides["b"]))
    calls = [compare_calls(name, sides["a"].get(name), sides["b"].get(name)) for name in names]
    results = {side: flow_result(executions[side], runs[side].metadata, loader) for side in SIDES}
    inputs = {side: dict(runs[side].flow_inputs) for side in SIDES}
    result_unavailable = {side: why for side, (_, why) in results.items() if why is not None}
    a, b = executions["a"], executions["b"]
    flows = {"a": a.flow_name, "b": b.flow_name}
    warnings = []
    if a.flow_name != b.flow_name:
        warnings.append(
            f"The executions ran different flows ({a.flow_name} and {b.flow_name}): their checkpoint calls "
            "are matched by name all the same."
        )
    for side, execution in executions.items():
        if not execution.status.is_finished and execution.pending_wait is None:
            warnings.append(
                f"Execution {side.upper()} ({execution.exec_id}) is still {execution.status}: its calls may change."
            )
    return ExecutionDiff(
        a=a.exec_id,
        b=b.exec_id,
        flows=flows,
        same_flow=a.flow_name == b.flow_name,
        status={"a": str(a.status), "b": str(b.status)},
        checkpoints=calls,
        inputs=InputsDiff(a=inputs["a"], b=inputs["b"], changed=differing_keys(inputs["a"], inputs["b"])),
        result=ResultDiff(
            a=results["a"][0],
            b=results["b"][0],
            changed=not result_unavailable and canonical(results["a"][0]) != canonical(results["b"][0]),
            unknown=bool(result_unavailable),
            unavailable=result_unavailable,
        ),
        llm=compare_llm(a.llm_usage, b.llm_usage),
        counts={kind: sum(call.change == kind for call in calls) for kind in CHANGE_KINDS},
        warnings=warnings,
    )


__all__ = [
    "CALL_FIELDS",
    "CHANGE_KINDS",
    "LLM_TOTALS",
    "TOKEN_KEYS",
    "CallDiff",
    "CallSide",
    "ExecutionDiff",
    "InputsDiff",
    "LlmDiff",
    "ResultDiff",
    "ValueLoader",
    "call_order",
    "call_side",
    "canonical",
    "compare_calls",
    "compare_llm",
    "diff_executions",
    "differing_keys",
    "flow_result",
    "models_of",
]

"""Plan a replay: what it reuses, where it starts again, and where overrides go.

Pure logic over the source execution's checkpoint calls (:class:`SourceCall`,
read from the store by :func:`kitaru.execution.replay.load_calls`).
Nothing here touches the store or runs anything, so every rule can be tested
on hand-made calls; :mod:`kitaru.execution.replay` carries the plan out.

1. :func:`order_calls` puts the calls in replay order: Kahn's algorithm over
   the recorded upstream links, ties broken by invocation id; by when they ran
   if nothing was linked.
2. :func:`select_call` finds the call a selector names: a checkpoint name, an
   invocation id or a call ID.
3. :func:`require_selector` and :func:`parse_overrides` validate ``from_`` and
   the ``checkpoint.<selector>`` override keys before anything is read.
4. :func:`plan_replay` works out the *frontier* (the earliest of the ``from_``
   call and every consumer of an overridden output), the calls before it that
   are reused, and the inputs each override value replaces. A reused call
   whose output an earlier replay overrode (the source is itself a replay)
   keeps that edited value: consumers that run again receive it too.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kitaru.engine.runs import ArtifactRecord
from kitaru.errors import KitaruRuntimeError, KitaruStateError, KitaruUsageError

OVERRIDE_PREFIX = "checkpoint."


# -- the source execution's calls ----------------------------------------------------------


@dataclass(frozen=True)
class SourceCall:
    """One checkpoint call of the source execution (its latest attempt).

    Attributes:
        invocation_id: ``name``, ``name_2`` or the explicit ``id=``.
        checkpoint: The checkpoint's name.
        call_id: The latest attempt's id.
        attempt_ids: Every attempt's id.
        status: The latest attempt's engine status word.
        successful: Whether the latest attempt succeeded.
        started: When the first attempt started.
        parents: Invocation ids of the calls it came after.
        outputs: Its return value's artifacts (not its ``kitaru.save()`` values).
        output_names: Their output names.
        inputs: Input name -> artifact ids it received.
        override_id: When the source was itself a replay that overrode this
            call's output (:mod:`kitaru.execution.replay_record`), the
            artifact its consumers received instead of ``outputs``.
    """

    invocation_id: str
    checkpoint: str
    call_id: str
    attempt_ids: frozenset[str]
    status: str
    successful: bool
    started: datetime
    parents: tuple[str, ...] = ()
    outputs: tuple[ArtifactRecord, ...] = ()
    output_names: tuple[str, ...] = ()
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    override_id: str | None = None

    def consumed_ids(self) -> frozenset[str]:
        """The artifact ids a consumer of this call's output received."""
        produced = {artifact.id for artifact in self.outputs}
        return frozenset(produced | {self.override_id} if self.override_id else produced)


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
        selector = text[len(OVERRIDE_PREFIX) :].strip()
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
class Inherited:
    """A reused call whose output an earlier replay overrode: the edited value stays its output.

    Attributes:
        source: The reused call.
        artifact_id: The artifact holding the edited value.
        consumers: ``(invocation id, input name)`` of the consumers that run
            again and must receive it (not the output the engine linked).
    """

    source: SourceCall
    artifact_id: str
    consumers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay reuses, overrides and runs again."""

    source_exec_id: str
    selected: SourceCall
    frontier: SourceCall
    reused: tuple[str, ...]
    overrides: tuple[Override, ...]
    inherited: tuple[Inherited, ...] = ()


def _inputs_fed_by(source: SourceCall, calls: list[SourceCall]) -> list[tuple[SourceCall, str, tuple[str, ...]]]:
    """Every ``(call, input name, artifact ids)`` that received ``source``'s output."""
    consumed = source.consumed_ids()
    return [
        (call, input_name, artifact_ids)
        for call in calls
        for input_name, artifact_ids in call.inputs.items()
        if consumed.intersection(artifact_ids)
    ]


def _consumers(exec_id: str, source: SourceCall, calls: list[SourceCall], key: str) -> tuple[tuple[str, str], ...]:
    """Every ``(invocation id, input name)`` that received ``source``'s output."""
    found = []
    for call, input_name, artifact_ids in _inputs_fed_by(source, calls):
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
    overridden = {item.source.invocation_id for item in planned}
    # Replaying from a call whose output is overridden starts right after it: the edited value
    # stands for its output, so running it again would only repeat its side effects (a tool call).
    selected_position = position[selected.invocation_id] + (1 if selected.invocation_id in overridden else 0)
    start = min([selected_position, *consumers])
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
    inherited = tuple(
        Inherited(
            call,
            call.override_id,
            tuple(
                (consumer.invocation_id, input_name)
                for consumer, input_name, artifact_ids in _inputs_fed_by(call, calls)
                if consumer.invocation_id not in reused_ids and len(artifact_ids) == 1
            ),
        )
        for call in reused
        if call.override_id is not None and call.invocation_id not in overridden
    )
    return ReplayPlan(exec_id, selected, calls[start], reused_ids, tuple(planned), inherited)


__all__ = [
    "OVERRIDE_PREFIX",
    "Inherited",
    "Override",
    "ReplayPlan",
    "SourceCall",
    "order_calls",
    "parse_overrides",
    "plan_replay",
    "require_selector",
    "select_call",
]

"""The journal of an execution, and divergence: does the re-run body still match what was recorded?

When a failed, crashed or paused execution continues (retry, resume), the
engine re-runs the flow body from the top and hands back the recorded output
of every checkpoint call that already succeeded; a replay reuses the calls
before its starting point the same way. If the body now calls checkpoints in
a different order, or with different inputs, than the journal recorded,
reusing outputs would silently mix two different executions. :class:`Journal`
notices the first call that differs and raises
:class:`~kitaru.errors.KitaruDivergenceError` naming it::

    journal = journal_of(exec_id, steps)          # the recorded calls
    journal.check("research", "research", inputs, load_artifact)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kitaru.engine.runs import StepRecord
from kitaru.errors import KitaruDivergenceError
from kitaru.execution.call_order import in_call_order
from kitaru.jsonable import to_jsonable


@dataclass
class RecordedCall:
    """A successful checkpoint call in the journal.

    Attributes:
        invocation_id: ``name``, ``name_2`` or the explicit ``id=``.
        checkpoint: The checkpoint's name.
        parameters: Inputs that were recorded as plain values.
        artifact_inputs: Inputs that were recorded as artifacts (their ids).
    """

    invocation_id: str
    checkpoint: str
    parameters: dict[str, Any]
    artifact_inputs: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CallInput:
    """One input of a call in the re-run body.

    Attributes:
        value: The value the flow body passed.
        artifact_ids: When the engine receives it as existing artifacts
            (outputs of earlier checkpoints), their ids; else None.
    """

    value: Any
    artifact_ids: tuple[Any, ...] | None


@dataclass
class Journal:
    """The successful calls of the execution being continued, in recorded order."""

    exec_id: str
    calls: list[RecordedCall]
    consumed: set[str] = field(default_factory=set)
    # Retry/resume re-run the body in the recorded order; a replay reuses a
    # set of calls whose order among independent branches may differ.
    strict_order: bool = True
    reused_from: str = "the journal"
    # A replay substitutes artifact inputs on purpose (overrides, including
    # those inherited from a replayed source), so it compares plain inputs only.
    compare_artifacts: bool = True

    def __post_init__(self) -> None:
        self.by_id = {call.invocation_id: call for call in self.calls}

    @property
    def active(self) -> bool:
        """Whether recorded calls remain that the body has not reached yet."""
        return len(self.consumed) < len(self.calls)

    def check(
        self,
        checkpoint: str,
        invocation_id: str,
        inputs: dict[str, CallInput],
        load_artifact: Callable[[Any], Any],
    ) -> None:
        """Compare one call of the re-run body with the journal.

        Args:
            checkpoint: The checkpoint called.
            invocation_id: Its invocation id.
            inputs: Its inputs by parameter name.
            load_artifact: Loads a recorded input artifact's value by id (used
                only when an input changed between plain value and artifact).

        Raises:
            KitaruDivergenceError: If the call is not the journal's, or its
                plain inputs differ from the recorded ones.
        """
        recorded = self.by_id.get(invocation_id)
        if recorded is None and not self.strict_order:
            return
        if recorded is None:
            pending = [call for call in self.calls if call.invocation_id not in self.consumed]
            if pending:
                expected = pending[0]
                raise KitaruDivergenceError(
                    f"Execution {self.exec_id} diverged from its journal: the flow now calls "
                    f"checkpoint `{invocation_id}` where the journal recorded `{expected.invocation_id}` "
                    "next. Its code or inputs changed since the execution ran, so reusing the "
                    "recorded outputs would mix two different runs. Replay it into a new "
                    "execution instead: kitaru executions replay "
                    f"{self.exec_id} --from {expected.invocation_id}",
                    exec_id=self.exec_id,
                )
            return
        self.consumed.add(invocation_id)
        if recorded.checkpoint != checkpoint:
            raise KitaruDivergenceError(
                f"Execution {self.exec_id} diverged from its journal at `{invocation_id}`: the "
                f"journal recorded checkpoint `{recorded.checkpoint}`, the flow now calls "
                f"`{checkpoint}`.",
                exec_id=self.exec_id,
            )
        for name, call_input in inputs.items():
            if not self.compare_artifacts and name not in recorded.parameters:
                continue
            changed, before = _input_changed(recorded, name, call_input, load_artifact)
            if changed:
                raise KitaruDivergenceError(
                    f"Execution {self.exec_id} diverged from its journal at checkpoint "
                    f"`{invocation_id}`: input `{name}` is now {_short(call_input.value)} but the "
                    f"journal recorded {_short(before)}. Replay it into a new execution instead: "
                    f"kitaru executions replay {self.exec_id} --from {invocation_id}",
                    exec_id=self.exec_id,
                )


def _normalized(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MISSING = object()


def _input_changed(
    recorded: RecordedCall, name: str, call_input: CallInput, load_artifact: Callable[[Any], Any]
) -> tuple[bool, Any]:
    """Whether an input differs from the journal, and the recorded value."""
    if name in recorded.parameters:
        before = recorded.parameters[name]
        return _normalized(before) != _normalized(call_input.value), before
    recorded_ids = recorded.artifact_inputs.get(name)
    if not recorded_ids:
        return False, _MISSING  # the engine recorded nothing comparable
    if call_input.artifact_ids is not None:
        if [str(i) for i in call_input.artifact_ids] == [str(i) for i in recorded_ids]:
            return False, None
    # Kinds or artifacts differ: compare the values themselves.
    before = [load_artifact(artifact_id) for artifact_id in recorded_ids]
    before_value = before[0] if len(before) == 1 else before
    return _normalized(before_value) != _normalized(call_input.value), before_value


def journal_of(exec_id: str, steps: Iterable[StepRecord], **options: Any) -> Journal:
    """The journal of ``exec_id``: its successful checkpoint calls in start order.

    Args:
        exec_id: The execution the calls belong to (named in divergence errors).
        steps: The latest attempt of each recorded call.
        **options: ``strict_order``, ``compare_artifacts`` and ``reused_from``
            for :class:`Journal`.
    """
    successful = in_call_order(step for step in steps if step.successful)
    return Journal(
        exec_id=exec_id,
        calls=[
            RecordedCall(
                invocation_id=step.name,
                checkpoint=step.checkpoint,
                parameters=dict(step.parameters),
                artifact_inputs={name: list(ids) for name, ids in step.inputs.items()},
            )
            for step in successful
        ],
        **options,
    )


__all__ = ["CallInput", "Journal", "RecordedCall", "journal_of"]

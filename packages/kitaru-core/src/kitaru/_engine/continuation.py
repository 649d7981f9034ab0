"""Continue an execution in place: reuse the journal, re-run what failed, detect divergence.

When a failed, crashed or paused execution continues (retry, resume), the
engine re-runs the flow body from the top and hands back the recorded output
of every checkpoint call that already succeeded. Two things are Kitaru's:

* **Re-running failed calls.** The engine would re-raise a failed call's
  stored exception instead of executing it again. :func:`install` removes
  failed and orphaned (crashed) attempts from the runner's view, so those
  calls execute again as a new attempt journaled next to the old ones.
* **Divergence.** If the body now calls checkpoints in a different order, or
  with different inputs, than the journal recorded, reusing outputs would
  silently mix two different executions. :class:`Journal` notices the first
  call that differs and raises :class:`~kitaru.errors.KitaruDivergenceError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kitaru.errors import KitaruDivergenceError


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
                    f"{self.exec_id} --from {expected.checkpoint}",
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
                    f"kitaru executions replay {self.exec_id} --from {recorded.checkpoint}",
                    exec_id=self.exec_id,
                )


def _normalized(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


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


def journal_of(exec_id: str, step_runs: Any, **options: Any) -> Journal:
    """The journal of ``exec_id``: its successful checkpoint calls in start order.

    Args:
        exec_id: The execution the calls belong to (named in divergence errors).
        step_runs: Engine step runs (the latest attempt per invocation).
        **options: ``strict_order`` and ``reused_from`` for :class:`Journal`.
    """
    successful = sorted(
        (run for run in step_runs if run.status.is_successful),
        key=lambda run: (run.start_time or run.created, run.created),
    )
    return Journal(
        exec_id=exec_id,
        calls=[
            RecordedCall(
                invocation_id=run.name,
                checkpoint=run.config.name if run.config else run.name,
                parameters=dict(run.config.parameters or {}) if run.config else {},
                artifact_inputs={name: [item.id for item in items] for name, items in run.inputs.items()},
            )
            for run in successful
        ],
        **options,
    )


def _hydrate_in_one_query(existing: dict[str, Any], exec_id: str) -> None:
    """Replace the runner's step runs with fully loaded ones, fetched in one query.

    Reading ``config`` and ``inputs`` of a lazily loaded step run costs a store
    read each (about 5 ms); one listing loads them all. The engine reads the
    same fields when it reuses an output, so it benefits too.
    """
    from uuid import UUID

    from zenml.client import Client
    from zenml.utils.pagination_utils import depaginate

    loaded = {
        step.id: step
        for step in depaginate(Client().list_run_steps, pipeline_run_id=UUID(exec_id), hydrate=True, size=1000)
    }
    for invocation_id, step_run in existing.items():
        existing[invocation_id] = loaded.get(step_run.id, step_run)


def install(runner: Any, exec_id: str) -> Journal | None:
    """Prepare the engine runner to continue ``exec_id`` and return its journal.

    Must run in the flow body before the first checkpoint call. Returns None
    for a fresh execution (nothing recorded yet).
    """
    from zenml.config.retry_config import StepRetryConfig
    from zenml.enums import ExecutionStatus
    from zenml.orchestrators.publish_utils import publish_failed_step_run

    existing = runner._existing_step_runs  # invocation id -> latest attempt
    if not existing:
        return None
    _hydrate_in_one_query(existing, exec_id)
    journal = journal_of(exec_id, existing.values())

    previous_attempts: dict[str, int] = {}
    for invocation_id, step_run in list(existing.items()):
        if step_run.status.is_successful:
            continue
        if not step_run.status.is_finished and step_run.status != ExecutionStatus.RETRYING:
            step_run = publish_failed_step_run(step_run.id)  # orphan of a dead process
        previous_attempts[invocation_id] = step_run.version
        del existing[invocation_id]  # the runner now treats it as a new call

    if previous_attempts:
        run_sync_step = runner._run_sync_step

        def run_again(step: Any, remaining_retries: int | None = None) -> Any:
            attempts = previous_attempts.get(step.spec.invocation_id)
            if attempts is not None:
                own = step.config.retry.max_retries if step.config.retry else 0
                # The store refuses attempt n+1 unless max_retries >= n.
                retry = StepRetryConfig(max_retries=attempts + own, delay=0, backoff=0)
                step = step.model_copy(
                    update={
                        "config": step.config.model_copy(update={"retry": retry}),
                        "step_config_overrides": step.step_config_overrides.model_copy(update={"retry": retry}),
                    }
                )
                remaining_retries = own
            return run_sync_step(step=step, remaining_retries=remaining_retries)

        runner._run_sync_step = run_again
    return journal

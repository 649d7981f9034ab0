"""Continue a ZenML dynamic run in place: reuse what succeeded, run again what failed.

When a failed, crashed or paused run continues (retry, resume), ZenML's
dynamic runner re-runs the flow body from the top and hands back the stored
output of every step invocation it finds in ``_existing_step_runs``. It
would also re-raise a failed invocation's stored exception instead of
executing it again; :func:`prepare` therefore removes failed and orphaned
(crashed) attempts from that view, so they execute again as a new attempt
recorded next to the old ones. Deciding whether the body still matches what
was recorded (divergence) is Kitaru's business, on the records returned.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru._engine.run_store import STEP_PAGE_SIZE, client, step_record
from kitaru.engine.runs import StepRecord


def _hydrate_in_one_query(existing: dict[str, Any], run_id: str) -> None:
    """Replace the runner's step runs with fully loaded ones, fetched in one query.

    Reading ``config`` and ``inputs`` of a lazily loaded step run costs a store
    read each (about 5 ms); one listing loads them all. The engine reads the
    same fields when it reuses an output, so it benefits too.
    """
    from zenml.utils.pagination_utils import depaginate

    loaded = {
        step.id: step
        for step in depaginate(client().list_run_steps, pipeline_run_id=UUID(run_id), hydrate=True, size=STEP_PAGE_SIZE)
    }
    for invocation_id, step_run in existing.items():
        existing[invocation_id] = loaded.get(step_run.id, step_run)


def prepare(runner: Any, run_id: str) -> tuple[StepRecord, ...]:
    """Prepare ``runner`` to continue ``run_id``; returns the latest attempt of every recorded call.

    Empty for a fresh run (nothing recorded yet).
    """
    from zenml.config.retry_config import StepRetryConfig
    from zenml.enums import ExecutionStatus
    from zenml.orchestrators.publish_utils import publish_failed_step_run

    # ZenML private API: the runner's map of invocation id -> latest attempt,
    # which decides what it reuses instead of running.
    existing = runner._existing_step_runs
    if not existing:
        return ()
    _hydrate_in_one_query(existing, run_id)
    records = tuple(step_record(step_run) for step_run in existing.values())

    previous_attempts: dict[str, int] = {}
    for invocation_id, step_run in list(existing.items()):
        if step_run.status.is_successful:
            continue
        if not step_run.status.is_finished and step_run.status != ExecutionStatus.RETRYING:
            step_run = publish_failed_step_run(step_run.id)  # orphan of a dead process
        previous_attempts[invocation_id] = step_run.version
        del existing[invocation_id]  # the runner now treats it as a new call

    if previous_attempts:
        # ZenML private API: the runner's synchronous step launcher, wrapped so
        # a call that failed before starts as attempt n+1 of the same invocation.
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
    return records


__all__ = ["prepare"]

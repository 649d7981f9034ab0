"""Which synchronous checkpoint calls ZenML served from its cache, by ZenML's own record.

A call is a cache hit when the step run ZenML's dynamic runner returns for it
has the status ``cached``. Reading that status as the runner returns it costs
no store request, and unlike comparing an artifact's creation time with the
client's clock it holds when the clocks disagree or the store keeps whole
seconds (MySQL).
"""

from __future__ import annotations

import weakref
from typing import Any

# runner -> invocation id -> whether ZenML served it from its cache
_outcomes: weakref.WeakKeyDictionary[Any, dict[str, bool]] = weakref.WeakKeyDictionary()


def watch(runner: Any) -> None:
    """Note, from now on, which synchronous step runs of ``runner`` are cache hits (idempotent)."""
    if runner in _outcomes:
        return
    from zenml.enums import ExecutionStatus

    outcomes = _outcomes[runner] = {}
    # ZenML private API: the runner's synchronous step launcher, which returns the step run.
    run_sync_step = runner._run_sync_step

    def run_and_note(step: Any, remaining_retries: int | None = None) -> Any:
        step_run = run_sync_step(step=step, remaining_retries=remaining_retries)
        outcomes[step.spec.invocation_id] = step_run.status == ExecutionStatus.CACHED
        return step_run

    runner._run_sync_step = run_and_note


def served_from_cache(runner: Any, invocation_id: str) -> bool:
    """Whether ``runner`` served the synchronous call ``invocation_id`` from ZenML's cache."""
    return _outcomes.get(runner, {}).get(invocation_id, False)


__all__ = ["served_from_cache", "watch"]

"""Child executions as ZenML child pipeline runs, filed under the parent's call that started them.

A pipeline called inside a dynamic run's body becomes a *child run* of that
run: ZenML compiles it on the parent's snapshot (same stack, same build),
records ``parent_run_id`` and a ``child_key`` on it, and runs it in the calling
thread. The key is allocated by the parent's runner (``pipeline:<flow name>``,
``_2`` ... in call order); when the parent's body runs again in place, the
runner hands each key the child stored under it (``_existing_child_runs``,
loaded when the runner was built): a finished one is not run again, a paused
one continues.

Kitaru decides itself which calls reuse a child and which start one
(:mod:`kitaru.execution.child_flows`), so :func:`start` chooses the key: the
parent's invocation id of the call (``pipeline:summarize_2``), or, for a new
child of a call whose earlier child failed (ZenML never runs a finished run
again, and refuses to resume a child run), the first free
``pipeline:summarize_2#2``, ``#3`` ...; or the key of the paused child it
continues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru._engine import flow_waits

ATTEMPT_SEPARATOR = "#"
"""Separates a call's invocation id from the number of a later child (never part of an invocation id)."""


def _runner() -> Any:
    context = flow_waits.run_context()
    if context is None:
        raise RuntimeError("A child execution can only start in a running flow body.")
    return context.runner


def _existing(runner: Any) -> dict[str, Any]:
    # ZenML private API: the runner's map of child key -> child run stored
    # before this body started, which decides the run a child call continues.
    children: dict[str, Any] = runner._existing_child_runs
    return children


def child_key(runner: Any, call_id: str, resume: str | None) -> str:
    """The key the child of call ``call_id`` is filed under (see the module docstring).

    Raises:
        KeyError: If ``resume`` is not a child of the running body.
    """
    from zenml.execution.pipeline.dynamic.runner import CHILD_PIPELINE_INVOCATION_ID_PREFIX

    existing = _existing(runner)
    if resume is not None:
        for key, run in existing.items():
            if str(run.id) == resume:
                return key
        raise KeyError(resume)
    base = f"{CHILD_PIPELINE_INVOCATION_ID_PREFIX}{call_id}"
    key, number = base, 1
    while key in existing:
        number += 1
        key = f"{base}{ATTEMPT_SEPARATOR}{number}"
    return key


def start(flow: Any, params: Mapping[str, Any], *, call_id: str, resume: str | None) -> None:
    """Run ``flow`` as a child of the run whose body runs here (see :meth:`FlowRuntime.start_child`)."""
    from zenml.execution.pipeline.dynamic.runner import CHILD_PIPELINE_INVOCATION_ID_PREFIX

    runner = _runner()
    key = child_key(runner, call_id, resume)
    allocate = runner.allocate_invocation_id
    base = f"{CHILD_PIPELINE_INVOCATION_ID_PREFIX}{flow.name}"

    def allocate_key(base_name: str, allow_suffix: bool = True) -> str:
        if base_name != base:  # a step launched meanwhile by another thread
            return str(allocate(base_name, allow_suffix))
        return str(allocate(key, allow_suffix=False))

    # ZenML: ``submit_child_pipeline`` takes the child's key from the runner's
    # allocator, looked up on the instance at call time; for this one call it
    # hands out the key chosen above (the same technique as flow_waits.halt).
    runner.allocate_invocation_id = allocate_key
    try:
        # ZenML: a dynamic pipeline called in a dynamic run's context runs as
        # its synchronous child (``DynamicPipelineRunner.submit_child_pipeline``).
        flow(**params)
    finally:
        runner.__dict__.pop("allocate_invocation_id", None)


__all__ = ["ATTEMPT_SEPARATOR", "child_key", "start"]

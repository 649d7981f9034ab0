"""The one run loader: read an execution, word its errors once, detect a dead owner.

Every reader of an execution (the client, a flow handle, the CLI, lifecycle
commands, log followers) loads it through :func:`load_run`, so:

* the id is parsed by :func:`kitaru.execution.ids.parse_execution_id`;
* a missing execution is always ``Execution '<id>' was not found. List
  executions with `kitaru executions list`.``;
* a store failure is always ``Failed to <action> execution '<id>': <why>``;
* an execution whose process died (``kill -9``, OOM, a closed laptop) is
  marked failed first (:func:`reconcile_crashed`), so nobody waits forever on
  an execution shown as ``running``.
"""

from __future__ import annotations

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.runs import RunRecord
from kitaru.errors import KitaruBackendError, KitaruError, KitaruStateError
from kitaru.execution import ownership
from kitaru.execution.ids import LIST_EXECUTIONS_HINT, parse_execution_id

CRASH_MARKER = "execution process died"
"""Part of every crash reason; :func:`kitaru.errors.classify_failure_origin` maps it to ``runtime``."""

ALIVE_STATUSES = frozenset({"running", "resuming", "initializing"})
"""Engine statuses in which an execution needs a live process."""


def not_found(exec_id: str) -> KitaruStateError:
    """The error for an execution id the store does not know."""
    return KitaruStateError(f"Execution '{exec_id}' was not found. {LIST_EXECUTIONS_HINT}")


def load_run(exec_id: str, *, action: str = "load", with_source: bool = False) -> RunRecord:
    """Load an execution with its details, after marking it failed if its process died.

    Args:
        exec_id: The execution id (a full UUID).
        action: The verb for a store failure's message (``load``, ``refresh``).
        with_source: Also read where its flow lives and whether it can
            continue (for retry, resume and replay; several more queries).

    Raises:
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruStateError: If there is no such execution.
        KitaruBackendError: If the store cannot be read.
    """
    run_id = parse_execution_id(exec_id)
    runs = get_engine().runs
    try:
        run = runs.get_run(run_id, with_source=with_source)
        if reconcile_crashed(run):
            run = runs.get_run(run_id, with_source=with_source)
        return run
    except RecordNotFound:
        raise not_found(exec_id) from None
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to {action} execution '{exec_id}': {exc}") from exc


def root_of(run: RunRecord) -> RunRecord:
    """The top-level execution ``run`` belongs to: itself, or the root of its child-flow parents.

    A child flow's execution continues (retry, resume) only with its root,
    whose flow body runs the whole tree. Reads one run per level (``run``
    must have been read with details).
    """
    runs = get_engine().runs
    root, seen = run, {run.id}
    while root.parent_run_id and root.parent_run_id not in seen:
        try:
            root = runs.get_run(root.parent_run_id)
        except RecordNotFound:  # the parent was deleted: the child is the root now
            break
        seen.add(root.id)
    return root


def reconcile_crashed(run: RunRecord) -> bool:
    """Mark a running execution failed if the process running it has died.

    Args:
        run: The execution, read with details (its metadata names the owner).

    Returns:
        Whether the execution was marked failed.
    """
    if run.status not in ALIVE_STATUSES:
        return False
    dead, why = ownership.owner_is_dead(run.id, dict(run.metadata))
    if not dead:
        return False
    return mark_crashed(run.id, why)


def mark_crashed(exec_id: str, why: str) -> bool:
    """Mark a running execution failed because its process died (or was declared dead).

    Args:
        exec_id: The execution id.
        why: What happened to its process, in Kitaru's words.

    Returns:
        Whether the execution is now failed (False if it finished meanwhile).
    """
    runs = get_engine().runs
    if runs.get_run(exec_id, details=False).finished:
        return False  # it finished between our two reads
    try:
        runs.fail_run(exec_id, f"Kitaru: {CRASH_MARKER}: {why}. Retry it with: kitaru executions retry {exec_id}")
    except Exception:  # lost a race with the owner publishing its outcome
        return runs.get_run(exec_id, details=False).status == "failed"
    return True


__all__ = ["ALIVE_STATUSES", "CRASH_MARKER", "load_run", "mark_crashed", "not_found", "reconcile_crashed", "root_of"]

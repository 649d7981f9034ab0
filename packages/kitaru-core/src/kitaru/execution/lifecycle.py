"""Retry, resume and cancel an execution: the rules, the messages, the terminal lines.

Retry and resume continue an execution *in place* (same execution id): the
engine re-runs the flow body, the journal hands back every checkpoint output
that already succeeded, and only what failed or never ran executes (see
:mod:`kitaru.execution.flow_body` and :mod:`kitaru.execution.journal`). On the
local default the continuation runs in the calling process and these calls
return when it ends::

    retry_execution(exec_id)     # a failed (or crashed) execution
    retry_execution(exec_id, force_owner_dead=True)  # its owner went silent, not yet judged dead
    resume_execution(exec_id)    # a paused one, once its waits are answered
    cancel_execution(exec_id)    # stop it at the next checkpoint boundary, or sooner

Every execution is loaded through :func:`kitaru.execution.runs.load_run`, so a
crashed execution shows ``failed`` here and can be retried. An owner on
another machine is judged by its heartbeat; until its timeout has passed,
retry is refused with a message that says when it will be judged dead, and
``force_owner_dead`` declares it dead at once
(:func:`kitaru.execution.ownership.abandon`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from kitaru.budget import Budget
from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord
from kitaru.errors import FailureOrigin, KitaruCancelledError, KitaruStateError
from kitaru.execution import ownership, sleeps
from kitaru.execution.budgets import raise_budget
from kitaru.execution.console import format_duration, say
from kitaru.execution.events import receive_wait_topic
from kitaru.execution.owner_record import OwnerInfo
from kitaru.execution.runs import ALIVE_STATUSES, load_run, mark_crashed, root_of
from kitaru.execution.sources import make_flow_importable
from kitaru.execution.status import ExecutionStatus, public_status

CANCEL_WAIT_SECONDS = 60.0
"""How long :func:`cancel_execution` waits for a running execution to stop."""

CANCELLED_REASON = "Cancelled by user."
"""The status reason of a cancelled execution (:func:`kitaru.errors.classify_failure_origin` knows it)."""


def interrupted(exec_id: str) -> KeyboardInterrupt:
    """What a process interrupted while running ``exec_id`` raises (Ctrl-C, SIGINT, SIGTERM).

    A plain :class:`KeyboardInterrupt`, as for any Ctrl-C: ``except Exception``
    does not swallow it, and uncaught it ends the process as interrupted
    (Python exits by SIGINT, status 130 in a shell). The flow body raises it
    too, so the execution is recorded with origin ``interrupted``, in
    Kitaru's words, and stays retryable. Its ``exec_id`` attribute names the
    execution.
    """
    error = KeyboardInterrupt(
        f"Execution {exec_id} was interrupted. The checkpoints that finished are kept; "
        f"continue it with: kitaru executions retry {exec_id}"
    )
    error.exec_id = exec_id  # type: ignore[attr-defined]
    return error


def cancelled(exec_id: str) -> KitaruCancelledError:
    """The error for an execution that was cancelled while this process ran it."""
    return KitaruCancelledError(
        f"Execution {exec_id} was cancelled.",
        exec_id=exec_id,
        status=str(ExecutionStatus.CANCELLED),
        failure_origin=FailureOrigin.CANCELLED,
    )


def public_status_of(run: RunRecord) -> ExecutionStatus:
    """The public status of a loaded execution (``waiting`` when a wait is active)."""
    return public_status(run.status, has_active_wait=run.active_wait is not None)


def resume_target(exec_id: str) -> str:
    """The execution a command must name to continue ``exec_id``: its top-level execution.

    A child flow's execution continues only with its root, whose flow body
    runs the child. Used to name the command in messages; if the store
    cannot be read, ``exec_id`` itself.
    """
    try:
        return root_of(get_engine().runs.get_run(exec_id)).id
    except Exception:  # only names a command
        return exec_id


def _refuse_child(run: RunRecord, command: str) -> None:
    """Raise if ``run`` is a child flow's execution, naming the command for its top-level execution."""
    if run.parent_run_id:
        root = root_of(run).id
        raise KitaruStateError(
            f"Execution {run.id} is a child flow of execution {run.parent_run_id} and continues only "
            f"with its parents. Run: kitaru executions {command} {root}"
        )


def _continue(
    run: RunRecord, *, reason: str, verb: str, before_start: Callable[[], None] | None = None
) -> None:
    """Claim the execution, set it resuming and let its orchestrator re-run the flow body.

    ``before_start`` records what the continuation changes (a raised budget)
    once the claim is this process's, so a refused continuation changes nothing.

    This process becomes the owner (lock, ``kitaru_owner``, heartbeat) before
    the status changes, so the previous owner (a launcher still blocked in
    ``handle.wait()``, or a dead process) is never judged in its place.
    A child flow's execution continues only with its parent (the engine runs
    it in its parent's body): the error names the command for the top-level
    execution.
    """
    _refuse_child(run, "retry" if verb == "Retrying" else "resume")
    if not run.can_continue:
        raise KitaruStateError(f"Execution {run.id} cannot continue: its snapshot or stack was deleted.")
    make_flow_importable(run)
    engine = get_engine()
    previous = run.status
    busy = f"Execution {run.id} cannot continue: another process is running or continuing it."
    if not ownership.claim(run.id):
        raise KitaruStateError(f"{busy} Wait for it to finish, or cancel it with `kitaru executions cancel {run.id}`.")
    try:
        if before_start is not None:
            before_start()
        try:
            engine.runs.set_status(run.id, "resuming", reason=reason)
        except Exception as exc:
            raise KitaruStateError(
                f"Execution {run.id} cannot continue: {exc}. Another process may be continuing it already."
            ) from exc
        ownership.record_owner(run.id)

        say(f"{verb} execution `{run.id}`.")
        started = time.perf_counter()
        try:
            engine.runtime.resume_run(run.id)
        except (Exception, KeyboardInterrupt) as exc:  # the outcome is recorded on the execution
            refreshed = engine.runs.get_run(run.id, details=False)
            if refreshed.status == "resuming":  # failed before the body started
                engine.runs.set_status(run.id, previous, reason=f"Could not continue: {exc}")
                raise KitaruStateError(f"Execution {run.id} could not continue: {exc}") from exc
            if isinstance(exc, KeyboardInterrupt) and refreshed.status not in (ownership.STOPPING, "stopped"):
                raise interrupted(run.id) from None
    finally:
        ownership.release_run_lock(run.id)
    final = engine.runs.get_run(run.id)
    say(f"Execution {run.id} {public_status_of(final)} in {format_duration(time.perf_counter() - started)}.")


def retry_execution(exec_id: str, *, force_owner_dead: bool = False, budget: Budget | None = None) -> None:
    """Re-run a failed execution in place, skipping checkpoints that succeeded.

    Args:
        exec_id: The execution id.
        force_owner_dead: Declare the owner of a *running* execution dead
            before its heartbeat timeout (it went silent on another machine),
            then retry. A warning says what happens if it is alive after all:
            it runs alongside until its next heartbeat finds it was taken over
            and ends it, so a checkpoint may run twice.
        budget: Limits that replace the execution's budget limits of the
            same name for the continuation (the others stay); recorded on
            the execution (:func:`kitaru.execution.budgets.raise_budget`).

    Raises:
        KitaruStateError: If the execution is not failed; for a running one
            the message names its owner, when it was last seen and when it
            will be judged dead.
    """
    run = load_run(exec_id, with_source=True)
    owner = ownership.owner_info(run.metadata) if run.status in ALIVE_STATUSES else None
    if owner is not None and force_owner_dead:
        run = _declare_owner_dead(run, owner)
    status = public_status_of(run)
    if status is not ExecutionStatus.FAILED:
        raise KitaruStateError(_not_retryable(run.id, status, owner))
    def record_budget() -> None:
        if budget is not None:
            raise_budget(run.id, run.metadata, budget)

    _continue(run, reason="Retry requested.", verb="Retrying", before_start=record_budget)


def _not_retryable(exec_id: str, status: ExecutionStatus, owner: OwnerInfo | None) -> str:
    message = f"Only failed executions can be retried. Execution {exec_id} is {status}"
    if status is ExecutionStatus.WAITING:
        return f"{message}. Resume it with `kitaru executions resume` once its wait is answered."
    if owner is None or status is not ExecutionStatus.RUNNING:
        return f"{message}."
    if owner.on_this_host:
        return (
            f"{message}: its owner ({owner.describe()}) is alive on this machine. Wait for it to finish, "
            f"or cancel it with `kitaru executions cancel {exec_id}`."
        )
    wait = owner.dead_in_seconds()
    when = f"in about {wait}s if it stays silent" if wait is not None else "once it has been silent that long"
    return (
        f"{message}: its owner ({owner.describe()}) was {owner.last_seen()} and counts as dead after "
        f"{owner.timeout_seconds:g}s without a heartbeat. It will be judged dead {when}; then "
        f"`kitaru executions retry {exec_id}` works. If you know that process is dead, retry now with "
        f"`kitaru executions retry {exec_id} --force-owner-dead` (if it is alive after all, a checkpoint may "
        "run twice)."
    )


def _declare_owner_dead(run: RunRecord, owner: OwnerInfo) -> RunRecord:
    """Take a running execution over from its silent owner and mark it failed, ready to retry.

    The lock is claimed first (a live owner holding it on this machine
    refuses the takeover), then the owner is declared dead
    (:func:`kitaru.execution.ownership.abandon`) and the execution marked
    failed. The lock stays held for :func:`_continue`.

    Returns:
        The execution, reloaded (failed, or finished if it ended meanwhile).
    """
    if not ownership.claim(run.id):
        raise KitaruStateError(
            f"Execution {run.id} cannot be taken over: a live process on this machine holds it. Wait for it "
            f"to finish, or cancel it with `kitaru executions cancel {run.id}`."
        )
    try:
        sys.stderr.write(
            f"Warning: declaring the owner of execution {run.id} ({owner.describe()}, {owner.last_seen()}) "
            f"dead before its heartbeat timeout ({owner.timeout_seconds:g}s). If that process is alive after "
            "all, it keeps running until its next heartbeat finds it was taken over and ends it: a checkpoint "
            "may run twice meanwhile.\n"
        )
        sys.stderr.flush()
        ownership.abandon(run.id, run.metadata)
        why = (
            f"the process running this execution ({owner.describe()}, {owner.last_seen()}) was declared dead "
            "with --force-owner-dead"
        )
        if not mark_crashed(run.id, why):  # it finished meanwhile: nothing to take over
            ownership.release_owner(run.id)
            ownership.release_run_lock(run.id)
    except BaseException:
        ownership.release_run_lock(run.id)
        raise
    return load_run(run.id, with_source=True)


def resume_execution(exec_id: str) -> None:
    """Continue a paused execution whose waits have been answered.

    An execution paused at a ``kitaru.sleep()`` (its own or a child flow's)
    continues once its wake-up time has passed
    (:func:`kitaru.execution.sleeps.wake`).

    Raises:
        KitaruStateError: If it is a child flow's execution (nothing is
            changed; the message names the top-level one), a wait is still
            pending, a sleep has not reached its wake-up time, or the
            execution is not paused.
    """
    run = load_run(exec_id, with_source=True)
    _refuse_child(run, "resume")
    if sleeps.wake(run):
        run = load_run(exec_id, with_source=True)
    if run.active_wait is not None:
        topic = receive_wait_topic(run.active_wait.name)
        answer = (
            f"Send it an event with `kitaru executions send {exec_id} {topic} --value JSON`."
            if topic is not None
            else f"Answer it with `kitaru executions input {exec_id} --value JSON`."
        )
        raise KitaruStateError(
            f"Resolve pending wait input before resuming execution {exec_id}: it is waiting on "
            f"`{run.active_wait.name}`. {answer}"
        )
    if run.status != "paused":
        hint = f" Retry it with `kitaru executions retry {exec_id}`." if run.status == "failed" else ""
        raise KitaruStateError(
            f"Only paused executions can be resumed. Execution {exec_id} is {public_status_of(run)}.{hint}"
        )
    _continue(run, reason="Resume requested.", verb="Resuming")


def cancel_execution(exec_id: str) -> None:
    """Stop an execution: a running one at its next checkpoint boundary or sooner.

    A waiting or paused execution stops at once (its wait is aborted). A
    running one is asked to stop; its owning process interrupts the body
    within a second. If that process is gone, the execution is stopped here.

    Raises:
        KitaruStateError: If the execution already finished, or does not stop
            within a minute.
    """
    engine = get_engine()
    run = load_run(exec_id)
    if run.finished:
        raise KitaruStateError(
            f"Execution {exec_id} already finished with status {public_status_of(run)}; there is nothing to cancel."
        )
    if run.status == "paused" or run.active_wait is not None:
        if run.active_wait is not None:
            engine.waits.abort(run.active_wait.id)
        if not engine.runs.get_run(run.id, details=False).finished:
            engine.runs.set_status(run.id, "stopped", reason=CANCELLED_REASON)
        return
    engine.runs.set_status(run.id, ownership.STOPPING, reason=CANCELLED_REASON)
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = engine.runs.get_run(run.id)
        if current.finished:
            return
        dead, _ = ownership.owner_is_dead(exec_id, dict(current.metadata))
        if dead or ownership.OWNER_KEY not in current.metadata:
            engine.runs.set_status(run.id, "stopped", reason=CANCELLED_REASON)
            return
        time.sleep(0.5)
    raise KitaruStateError(
        f"Execution {exec_id} was asked to stop but is still running after "
        f"{int(CANCEL_WAIT_SECONDS)}s; it stops at its next checkpoint boundary."
    )


__all__ = [
    "CANCELLED_REASON",
    "CANCEL_WAIT_SECONDS",
    "cancel_execution",
    "cancelled",
    "interrupted",
    "public_status_of",
    "resume_execution",
    "resume_target",
    "retry_execution",
]

"""``kitaru.sleep()`` in the flow body: naming the sleep, recording its wake-up time, sleeping or pausing.

The rules and records (names, metadata keys, the pause threshold, waking a
paused sleep) live in :mod:`kitaru.execution.sleeps`; this module is what
runs inside the body:

1. The sleep gets the next name of this run of the body (``sleep:0`` ...).
2. Its wake-up time is read from the execution, or recorded the first time.
3. Nothing is left (or its wait was answered: woken early): it returns.
4. Up to the threshold left: it blocks here, recorded as sleeping (a crash
   meanwhile is then known to have happened in this sleep).
5. More: the execution pauses at a wait named after the sleep, as
   ``kitaru.wait()`` pauses (the same flow-control signal and halting).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict
from kitaru.engine.runs import RunRecord
from kitaru.engine.runtime import NotInFlowBody, WaitsUnsupported
from kitaru.errors import (
    FailureOrigin,
    KitaruCancelledError,
    KitaruContextError,
    KitaruDivergenceError,
)
from kitaru.execution.console import say
from kitaru.execution.lifecycle import resume_target
from kitaru.execution.scope import FlowScope
from kitaru.execution.sleeps import (
    SLEEP_PREFIX,
    SLEEPING_KEY,
    SLEEPS_KEY,
    WAKE_AT_KEY,
    describe_moment,
    iso,
    pause_after,
    recorded_wake,
    sleeping_record,
    wake,
)
from kitaru.execution.waits_body import poll_interval, running_execution

TICK_SECONDS = 1.0
"""The longest stretch an in-process sleep blocks before it checks the wall clock and a cancel again."""


def next_sleep_name(flow: FlowScope) -> str:
    """The name of the next sleep of this run of the flow body (``sleep:0``, ``sleep:1`` ...)."""
    return f"{SLEEP_PREFIX}{flow.next_position('sleep')}"


def _answered(exec_id: str, name: str) -> bool:
    """Whether the wait of paused sleep ``name`` was ended (woken, early or on time)."""
    waits = get_engine().runs.list_waits(exec_id)
    return any(wait.name == name and wait.status != "pending" for wait in waits)


def run_sleep(flow: FlowScope, *, seconds: float | None = None, until: datetime | None = None) -> None:
    """Sleep durably in the running flow body (``kitaru.sleep`` / ``kitaru.sleep_until``).

    Args:
        flow: The running flow body's scope.
        seconds: How long, when the body reaches this sleep the first time.
        until: The moment to wake up (aware, UTC), instead of ``seconds``.

    Raises:
        KitaruRuntimeError: If no execution is running in this context.
        KitaruContextError: If called from a thread the body started.
        KitaruDivergenceError: If a wait of this sleep's name was recorded differently.
        KitaruCancelledError: If the execution is cancelled while it sleeps.
    """
    threshold = pause_after()
    engine = get_engine()
    exec_id = running_execution("kitaru.sleep()")
    name = next_sleep_name(flow)
    now = datetime.now(timezone.utc)
    record = engine.runs.get_run(exec_id)
    wake_at = recorded_wake(record.metadata, name)
    if wake_at is None:
        wake_at = until if until is not None else now + timedelta(seconds=seconds or 0.0)
        if wake_at <= now:
            return
        engine.runs.log_run_metadata(exec_id, {SLEEPS_KEY: {name: iso(wake_at)}})
    left = (wake_at - now).total_seconds()
    if left <= 0:
        # Continued by a resume of its parent flow: a paused sleep's wait may still be pending.
        if record.active_wait is not None and record.active_wait.name == name:
            wake(record, now=now)
        _woke(record, name)
        return
    if _answered(exec_id, name):
        say(f"Sleep `{name}` was woken early.")
        _woke(record, name)
        return
    if left > threshold:
        _pause(flow, exec_id, name, wake_at)
        return
    _sleep_here(flow, exec_id, name, wake_at)


def _woke(record: RunRecord, name: str) -> None:
    """Clear the record of a sleep the body died in (a retry met it again, after its wake-up time)."""
    sleeping = sleeping_record(record.metadata)
    if sleeping is not None and sleeping[0] == name:
        get_engine().runs.log_run_metadata(record.id, {SLEEPING_KEY: ""})


def _sleep_here(flow: FlowScope, exec_id: str, name: str, wake_at: datetime) -> None:
    """Block until ``wake_at``, recorded as sleeping so a crash meanwhile is known to have been in this sleep."""
    runs = get_engine().runs
    runs.log_run_metadata(exec_id, {SLEEPING_KEY: {"name": name, "wake_at": iso(wake_at)}})
    say(f"Sleeping until {describe_moment(wake_at)} (`{name}`).")
    cancel = flow.supervisor.cancel_requested if flow.supervisor is not None else threading.Event()
    while True:
        left = (wake_at - datetime.now(timezone.utc)).total_seconds()
        if left <= 0:
            break
        if cancel.wait(min(left, TICK_SECONDS)):
            raise KitaruCancelledError(
                f"Execution {exec_id} was cancelled while sleeping.",
                exec_id=exec_id,
                failure_origin=FailureOrigin.CANCELLED,
            )
    # Cleared only on waking: a body that died or was interrupted in the sleep keeps the record.
    runs.log_run_metadata(exec_id, {SLEEPING_KEY: ""})
    say(f"Woke up from `{name}`.")


def _pause(flow: FlowScope, exec_id: str, name: str, wake_at: datetime) -> None:
    """Pause the execution at this sleep: a wait named after it, with the wake-up time in its metadata."""
    runtime = get_engine().runtime
    when = describe_moment(wake_at)
    try:
        runtime.wait(
            name=name,
            schema=None,
            question=(
                f"Sleeping until {wake_at.strftime('%Y-%m-%d %H:%M:%S UTC')} (kitaru.sleep). "
                "Answering this wait wakes it early."
            ),
            timeout=0.0,
            poll_interval=poll_interval(),
            metadata={WAKE_AT_KEY: iso(wake_at)},
            interactive=False,  # a sleep is not answered at a terminal prompt
        )
    except WaitsUnsupported:
        say(f"This engine cannot pause executions; sleeping until {when} in this process instead.")
        _sleep_here(flow, exec_id, name, wake_at)
        return
    except RecordConflict as exc:
        raise KitaruDivergenceError(
            f"A wait named `{name}` of execution {exec_id} was recorded with other arguments than this sleep "
            f"({exc}). Names `sleep:<n>` are reserved for kitaru.sleep(); rename that wait.",
            exec_id=exec_id,
            failure_origin=FailureOrigin.DIVERGENCE,
        ) from None
    except NotInFlowBody:
        raise KitaruContextError(
            "kitaru.sleep() must be called from the flow body itself, not from a thread the body started."
        ) from None
    except BaseException as exc:
        kind = runtime.flow_control(exc)
        if kind == "paused":
            runtime.halt(exc, paused=True)
            target = resume_target(exec_id)
            say(
                f"Sleeping until {when}: execution `{target}` is paused and this process may exit. After that "
                f"time, `kitaru executions resume {target}` or the sweep `kitaru executions resume --due` "
                "continues it."
            )
        elif kind == "aborted":
            runtime.halt(exc, paused=False)
            say(f"Sleep `{name}` was aborted: execution `{exec_id}` is cancelled.")
        raise
    say(f"Sleep `{name}` was woken.")


__all__ = ["TICK_SECONDS", "next_sleep_name", "run_sleep"]

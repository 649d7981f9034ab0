"""Sending an event to an execution from any process: check, store, continue a waiting receive.

:func:`send_event` is what ``KitaruClient().executions.send(...)``, ``kitaru
executions send`` and the MCP tool call:

1. the topic and value are checked before anything is written
   (:mod:`kitaru.execution.events`);
2. an execution that finished (completed, failed, cancelled) is refused:
   no flow body of it will receive again;
3. the message is stored on the execution, under its own key, and read back;
4. a ``kitaru.receive()`` waiting on that topic is continued: while its
   process polls it takes the message in that same process; a paused
   execution becomes resumable (``resume=True`` resumes it here, as
   ``kitaru executions resume`` would). A receive that marked itself
   waiting but has not yet recorded its wait is waited for, a few seconds
   at most, so a message sent at that moment is never missed by a running
   process.

A message sent before the flow reaches ``receive`` just stays stored: the
receive takes it when it gets there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict, RecordNotFound
from kitaru.engine.runs import RunRecord
from kitaru.errors import KitaruStateError
from kitaru.execution.events import new_message, receive_wait_topic, validate_topic, waiting_receives, write
from kitaru.execution.lifecycle import public_status_of, resume_execution
from kitaru.execution.runs import ALIVE_STATUSES, load_run, root_of
from kitaru.execution.status import ExecutionStatus

MARK_GRACE_SECONDS = 5.0
"""How long a sender waits for a receive that marked itself waiting to record its wait."""

_FINISHED = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)


@dataclass(frozen=True)
class SentEvent:
    """An event stored on an execution.

    Attributes:
        exec_id: The execution.
        topic: The topic.
        event_id: The message id.
        sent_at: When it was stored (UTC).
        continued_receive: Whether a ``receive`` waiting on the topic was continued.
        resumed: Whether this call resumed the paused execution.
        status: The execution's public status afterwards.
        next_step: What happens next, in words.
    """

    exec_id: str
    topic: str
    event_id: str
    sent_at: datetime
    continued_receive: bool
    resumed: bool
    status: str
    next_step: str


def _refusal(run: RunRecord, status: ExecutionStatus) -> KitaruStateError:
    if status is ExecutionStatus.FAILED:
        what = (
            f"Retry it with `kitaru executions retry {run.id}` and send the event while it runs or waits, "
            "or start a new execution."
        )
    else:
        what = "Start a new execution of the flow and send the event to it."
    return KitaruStateError(
        f"Cannot send an event to execution {run.id}: it is {status}, and a finished execution receives no "
        f"more events. The event was not stored. {what}"
    )


def continue_receive(exec_id: str, topic: str) -> bool:
    """Continue a ``receive`` of ``topic`` that waits on the execution, if any.

    Returns:
        Whether a waiting receive was continued.
    """
    engine = get_engine()
    deadline = time.monotonic() + MARK_GRACE_SECONDS
    while True:
        run = engine.runs.get_run(exec_id)
        wait = run.active_wait
        if wait is not None and receive_wait_topic(wait.name) == topic:
            try:
                engine.waits.resolve(wait.id, None)
            except (RecordConflict, RecordNotFound):  # continued meanwhile (another sender, or itself)
                pass
            return True
        if run.status not in ALIVE_STATUSES or not waiting_receives(run.metadata, topic):
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _next_step(run: RunRecord, topic: str, continued: bool) -> str:
    """What happens to the execution next, in words."""
    status = public_status_of(run)
    if status in _FINISHED:
        return f"The execution ended ({status}) before taking the event; it will not be received."
    if run.status == "paused":
        if run.active_wait is not None:
            if receive_wait_topic(run.active_wait.name) is not None:
                waited = receive_wait_topic(run.active_wait.name)
                return f"The execution stays paused: it waits for an event on topic `{waited}`, not `{topic}`."
            return f"The execution stays paused: it waits for input on `{run.active_wait.name}`."
        return f"The execution is paused; continue it with `kitaru executions resume {root_of(run).id}`."
    if continued:
        return "The execution takes the event in the process that was waiting for it."
    return f"The execution takes the event at its next kitaru.receive('{topic}')."


def send_event(exec_id: str, topic: str, value: object, *, resume: bool = False) -> SentEvent:
    """Send ``value`` on ``topic`` to an execution.

    Args:
        exec_id: The full execution id.
        topic: The topic (see :data:`kitaru.execution.events.TOPIC_RULE`).
        value: JSON data.
        resume: When the execution is paused and nothing else holds it,
            resume it here (in this process on the local default, until it
            ends or pauses again).

    Raises:
        KitaruUsageError: For a bad topic or a value that is not JSON data.
        KitaruStateError: If the execution does not exist or has finished.
        KitaruBackendError: If the store fails.
    """
    topic = validate_topic(topic)
    key, record, message = new_message(topic, value)
    run = load_run(exec_id)
    status = public_status_of(run)
    if status in _FINISHED:
        raise _refusal(run, status)
    write(run.id, key, record)
    continued = continue_receive(run.id, topic)
    after = get_engine().runs.get_run(run.id)
    resumed = False
    if resume and after.status == "paused" and after.active_wait is None:
        resume_execution(root_of(after).id)
        resumed = True
        after = get_engine().runs.get_run(run.id)
    step = _next_step(after, topic, continued)
    if resumed:
        step = f"Resumed the execution; it is now {public_status_of(after)}."
    return SentEvent(
        exec_id=run.id,
        topic=topic,
        event_id=message.id,
        sent_at=message.sent_at,
        continued_receive=continued,
        resumed=resumed,
        status=str(public_status_of(after)),
        next_step=step,
    )


__all__ = ["MARK_GRACE_SECONDS", "SentEvent", "continue_receive", "send_event"]

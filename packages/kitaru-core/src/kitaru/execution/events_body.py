"""``kitaru.receive()`` in the flow body: take the next message of a topic, waiting durably if none is there.

The ``k``-th ``receive(topic)`` of a flow body (``k`` counted from 0 in every
run of the body) goes like this:

1. If an earlier run of the body already took a message at this call (a
   delivery is recorded, see :mod:`kitaru.execution.events`), it returns
   that same message again: retry and resume replay the body, and a
   message is never handed to two calls.
2. Otherwise it takes the oldest message of the topic that no call took
   yet, records the delivery, and returns its value.
3. Otherwise it marks itself waiting and waits like ``kitaru.wait()`` does,
   on a wait named ``receive:<topic>:<k>``: the execution shows ``waiting``
   and this process polls for up to ``timeout`` seconds. A message sent
   meanwhile continues the wait (the sender does that), and the call takes
   the message in this same process. After the timeout the execution is
   paused; sending continues the wait, and ``kitaru executions resume`` then
   re-runs the body, whose call takes the message.

The messages are the source of truth; the wait only pauses and continues the
body. Pausing unwinds the body with the engine's signal, guarded as for
``wait()`` (:mod:`kitaru.execution.waits_body`).
"""

from __future__ import annotations

from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordConflict, RecordNotFound
from kitaru.engine.runtime import NotInFlowBody, WaitsUnsupported
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruFeatureNotAvailableError,
)
from kitaru.execution.console import say
from kitaru.execution.events import (
    EventMessage,
    delivered_message,
    receive_question,
    receive_wait_name,
    receive_wait_topic,
    received_key,
    receiving_key,
    undelivered,
    valid_timeout,
    validate_topic,
    write,
)
from kitaru.execution.lifecycle import resume_target
from kitaru.execution.scope import FlowScope
from kitaru.execution.waits_body import DEFAULT_TIMEOUT, poll_interval, running_execution


def take(exec_id: str, topic: str, index: int) -> EventMessage | None:
    """The message of the ``index``-th receive of ``topic``: recorded before, else the oldest free one.

    A message is recorded as taken before it is returned. A pending receive
    wait of the topic left behind (its sender died before continuing it) is
    continued, since the execution may hold only one pending wait.
    """
    run = get_engine().runs.get_run(exec_id)
    done = delivered_message(run.metadata, topic, index)
    if done is not None:
        return done
    free = undelivered(run.metadata, topic)
    if not free:
        return None
    message = free[0]
    write(exec_id, received_key(topic, index), message.id)
    stale = run.active_wait
    if stale is not None and receive_wait_topic(stale.name) == topic:
        _continue_wait(stale.id)
    return message


def _continue_wait(wait_id: str) -> None:
    try:
        get_engine().waits.resolve(wait_id, None)
    except (RecordConflict, RecordNotFound):  # someone else continued it
        pass


def _arrived_while_pausing(exec_id: str, topic: str, name: str) -> bool:
    """Whether a message arrived after the last look; then continue this receive's own wait.

    Closes the gap between the last look at the messages and the wait being
    recorded: the execution still pauses, but a resume continues at once.
    """
    try:
        if not undelivered(get_engine().runs.get_run(exec_id).metadata, topic):
            return False
        for wait in get_engine().runs.list_waits(exec_id, status="pending"):
            if wait.name == name:
                _continue_wait(wait.id)
        return True
    except Exception:  # only decides the message: the pause stands either way
        return False


def run_receive(scope: FlowScope, topic: Any, timeout: Any) -> Any:
    """Receive the next message of ``topic`` inside the running flow body (``kitaru.receive``).

    Returns:
        The message's JSON value.

    Raises:
        KitaruUsageError: For a bad topic or timeout.
        KitaruRuntimeError: If no execution is running in this context.
        KitaruContextError: If called from a thread the body started.
        KitaruFeatureNotAvailableError: If the engine cannot wait durably.
    """
    topic = validate_topic(topic)
    seconds = valid_timeout(timeout, DEFAULT_TIMEOUT)
    interval = poll_interval()
    exec_id = running_execution("kitaru.receive()")
    index = scope.next_position(f"receive:{topic}")
    round_ = 0
    while True:
        message = take(exec_id, topic, index)
        if message is not None:
            return message.value
        if round_ == 0:
            write(exec_id, receiving_key(topic, index), round_)
        name = receive_wait_name(topic, index, round_)
        say(f"Waiting for an event on topic `{topic}` (timeout={seconds:g}s, poll={interval:g}s).")
        _wait(exec_id, topic, name, index, seconds, interval)
        round_ += 1


def _wait(exec_id: str, topic: str, name: str, index: int, seconds: float, interval: float) -> None:
    """Wait on the receive's wait until a sender continues it; pause the execution after ``seconds``."""
    runtime = get_engine().runtime
    try:
        runtime.wait(
            name=name,
            schema=None,
            question=receive_question(topic),
            timeout=seconds,
            poll_interval=interval,
            metadata={"kitaru_receive": topic, "index": index},
            interactive=False,  # events come from senders, not from a terminal prompt
        )
    except WaitsUnsupported as exc:
        raise KitaruFeatureNotAvailableError(
            f"kitaru.receive() needs an engine with durable wait support; this installation has none ({exc}). "
            "Upgrade with `pip install -U kitaru`."
        ) from None
    except RecordConflict as exc:
        raise KitaruDivergenceError(
            f"Wait `{name}` of execution {exec_id} was recorded with other arguments than this receive "
            f"asks for ({exc}). Do not name a kitaru.wait() `receive:...`.",
            exec_id=exec_id,
            failure_origin=FailureOrigin.DIVERGENCE,
        ) from None
    except NotInFlowBody:
        raise KitaruContextError(
            "receive() must be called from the flow body itself, not from a checkpoint or a thread the body started."
        ) from None
    except BaseException as exc:
        kind = runtime.flow_control(exc)
        if kind == "paused":
            runtime.halt(exc, paused=True)
            target = resume_target(exec_id)
            if _arrived_while_pausing(exec_id, topic, name):
                say(
                    f"Pausing execution `{exec_id}`: an event on topic `{topic}` arrived while it paused. "
                    f"Continue it with `kitaru executions resume {target}`."
                )
            else:
                say(
                    f"Pausing execution `{exec_id}`: waiting for an event on topic `{topic}`. Send it with "
                    f"`kitaru executions send {exec_id} {topic} --value JSON`, then "
                    f"`kitaru executions resume {target}`."
                )
        elif kind == "aborted":
            runtime.halt(exc, paused=False)
            say(f"The receive on topic `{topic}` was aborted: execution `{exec_id}` is cancelled.")
        raise


__all__ = ["run_receive", "take"]

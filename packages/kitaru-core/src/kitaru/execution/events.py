"""Events sent to an execution: topic and value rules, and how messages are kept on the execution.

``KitaruClient().executions.send(exec_id, topic, value)`` (and ``kitaru
executions send``) leaves a message for the execution; ``kitaru.receive(topic)``
in its flow body takes the next one of that topic. Everything is stored as
run metadata of the execution, under Kitaru's own ``kitaru_`` keys, one key
per record so that concurrent writers never overwrite each other (the engine refuses
``:`` in metadata keys, so they are separated by ``/``, which no topic contains):

* a *message*: ``kitaru_event/<topic>/<sent_ns>/<id>`` holding the topic, the
  message id, when it was sent and the value as JSON text. The key is unique
  (send time in nanoseconds plus a random id), and messages of a topic are
  delivered in (send time, id) order: the order they are stored, by each
  sender's clock (read just before its write), not the order the writes landed;
* a *delivery*: ``kitaru_received/<topic>/<k>`` holding the id of the message
  the ``k``-th ``receive(topic)`` of the flow body took (``k`` counts from 0
  in every run of the body). It is written the first time, before
  ``receive`` returns, so a retried or resumed body gets the same message at
  the same call, and a message taken once is never handed to another call;
* a *receiving mark*: ``kitaru_receiving/<topic>/<k>``, written by a
  ``receive`` that found no message and is about to wait. A sender that sees
  a mark without its delivery knows a receive is about to wait on that topic
  and continues it (:mod:`kitaru.execution.events_send`).

Receiving lives in :mod:`kitaru.execution.events_body`, sending in
:mod:`kitaru.execution.events_send`.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kitaru.engine import get_engine
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru.jsonable import json_problem

EVENT_PREFIX = "kitaru_event/"
"""Run-metadata key prefix of a sent message."""

RECEIVED_PREFIX = "kitaru_received/"
"""Run-metadata key prefix of a delivery (which message the k-th receive of a topic took)."""

RECEIVING_PREFIX = "kitaru_receiving/"
"""Run-metadata key prefix of a receive that found no message and waits."""

RECEIVE_WAIT_PREFIX = "receive:"
"""Name prefix of the wait that pauses a receive: ``receive:<topic>:<k>`` (``:<n>`` after the first)."""

TOPIC_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""Allowed topics: 1 to 64 letters, digits, ``_``, ``.`` and ``-``, starting with a letter or digit."""

TOPIC_RULE = "1 to 64 characters: letters, digits, '_', '.' and '-', starting with a letter or digit"

MAX_STORED_CHARACTERS = 65535
"""The largest message record the store keeps (its JSON text, as the store measures it)."""


@dataclass(frozen=True)
class EventMessage:
    """A message sent to an execution.

    Attributes:
        id: The message id (32 hex digits).
        topic: Its topic.
        value: The JSON value sent.
        sent_at: When it was sent (UTC).
        sent_ns: The send time in nanoseconds since the epoch (the order key).
    """

    id: str
    topic: str
    value: Any
    sent_at: datetime
    sent_ns: int

    @property
    def order(self) -> tuple[int, str]:
        """Delivery order: send time, then id as the tie-breaker."""
        return (self.sent_ns, self.id)


def validate_topic(topic: Any, *, where: str = "topic") -> str:
    """Return ``topic`` if it is an allowed topic name.

    Raises:
        KitaruUsageError: Naming the rule.
    """
    if not isinstance(topic, str) or not TOPIC_PATTERN.fullmatch(topic):
        raise KitaruUsageError(
            f"Invalid {where} {topic!r}: a topic is {TOPIC_RULE} (e.g. 'approval', 'orders.new'). "
            "Use the same topic in kitaru.receive() and in send."
        )
    return topic


def encode_value(value: Any) -> str:
    """The JSON text of an event value.

    Raises:
        KitaruUsageError: If ``value`` is not plain JSON data (str, numbers,
            bools, None, lists and dicts with string keys).
    """
    problem = json_problem(value, "the value")
    if problem:
        raise KitaruUsageError(
            f"An event value must be JSON data (str, int, float, bool, None, lists, dicts with string keys); "
            f"{problem}. Convert it first, e.g. a pydantic model with model.model_dump(mode='json')."
        )
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def decode_value(text: str) -> Any:
    """The value of a stored message's JSON text."""
    return json.loads(text)


def event_key(topic: str, sent_ns: int, message_id: str) -> str:
    """The run-metadata key of one message."""
    return f"{EVENT_PREFIX}{topic}/{sent_ns:020d}/{message_id}"


def received_key(topic: str, index: int) -> str:
    """The run-metadata key recording which message the ``index``-th receive of ``topic`` took."""
    return f"{RECEIVED_PREFIX}{topic}/{index}"


def receiving_key(topic: str, index: int) -> str:
    """The run-metadata key marking that the ``index``-th receive of ``topic`` waits for a message."""
    return f"{RECEIVING_PREFIX}{topic}/{index}"


def receive_wait_name(topic: str, index: int, round_: int = 0) -> str:
    """The name of the wait that pauses the ``index``-th receive of ``topic`` (``round_`` > 0: a re-wait)."""
    base = f"{RECEIVE_WAIT_PREFIX}{topic}:{index}"
    return base if round_ == 0 else f"{base}:{round_}"


def receive_wait_topic(name: str) -> str | None:
    """The topic of a receive's wait name, or None for any other wait."""
    if not name.startswith(RECEIVE_WAIT_PREFIX):
        return None
    topic = name[len(RECEIVE_WAIT_PREFIX) :].split(":", 1)[0]
    return topic if TOPIC_PATTERN.fullmatch(topic) else None


def receive_question(topic: str) -> str:
    """The question recorded on a receive's wait (shown by ``executions get``)."""
    return f"Waiting for an event on topic `{topic}`."


def new_message(topic: str, value: Any) -> tuple[str, dict[str, Any], EventMessage]:
    """Build a message to store: its key, the stored record and the message.

    Raises:
        KitaruUsageError: If the value is not JSON data or the record is too large to store.
    """
    text = encode_value(value)
    sent_ns = time.time_ns()
    message_id = uuid.uuid4().hex
    sent_at = datetime.fromtimestamp(sent_ns / 1e9, tz=timezone.utc)
    record = {"id": message_id, "topic": topic, "sent_at": sent_at.isoformat(), "sent_ns": sent_ns, "value": text}
    size = len(json.dumps(record))
    if size > MAX_STORED_CHARACTERS:
        raise KitaruUsageError(
            f"The event value is too large to send: {size} characters stored, at most {MAX_STORED_CHARACTERS}. "
            "Send a reference instead (an artifact id, a URL or a path) and load the data in a checkpoint."
        )
    message = EventMessage(id=message_id, topic=topic, value=value, sent_at=sent_at, sent_ns=sent_ns)
    return event_key(topic, sent_ns, message_id), record, message


def messages_of(metadata: Mapping[str, Any], topic: str) -> list[EventMessage]:
    """Every message of ``topic`` stored on an execution, in delivery order."""
    prefix = f"{EVENT_PREFIX}{topic}/"
    found = []
    for key, record in metadata.items():
        if not key.startswith(prefix) or not isinstance(record, Mapping):
            continue
        try:
            sent_ns = int(record["sent_ns"])
            found.append(
                EventMessage(
                    id=str(record["id"]),
                    topic=topic,
                    value=decode_value(str(record["value"])),
                    sent_at=datetime.fromtimestamp(sent_ns / 1e9, tz=timezone.utc),
                    sent_ns=sent_ns,
                )
            )
        except (KeyError, TypeError, ValueError):  # not a record Kitaru wrote: never deliver it
            continue
    return sorted(found, key=lambda message: message.order)


def deliveries_of(metadata: Mapping[str, Any], topic: str) -> dict[int, str]:
    """Receive index -> id of the message it took, for ``topic``."""
    prefix = f"{RECEIVED_PREFIX}{topic}/"
    found = {}
    for key, message_id in metadata.items():
        suffix = key[len(prefix) :] if key.startswith(prefix) else ""
        if suffix.isdigit():
            found[int(suffix)] = str(message_id)
    return found


def waiting_receives(metadata: Mapping[str, Any], topic: str) -> list[int]:
    """Indexes of receives of ``topic`` that marked themselves waiting and took no message yet."""
    prefix = f"{RECEIVING_PREFIX}{topic}/"
    taken = deliveries_of(metadata, topic)
    marked = [key[len(prefix) :] for key in metadata if key.startswith(prefix)]
    return sorted(int(suffix) for suffix in marked if suffix.isdigit() and int(suffix) not in taken)


def undelivered(metadata: Mapping[str, Any], topic: str) -> list[EventMessage]:
    """The messages of ``topic`` no receive took yet, in delivery order."""
    taken = set(deliveries_of(metadata, topic).values())
    return [message for message in messages_of(metadata, topic) if message.id not in taken]


def delivered_message(metadata: Mapping[str, Any], topic: str, index: int) -> EventMessage | None:
    """The message the ``index``-th receive of ``topic`` took before, or None.

    Raises:
        KitaruBackendError: If the delivery names a message that is not stored.
    """
    message_id = deliveries_of(metadata, topic).get(index)
    if message_id is None:
        return None
    for message in messages_of(metadata, topic):
        if message.id == message_id:
            return message
    raise KitaruBackendError(
        f"Receive {index} of topic `{topic}` took message {message_id}, but that message is no longer "
        "stored on the execution."
    )


def run_metadata(exec_id: str) -> Mapping[str, Any]:
    """The current run metadata of an execution (one read of the store)."""
    return get_engine().runs.get_run(exec_id).metadata


def write(exec_id: str, key: str, record: Any) -> None:
    """Store one record on the execution and check that the store holds this record under ``key``.

    The value read back must equal ``record``: two writers of the same key
    (two bodies continuing one execution, each taking a message at the same
    receive) must not both believe their record was kept.

    Raises:
        KitaruBackendError: If the write fails, or the store holds something
            else (or nothing) under ``key``.
    """
    runs = get_engine().runs
    try:
        runs.log_run_metadata(exec_id, {key: record})
        metadata = runs.get_run(exec_id).metadata
    except Exception as exc:
        raise KitaruBackendError(f"Failed to store `{key}` on execution {exec_id}: {exc}") from exc
    if key not in metadata:
        raise KitaruBackendError(f"The store did not keep `{key}` on execution {exec_id}; nothing was delivered.")
    if metadata[key] != record:
        raise KitaruBackendError(
            f"Execution {exec_id} holds another record under `{key}` than this process wrote ({metadata[key]!r}, "
            f"not {record!r}): another process wrote it at the same moment. Nothing was delivered here; "
            f"retry the execution with `kitaru executions retry {exec_id}` if it failed."
        )


def valid_timeout(timeout: Any, default: float) -> float:
    """``receive(timeout=...)`` in seconds (``default`` when None).

    Raises:
        KitaruUsageError: Unless it is a finite number >= 0.
    """
    if timeout is None:
        return float(default)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout < 0:
        raise KitaruUsageError(
            f"receive(timeout=...) must be a number of seconds >= 0; got {timeout!r}. It is how long this "
            "process waits for a message before pausing the execution."
        )
    return float(timeout)


__all__ = [
    "EVENT_PREFIX",
    "MAX_STORED_CHARACTERS",
    "RECEIVED_PREFIX",
    "RECEIVE_WAIT_PREFIX",
    "RECEIVING_PREFIX",
    "TOPIC_PATTERN",
    "TOPIC_RULE",
    "EventMessage",
    "decode_value",
    "delivered_message",
    "deliveries_of",
    "encode_value",
    "event_key",
    "messages_of",
    "new_message",
    "receive_question",
    "receive_wait_name",
    "receive_wait_topic",
    "received_key",
    "receiving_key",
    "run_metadata",
    "undelivered",
    "valid_timeout",
    "waiting_receives",
    "write",
]

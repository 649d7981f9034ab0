"""Idempotent starts: one execution per flow and idempotency key.

A webhook delivered twice must not start two agents::

    handle = research_agent.run(topic, idempotency_key="order-42")

The first start with a key creates the execution; every later start of the
same flow with the same key returns a handle to that execution instead,
whatever its status (a failed one is retried with ``kitaru executions
retry``, never restarted by a second start). The rules:

* **Per flow.** The key names an execution of one flow: another flow with
  the same key starts its own execution.
* **Atomic, also under concurrency.** The execution's engine name is derived
  from the flow and the key (:func:`execution_name`), and the store keeps
  names unique with a database constraint. Of two processes starting at the
  same moment exactly one creates the execution; the other is refused by the
  store before anything runs and returns a handle to the winner. This holds
  on the local default (SQLite) and with a shared server or MySQL store,
  without any lock of Kitaru's.
* **Recorded.** The key is recorded on the execution (:data:`IDEMPOTENCY_KEY`)
  and shown by ``kitaru executions get``.
* **Top-level starts only.** A child flow started in a flow body is already
  started once per call by its parent's journal; a key there is refused.
"""

from __future__ import annotations

import hashlib

from kitaru.errors import KitaruUsageError

IDEMPOTENCY_KEY = "kitaru_idempotency_key"
"""The run metadata key the idempotency key is recorded under."""

MAX_KEY_LENGTH = 256
"""The longest idempotency key accepted (characters)."""

NAME_PREFIX_LENGTH = 60
"""How much of the flow's name the execution name keeps, for people reading the engine's dashboard."""


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid idempotency key.

    A key is a non-empty string of at most :data:`MAX_KEY_LENGTH` characters,
    without surrounding whitespace or control characters (``"order-42"``,
    a webhook's delivery id, a UUID).

    Raises:
        KitaruUsageError: Saying what is wrong with the key.
    """
    if not isinstance(key, str):
        raise KitaruUsageError(f"idempotency_key must be a string, e.g. 'order-42'; got {type(key).__name__} {key!r}.")
    if not key.strip():
        raise KitaruUsageError("idempotency_key must not be empty: give a non-blank string, e.g. 'order-42'.")
    if len(key) > MAX_KEY_LENGTH:
        raise KitaruUsageError(
            f"idempotency_key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}. "
            "Use a shorter key (a hash of a long one works)."
        )
    if key != key.strip():
        raise KitaruUsageError(
            f"idempotency_key {key!r} has leading or trailing whitespace; remove it "
            "(keys are compared exactly, so 'order-42 ' and 'order-42' would be two executions)."
        )
    if any(not character.isprintable() for character in key):
        raise KitaruUsageError(f"idempotency_key {key!r} contains control characters; use printable text only.")
    return key


def execution_name(flow_name: str, key: str) -> str:
    """The engine name of the execution of ``flow_name`` for ``key``: unique per flow and key.

    A readable prefix of the flow's name, then a hash of the flow's full name
    and the key (so any key, whatever its characters or length, gives a
    short name without the engine's ``{placeholder}`` syntax).

    Example:
        >>> execution_name("checkout", "order-42")[:14]
        'checkout-once-'
    """
    digest = hashlib.sha256(f"{flow_name}\0{key}".encode()).hexdigest()[:40]
    return f"{flow_name[:NAME_PREFIX_LENGTH]}-once-{digest}"


def reused_message(exec_id: str, key: str) -> str:
    """The terminal line for a start that found the execution of its key."""
    return f"Execution {exec_id} already exists for idempotency key {key!r}; not starting another."


CHILD_FLOW_REFUSAL = (
    "idempotency_key is only for starting a flow from outside a flow. In a flow body a child flow call is "
    "already started once per call: a retry or resume of the parent continues its recorded child execution "
    "instead of starting another. "
    "Remove idempotency_key from this call."
)
"""Why a child flow call in a flow body cannot take a key."""


__all__ = [
    "CHILD_FLOW_REFUSAL",
    "IDEMPOTENCY_KEY",
    "MAX_KEY_LENGTH",
    "check_key",
    "execution_name",
    "reused_message",
]

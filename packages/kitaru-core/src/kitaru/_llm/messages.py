"""Turn ``kitaru.llm()``'s prompt forms into one message list, and name calls.

``kitaru.llm("Summarise this", system="Be brief")`` and
``kitaru.llm([{"role": "user", "content": "Summarise this"}])`` both become a
list of ``{"role", "content"}`` mappings with system messages first, which is
what every backend receives and what the ``<name>_prompt`` artifact stores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError

ROLES: tuple[str, ...] = ("system", "user", "assistant")
"""Roles a message may have."""

_NON_WORD = re.compile(r"\W+")


def normalise_prompt(prompt: Any, system: str | None = None) -> list[dict[str, str]]:
    """Validate the prompt and return the messages a backend gets.

    Args:
        prompt: A non-blank string (one user message, stripped) or a list of
            mappings, each with a ``role`` and a string ``content``.
        system: An optional system message put first.

    Returns:
        The messages, system messages first (their order otherwise kept).

    Raises:
        KitaruUsageError: For a blank prompt or system message, an empty list,
            or a message without a known role or a string content.
    """
    messages: list[dict[str, str]] = []
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            raise KitaruUsageError("kitaru.llm(system=...) must be a non-empty string; omit it for none.")
        messages.append({"role": "system", "content": system.strip()})
    if isinstance(prompt, str):
        if not prompt.strip():
            raise KitaruUsageError("kitaru.llm() needs a non-empty prompt.")
        messages.append({"role": "user", "content": prompt.strip()})
    elif isinstance(prompt, (list, tuple)):
        if not prompt:
            raise KitaruUsageError("kitaru.llm() got an empty message list; pass at least one message.")
        for index, message in enumerate(prompt):
            messages.append(_message(index, message))
    else:
        raise KitaruUsageError(
            f"kitaru.llm() takes a prompt string or a list of {{'role', 'content'}} messages; "
            f"got {type(prompt).__name__}."
        )
    if all(message["role"] == "system" for message in messages):
        raise KitaruUsageError("kitaru.llm() needs at least one user or assistant message.")
    return sorted(messages, key=lambda message: message["role"] != "system")


def _message(index: int, message: Any) -> dict[str, str]:
    if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
        raise KitaruUsageError(
            f"Message {index} must be a mapping with 'role' and 'content', e.g. "
            "{'role': 'user', 'content': 'Hello'}."
        )
    role = str(message["role"]).strip().lower()
    if role not in ROLES:
        raise KitaruUsageError(
            f"Message {index} has role {message['role']!r}; use one of: {', '.join(ROLES)}."
        )
    content = message["content"]
    if not isinstance(content, str) or not content.strip():
        raise KitaruUsageError(f"Message {index} needs a non-empty string 'content'.")
    return {"role": role, "content": content}


def call_name(name: str | None, counter: int) -> str:
    """The name a call is recorded under.

    Args:
        name: The user's ``name=``, or None.
        counter: This call's number within its flow or checkpoint scope (1-based).

    Returns:
        ``llm_<counter>`` by default; else the name with runs of non-word
        characters turned into ``_`` and an ``llm_`` prefix when it starts
        with a digit.

    Raises:
        KitaruUsageError: When the name has no word character.
    """
    if name is None:
        return f"llm_{counter}"
    if not isinstance(name, str):
        raise KitaruUsageError(f"kitaru.llm(name=...) must be a string; got {type(name).__name__}.")
    cleaned = _NON_WORD.sub("_", name.strip()).strip("_")
    if not cleaned:
        raise KitaruUsageError(
            f"kitaru.llm(name={name!r}) has no letters or digits; use a name like 'summary'."
        )
    return f"llm_{cleaned}" if cleaned[0].isdigit() else cleaned


def check_options(temperature: Any, max_tokens: Any) -> None:
    """Validate ``temperature`` (a number ≥ 0) and ``max_tokens`` (an int ≥ 1).

    Raises:
        KitaruUsageError: Naming the bad value.
    """
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0
    ):
        raise KitaruUsageError(f"kitaru.llm(temperature=...) must be a number >= 0; got {temperature!r}.")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise KitaruUsageError(f"kitaru.llm(max_tokens=...) must be an integer >= 1; got {max_tokens!r}.")

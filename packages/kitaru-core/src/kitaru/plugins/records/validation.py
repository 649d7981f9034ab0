"""How plugin records check themselves when they are built.

Every record calls these helpers from ``__post_init__``, so a malformed record
fails where it is written (the plugin's module, or its hook) with a message
naming the record and the fix, instead of failing later at run time. The plugin
manager adds which plugin it came from::

    Could not load plugin 'example' (kitaru-example 0.1.0) from entry point
    'kitaru_example.plugin': PluginRecordError: StackProviderSpec 'demo':
    build_components is required: a function taking the StackSpec ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
"""Names users type on the command line: lowercase, digits, ``.``, ``_``, ``-``."""

FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
"""Stack field names are Python identifiers (``execution_role``); the CLI adds dashes."""

SCHEME_PATTERN = re.compile(r"^[a-z][a-z0-9+.-]*$")
"""A bare URI scheme (RFC 3986, lowercase): ``s3``, not ``s3://``."""

PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*/$")
"""A model prefix: a lowercase provider name and a slash (``openai/``)."""

ENV_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""An environment variable name (``OPENAI_API_KEY``)."""


class PluginRecordError(ValueError):
    """A plugin record is malformed; the message names the record and the fix."""


def is_blank(value: Any) -> bool:
    """Whether a stack option counts as not given: None, or a string of only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def where(record: Any) -> str:
    """``StackProviderSpec 'sagemaker'``: how messages name a record."""
    name = getattr(record, "name", None)
    if not isinstance(name, str):
        name = getattr(record, "provider", None)  # an ArtifactStoreBackend is known by its provider
    return f"{type(record).__name__} {name!r}" if isinstance(name, str) else type(record).__name__


def check_name(record: Any, value: Any, what: str = "name") -> None:
    """Raise unless ``value`` is a command-line name (see :data:`NAME_PATTERN`)."""
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise PluginRecordError(
            f"{where(record)}: invalid {what} {value!r}. Use lowercase letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (for example 'my-cloud')."
        )


def check_pattern(record: Any, value: Any, pattern: re.Pattern[str], what: str, example: str) -> None:
    """Raise unless ``value`` is a string matching ``pattern``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise PluginRecordError(f"{where(record)}: invalid {what} {value!r}; write it like {example!r}.")


def check_callable(record: Any, value: Any, what: str, shape: str, *, required: bool) -> None:
    """Raise unless ``value`` is callable (or None, when not ``required``).

    Args:
        record: The record being built, for the message.
        value: The attribute's value.
        what: The attribute name (``build_components``).
        shape: What the function takes and returns, for the message.
        required: Whether None is an error.
    """
    if value is None:
        if required:
            raise PluginRecordError(f"{where(record)}: {what} is required: {shape}.")
        return
    if not callable(value):
        raise PluginRecordError(
            f"{where(record)}: {what} must be {shape}; got {type(value).__name__}."
        )


def as_tuple(record: Any, value: Any, what: str, item_type: type | tuple[type, ...]) -> tuple[Any, ...]:
    """Return ``value`` as a tuple of ``item_type`` (lists are accepted and frozen).

    Raises:
        PluginRecordError: When ``value`` is a string, not iterable, or holds
            another type.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise PluginRecordError(
            f"{where(record)}: {what} must be a tuple; got {type(value).__name__} {value!r}."
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, item_type):
            names = item_type.__name__ if isinstance(item_type, type) else " or ".join(t.__name__ for t in item_type)
            raise PluginRecordError(
                f"{where(record)}: every item of {what} must be of type {names}; got {item!r}."
            )
    if len(set(items)) != len(items):
        raise PluginRecordError(f"{where(record)}: {what} lists an item twice: {items!r}.")
    return items


def check_type(record: Any, value: Any, what: str, expected: type | tuple[type, ...]) -> None:
    """Raise unless ``value`` is an instance of ``expected``."""
    if not isinstance(value, expected):
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        raise PluginRecordError(f"{where(record)}: {what} must be of type {names}; got {value!r}.")


def set_frozen(record: Any, attribute: str, value: Any) -> None:
    """Assign to a frozen dataclass during ``__post_init__`` (normalising a value)."""
    object.__setattr__(record, attribute, value)


__all__ = [
    "ENV_PATTERN",
    "FIELD_NAME_PATTERN",
    "NAME_PATTERN",
    "PREFIX_PATTERN",
    "SCHEME_PATTERN",
    "PluginRecordError",
    "as_tuple",
    "check_callable",
    "check_name",
    "check_pattern",
    "check_type",
    "is_blank",
    "set_frozen",
    "where",
]

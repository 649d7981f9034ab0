"""Records of the ``kitaru_artifact_serializers()`` hook: :class:`ArtifactSerializerSpec`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kitaru.plugins.records.source import PluginSource
from kitaru.plugins.records.validation import (
    PluginRecordError,
    as_tuple,
    check_callable,
    check_name,
    check_pattern,
    where,
)

MIME_PATTERN = re.compile(
    r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9_-]+=[^;\s]+)*$"
)
"""A lowercase MIME type, parameters allowed (``application/json``, ``text/plain; charset=utf-8``)."""


@dataclass(frozen=True)
class ArtifactSerializerSpec:
    """A way to write Python values to bytes and read them back.

    Kitaru asks serializers in descending ``priority`` whether they can write a
    value; the first that can, writes it. The serializer's ``name`` is stored
    next to the bytes, so the same serializer reads them back.

    Attributes:
        name: Unique serializer name, stored with every artifact it writes.
        content_type: MIME type of the bytes (``application/json``).
        can_write: Whether this serializer can write the given value.
        write: Turns the value into bytes.
        read: Turns bytes back into a value; gets the recorded Python type
            (or None when it cannot be imported).
        python_types: The types this serializer is meant for (for listings
            and fast matching; ``can_write`` has the final word).
        priority: Higher runs first. Built-ins use 0..100.
        source: Filled in by the plugin manager.
    """

    name: str
    content_type: str
    can_write: Callable[[Any], bool]
    write: Callable[[Any], bytes]
    read: Callable[[bytes, type | None], Any]
    python_types: tuple[type, ...] = ()
    priority: int = 0
    source: PluginSource | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_name(self, self.name, "serializer name")
        check_pattern(self, self.content_type, MIME_PATTERN, "content_type (a MIME type)", "application/json")
        check_callable(self, self.can_write, "can_write", "a function value -> bool", required=True)
        check_callable(self, self.write, "write", "a function value -> bytes", required=True)
        check_callable(self, self.read, "read", "a function (bytes, type | None) -> value", required=True)
        object.__setattr__(self, "python_types", as_tuple(self, self.python_types, "python_types", type))
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise PluginRecordError(f"{where(self)}: priority must be an int (higher runs first); got {self.priority!r}.")


__all__ = ["MIME_PATTERN", "ArtifactSerializerSpec"]

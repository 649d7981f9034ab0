"""The ``note`` serializer: stores :class:`~kitaru_example.notes.Note` values as JSON.

Kitaru asks serializers in descending ``priority`` whether they can write a
value (``can_write``); the first that says yes writes it, and its ``name`` is
stored next to the bytes, so the same serializer reads them back. This one
answers yes to exactly one class, :class:`Note`, and nothing else: every other
value stays with the serializer meant for it.
"""

from __future__ import annotations

import json
from typing import Any

from kitaru.plugins.records import ArtifactSerializerSpec

from kitaru_example.notes import Note

NOTE_CONTENT_TYPE = "application/vnd.kitaru-example.note+json"
"""The MIME type stored with every note (a vendor type: the bytes are JSON)."""


def can_write_note(value: Any) -> bool:
    """Whether ``value`` is a :class:`Note` (subclasses are not: they could carry more state)."""
    return type(value) is Note


def write_note(note: Note) -> bytes:
    """The note as UTF-8 JSON, keys sorted so equal notes give equal bytes."""
    return json.dumps(note.to_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8")


def read_note(data: bytes, python_type: type | None) -> Note:
    """Rebuild the note :func:`write_note` wrote.

    Args:
        data: The stored bytes.
        python_type: The type Kitaru recorded when writing (``Note``), or None
            when it cannot be imported; a note is rebuilt either way.
    """
    return Note.from_dict(json.loads(data.decode("utf-8")))


NOTE_SERIALIZER = ArtifactSerializerSpec(
    name="note",
    content_type=NOTE_CONTENT_TYPE,
    can_write=can_write_note,
    write=write_note,
    read=read_note,
    python_types=(Note,),
    # Built-in serializers use 0..100 (pydantic 50, dataclass 40, json 10); a
    # value only this plugin understands can safely go first.
    priority=90,
)
"""The record :mod:`kitaru_example.plugin` registers."""

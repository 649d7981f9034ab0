"""The value type this plugin teaches Kitaru to store: :class:`Note`.

``Note`` is a plain class, not a dataclass or a pydantic model, so none of
Kitaru's built-in serializers can write it: without this plugin a checkpoint
returning a ``Note`` would be stored as a *blob* (its ``repr``) with a warning.
:mod:`kitaru_example.serializers` stores it exactly, as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Note:
    """A short text with a title and tags.

    Args:
        title: One line naming the note.
        body: The text.
        tags: Labels, kept in order (stored as a tuple).
    """

    __slots__ = ("body", "tags", "title")

    def __init__(self, title: str, body: str, tags: Iterable[str] = ()) -> None:
        self.title = title
        self.body = body
        self.tags = tuple(tags)

    def to_dict(self) -> dict[str, Any]:
        """The note as JSON-ready data: ``{"title": ..., "body": ..., "tags": [...]}``."""
        return {"title": self.title, "body": self.body, "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Note:
        """Rebuild a note from :meth:`to_dict`'s output."""
        return cls(title=data["title"], body=data["body"], tags=data.get("tags", ()))

    def __eq__(self, other: object) -> bool:
        if type(other) is not Note:
            return NotImplemented
        return (self.title, self.body, self.tags) == (other.title, other.body, other.tags)

    def __hash__(self) -> int:
        return hash((self.title, self.body, self.tags))

    def __repr__(self) -> str:
        return f"Note(title={self.title!r}, body={self.body!r}, tags={self.tags!r})"

"""Stored values as the dashboard shows them: a short preview, and the whole value to download.

Values are loaded through the serializer that wrote them
(:meth:`kitaru.client.models.ArtifactRef.load`). A value that JSON can carry
is shown and downloaded as indented JSON through Kitaru's one encoder
(:func:`kitaru.jsonable.dumps`: pydantic models and dataclasses become
objects, any other object its ``str``). Previews are cut at :data:`PREVIEW_CHARS` characters and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kitaru.client.models import ArtifactRef
from kitaru.jsonable import dumps

PREVIEW_CHARS = 4000
"""The longest preview shown on a page; the download has the whole value."""


@dataclass(frozen=True)
class Rendered:
    """A value as text.

    Attributes:
        text: The whole value as text.
        media_type: ``application/json`` or ``text/plain``.
        python_type: The value's type (``dict``, ``mypkg.Report``).
    """

    text: str
    media_type: str
    python_type: str

    @property
    def preview(self) -> str:
        """The text cut at :data:`PREVIEW_CHARS`, with a note saying how much was left out."""
        if len(self.text) <= PREVIEW_CHARS:
            return self.text
        left_out = len(self.text) - PREVIEW_CHARS
        return f"{self.text[:PREVIEW_CHARS]}\n… ({left_out:,} more characters: download the value to see them all)"

    @property
    def extension(self) -> str:
        """The file extension of a download."""
        return "json" if self.media_type == "application/json" else "txt"


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def render_value(value: Any) -> Rendered:
    """Render a value: a string as itself, anything else as indented JSON."""
    if isinstance(value, str):
        return Rendered(text=value, media_type="text/plain", python_type="str")
    return Rendered(text=dumps(value, indent=2), media_type="application/json", python_type=_type_name(value))


def render_artifact(artifact: ArtifactRef) -> Rendered:
    """Load a stored value through its serializer and render it."""
    return render_value(artifact.load())


__all__ = ["PREVIEW_CHARS", "Rendered", "render_artifact", "render_value"]

"""A stored value as text for people: the whole value, and a preview cut to a length.

The dashboard (:mod:`kitaru.ui.previews`) and ``kitaru executions diff``
show values the same way: a string as itself, anything else as indented
JSON through Kitaru's one encoder (:func:`kitaru.jsonable.dumps`: pydantic
models and dataclasses become objects, any other object its ``str``)::

    render_value({"a": 1}).text        # '{\\n  "a": 1\\n}'
    render_value("notes").media_type   # 'text/plain'
    one_line("a long\\nanswer", 10)     # 'a long an…'

Previews are cut at :data:`PREVIEW_CHARS` characters and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def type_name(value: Any) -> str:
    """The value's type as people read it: ``dict`` for a builtin, ``mypkg.Report`` otherwise."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def render_value(value: Any) -> Rendered:
    """Render a value: a string as itself, anything else as indented JSON."""
    if isinstance(value, str):
        return Rendered(text=value, media_type="text/plain", python_type="str")
    return Rendered(text=dumps(value, indent=2), media_type="application/json", python_type=type_name(value))


def one_line(value: Any, limit: int) -> str:
    """A short preview on one line: a string as itself, anything else as compact JSON, cut at ``limit`` with ``…``.

    Args:
        value: The value.
        limit: The most characters returned (at least 2).
    """
    text = value if isinstance(value, str) else dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


__all__ = ["PREVIEW_CHARS", "Rendered", "one_line", "render_value", "type_name"]

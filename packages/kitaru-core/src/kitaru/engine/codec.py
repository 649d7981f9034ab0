"""The codec Kitaru hands the engine: how a value becomes stored bytes and back.

Kitaru stores every checkpoint output, ``kitaru.save()`` value and flow
result through its serializer plugins (:mod:`kitaru.serializers.codec`). The
engine adapter writes and reads the bytes where the engine keeps artifacts,
but never decides *how* a value is encoded: it receives a :class:`ValueCodec`
when :func:`kitaru.engine.get_engine` creates it, and calls it from its
storage hooks (ZenML's materializer).
"""

from __future__ import annotations

from typing import Any, Protocol


class ValueCodec(Protocol):
    """Encode and decode stored values; remember values this process just stored."""

    def encode(self, value: Any) -> tuple[bytes, bool]:
        """Encode ``value`` for storage.

        Returns:
            The bytes to store, and whether reading them back gives the value
            itself (False when the value could only be stored as a
            description, which is then not worth remembering).
        """
        ...

    def decode(self, content: bytes) -> Any:
        """Read bytes written by :meth:`encode` back into a value."""
        ...

    def remember(self, location: str, value: Any) -> None:
        """Keep ``value``, just stored at ``location``, so this process need not read it back."""
        ...


__all__ = ["ValueCodec"]

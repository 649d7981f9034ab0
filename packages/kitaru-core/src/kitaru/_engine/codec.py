"""The codec Kitaru handed the adapter, kept where the materializer finds it.

:func:`create_engine <kitaru._engine.create_engine>` stores it with
:func:`use_codec`. ZenML imports the materializer by its source path, also in
processes where nothing created the engine yet (a remote step loading its
inputs before Kitaru's code runs); :func:`codec` creates the engine then,
which hands the codec over. Separate from the materializer because that
module imports ZenML at its top.
"""

from __future__ import annotations

from kitaru.engine import get_engine
from kitaru.engine.codec import ValueCodec

_codec_in_use: ValueCodec | None = None


def use_codec(codec: ValueCodec) -> None:
    """Make ``codec`` the one the adapter stores values with."""
    global _codec_in_use
    _codec_in_use = codec


def codec() -> ValueCodec:
    """The codec Kitaru handed the adapter (creating the engine first if needed)."""
    if _codec_in_use is None:
        get_engine()  # creating the engine hands the adapter Kitaru's codec
    assert _codec_in_use is not None
    return _codec_in_use


__all__ = ["codec", "use_codec"]

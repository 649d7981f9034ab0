"""Values this process stored a moment ago, kept in memory so they need not be read back.

The flow body receives a checkpoint's output right after the checkpoint
stored it; on the inline runtime that value is still in this process. The
codec remembers every value it stores (:meth:`KitaruCodec.remember
<kitaru.serializers.codec.KitaruCodec.remember>`), keyed by where it was
stored, and the flow body takes it from here instead of reading and
decoding the artifact again. A replay puts an override value here on
purpose, so the flow body sees the edited output of a reused checkpoint.

Bounded, so values nobody asks for (``kitaru.save()``) cannot pile up.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

FRESH_LIMIT = 256
"""How many values are kept at most (the oldest go first)."""

_fresh_values: OrderedDict[str, Any] = OrderedDict()


def remember_fresh_value(location: str, value: Any) -> None:
    """Keep ``value``, just stored at ``location``, for this process to take once."""
    _fresh_values[location] = value
    while len(_fresh_values) > FRESH_LIMIT:
        _fresh_values.popitem(last=False)


def take_fresh_value(location: str) -> tuple[bool, Any]:
    """Return ``(True, value)`` if ``location`` was stored by this process just now (and forget it)."""
    if location in _fresh_values:
        return True, _fresh_values.pop(location)
    return False, None


__all__ = ["FRESH_LIMIT", "remember_fresh_value", "take_fresh_value"]

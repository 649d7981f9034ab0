"""Turn Kitaru's values into JSON-able data: the one JSON encoder.

The CLI (``-o json``), the MCP server, stored metadata and ``kitaru info``
all encode through :func:`to_jsonable`, so a value looks the same everywhere.

``to_jsonable`` walks dataclasses (``Execution``, ``CheckpointCall``,
``ArtifactRef``, ...), pydantic models (``FrozenExecutionSpec``), mappings and
sequences, and converts leaves: enums to their value, datetimes to ISO 8601
strings, UUIDs and paths to strings. Anything else that JSON cannot hold
becomes its ``str()``. The result can be passed to ``json.dumps`` as is::

    from kitaru import KitaruClient
    from kitaru.jsonable import to_jsonable

    data = to_jsonable(KitaruClient().executions.latest())
    data["status"], data["checkpoints"][0]["attempts"]
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

JSONValue = Any


def to_jsonable(obj: Any) -> JSONValue:
    """Convert ``obj`` into plain JSON types (dict, list, str, int, float, bool, None).

    Args:
        obj: A client model, a list of them, or any nesting of mappings,
            sequences and scalars.

    Returns:
        The JSON-able equivalent. Dataclass instances become dicts of their
        fields (methods and properties are not included); non-finite floats
        become None (JSON has no NaN).
    """
    if obj is None or isinstance(obj, (bool, int, str)) and not isinstance(obj, Enum):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, (date, time)):
        return obj.isoformat()
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, (UUID, PurePath)):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {field.name: to_jsonable(getattr(obj, field.name)) for field in dataclasses.fields(obj)}
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and not isinstance(obj, type):
        return to_jsonable(model_dump(mode="json"))
    if isinstance(obj, Mapping):
        return {str(to_jsonable(key)): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [to_jsonable(item) for item in obj]
        if isinstance(obj, (set, frozenset)):
            items.sort(key=repr)
        return items
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).decode("utf-8", errors="replace")
    return str(obj)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Encode ``obj`` as JSON text through :func:`to_jsonable` (non-ASCII kept as is)."""
    return json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False)


__all__ = ["dumps", "to_jsonable"]

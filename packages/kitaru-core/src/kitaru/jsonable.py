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
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from pathlib import PurePath
from typing import Any, overload
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


def json_problem(value: Any, path: str = "the value") -> str | None:
    """Where ``value`` stops being plain JSON data, or None if it is plain JSON data.

    Plain JSON data is what ``json.dumps(value, allow_nan=False)`` writes
    without help and reads back equal: None, bools, ints, finite floats,
    strings, lists (tuples) and dicts with string keys, nested. Unlike
    :func:`to_jsonable` nothing is converted: callers that store a user's
    value (event values, schedule arguments) refuse what is not plain::

        json_problem({"n": 1})            # None
        json_problem({"when": date.today()}, "the arguments")
        # "the arguments['when'] is a date"

    Args:
        value: The value to check.
        path: How to name ``value`` in the answer.

    Returns:
        A phrase naming the first part that is not plain JSON (for an error message), or None.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}, which JSON cannot hold"
    if isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            problem = json_problem(item, f"{path}[{position}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has the key {key!r}; JSON object keys are strings"
            problem = json_problem(item, f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{path} is a {type(value).__name__}"


@overload
def to_iso(moment: datetime) -> str: ...


@overload
def to_iso(moment: None) -> None: ...


def to_iso(moment: datetime | None) -> str | None:
    """An aware datetime as the ISO 8601 text Kitaru stores, in UTC (None stays None).

    Every time Kitaru records in its own files and metadata (schedules, sleep
    wake-up times) is written here and read back with :func:`from_iso`.
    """
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def from_iso(value: Any) -> datetime | None:
    """Read a time written by :func:`to_iso`: an aware UTC datetime (None for None or ``""``).

    Text without a time zone is taken as UTC.

    Raises:
        ValueError: If ``value`` is not ISO 8601 text.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time as text, got {value!r}")
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


__all__ = ["dumps", "from_iso", "json_problem", "to_iso", "to_jsonable"]

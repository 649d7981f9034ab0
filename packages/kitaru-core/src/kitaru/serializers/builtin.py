"""Core's built-in serializers, registered through ``kitaru_artifact_serializers``.

Core uses the same hook as third-party plugins (like datasette's default
plugins), so a plugin can add serializers with a higher priority for its types.

Built-ins, highest priority first:

* ``pydantic``: pydantic models, as JSON, read back with ``model_validate_json``.
* ``dataclass``: dataclass instances, as JSON via pydantic's ``TypeAdapter``.
* ``text``: ``str`` as UTF-8.
* ``bytes``: ``bytes``/``bytearray`` as they are.
* ``json``: None, bools, numbers and JSON-able dicts, lists and tuples (tuples
  round-trip as tuples).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from kitaru.plugins.hookspecs import hookimpl
from kitaru.plugins.records import ArtifactSerializerSpec

_TUPLE_MARKER = "__kitaru_tuple__"


def is_json_able(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain JSON data (finite numbers, str keys; tuples allowed) the json serializer writes."""
    if depth > 100:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(is_json_able(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and key != _TUPLE_MARKER and is_json_able(item, depth + 1)
            for key, item in value.items()
        )
    return False


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE_MARKER: [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _TUPLE_MARKER in obj:
        return tuple(obj[_TUPLE_MARKER])
    return obj


def write_json(value: Any) -> bytes:
    """Encode JSON-able data compactly; tuples are marked so they read back as tuples."""
    return json.dumps(_encode(value), separators=(",", ":"), allow_nan=False).encode()


def read_json(data: bytes, _python_type: type | None = None) -> Any:
    """Decode what :func:`write_json` wrote."""
    return json.loads(data.decode(), object_hook=_decode_hook)


def _is_pydantic_model(value: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(value, BaseModel)


def _write_pydantic(value: Any) -> bytes:
    return value.model_dump_json().encode()


def _read_pydantic(data: bytes, python_type: Any) -> Any:
    if python_type is None:
        raise TypeError("the pydantic model class could not be imported")
    return python_type.model_validate_json(data)


def _is_dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _write_dataclass(value: Any) -> bytes:
    from pydantic import TypeAdapter

    return TypeAdapter(type(value)).dump_json(value)


def _read_dataclass(data: bytes, python_type: type | None) -> Any:
    from pydantic import TypeAdapter

    if python_type is None:
        raise TypeError("the dataclass could not be imported")
    return TypeAdapter(python_type).validate_json(data)


BUILTIN_SERIALIZERS: tuple[ArtifactSerializerSpec, ...] = (
    ArtifactSerializerSpec(
        name="pydantic",
        content_type="application/json",
        can_write=_is_pydantic_model,
        write=_write_pydantic,
        read=_read_pydantic,
        priority=50,
    ),
    ArtifactSerializerSpec(
        name="dataclass",
        content_type="application/json",
        can_write=_is_dataclass_instance,
        write=_write_dataclass,
        read=_read_dataclass,
        priority=40,
    ),
    ArtifactSerializerSpec(
        name="text",
        content_type="text/plain; charset=utf-8",
        can_write=lambda value: type(value) is str,
        write=lambda value: value.encode("utf-8"),
        read=lambda data, _type: data.decode("utf-8"),
        python_types=(str,),
        priority=30,
    ),
    ArtifactSerializerSpec(
        name="bytes",
        content_type="application/octet-stream",
        can_write=lambda value: type(value) in (bytes, bytearray),
        write=bytes,
        read=lambda data, python_type: bytearray(data) if python_type is bytearray else data,
        python_types=(bytes, bytearray),
        priority=30,
    ),
    ArtifactSerializerSpec(
        name="json",
        content_type="application/json",
        can_write=lambda value: type(value) in (type(None), bool, int, float, dict, list, tuple)
        and is_json_able(value),
        write=write_json,
        read=read_json,
        python_types=(type(None), bool, int, float, dict, list, tuple),
        priority=10,
    ),
)


@hookimpl(tryfirst=True)  # core's names win a conflict unless a plugin also says tryfirst
def kitaru_artifact_serializers() -> tuple[ArtifactSerializerSpec, ...]:
    """Register core's built-in serializers."""
    return BUILTIN_SERIALIZERS

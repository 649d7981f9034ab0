"""Turn values into stored bytes and back through Kitaru's serializer plugins.

Every checkpoint output, ``kitaru.save()`` value and flow result is written
by the registered Kitaru serializers (``kitaru_artifact_serializers`` hook):
one file whose first line is a JSON header naming the serializer and the
Python type, followed by the serializer's bytes, so reading picks the same
serializer. One file means one write per artifact, which matters on object
stores. A value no serializer can write does not fail the execution: its
run keeps using it in memory, and a record saying it could not be stored
takes its place (:mod:`kitaru.serializers.unstorable`).

The engine adapter writes and reads the bytes; it receives :func:`codec`
(a :class:`~kitaru.engine.codec.ValueCodec`) when the engine is created::

    content, exact = codec().encode({"a": (1, 2)})
    assert codec().decode(content) == {"a": (1, 2)}
"""

from __future__ import annotations

import importlib
import json
import logging
from typing import Any

from kitaru.errors import KitaruRuntimeError
from kitaru.plugins import get_plugin_manager
from kitaru.serializers.fresh import remember_fresh_value
from kitaru.serializers.unstorable import (
    UnserializableValueWarning,
    is_unstorable_header,
    read_unstorable,
    unstorable_record,
)

logger = logging.getLogger("kitaru")


def python_type_path(value_type: type) -> str:
    """Return ``module:qualname`` for ``value_type``."""
    return f"{value_type.__module__}:{value_type.__qualname__}"


def import_python_type(path: str) -> type | None:
    """Import a type from ``module:qualname``; None if that is not possible."""
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return obj if isinstance(obj, type) else None


def serialize(value: Any) -> tuple[dict[str, str], bytes]:
    """Serialize ``value`` with the first serializer that can write it.

    If none can, the value is kept for the running flow body and a record
    saying it could not be stored is returned instead
    (:func:`~kitaru.serializers.unstorable.unstorable_record`).

    Returns:
        The header (serializer name, content type, Python type) and the bytes.
    """
    type_path = python_type_path(type(value))
    failures = []
    for spec in get_plugin_manager().artifact_serializers():
        try:
            if not spec.can_write(value):
                continue
            data = spec.write(value)
        except Exception as exc:  # a serializer that fails passes to the next one
            logger.debug("Serializer %r could not write %s: %s", spec.name, type_path, exc)
            failures.append(f"serializer '{spec.name}' failed: {type(exc).__name__}: {exc}")
            continue
        header = {"serializer": spec.name, "content_type": spec.content_type, "python_type": type_path}
        return header, bytes(data)
    reason = "; ".join(failures) or "no installed serializer handles this type"
    return unstorable_record(value, type_path, reason)


def deserialize(header: dict[str, str], data: bytes) -> Any:
    """Read bytes written by :func:`serialize` back into a value.

    Raises:
        KitaruUnstorableValueError: If the value could not be stored when it
            was produced (and this is not the run that produced it).
        KitaruRuntimeError: If the serializer is not installed or fails.
    """
    name = header.get("serializer", "")
    type_path = header.get("python_type", "unknown")
    if is_unstorable_header(header):
        return read_unstorable(header, data)
    specs = {spec.name: spec for spec in get_plugin_manager().artifact_serializers()}
    spec = specs.get(name)
    if spec is None:
        raise KitaruRuntimeError(
            f"The stored value of type '{type_path}' was written by serializer '{name}', "
            f"which is not installed. Install the plugin that provides it "
            f"(installed serializers: {', '.join(sorted(specs)) or 'none'})."
        )
    try:
        return spec.read(data, import_python_type(type_path))
    except Exception as exc:
        raise KitaruRuntimeError(
            f"Could not load the stored value of type '{type_path}' with serializer "
            f"'{name}': {type(exc).__name__}: {exc}"
        ) from exc


class KitaruCodec:
    """Kitaru's :class:`~kitaru.engine.codec.ValueCodec`: a header line, then the serializer's bytes."""

    def encode(self, value: Any) -> tuple[bytes, bool]:
        header, payload = serialize(value)
        return json.dumps(header).encode() + b"\n" + payload, not is_unstorable_header(header)

    def decode(self, content: bytes) -> Any:
        header_line, _, payload = content.partition(b"\n")
        return deserialize(json.loads(header_line), payload)

    def remember(self, location: str, value: Any) -> None:
        remember_fresh_value(location, value)


_CODEC = KitaruCodec()


def codec() -> KitaruCodec:
    """The process's codec (what :func:`kitaru.engine.get_engine` hands the adapter)."""
    return _CODEC


__all__ = [
    "KitaruCodec",
    "UnserializableValueWarning",
    "codec",
    "deserialize",
    "import_python_type",
    "python_type_path",
    "serialize",
]

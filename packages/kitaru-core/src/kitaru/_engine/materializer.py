"""Bridge Kitaru serializers onto ZenML materializers.

ZenML stores artifacts through materializers. :class:`KitaruMaterializer`
stores any value through Kitaru's serializer plugins
(:mod:`kitaru._engine.serialization`): one file per artifact, a one-line JSON
header naming the serializer and the Python type, then the bytes. One file
means one write per artifact, which matters on object stores.

This module stays tiny on purpose: the engine hashes a materializer's source
for cache keys on every checkpoint call.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer

from kitaru._engine.serialization import BLOB_SERIALIZER, deserialize, remember_fresh_value, serialize

DATA_FILE = "value.kitaru"


class KitaruMaterializer(BaseMaterializer):
    """Stores any value through Kitaru's serializer plugins."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (object,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True

    def _path(self, name: str) -> str:
        return f"{self.uri.rstrip('/')}/{name}"

    def save(self, data: Any) -> None:
        """Write the header line and ``data``'s bytes into the artifact's URI."""
        header, payload = serialize(data)
        with self.artifact_store.open(self._path(DATA_FILE), "wb") as handle:
            handle.write(json.dumps(header).encode() + b"\n" + payload)
        if header["serializer"] != BLOB_SERIALIZER:
            remember_fresh_value(self.uri, data)

    def load(self, data_type: type[Any]) -> Any:
        """Read the value back with the serializer that wrote it."""
        with self.artifact_store.open(self._path(DATA_FILE), "rb") as handle:
            content = handle.read()
        header_line, _, payload = content.partition(b"\n")
        return deserialize(json.loads(header_line), payload)

    def save_visualizations(self, data: Any) -> dict[str, Any]:
        """Kitaru artifacts have no visualizations (saves a write per artifact)."""
        return {}


"""Store values through Kitaru's codec: the one ZenML materializer Kitaru uses.

ZenML stores artifacts through materializers. :class:`KitaruMaterializer`
hands every value to the :class:`~kitaru.engine.codec.ValueCodec` Kitaru gave
the adapter (:mod:`kitaru._engine.codec`) and writes the bytes into one file
per artifact; one write per artifact matters on object stores. How a value
is encoded is Kitaru's business, not the adapter's.

This module stays tiny on purpose: the engine hashes a materializer's source
for cache keys on every checkpoint call.
"""

from __future__ import annotations

from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer

from kitaru._engine.codec import codec

DATA_FILE = "value.kitaru"


class KitaruMaterializer(BaseMaterializer):
    """Stores any value through Kitaru's codec (its serializer plugins)."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (object,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True

    def _path(self, name: str) -> str:
        return f"{self.uri.rstrip('/')}/{name}"

    def save(self, data: Any) -> None:
        """Write ``data``'s encoded bytes into the artifact's URI."""
        current = codec()
        content, exact = current.encode(data)
        with self.artifact_store.open(self._path(DATA_FILE), "wb") as handle:
            handle.write(content)
        if exact:
            current.remember(self.uri, data)

    def load(self, data_type: type[Any]) -> Any:
        """Read the value back with the serializer that wrote it."""
        with self.artifact_store.open(self._path(DATA_FILE), "rb") as handle:
            content = handle.read()
        return codec().decode(content)

    def save_visualizations(self, data: Any) -> dict[str, Any]:
        """Kitaru artifacts have no visualizations (saves a write per artifact)."""
        return {}

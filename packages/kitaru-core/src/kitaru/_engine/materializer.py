"""Store values through Kitaru's codec: the one ZenML materializer Kitaru uses.

ZenML stores artifacts through materializers. :class:`KitaruMaterializer`
hands every value to the :class:`~kitaru.engine.codec.ValueCodec` Kitaru gave
the adapter (:mod:`kitaru._engine.codec`) and writes the bytes into one file
per artifact; one write per artifact matters on object stores. How a value
is encoded is Kitaru's business, not the adapter's.

A value the codec could not store faithfully (``exact`` is False: only a
record saying so was written) must never be served to a later run from the
engine's cache: the checkpoint that produced it is marked as not reusable.

This module stays tiny on purpose: the engine hashes a materializer's source
for cache keys on every checkpoint call.
"""

from __future__ import annotations

from typing import Any, ClassVar

from zenml.client import Client
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.steps.step_context import StepContext
from zenml.utils.time_utils import utc_now

from kitaru._engine.codec import codec

DATA_FILE = "value.kitaru"


def _never_cache_current_step() -> None:
    """Keep the engine's cache from reusing the running step (its output was not really stored)."""
    context = StepContext.get()
    if context is not None:  # None when stored outside a checkpoint: nothing to cache
        Client().update_step_run(context.step_run.id, cache_expires_at=utc_now())


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
        else:
            _never_cache_current_step()

    def load(self, data_type: type[Any]) -> Any:
        """Read the value back with the serializer that wrote it."""
        with self.artifact_store.open(self._path(DATA_FILE), "rb") as handle:
            content = handle.read()
        return codec().decode(content)

    def get_item_count(self, data: Any) -> int | None:
        """The number of items of a list or tuple output, which ``checkpoint.map(output)`` maps over."""
        return len(data) if isinstance(data, (list, tuple)) else None

    def load_item(self, data_type: type[Any], index: int) -> Any:
        """One item of a list or tuple output: the input of one call of a map."""
        return self.load(data_type)[index]

    def save_visualizations(self, data: Any) -> dict[str, Any]:
        """Kitaru artifacts have no visualizations (saves a write per artifact)."""
        return {}

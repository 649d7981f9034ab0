"""The port for container images: Kitaru's image settings <-> the engine's build settings.

Kitaru describes the image of a remote execution with
:class:`kitaru.config.ImageSettings` (``base_image``, ``requirements``,
``platform`` ...). Users may also pass the engine's own settings object
(ZenML's ``DockerSettings``); the adapter translates both ways, field by
field, and reports fields that have no Kitaru equivalent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class UnsupportedImageFields(ValueError):
    """The engine's image settings use fields Kitaru's image settings cannot express.

    Attributes:
        fields: The engine field names, for the message.
    """

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class ImageTranslator(Protocol):
    """Translate image settings between Kitaru and the engine."""

    def to_engine(self, image: Mapping[str, Any]) -> Any:
        """The engine's build settings for Kitaru image fields (``ImageSettings.model_dump``)."""
        ...

    def from_engine(self, value: Any) -> dict[str, Any] | None:
        """Kitaru image fields for an engine settings object; None if ``value`` is not one.

        Raises:
            UnsupportedImageFields: If ``value`` sets fields Kitaru cannot express.
        """
        ...


__all__ = ["ImageTranslator", "UnsupportedImageFields"]

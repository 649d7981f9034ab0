"""Stored values as the dashboard shows them: a short preview, and the whole value to download.

Values are loaded through the serializer that wrote them
(:meth:`kitaru.client.models.ArtifactRef.load`) and rendered by
:func:`kitaru.serializers.rendering.render_value` (shared with ``kitaru
executions diff``): a value that JSON can carry is shown and downloaded as
indented JSON through Kitaru's one encoder (:func:`kitaru.jsonable.dumps`:
pydantic models and dataclasses become objects, any other object its
``str``). Previews are cut at :data:`PREVIEW_CHARS` characters and say so.
"""

from __future__ import annotations

from kitaru.client.models import ArtifactRef
from kitaru.serializers.rendering import PREVIEW_CHARS, Rendered, render_value


def render_artifact(artifact: ArtifactRef) -> Rendered:
    """Load a stored value through its serializer and render it."""
    return render_value(artifact.load())


__all__ = ["PREVIEW_CHARS", "Rendered", "render_artifact", "render_value"]

"""Kitaru image settings <-> ZenML ``DockerSettings`` (the :class:`~kitaru.engine.images.ImageTranslator`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru._engine.bootstrap import load_engine
from kitaru.engine.images import UnsupportedImageFields

#: DockerSettings field -> Kitaru ImageSettings field (``platform`` travels in ``build_config``).
DOCKER_FIELDS = {
    "parent_image": "base_image",
    "image_tag": "image_tag",
    "dockerfile": "dockerfile",
    "build_context_root": "build_context_root",
    "target_repository": "target_repository",
    "requirements": "requirements",
    "apt_packages": "apt_packages",
    "environment": "environment",
    "user": "user",
    "replicate_local_python_environment": "replicate_local_python_environment",
}
KITARU_FIELDS = {kitaru: docker for docker, kitaru in DOCKER_FIELDS.items()}


def docker_settings_kwargs(image: Mapping[str, Any]) -> dict[str, Any]:
    """``DockerSettings`` keyword arguments for Kitaru image fields (unset fields left out)."""
    data = {key: value for key, value in image.items() if value is not None}
    kwargs: dict[str, Any] = {}
    platform = data.pop("platform", None)
    if platform is not None:
        kwargs["build_config"] = {"build_options": {"platform": platform}}
    for name, value in data.items():
        kwargs[KITARU_FIELDS.get(name, name)] = value
    return kwargs


class ZenMLImages:
    """Translate between Kitaru's image settings and ZenML's ``DockerSettings``."""

    def to_engine(self, image: Mapping[str, Any]) -> Any:
        load_engine()
        from zenml.config import DockerSettings

        return DockerSettings(**docker_settings_kwargs(image))

    def from_engine(self, value: Any) -> dict[str, Any] | None:
        load_engine()
        from zenml.config import DockerSettings

        if not isinstance(value, DockerSettings):
            return None
        data = value.model_dump(exclude_defaults=True)
        build_config = data.pop("build_config", None) or {}
        options = dict(build_config.get("build_options") or {})
        image: dict[str, Any] = {}
        if "platform" in options:
            image["platform"] = options.pop("platform")
        unsupported = [name for name in data if name not in DOCKER_FIELDS]
        if options or set(build_config) - {"build_options"}:
            unsupported.append("build_config")
        if isinstance(data.get("requirements"), str):
            unsupported.append("requirements (file path)")
        if "replicate_local_python_environment" in data and not isinstance(
            data["replicate_local_python_environment"], bool
        ):
            unsupported.append("replicate_local_python_environment (non-bool)")
        if unsupported:
            raise UnsupportedImageFields(sorted(set(unsupported)))
        for docker_name, kitaru_name in DOCKER_FIELDS.items():
            if docker_name in data:
                image[kitaru_name] = data[docker_name]
        return image


__all__ = ["DOCKER_FIELDS", "ZenMLImages", "docker_settings_kwargs"]

"""Kitaru configuration: ``configure()``, ``KitaruConfig``, ``ImageSettings`` and precedence.

Where settings live and which wins is described in SPEC §5. This package never
imports the engine, so ``import kitaru`` stays fast, and loads its modules
on first use: ``kitaru.config.paths`` (every CLI start) costs no pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitaru.lazy_exports import load_export

if TYPE_CHECKING:
    from kitaru.config.models import (
        FrozenConnection,
        FrozenExecutionSpec,
        FrozenResolvedExecution,
        ImageSettings,
        KitaruConfig,
        ResolvedExecutionConfig,
        coerce_image,
        validate_server_url,
    )
    from kitaru.config.resolve import (
        build_frozen_spec,
        image_for_build,
        merge_images,
        requirement_names_kitaru,
        resolve_execution_config,
    )
    from kitaru.config.runtime import (
        UNSET,
        configure,
        get_connection_overrides,
        get_runtime_config,
        reset_configure,
    )
    from kitaru.config.sources import (
        find_pyproject,
        read_env_config,
        read_global_config,
        read_pyproject_config,
        update_global_config,
    )
    from kitaru.masking import mask_environment

_EXPORTS: dict[str, str] = {
    "FrozenConnection": "kitaru.config.models",
    "FrozenExecutionSpec": "kitaru.config.models",
    "FrozenResolvedExecution": "kitaru.config.models",
    "ImageSettings": "kitaru.config.models",
    "KitaruConfig": "kitaru.config.models",
    "ResolvedExecutionConfig": "kitaru.config.models",
    "coerce_image": "kitaru.config.models",
    "validate_server_url": "kitaru.config.models",
    "build_frozen_spec": "kitaru.config.resolve",
    "image_for_build": "kitaru.config.resolve",
    "merge_images": "kitaru.config.resolve",
    "requirement_names_kitaru": "kitaru.config.resolve",
    "resolve_execution_config": "kitaru.config.resolve",
    "UNSET": "kitaru.config.runtime",
    "configure": "kitaru.config.runtime",
    "get_connection_overrides": "kitaru.config.runtime",
    "get_runtime_config": "kitaru.config.runtime",
    "reset_configure": "kitaru.config.runtime",
    "find_pyproject": "kitaru.config.sources",
    "read_env_config": "kitaru.config.sources",
    "read_global_config": "kitaru.config.sources",
    "read_pyproject_config": "kitaru.config.sources",
    "update_global_config": "kitaru.config.sources",
    "mask_environment": "kitaru.masking",
}
"""Each public name -> the module defining it, imported on first use."""


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, so ``kitaru.config.paths`` loads no models."""
    return load_export(__name__, _EXPORTS, name, globals())


__all__ = [
    "UNSET",
    "FrozenConnection",
    "FrozenExecutionSpec",
    "FrozenResolvedExecution",
    "ImageSettings",
    "KitaruConfig",
    "ResolvedExecutionConfig",
    "build_frozen_spec",
    "coerce_image",
    "configure",
    "find_pyproject",
    "get_connection_overrides",
    "get_runtime_config",
    "image_for_build",
    "mask_environment",
    "merge_images",
    "read_env_config",
    "read_global_config",
    "read_pyproject_config",
    "requirement_names_kitaru",
    "reset_configure",
    "resolve_execution_config",
    "update_global_config",
    "validate_server_url",
]

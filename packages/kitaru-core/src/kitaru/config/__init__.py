"""Kitaru configuration: ``configure()``, ``KitaruConfig``, ``ImageSettings`` and precedence.

Where settings live and which wins is described in SPEC §5. This package never
imports the engine, so ``import kitaru`` stays fast.
"""

from __future__ import annotations

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

"""Execution precedence, the frozen execution spec and Docker settings conversion.

Layers, lowest to highest (SPEC §5.2): built-in defaults → active stack name →
the ``execution`` section of ``kitaru.yaml`` (timeouts only) → ``[tool.kitaru]`` → ``KITARU_*`` variables → ``kitaru.configure()`` →
``@flow(...)`` → ``.run(...)``/``.replay(...)``. ``None`` means "not set" in
every layer. Images merge field by field and their ``environment`` key by key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.config.models import (
    FrozenConnection,
    FrozenExecutionSpec,
    ImageSettings,
    ResolvedExecutionConfig,
    coerce_image,
    validate_execution_layer,
)
from kitaru.config.runtime import get_runtime_layer
from kitaru.config.sources import read_env_config, read_global_execution_config, read_pyproject_config
from kitaru.jsonable import to_jsonable

#: Layer names, lowest precedence first, as recorded in ``ResolvedExecutionConfig.layers``.
LAYER_ORDER = ("default", "active_stack", "global", "pyproject", "env", "configure", "decorator", "call")

_DEFAULTS: dict[str, Any] = {"stack": None, "image": None, "cache": True, "retries": 0}


def merge_images(base: ImageSettings | None, override: ImageSettings | None) -> ImageSettings | None:
    """Merge two image settings; fields set in ``override`` win.

    ``environment`` dicts are merged key by key; every other field, including
    lists, is replaced as a whole.

    Args:
        base: The lower-precedence settings.
        override: The higher-precedence settings.

    Returns:
        The merged settings, or ``None`` when neither sets anything.
    """
    if base is None or override is None:
        merged = override if base is None else base
        return None if merged is None or merged.is_empty() else merged
    data = base.model_dump(exclude_none=True)
    updates = override.model_dump(exclude_none=True)
    environment = {**data.get("environment", {}), **updates.pop("environment", {})}
    data.update(updates)
    if environment:
        data["environment"] = environment
    return ImageSettings.model_validate(data)


def resolve_execution_config(
    *, active_stack: str | None, decorator: Mapping[str, Any], call: Mapping[str, Any]
) -> ResolvedExecutionConfig:
    """Resolve stack, image, cache, retries and the timeouts across every precedence layer.

    Reads ``[tool.kitaru]`` from the nearest ``pyproject.toml`` above the
    current directory and ``KITARU_*`` variables at call time.

    Args:
        active_stack: Name of the active stack, if known.
        decorator: Options given to ``@flow(...)`` (keys ``stack``, ``image``,
            ``cache``, ``retries``; ``None`` = not set).
        call: Options given to ``.run(...)``/``.replay(...)``, same keys.

    Returns:
        The resolved values and, in ``layers``, which layer set each field.

    Raises:
        KitaruUsageError: If any layer holds an invalid or legacy setting.
    """
    layers: list[tuple[str, dict[str, Any]]] = [
        ("active_stack", {"stack": active_stack} if active_stack and active_stack.strip() else {}),
        ("global", read_global_execution_config()),
        ("pyproject", read_pyproject_config()),
        ("env", read_env_config()),
        ("configure", get_runtime_layer()),
        ("decorator", validate_execution_layer(decorator or {}, source="@flow(...) options")),
        ("call", validate_execution_layer(call or {}, source="Run options")),
    ]
    values = dict(_DEFAULTS)
    sources = dict.fromkeys(_DEFAULTS, "default")
    image_sources: list[str] = []
    for name, layer in layers:
        for field, value in layer.items():
            if field == "image":
                values["image"] = merge_images(values["image"], value)
                image_sources.append(name)
            else:
                values[field] = value
                sources[field] = name
    if image_sources:
        sources["image"] = "+".join(image_sources)
    return ResolvedExecutionConfig(**values, layers=sources)


def build_frozen_spec(
    *,
    resolved: ResolvedExecutionConfig,
    flow_defaults: Mapping[str, Any],
    server_url: str | None,
    project: str | None,
    model_registry: Mapping[str, Any] | None,
) -> FrozenExecutionSpec:
    """Build the spec persisted with a run as ``kitaru_execution_spec`` metadata.

    Secret-looking image environment values are masked and no auth token is
    kept. ``spec.model_dump(mode="json")`` is JSON-serialisable.

    Args:
        resolved: The resolved execution options.
        flow_defaults: Options given to ``@flow(...)`` (``None`` values dropped).
        server_url: Server URL of the connection, if any.
        project: Project of the connection, if any.
        model_registry: Snapshot of the model alias registry, if any.

    Returns:
        The frozen spec.
    """
    registry = None
    if model_registry is not None:
        registry = to_jsonable(dict(model_registry))
    return FrozenExecutionSpec.model_validate(
        {
            "version": FrozenExecutionSpec.CURRENT_VERSION,
            "resolved_execution": {
                "stack": resolved.stack,
                "image": resolved.image,
                "cache": resolved.cache,
                "retries": resolved.retries,
                "timeout": resolved.timeout,
                "checkpoint_timeout": resolved.checkpoint_timeout,
            },
            "flow_defaults": {key: value for key, value in (flow_defaults or {}).items() if value is not None},
            "connection": FrozenConnection(server_url=server_url.rstrip("/") if server_url else None, project=project),
            "model_registry": registry,
        }
    )


_NAME_REQUIREMENT = re.compile(r"^kitaru\s*(\[[^\]]*\])?\s*($|[<>=!~;@(,\s])", re.IGNORECASE)
_EGG_FRAGMENT = re.compile(r"[#&]egg=kitaru($|[\[&\s<>=!~])", re.IGNORECASE)
_ARCHIVE_NAME = re.compile(r"^kitaru-\d[^/]*\.(whl|tar\.gz|zip|tar\.bz2)$", re.IGNORECASE)


def requirement_names_kitaru(requirement: str) -> bool:
    """Return whether a pip requirement installs the ``kitaru`` package.

    Recognises ``kitaru``, ``kitaru[extra]``, any version specifier or marker,
    ``kitaru @ <url>``, ``...#egg=kitaru``, VCS/URL paths ending in ``kitaru``
    or ``kitaru.git`` and ``kitaru-<version>`` wheels/sdists. ``kitaru-core``
    and other packages do not count.

    Args:
        requirement: One requirement line.

    Returns:
        ``True`` if the requirement installs Kitaru.
    """
    text = requirement.strip()
    if _NAME_REQUIREMENT.match(text) or _EGG_FRAGMENT.search(text):
        return True
    location = re.split(r"[#?]", text, maxsplit=1)[0].rstrip("/")
    last = location.rsplit("/", 1)[-1]
    if "://" in location or location.startswith(("git+", "hg+", "svn+", "bzr+")):
        last = last.split("@", 1)[0]
    last = last.removesuffix(".git")
    is_kitaru_path = last.lower() == "kitaru" and "/" in location
    return is_kitaru_path or bool(_ARCHIVE_NAME.match(last))


def image_for_build(image: ImageSettings | str | Mapping[str, Any] | None) -> ImageSettings:
    """Return the image settings a remote execution is built with.

    ``kitaru`` is appended to the requirements unless a requirement already
    installs it or the user controls the image (``base_image`` or ``dockerfile``
    set); no settings at all give ``requirements=["kitaru"]``. The engine
    adapter translates the result into its own build settings.

    Args:
        image: Image settings in any form accepted by :func:`coerce_image`.
    """
    settings = coerce_image(image) or ImageSettings()
    requirements = list(settings.requirements or [])
    user_controls_image = settings.base_image is not None or settings.dockerfile is not None
    if not user_controls_image and not any(requirement_names_kitaru(item) for item in requirements):
        requirements.append("kitaru")
    if not requirements:
        return settings
    return settings.model_copy(update={"requirements": requirements})

"""Model aliases: which models ``kitaru.llm()`` calls (SPEC §4.5, §5.1, §6).

An alias is a short name (``fast``) for a ``provider/model`` string
(``openai/gpt-4o-mini``), optionally linked to a secret holding the provider's
credentials. The registry lives in three modules, each with one job:

* :mod:`kitaru._llm.registry_schema`: the types, validation rules and the
  parsing of ``KITARU_MODEL_REGISTRY``.
* :mod:`kitaru._llm.registry_store`: reading and writing ``kitaru.yaml``
  (``kitaru model register/remove/default``).
* this module: the registry visible here, its transport to remote runs and
  model resolution. It re-exports the names of the other two, so callers
  import everything from ``kitaru._llm.registry``.

Rules:

* Aliases are normalised to lower case and must match ``^[a-z0-9][a-z0-9_-]*$``.
* The ``secret`` is the name or id of a Kitaru secret (``kitaru secrets set``);
  the registry stores the reference, never a value.

**Transport.** A run on a remote stack has no ``kitaru.yaml``, so submission
puts :func:`snapshot` into the image environment as ``KITARU_MODEL_REGISTRY``
(see :func:`with_registry_env`). Wherever that variable is set, its registry is
merged over the local one: its aliases replace local aliases of the same name
and its default wins. It holds alias names, models and secret *names* only.

**Resolution** (:func:`resolve_model`): an explicit model, else
``KITARU_DEFAULT_MODEL``, else the default alias. The chosen value is looked up
as an alias first, otherwise used as a raw ``provider/model`` string.

Unknown keys in the section are ignored, so a registry written by a newer
Kitaru still loads. This module never imports the engine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitaru._llm.registry_schema import (
    ALIAS_PATTERN,
    ENV_DEFAULT_MODEL,
    ENV_REGISTRY,
    EXAMPLE_MODEL,
    NO_MODEL_MESSAGE,
    SECTION,
    SOURCE_DEFAULT_ALIAS,
    SOURCE_DEFAULT_MODEL,
    SOURCE_ENVIRONMENT,
    SOURCE_EXPLICIT,
    SOURCE_LOCAL,
    ModelAlias,
    ModelRegistry,
    describe,
    normalise_alias,
    parse_registry,
    read_env_registry,
    validate_model,
    validate_secret_reference,
)
from kitaru._llm.registry_store import (
    RemovedAlias,
    read_local_registry,
    register_alias,
    remove_alias,
    set_default_alias,
)
from kitaru.errors import KitaruUsageError

# -- the registry visible here -------------------------------------------------------


def merge_registries(local: ModelRegistry, overlay: ModelRegistry | None) -> ModelRegistry:
    """``overlay`` over ``local``: its aliases replace same-named ones and its default wins.

    Args:
        local: The registry from ``kitaru.yaml``.
        overlay: The transported registry, or ``None``.

    Returns:
        The merged registry (``local`` itself when there is no overlay).
    """
    if overlay is None:
        return local
    aliases = {**local.aliases, **overlay.aliases}
    return ModelRegistry(aliases=aliases, default=overlay.default or local.default)


def effective_registry(environ: Mapping[str, str] | None = None) -> ModelRegistry:
    """The registry visible here: ``KITARU_MODEL_REGISTRY`` merged over ``kitaru.yaml``.

    Raises:
        KitaruUsageError: If either is malformed.
    """
    overlay = read_env_registry(environ)  # fail on a bad variable before touching the file
    return merge_registries(read_local_registry(), overlay)


def snapshot(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The effective registry for the frozen execution spec and the image environment.

    Returns:
        ``{"aliases": {alias: {model, secret?}}, "default": alias|None}``, or
        ``None`` when no alias is configured. It holds secret names, never values.

    Raises:
        KitaruUsageError: If the registry is malformed.
    """
    registry = effective_registry(environ)
    return registry.to_dict() if registry.aliases else None


def with_registry_env(
    environment: Mapping[str, str] | None, environ: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """Add ``KITARU_MODEL_REGISTRY`` to an image environment unless it is already set there.

    Args:
        environment: The image's environment variables, or ``None``.
        environ: Variables the registry is read with; ``os.environ`` by default.

    Returns:
        A copy of ``environment`` with the registry added, or ``environment``
        unchanged (as a dict, or ``None``) when it already has the variable or
        there are no aliases.

    Raises:
        KitaruUsageError: If the registry is malformed.
    """
    result = dict(environment) if environment is not None else None
    if result is not None and ENV_REGISTRY in result:
        return result
    data = snapshot(environ)
    if data is None:
        return result
    result = result if result is not None else {}
    result[ENV_REGISTRY] = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return result


# -- resolution ----------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedModel:
    """The model one ``llm()`` call uses.

    Attributes:
        requested_model: What was asked for: the explicit value, the value of
            ``KITARU_DEFAULT_MODEL``, or the default alias's name (stripped).
        alias: The alias it matched, or ``None`` for a raw ``provider/model``.
        model: The ``provider/model`` string to call.
        secret: Name or id of the alias's secret, or ``None``.
        source: ``explicit``, ``KITARU_DEFAULT_MODEL`` or ``default alias``.
    """

    requested_model: str
    alias: str | None
    model: str
    secret: str | None
    source: str = SOURCE_EXPLICIT


def _requested(model: Any, environ: Mapping[str, str]) -> tuple[str | None, str]:
    if model is not None:
        if not isinstance(model, str) or not model.strip():
            raise KitaruUsageError(
                f"model={model!r} is not a model. Pass a model alias (see `kitaru model list`) or a "
                f"provider/model string such as {EXAMPLE_MODEL}, or leave model out to use the default."
            )
        return model.strip(), SOURCE_EXPLICIT
    if ENV_DEFAULT_MODEL in environ:
        value = environ[ENV_DEFAULT_MODEL]
        if not value.strip():
            raise KitaruUsageError(
                f"{ENV_DEFAULT_MODEL} is set but blank. Set it to a model alias or a provider/model "
                f"string (for example {EXAMPLE_MODEL}), or unset it to use the default alias."
            )
        return value.strip(), SOURCE_DEFAULT_MODEL
    return None, SOURCE_DEFAULT_ALIAS


def _default_alias(registry: ModelRegistry) -> str:
    if registry.default is not None:
        return registry.default
    if not registry.aliases:
        raise KitaruUsageError(NO_MODEL_MESSAGE)
    if len(registry.aliases) == 1:
        return next(iter(registry.aliases))
    names = ", ".join(sorted(registry.aliases))
    raise KitaruUsageError(
        f"Several model aliases are configured ({names}) but none is the default. Run "
        "`kitaru model default <alias>`, set KITARU_DEFAULT_MODEL, or pass model=... to kitaru.llm(...)."
    )


def resolve_model(model: str | None = None, environ: Mapping[str, str] | None = None) -> ResolvedModel:
    """Decide which model an ``llm()`` call uses (SPEC §6).

    Order: ``model`` if given, else ``KITARU_DEFAULT_MODEL`` (set but blank is
    an error), else the registry's default alias (the only alias when there is
    exactly one and no default). The value is looked up as an alias first
    (lower-cased); a value that is not an alias is returned as a raw model
    string for the backend lookup to check.

    Args:
        model: The model the caller passed, or ``None``.
        environ: Variables to read; ``os.environ`` by default.

    Returns:
        The resolved model.

    Raises:
        KitaruUsageError: For a blank model or ``KITARU_DEFAULT_MODEL``, no
            alias and nothing explicit, several aliases and no default, or a
            malformed registry.
    """
    env = os.environ if environ is None else environ
    requested, source = _requested(model, env)
    registry = effective_registry(env)
    if requested is None:
        requested = _default_alias(registry)
    key = requested.lower()
    entry = registry.aliases.get(key) if ALIAS_PATTERN.match(key) else None
    if entry is None:
        return ResolvedModel(requested_model=requested, alias=None, model=requested, secret=None, source=source)
    return ResolvedModel(
        requested_model=requested, alias=entry.alias, model=entry.model, secret=entry.secret, source=source
    )


# Everything callers import from here: this module's own names plus the
# schema and store names it re-exports (listed, so linters see the re-exports).
__all__ = [
    "ALIAS_PATTERN",
    "ENV_DEFAULT_MODEL",
    "ENV_REGISTRY",
    "EXAMPLE_MODEL",
    "ModelAlias",
    "ModelRegistry",
    "NO_MODEL_MESSAGE",
    "RemovedAlias",
    "ResolvedModel",
    "SECTION",
    "SOURCE_DEFAULT_ALIAS",
    "SOURCE_DEFAULT_MODEL",
    "SOURCE_ENVIRONMENT",
    "SOURCE_EXPLICIT",
    "SOURCE_LOCAL",
    "describe",
    "effective_registry",
    "merge_registries",
    "normalise_alias",
    "parse_registry",
    "read_env_registry",
    "read_local_registry",
    "register_alias",
    "remove_alias",
    "resolve_model",
    "set_default_alias",
    "snapshot",
    "validate_model",
    "validate_secret_reference",
    "with_registry_env",
]

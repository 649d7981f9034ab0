"""Reading and writing the ``model_registry`` section of ``kitaru.yaml`` (``kitaru model ...``).

``kitaru model register fast --model openai/gpt-4o-mini --secret openai`` saves
an alias there; every other field of the file is kept::

    version: 1
    model_registry:
      aliases:
        fast: {model: openai/gpt-4o-mini, secret: openai}
        smart: {model: anthropic/claude-sonnet-4-5}
      default: fast

Rules for writers:

* Whenever the registry has no default, the alias being registered becomes it
  (so the first registered alias is the default).
* Removing the default alias does not silently pick another model: the default
  is cleared, unless exactly one alias remains, which then becomes the default
  (there is nothing to choose between). :func:`set_default_alias` sets it.
* Each write goes through :func:`kitaru.config.sources.update_global_config`,
  which re-reads the file under its lock, so a concurrent change is not lost.
* Writers only touch ``kitaru.yaml``. Aliases carried by
  ``KITARU_MODEL_REGISTRY`` cannot be removed or made the default here; the
  error says to change the variable instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitaru._llm.registry_schema import (
    ENV_REGISTRY,
    SECTION,
    SOURCE_LOCAL,
    ModelAlias,
    ModelRegistry,
    normalise_alias,
    parse_registry,
    read_env_registry,
    validate_model,
    validate_secret_reference,
)
from kitaru.config.diagnostics import warn_unknown_keys
from kitaru.config.paths import config_file
from kitaru.config.sources import read_global_config, update_global_config
from kitaru.errors import KitaruUsageError

# -- reading -------------------------------------------------------------------------


def _invalid_file(problem: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"The Kitaru global config file is invalid. Fix or delete {config_file()} and try again. "
        f"(model_registry: {problem}.)"
    )


SECTION_KEYS = ("aliases", "default")
"""The keys of the ``model_registry`` section."""

ALIAS_KEYS = ("model", "secret")
"""The keys of one alias, ``model_registry.aliases.<alias>``."""


def _warn_unknown_keys(section: Any) -> None:
    """Warn about keys of the section, and of each alias, that Kitaru does not know (they are ignored).

    Only ``kitaru.yaml`` is checked: ``KITARU_MODEL_REGISTRY`` may come from a
    newer Kitaru, whose extra keys are ignored silently.
    """
    if not isinstance(section, Mapping):
        return  # parse_registry says what is wrong
    where = str(config_file())
    warn_unknown_keys(where, section, SECTION_KEYS, prefix=f"{SECTION}.", stacklevel=5)
    aliases = section.get("aliases")
    if isinstance(aliases, Mapping):
        for alias, entry in aliases.items():
            if isinstance(entry, Mapping):
                warn_unknown_keys(where, entry, ALIAS_KEYS, prefix=f"{SECTION}.aliases.{alias}.", stacklevel=5)


def _parse_section(data: Mapping[str, Any]) -> ModelRegistry:
    section = data.get(SECTION)
    if section is None:
        return ModelRegistry()
    _warn_unknown_keys(section)
    try:
        return parse_registry(section, source=SOURCE_LOCAL)
    except ValueError as exc:
        raise _invalid_file(str(exc)) from None


def read_local_registry() -> ModelRegistry:
    """The registry saved in ``kitaru.yaml`` (empty when there is none).

    Raises:
        KitaruUsageError: ``The Kitaru global config file is invalid. Fix or
            delete <path> and try again.`` when the file or its section is malformed.
    """
    return _parse_section(read_global_config())


# -- writing -------------------------------------------------------------------------


def _write(registry: ModelRegistry, data: dict[str, Any]) -> None:
    if registry.aliases:
        data[SECTION] = registry.to_dict()
    else:
        data.pop(SECTION, None)


def register_alias(alias: str, model: str, secret: str | None = None) -> tuple[ModelAlias, ModelRegistry]:
    """Save (or replace) an alias in ``kitaru.yaml``; it becomes the default when there is none.

    Args:
        alias: The alias (normalised to lower case).
        model: Its ``provider/model`` string.
        secret: Name or id of its secret. Callers check that the secret exists.

    Returns:
        The saved alias and the local registry after the write.

    Raises:
        KitaruUsageError: For an invalid alias, model or secret, or a malformed
            ``model_registry`` section (the file is left untouched).
    """
    entry = ModelAlias(
        alias=normalise_alias(alias), model=validate_model(model), secret=validate_secret_reference(secret)
    )
    result: list[ModelRegistry] = []

    def mutate(data: dict[str, Any]) -> None:
        current = _parse_section(data)
        aliases = {**current.aliases, entry.alias: entry}
        registry = ModelRegistry(aliases=aliases, default=current.default or entry.alias)
        _write(registry, data)
        result.append(registry)

    update_global_config(mutate)
    return entry, result[0]


def _missing_alias(name: str, registry: ModelRegistry, environ: Mapping[str, str] | None) -> KitaruUsageError:
    overlay = read_env_registry(environ)
    if overlay is not None and name in overlay.aliases:
        return KitaruUsageError(
            f"Model alias '{name}' comes from {ENV_REGISTRY}, not from kitaru.yaml. Change or unset "
            f"{ENV_REGISTRY} instead."
        )
    known = ", ".join(sorted(registry.aliases)) or "none"
    return KitaruUsageError(
        f"Model alias '{name}' is not registered (registered: {known}). See `kitaru model list`."
    )


@dataclass(frozen=True)
class RemovedAlias:
    """What :func:`remove_alias` did.

    Attributes:
        removed: The alias that was removed.
        was_default: Whether it was the default.
        registry: The local registry afterwards (its ``default`` is the new default, or ``None``).
    """

    removed: ModelAlias
    was_default: bool
    registry: ModelRegistry


def remove_alias(alias: str, environ: Mapping[str, str] | None = None) -> RemovedAlias:
    """Remove an alias from ``kitaru.yaml``.

    If it was the default, the default is cleared, unless exactly one alias
    remains, which becomes the default.

    Args:
        alias: The alias (case-insensitive).
        environ: Variables to read for error messages; ``os.environ`` by default.

    Raises:
        KitaruUsageError: If the alias is not in ``kitaru.yaml`` (the message
            says when it comes from ``KITARU_MODEL_REGISTRY``), or the section is malformed.
    """
    name = normalise_alias(alias)
    current = read_local_registry()
    if name not in current.aliases:
        raise _missing_alias(name, current, environ)
    result: list[RemovedAlias] = []

    def mutate(data: dict[str, Any]) -> None:
        registry = _parse_section(data)
        if name not in registry.aliases:  # removed meanwhile by another process
            raise _missing_alias(name, registry, environ)
        aliases = {key: value for key, value in registry.aliases.items() if key != name}
        default = registry.default if registry.default != name else None
        if default is None and len(aliases) == 1:
            default = next(iter(aliases))
        after = ModelRegistry(aliases=aliases, default=default)
        _write(after, data)
        result.append(RemovedAlias(registry.aliases[name], registry.default == name, after))

    update_global_config(mutate)
    return result[0]


def set_default_alias(alias: str, environ: Mapping[str, str] | None = None) -> tuple[ModelAlias, ModelRegistry]:
    """Make a saved alias the default in ``kitaru.yaml``.

    Args:
        alias: The alias (case-insensitive); it must be registered in ``kitaru.yaml``.
        environ: Variables to read for error messages; ``os.environ`` by default.

    Returns:
        The alias and the local registry afterwards.

    Raises:
        KitaruUsageError: If the alias is not in ``kitaru.yaml`` or the section is malformed.
    """
    name = normalise_alias(alias)
    current = read_local_registry()
    if name not in current.aliases:
        raise _missing_alias(name, current, environ)
    result: list[ModelRegistry] = []

    def mutate(data: dict[str, Any]) -> None:
        registry = _parse_section(data)
        if name not in registry.aliases:
            raise _missing_alias(name, registry, environ)
        after = ModelRegistry(aliases=dict(registry.aliases), default=name)
        _write(after, data)
        result.append(after)

    update_global_config(mutate)
    return result[0].aliases[name], result[0]


__all__ = [
    "RemovedAlias",
    "read_local_registry",
    "register_alias",
    "remove_alias",
    "set_default_alias",
]

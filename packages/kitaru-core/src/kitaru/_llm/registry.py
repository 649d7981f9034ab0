"""Model aliases: short names for ``provider/model`` strings (SPEC §4.5, §5.1, §6).

``kitaru model register fast --model openai/gpt-4o-mini --secret openai`` saves
an alias in the ``model_registry`` section of ``kitaru.yaml``; every other field
of the file is kept::

    version: 1
    model_registry:
      aliases:
        fast: {model: openai/gpt-4o-mini, secret: openai}
        smart: {model: anthropic/claude-sonnet-4-5}
      default: fast

Rules:

* Aliases are normalised to lower case and must match ``^[a-z0-9][a-z0-9_-]*$``.
* The ``secret`` is the name or id of a Kitaru secret (``kitaru secrets set``);
  the registry stores the reference, never a value.
* Whenever the registry has no default, the alias being registered becomes it
  (so the first registered alias is the default).
* Removing the default alias does not silently pick another model: the default
  is cleared, unless exactly one alias remains, which then becomes the default
  (there is nothing to choose between). ``kitaru model default ALIAS`` sets it.

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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.config.paths import config_file
from kitaru.config.sources import read_global_config, update_global_config
from kitaru.errors import KitaruUsageError

SECTION = "model_registry"
"""The ``kitaru.yaml`` key holding the registry."""

ENV_REGISTRY = "KITARU_MODEL_REGISTRY"
"""Environment variable carrying a registry as JSON (set in remote images)."""

ENV_DEFAULT_MODEL = "KITARU_DEFAULT_MODEL"
"""Environment variable naming the model (alias or provider/model) to use by default."""

ALIAS_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""Valid (normalised) alias names."""

SOURCE_LOCAL = "kitaru.yaml"
SOURCE_ENVIRONMENT = ENV_REGISTRY

SOURCE_EXPLICIT = "explicit"
SOURCE_DEFAULT_MODEL = ENV_DEFAULT_MODEL
SOURCE_DEFAULT_ALIAS = "default alias"

EXAMPLE_MODEL = "openai/gpt-4o-mini"

NO_MODEL_MESSAGE = (
    "No model alias is configured. Run `kitaru model register <alias> --model <provider/model>` first, "
    "set KITARU_DEFAULT_MODEL, or pass a concrete model to kitaru.llm(...)."
)
"""SPEC §6: nothing explicit, no ``KITARU_DEFAULT_MODEL`` and no alias."""


@dataclass(frozen=True)
class ModelAlias:
    """One alias.

    Attributes:
        alias: The normalised alias (``fast``).
        model: The ``provider/model`` string it stands for.
        secret: Name or id of the secret holding the provider's credentials, or ``None``.
        source: Where it was read: ``kitaru.yaml`` or ``KITARU_MODEL_REGISTRY``.
    """

    alias: str
    model: str
    secret: str | None = None
    source: str = field(default=SOURCE_LOCAL, compare=False)

    def as_config(self) -> dict[str, Any]:
        """The alias as stored: ``{model}`` or ``{model, secret}``."""
        entry: dict[str, Any] = {"model": self.model}
        if self.secret is not None:
            entry["secret"] = self.secret
        return entry


@dataclass(frozen=True)
class ModelRegistry:
    """A set of aliases and the default one.

    Attributes:
        aliases: Alias name → :class:`ModelAlias`, in registration order.
        default: The default alias, or ``None``.
    """

    aliases: Mapping[str, ModelAlias] = field(default_factory=dict)
    default: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"aliases": {alias: {model, secret?}}, "default": alias|None}`` (the transport format)."""
        return {
            "aliases": {name: entry.as_config() for name, entry in self.aliases.items()},
            "default": self.default,
        }

    def entries(self) -> list[dict[str, Any]]:
        """One ``{alias, model, secret, is_default}`` per alias, sorted by alias (CLI JSON items)."""
        return [describe(self.aliases[name], self) for name in sorted(self.aliases)]


def describe(entry: ModelAlias, registry: ModelRegistry) -> dict[str, Any]:
    """The CLI item for one alias: ``{alias, model, secret, is_default}``."""
    return {
        "alias": entry.alias,
        "model": entry.model,
        "secret": entry.secret,
        "is_default": registry.default == entry.alias,
    }


# -- validation ----------------------------------------------------------------------


def normalise_alias(alias: Any) -> str:
    """Strip and lower-case an alias, then check it.

    Args:
        alias: The alias as typed (``Fast`` becomes ``fast``).

    Returns:
        The normalised alias.

    Raises:
        KitaruUsageError: If it is blank or has characters outside
            ``[a-z0-9_-]`` or does not start with a letter or digit.
    """
    text = alias.strip().lower() if isinstance(alias, str) else ""
    if not ALIAS_PATTERN.match(text):
        raise KitaruUsageError(
            f"Model alias {alias!r} is not a valid name. Use lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit (for example fast or gpt-mini)."
        )
    return text


def validate_model(model: Any) -> str:
    """Check a ``provider/model`` string (nested names such as ``openrouter/anthropic/x`` are fine).

    Args:
        model: The model string; surrounding whitespace is stripped.

    Returns:
        The stripped string.

    Raises:
        KitaruUsageError: If it has no provider prefix, no model name, or whitespace inside.
    """
    text = model.strip() if isinstance(model, str) else ""
    provider, separator, name = text.partition("/")
    if not separator or not provider or not name.strip("/") or any(ch.isspace() for ch in text):
        raise KitaruUsageError(
            f"Model {model!r} needs the form provider/model, for example {EXAMPLE_MODEL} or "
            "anthropic/claude-sonnet-4-5."
        )
    return text


def validate_secret_reference(secret: Any) -> str | None:
    """Strip a secret name or id; ``None`` stays ``None``.

    Raises:
        KitaruUsageError: If it is not a string or is blank.
    """
    if secret is None:
        return None
    text = secret.strip() if isinstance(secret, str) else ""
    if not text:
        raise KitaruUsageError(
            f"Secret {secret!r} is blank. Give the name or id of a secret created with `kitaru secrets set`, "
            "or leave --secret out."
        )
    return text


def parse_registry(data: Any, *, source: str) -> ModelRegistry:
    """Build a registry from its stored or transported form.

    Args:
        data: ``{"aliases": {alias: {"model": ..., "secret": ...}}, "default": alias}``;
            ``secret`` and ``default`` may be missing or null, unknown keys are ignored.
        source: :data:`SOURCE_LOCAL` or :data:`SOURCE_ENVIRONMENT`, recorded on each alias.

    Returns:
        The registry.

    Raises:
        ValueError: Describing the first problem (callers turn it into a
            :class:`KitaruUsageError` naming the file or variable).
    """
    if not isinstance(data, Mapping):
        raise ValueError("it must be a mapping with 'aliases' and 'default'")
    raw_aliases = data.get("aliases") or {}
    if not isinstance(raw_aliases, Mapping):
        raise ValueError("'aliases' must be a mapping of alias to {model, secret}")
    aliases: dict[str, ModelAlias] = {}
    for raw_name, raw_entry in raw_aliases.items():
        try:
            name = normalise_alias(raw_name)
        except KitaruUsageError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        if name in aliases:
            raise ValueError(f"alias '{name}' appears twice (aliases are case-insensitive)")
        if isinstance(raw_entry, str):  # shorthand: alias: provider/model
            raw_entry = {"model": raw_entry}
        if not isinstance(raw_entry, Mapping):
            raise ValueError(f"alias '{name}' must be a mapping with 'model' and optional 'secret'")
        try:
            model = validate_model(raw_entry.get("model"))
            secret = validate_secret_reference(raw_entry.get("secret"))
        except KitaruUsageError as exc:
            raise ValueError(f"alias '{name}': {str(exc).rstrip('.')}") from None
        aliases[name] = ModelAlias(alias=name, model=model, secret=secret, source=source)
    default = data.get("default")
    if default is not None:
        if not isinstance(default, str) or default.strip().lower() not in aliases:
            known = ", ".join(aliases) or "none"
            raise ValueError(f"default {default!r} is not one of its aliases ({known})")
        default = default.strip().lower()
    return ModelRegistry(aliases=aliases, default=default)


# -- reading -------------------------------------------------------------------------


def _invalid_file(problem: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"The Kitaru global config file is invalid. Fix or delete {config_file()} and try again. "
        f"(model_registry: {problem}.)"
    )


def _parse_section(data: Mapping[str, Any]) -> ModelRegistry:
    section = data.get(SECTION)
    if section is None:
        return ModelRegistry()
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


def read_env_registry(environ: Mapping[str, str] | None = None) -> ModelRegistry | None:
    """The registry carried by ``KITARU_MODEL_REGISTRY``, or ``None`` when it is unset or blank.

    Args:
        environ: Variables to read; ``os.environ`` by default.

    Raises:
        KitaruUsageError: If the value is not JSON or not a valid registry.
    """
    env = os.environ if environ is None else environ
    text = env.get(ENV_REGISTRY, "").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"Invalid {ENV_REGISTRY} value: not valid JSON ({exc.msg} at line {exc.lineno}, column "
            f'{exc.colno}). Use a JSON object such as {{"aliases": {{"fast": {{"model": "{EXAMPLE_MODEL}"}}}}, '
            f'"default": "fast"}}, or unset it.'
        ) from None
    try:
        return parse_registry(data, source=SOURCE_ENVIRONMENT)
    except ValueError as exc:
        raise KitaruUsageError(f"Invalid {ENV_REGISTRY} value: {exc}. Fix it or unset it.") from None


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
    "ALIAS_PATTERN",
    "ENV_DEFAULT_MODEL",
    "ENV_REGISTRY",
    "NO_MODEL_MESSAGE",
    "ModelAlias",
    "ModelRegistry",
    "RemovedAlias",
    "ResolvedModel",
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

"""The model registry's data: aliases, validation rules and the stored form (SPEC §4.5, §6).

A registry maps short alias names to ``provider/model`` strings, each with an
optional secret reference, plus a default alias. Its stored and transported
form (the ``model_registry`` section of ``kitaru.yaml``, and the JSON in
``KITARU_MODEL_REGISTRY``) is::

    {"aliases": {"fast": {"model": "openai/gpt-4o-mini", "secret": "openai"}},
     "default": "fast"}

This module only defines the types and checks values; it reads no file.
:func:`read_env_registry` parses the transported form from the environment.
:mod:`kitaru._llm.registry_store` reads and writes ``kitaru.yaml`` and
:mod:`kitaru._llm.registry` merges the two and resolves models.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.errors import KitaruUsageError

SECTION = "model_registry"
"""The ``kitaru.yaml`` key holding the registry."""

ENV_REGISTRY = "KITARU_MODEL_REGISTRY"
"""Environment variable carrying a registry as JSON (set in remote images)."""

ENV_DEFAULT_MODEL = "KITARU_DEFAULT_MODEL"
"""Environment variable naming the model (alias or provider/model) to use by default."""

ALIAS_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""Valid (normalised) alias names."""

MAX_ALIAS_LENGTH = 64
"""Aliases are short names; a longer one is a mistake (a pasted value, say)."""

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
        KitaruUsageError: If it is blank, longer than :data:`MAX_ALIAS_LENGTH`,
            has characters outside ``[a-z0-9_-]`` or does not start with a
            letter or digit.
    """
    text = alias.strip().lower() if isinstance(alias, str) else ""
    if len(text) > MAX_ALIAS_LENGTH:
        raise KitaruUsageError(
            f"Model alias '{text[:20]}...' is {len(text)} characters long; use at most {MAX_ALIAS_LENGTH} "
            "(for example fast or gpt-mini)."
        )
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


# -- the transported form ------------------------------------------------------------


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


__all__ = [
    "ALIAS_PATTERN",
    "MAX_ALIAS_LENGTH",
    "ENV_DEFAULT_MODEL",
    "ENV_REGISTRY",
    "EXAMPLE_MODEL",
    "NO_MODEL_MESSAGE",
    "SECTION",
    "SOURCE_DEFAULT_ALIAS",
    "SOURCE_DEFAULT_MODEL",
    "SOURCE_ENVIRONMENT",
    "SOURCE_EXPLICIT",
    "SOURCE_LOCAL",
    "ModelAlias",
    "ModelRegistry",
    "describe",
    "normalise_alias",
    "parse_registry",
    "read_env_registry",
    "validate_model",
    "validate_secret_reference",
]

"""Kitaru secrets: named sets of credentials (``OPENAI_API_KEY=...``) kept in the engine's secrets store.

``kitaru secrets set openai --OPENAI_API_KEY=sk-...`` creates a *private*
secret (visible to you only) or adds/replaces keys of an existing one; a model
alias links to it (``kitaru model register fast --model openai/gpt-4o-mini
--secret openai``) and ``llm()`` overlays its keys on the environment for the
duration of a call when the provider's variable is not already set.

Names are looked up exactly (an id or the full name, never a prefix). Values
never appear in summaries, messages or logs: :class:`SecretSummary` carries key
names only, and only :func:`secret_values` (for the credential overlay) and
``kitaru secrets show --show-values`` return values.

Errors: a secret that does not exist is :class:`~kitaru.errors.KitaruRuntimeError`
(SPEC §6); a store that fails or cannot be reached is
:class:`~kitaru.errors.KitaruBackendError`. How names are looked up and store
failures worded is :mod:`kitaru._llm.secret_store`. Importing this module is
free; the engine loads on the first call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitaru._llm import secret_store
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.secrets import SecretRecord
from kitaru.errors import KitaruBackendError, KitaruRuntimeError, KitaruUsageError

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""Valid secret keys: environment-variable names."""

KEY_RULE = (
    "Keys are environment-variable names: letters, digits and '_', not starting with a digit "
    "(for example OPENAI_API_KEY)."
)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""Valid secret names: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit."""

NAME_MAX_LENGTH = 255

NAME_RULE = (
    f"Names are 1-{NAME_MAX_LENGTH} characters: letters, digits, '_', '-' and '.', starting with a letter "
    "or digit (for example openai or anthropic-prod)."
)

RESULT_CREATED = "created"
RESULT_UPDATED = "updated"


@dataclass(frozen=True)
class SecretSummary:
    """A secret without its values.

    Attributes:
        id: The secret's id.
        name: Its name.
        private: Whether only its owner can see it.
        keys: Its key names, sorted.
        has_missing_values: Whether the store withheld some values (no permission).
    """

    id: str
    name: str
    private: bool
    keys: tuple[str, ...]
    has_missing_values: bool

    @property
    def visibility(self) -> str:
        """``private`` or ``public``."""
        return "private" if self.private else "public"

    def as_dict(self) -> dict[str, Any]:
        """The CLI JSON summary: ``{id, name, visibility, keys, has_missing_values}``."""
        return {
            "id": self.id,
            "name": self.name,
            "visibility": self.visibility,
            "keys": list(self.keys),
            "has_missing_values": self.has_missing_values,
        }


def _summary(record: SecretRecord) -> SecretSummary:
    return SecretSummary(
        id=record.id,
        name=record.name,
        private=record.private,
        keys=tuple(sorted(record.values)),
        has_missing_values=any(value is None for value in record.values.values()),
    )


def _not_found(name_or_id: str) -> KitaruRuntimeError:
    return KitaruRuntimeError(
        f"No secret named or with id '{name_or_id}'. List secrets with `kitaru secrets list`, or create it "
        f"with `kitaru secrets set {name_or_id} --KEY=value`."
    )


# -- validation ----------------------------------------------------------------------


def check_identifier(
    value: Any, *, pattern: re.Pattern[str], what: str, rule: str, max_length: int | None = None
) -> str:
    """The one check behind secret names and secret keys: ``value`` matches ``pattern``.

    Args:
        value: What was given.
        pattern: The rule, as a regular expression matching the whole value.
        what: What the value is, for the message (``secret name``).
        rule: The rule in words, ending the message.
        max_length: The longest value allowed, if any.

    Returns:
        ``value``, unchanged.

    Raises:
        KitaruUsageError: ``Invalid <what> '<value>'. <rule>``. The value is
            shortened when long, and not shown when it holds ``=`` (it may be
            a ``KEY=value`` pair typed in the wrong place).
    """
    too_long = max_length is not None and isinstance(value, str) and len(value) > max_length
    if isinstance(value, str) and pattern.fullmatch(value) and not too_long:
        return value
    if isinstance(value, str) and "=" in value:
        shown = "(not shown: it contains '=', so it may be a value)"
    else:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:40] + (f"... ({len(value)} characters)" if isinstance(value, str) else "...")
    raise KitaruUsageError(f"Invalid {what} {shown}. {rule}")


def validate_secret_name(name: Any) -> str:
    """Check a new secret's name (``kitaru secrets set NAME``, :func:`set_secret`).

    Surrounding whitespace is stripped; then the name must match
    :data:`NAME_PATTERN` and have at most :data:`NAME_MAX_LENGTH` characters.

    Raises:
        KitaruUsageError: Stating the rule; or, for a name starting with
            ``-`` (an option given before the name), where the name goes.
    """
    text = name.strip() if isinstance(name, str) else name
    if isinstance(text, str) and text.startswith("-"):
        raise KitaruUsageError(
            "The secret name must come first: kitaru secrets set NAME --KEY=value [--KEY2=value ...]"
        )
    return check_identifier(
        text, pattern=NAME_PATTERN, what="secret name", rule=NAME_RULE, max_length=NAME_MAX_LENGTH
    )


def validate_key(key: Any) -> str:
    """Check a secret key against ``^[A-Za-z_][A-Za-z0-9_]*$``.

    Raises:
        KitaruUsageError: Naming the key (keys are not secret) and the rule.
    """
    return check_identifier(key, pattern=KEY_PATTERN, what="secret key", rule=KEY_RULE)


def validate_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Check keys and values for :func:`set_secret` (values are never echoed).

    Raises:
        KitaruUsageError: For no values, an invalid key or an empty value.
    """
    if not values:
        raise KitaruUsageError("Give at least one value: kitaru secrets set NAME --KEY=value")
    checked: dict[str, str] = {}
    for key, value in values.items():
        validate_key(key)
        if not isinstance(value, str) or value == "":
            raise KitaruUsageError(f"--{key} has an empty value. Secret values must not be empty.")
        checked[key] = value
    return checked


# -- operations ----------------------------------------------------------------------


def get_summary(name_or_id: str) -> SecretSummary:
    """The summary of a secret (exact name or id).

    Raises:
        KitaruRuntimeError: If it does not exist.
        KitaruBackendError: If the store fails.
    """
    return _summary(_get(name_or_id))


def _get(name_or_id: str) -> SecretRecord:
    try:
        return secret_store.get_secret(name_or_id)
    except RecordNotFound:
        raise _not_found(name_or_id) from None


def get_with_values(name_or_id: str) -> tuple[SecretSummary, dict[str, str | None]]:
    """The summary and the values of a secret (for ``kitaru secrets show --show-values``).

    Raises:
        KitaruRuntimeError: If it does not exist.
        KitaruBackendError: If the store fails.
    """
    record = _get(name_or_id)
    return _summary(record), dict(sorted(record.values.items()))


def secret_values(name_or_id: str) -> dict[str, str]:
    """The key/values of a secret, for overlaying on the environment during an ``llm()`` call.

    Withheld values (no permission) are left out.

    Args:
        name_or_id: The secret's exact name or id (as linked to a model alias).

    Returns:
        Key → value.

    Raises:
        KitaruRuntimeError: If no such secret exists.
        KitaruBackendError: If the secrets store fails or cannot be reached.
    """
    record = _get(name_or_id)
    return {key: value for key, value in record.values.items() if value is not None}


def require_secret(name_or_id: str) -> SecretSummary:
    """Check that a secret exists before linking a model alias to it.

    Raises:
        KitaruUsageError: If it does not exist (with the command that creates it).
        KitaruBackendError: If the store fails.
    """
    try:
        return get_summary(name_or_id)
    except KitaruBackendError:
        raise
    except KitaruRuntimeError:
        raise KitaruUsageError(
            f"Secret '{name_or_id}' does not exist. Create it first, for example: kitaru secrets set "
            f"{name_or_id} --OPENAI_API_KEY=... (see `kitaru secrets list`)."
        ) from None


def set_secret(name: str, values: Mapping[str, str]) -> tuple[SecretSummary, str, tuple[str, ...]]:
    """Create a private secret, or add/replace keys of the existing one with this exact name.

    Args:
        name: The secret's name.
        values: Keys and values to store (validated here too).

    Returns:
        The summary after the write, ``created`` or ``updated``, and the keys
        that already existed and were replaced.

    Raises:
        KitaruUsageError: For an invalid name, key or value.
        KitaruBackendError: If the store fails.
    """
    checked = validate_values(values)
    name = validate_secret_name(name)
    existing = secret_store.find_secret(name)
    if existing is None or existing.name != name:  # an id is not a name to create under
        if existing is not None:
            raise KitaruUsageError(
                f"'{name}' is the id of secret '{existing.name}'. Use its name: kitaru secrets set "
                f"{existing.name} --KEY=value"
            )
        return _summary(secret_store.create_private_secret(name, checked)), RESULT_CREATED, ()
    replaced = tuple(sorted(key for key in checked if key in existing.values))
    try:
        record = secret_store.update_secret_values(existing.id, checked)
    except RecordNotFound:
        raise _not_found(name) from None
    return _summary(record), RESULT_UPDATED, replaced


def list_summaries() -> list[SecretSummary]:
    """Every secret visible to you, across all pages, sorted by name.

    Raises:
        KitaruBackendError: If the store fails.
    """
    return [_summary(record) for record in secret_store.list_secret_records()]


def delete_secret(name_or_id: str) -> SecretSummary:
    """Delete a secret by exact name or id.

    Returns:
        The summary of the deleted secret.

    Raises:
        KitaruRuntimeError: If it does not exist.
        KitaruBackendError: If the store fails.
    """
    summary = get_summary(name_or_id)
    try:
        secret_store.delete_secret_record(summary.id)
    except RecordNotFound:
        raise _not_found(name_or_id) from None
    return summary


__all__ = [
    "KEY_PATTERN",
    "KEY_RULE",
    "NAME_PATTERN",
    "NAME_RULE",
    "RESULT_CREATED",
    "RESULT_UPDATED",
    "SecretSummary",
    "check_identifier",
    "delete_secret",
    "get_summary",
    "get_with_values",
    "list_summaries",
    "require_secret",
    "secret_values",
    "set_secret",
    "validate_key",
    "validate_secret_name",
    "validate_values",
]

"""The port for secrets: named sets of key/values in the engine's secrets store.

Kitaru's rules (names are looked up exactly, a private secret wins over a
public one of the same name, values never appear in messages, how a failing
store is reported) live in :mod:`kitaru._llm.secret_store`; the adapter
reads and writes the store. A secret that does not exist raises
:class:`~kitaru.engine.errors.RecordNotFound`; any other engine failure
propagates (a store that does not support secrets raises
``NotImplementedError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SecretRecord:
    """A secret as the engine stores it.

    Attributes:
        id: The secret's id.
        name: Its name.
        private: Whether only its owner can see it.
        values: Key → value; a value is ``None`` when the store withheld it
            (no permission). Empty in a listing by name. Never print these.
    """

    id: str
    name: str
    private: bool
    values: Mapping[str, str | None] = field(default_factory=dict, repr=False)


class SecretStore(Protocol):
    """What Kitaru needs from an engine's secrets store."""

    def get_secret(self, secret_id: str) -> SecretRecord:
        """A secret with its values, by id (raises ``RecordNotFound``)."""
        ...

    def secrets_named(self, name: str) -> list[SecretRecord]:
        """The secrets whose name is ``name`` (as the store matches it), without values."""
        ...

    def list_secrets(self) -> list[SecretRecord]:
        """Every secret visible to the current user, across all pages, with values."""
        ...

    def create_secret(self, name: str, values: Mapping[str, str], *, private: bool) -> SecretRecord:
        """Create a secret and return it."""
        ...

    def update_secret(self, secret_id: str, values: Mapping[str, str]) -> SecretRecord:
        """Add or replace keys of a secret (others are kept); raises ``RecordNotFound``."""
        ...

    def delete_secret(self, secret_id: str) -> None:
        """Delete a secret by id (raises ``RecordNotFound``)."""
        ...


__all__ = ["SecretRecord", "SecretStore"]

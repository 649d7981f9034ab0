"""Kitaru's rules for reading and writing the engine's secrets store.

Lookups are exact: a full id, or a name (never a prefix or substring, unlike
the engine's own lookup). When a private and a public secret share a name,
the private one (yours) wins; every operation resolves names the same way,
so ``kitaru secrets set`` updates the secret that ``show`` and ``llm()`` read.

Errors: a secret that does not exist is
:class:`~kitaru.engine.errors.RecordNotFound`; any other store failure
becomes :class:`~kitaru.errors.KitaruBackendError` whose message never
contains a secret value. With a server, reachability is checked first, so an
unreachable server fails at once instead of after the engine's retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from kitaru.connection.environment import check_server_reachable, describe_connection
from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.secrets import SecretRecord, SecretStore
from kitaru.errors import KitaruBackendError, KitaruError
from kitaru.masking import redact

T = TypeVar("T")


def _backend_error(action: str, exc: Exception, secrets: Iterable[str] = ()) -> KitaruBackendError:
    if isinstance(exc, NotImplementedError):
        return KitaruBackendError(
            f"Could not {action}: the connected Kitaru server does not support secrets. Ask its "
            "administrator to enable the secrets store, or use credentials from environment variables."
        )
    detail = redact(f"{type(exc).__name__}: {exc}", secrets)
    return KitaruBackendError(
        f"Could not {action}: {detail}. If you use a server, check it is running and that "
        "KITARU_SERVER_URL / KITARU_AUTH_TOKEN are right (or run `kitaru login` again)."
    )


def _store() -> SecretStore:
    """The engine's secrets store, after checking a server is reachable."""
    connection = describe_connection()
    if connection.server_url is not None:
        check_server_reachable(connection.server_url)
    return get_engine().secrets


def _guarded(action: str, work: Callable[[], T], secrets: Iterable[str] = ()) -> T:
    try:
        return work()
    except (RecordNotFound, KitaruError):
        raise
    except Exception as exc:
        raise _backend_error(action, exc, secrets) from None


def _is_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _find(store: SecretStore, name_or_id: str) -> SecretRecord:
    if _is_id(name_or_id):
        try:
            return store.get_secret(name_or_id)
        except RecordNotFound:
            pass  # maybe a secret whose name looks like an id
    matches = sorted(
        (item for item in store.secrets_named(name_or_id) if item.name == name_or_id),
        key=lambda item: (not item.private, item.id),
    )
    if not matches:
        raise RecordNotFound(name_or_id)
    return store.get_secret(matches[0].id)


def get_secret(name_or_id: str) -> SecretRecord:
    """Read a secret with its values, by exact id or name (private wins).

    Raises:
        RecordNotFound: If no visible secret has that id or name.
        KitaruBackendError: If the store cannot be read.
    """
    store = _store()
    return _guarded(f"read secret '{name_or_id}'", lambda: _find(store, name_or_id))


def find_secret(name_or_id: str) -> SecretRecord | None:
    """Like :func:`get_secret`, but ``None`` when it does not exist."""
    try:
        return get_secret(name_or_id)
    except RecordNotFound:
        return None


def create_private_secret(name: str, values: Mapping[str, str]) -> SecretRecord:
    """Create a private secret (visible to the current user only).

    Raises:
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    store = _store()
    return _guarded(
        f"create secret '{name}'", lambda: store.create_secret(name, dict(values), private=True), values.values()
    )


def update_secret_values(secret_id: str, values: Mapping[str, str]) -> SecretRecord:
    """Add or replace keys of an existing secret; keys not given are kept.

    Raises:
        RecordNotFound: If the secret no longer exists.
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    store = _store()
    return _guarded(f"update secret {secret_id}", lambda: store.update_secret(secret_id, dict(values)), values.values())


def list_secret_records() -> list[SecretRecord]:
    """Every secret visible to the current user, sorted by name then id, with values.

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    store = _store()
    records = _guarded("list secrets", store.list_secrets)
    return sorted(records, key=lambda record: (record.name, record.id))


def delete_secret_record(secret_id: str) -> None:
    """Delete a secret by id.

    Raises:
        RecordNotFound: If it no longer exists.
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    store = _store()
    _guarded(f"delete secret {secret_id}", lambda: store.delete_secret(secret_id))


__all__ = [
    "create_private_secret",
    "delete_secret_record",
    "find_secret",
    "get_secret",
    "list_secret_records",
    "update_secret_values",
]

"""The engine's secrets store: create, read, list and delete secrets.

Kitaru secrets are ZenML secrets. Lookups are exact: a full id, or a name
(never a prefix or substring, unlike ZenML's own ``get_secret``). When a
private and a public secret share a name, the private one (yours) wins; every
operation here resolves names the same way, so ``set`` updates the secret that
``show`` and ``llm()`` read.

Errors: a secret that does not exist is ``KeyError``; any other engine failure
becomes :class:`~kitaru.errors.KitaruBackendError` whose message never
contains a secret value. With a server, reachability is checked first, so an
unreachable server fails at once instead of after the engine's retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kitaru.errors import KitaruBackendError, KitaruError

T = TypeVar("T")


@dataclass(frozen=True)
class SecretRecord:
    """A secret as the engine stores it.

    Attributes:
        id: The secret's id.
        name: Its name.
        private: Whether only its owner can see it.
        values: Key → value; a value is ``None`` when the store withheld it
            (no permission). Never print these.
    """

    id: str
    name: str
    private: bool
    values: Mapping[str, str | None] = field(default_factory=dict, repr=False)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for value in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _backend_error(action: str, exc: Exception, secrets: Iterable[str] = ()) -> KitaruBackendError:
    if isinstance(exc, NotImplementedError):
        return KitaruBackendError(
            f"Could not {action}: the connected Kitaru server does not support secrets. Ask its "
            "administrator to enable the secrets store, or use credentials from environment variables."
        )
    detail = _scrub(f"{type(exc).__name__}: {exc}", secrets)
    return KitaruBackendError(
        f"Could not {action}: {detail}. If you use a server, check it is running and that "
        "KITARU_SERVER_URL / KITARU_AUTH_TOKEN are right (or run `kitaru login` again)."
    )


def _client() -> Any:
    from kitaru._engine.environment import check_server_reachable, describe_connection, load_engine

    load_engine()
    connection = describe_connection()
    if connection.server_url is not None:
        check_server_reachable(connection.server_url)
    from zenml.client import Client

    return Client()


def _guarded(action: str, work: Callable[[], T], secrets: Iterable[str] = ()) -> T:
    try:
        return work()
    except (KeyError, KitaruError):
        raise
    except Exception as exc:
        raise _backend_error(action, exc, secrets) from None


def _record(response: Any) -> SecretRecord:
    values = {
        str(key): (value.get_secret_value() if value is not None else None)
        for key, value in (response.values or {}).items()
    }
    return SecretRecord(
        id=str(response.id), name=str(response.name), private=bool(response.private), values=values
    )


def _find(client: Any, name_or_id: str) -> Any:
    """The hydrated secret response for an exact id or name, or raise ``KeyError``."""
    from uuid import UUID

    from zenml.utils.uuid_utils import is_valid_uuid

    if is_valid_uuid(name_or_id):
        try:
            return client.zen_store.get_secret(secret_id=UUID(name_or_id))
        except KeyError:
            pass  # maybe a secret whose name looks like an id
    page = client.list_secrets(name=f"equals:{name_or_id}", size=100, page=1)
    matches = sorted(
        (item for item in page.items if item.name == name_or_id),
        key=lambda item: (not item.private, str(item.id)),
    )
    if not matches:
        raise KeyError(name_or_id)
    return client.zen_store.get_secret(secret_id=matches[0].id)


def get_secret(name_or_id: str) -> SecretRecord:
    """Read a secret with its values, by exact id or name.

    Raises:
        KeyError: If no visible secret has that id or name.
        KitaruBackendError: If the store cannot be read.
    """
    client = _client()
    return _guarded(f"read secret '{name_or_id}'", lambda: _record(_find(client, name_or_id)))


def find_secret(name_or_id: str) -> SecretRecord | None:
    """Like :func:`get_secret`, but ``None`` when it does not exist."""
    try:
        return get_secret(name_or_id)
    except KeyError:
        return None


def create_private_secret(name: str, values: Mapping[str, str]) -> SecretRecord:
    """Create a private secret (visible to the current user only).

    Raises:
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    client = _client()
    return _guarded(
        f"create secret '{name}'",
        lambda: _record(client.create_secret(name=name, values=dict(values), private=True)),
        values.values(),
    )


def update_secret_values(secret_id: str, values: Mapping[str, str]) -> SecretRecord:
    """Add or replace keys of an existing secret; keys not given are kept.

    Args:
        secret_id: The secret's id (from :func:`get_secret`).
        values: Keys to add or update.

    Raises:
        KeyError: If the secret no longer exists.
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    client = _client()

    def work() -> SecretRecord:
        client.update_secret(name_id_or_prefix=secret_id, add_or_update_values=dict(values))
        return _record(client.zen_store.get_secret(secret_id=_uuid(secret_id)))

    return _guarded(f"update secret {secret_id}", work, values.values())


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def list_secret_records() -> list[SecretRecord]:
    """Every secret visible to the current user, across all pages, sorted by name then id.

    Each record carries its values (needed to report keys); missing ones are ``None``.

    Raises:
        KitaruBackendError: If the store cannot be read.
    """
    client = _client()

    def work() -> list[SecretRecord]:
        from zenml.utils.pagination_utils import depaginate

        records = []
        for item in depaginate(client.list_secrets, sort_by="asc:name"):
            try:
                records.append(_record(client.zen_store.get_secret(secret_id=item.id)))
            except KeyError:
                continue  # deleted while listing
        return sorted(records, key=lambda record: (record.name, record.id))

    return _guarded("list secrets", work)


def delete_secret(secret_id: str) -> None:
    """Delete a secret by id.

    Raises:
        KeyError: If it no longer exists.
        KitaruBackendError: If the store refuses or cannot be reached.
    """
    client = _client()
    _guarded(f"delete secret {secret_id}", lambda: client.zen_store.delete_secret(secret_id=_uuid(secret_id)))


__all__ = [
    "SecretRecord",
    "create_private_secret",
    "delete_secret",
    "find_secret",
    "get_secret",
    "list_secret_records",
    "update_secret_values",
]

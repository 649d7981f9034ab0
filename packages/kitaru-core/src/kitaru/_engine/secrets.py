"""ZenML's secrets store as Kitaru's :class:`~kitaru.engine.secrets.SecretStore`.

Translation only: ZenML secret responses become
:class:`~kitaru.engine.secrets.SecretRecord`, a missing secret (ZenML's
``KeyError``) becomes :class:`~kitaru.engine.errors.RecordNotFound`, and
every other engine error propagates for the domain to word.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from kitaru._engine.bootstrap import client
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.secrets import SecretRecord

T = TypeVar("T")
NAME_PAGE_SIZE = 100


def _record(response: Any, *, with_values: bool = True) -> SecretRecord:
    values = {}
    if with_values:
        values = {
            str(key): (value.get_secret_value() if value is not None else None)
            for key, value in (response.values or {}).items()
        }
    return SecretRecord(id=str(response.id), name=str(response.name), private=bool(response.private), values=values)


def _found(what: str, work: Callable[[], T]) -> T:
    try:
        return work()
    except KeyError:
        raise RecordNotFound(what) from None


class ZenMLSecrets:
    """Kitaru's secrets port on ZenML's secrets store."""

    def get_secret(self, secret_id: str) -> SecretRecord:
        zen = client()
        return _found(secret_id, lambda: _record(zen.zen_store.get_secret(secret_id=UUID(secret_id))))

    def secrets_named(self, name: str) -> list[SecretRecord]:
        page = client().list_secrets(name=f"equals:{name}", size=NAME_PAGE_SIZE, page=1)
        return [_record(item, with_values=False) for item in page.items]

    def list_secrets(self) -> list[SecretRecord]:
        from zenml.utils.pagination_utils import depaginate

        zen = client()
        records = []
        for item in depaginate(zen.list_secrets, sort_by="asc:name"):
            try:
                records.append(_record(zen.zen_store.get_secret(secret_id=item.id)))
            except KeyError:
                continue  # deleted while listing
        return records

    def create_secret(self, name: str, values: Mapping[str, str], *, private: bool) -> SecretRecord:
        return _record(client().create_secret(name=name, values=dict(values), private=private))

    def update_secret(self, secret_id: str, values: Mapping[str, str]) -> SecretRecord:
        zen = client()

        def work() -> SecretRecord:
            zen.update_secret(name_id_or_prefix=secret_id, add_or_update_values=dict(values))
            return _record(zen.zen_store.get_secret(secret_id=UUID(secret_id)))

        return _found(secret_id, work)

    def delete_secret(self, secret_id: str) -> None:
        zen = client()
        _found(secret_id, lambda: zen.zen_store.delete_secret(secret_id=UUID(secret_id)))


__all__ = ["ZenMLSecrets"]

"""The local SQLite store keeps a write-ahead log instead of a rollback journal.

The engine opens SQLite in its default journal mode ("delete"): every commit
writes a rollback journal, syncs it, writes the database, syncs it and
deletes the journal. A checkpoint makes about a dozen commits, and measured
here a commit costs 1.05 ms that way against 0.29 ms with a write-ahead log
at the same ``synchronous=FULL`` (``../shared/notes/performance-leads.md``),
so WAL saves 16-24 ms of a checkpoint's ~50 ms on this machine.

Durability is unchanged: with ``synchronous=FULL`` each commit is on disk
when it returns, as before, and a process killed mid-write leaves the
database consistent (the log is replayed by the next reader). Several
processes on one machine share a WAL database safely; it must not live on a
network file system, which the local default's config dir never is. The
mode is stored in the database file, so switching once is enough:
:func:`use_write_ahead_log` runs while Kitaru holds the store-creation lock.

Engine API touched: ``SqlZenStore.engine`` (the SQLAlchemy engine), read only.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("kitaru")


def use_write_ahead_log(store: Any) -> bool:
    """Switch the store's SQLite database to WAL; return whether nothing is left to do.

    Args:
        store: The engine's store: a SQLite ``SqlZenStore`` is switched; any
            other store (a server, MySQL) has nothing to switch.

    Returns:
        True when the database is in WAL mode (switched now or before) or is
        not SQLite; False when it could not be switched now (another process
        holds it: the next process that takes the store lock tries again).
    """
    from sqlalchemy import text
    from zenml.zen_stores.sql_zen_store import SqlZenStore

    if not isinstance(store, SqlZenStore) or store.engine.dialect.name != "sqlite":
        return True
    try:
        with store.engine.connect() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            if str(mode).lower() != "wal":
                mode = connection.execute(text("PRAGMA journal_mode=WAL")).scalar()
    except Exception as exc:  # noqa: BLE001 - a busy database stays in its mode; nothing is lost
        logger.debug("The local store keeps its journal mode for now: %s", exc)
        return False
    finally:
        store.engine.dispose()  # connections opened in the old mode are not reused
    return str(mode).lower() == "wal"

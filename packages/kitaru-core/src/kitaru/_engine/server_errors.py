"""Inside the engine's server: a lost database answers 503 with ``Retry-After``, not 500.

When the server's database restarts, every request that needs it fails with
the database driver's "can't connect" or "server has gone away", and the
engine's server answers ``500 Internal Server Error``, the same answer as for
a bug. Clients cannot tell the two apart, so they do not retry, and flows fail
within seconds of a database restart.

:func:`install` registers a SQLAlchemy ``handle_error`` listener for every
engine in the server process. A disconnect (SQLAlchemy's own
``is_disconnect``, or a MySQL/MariaDB error code from
:data:`UNAVAILABLE_CODES`) is raised again as :class:`DatabaseUnavailable`,
an HTTP 503 with ``Retry-After``: the engine's endpoints pass an
``HTTPException`` through unchanged (``zenml.zen_server.utils.
handle_endpoint_errors``), and FastAPI answers one raised anywhere else in
the request, such as the authentication dependency, the same way. The
request did not complete (its transaction is rolled back with the lost
connection), so a client may repeat it: Kitaru's client does, for a while
(:mod:`kitaru._engine.server_retries`), and so does the engine's own client,
which retries 503. Any other database error stays a 500.

No engine API is touched: only SQLAlchemy's public event API and FastAPI's
``HTTPException``. The server loads this through the engine's init hook
(:func:`kitaru._engine.bootstrap.zenml_init_hook`) when Kitaru is installed
in its image.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("kitaru")

UNAVAILABLE_CODES = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2055})
"""MySQL/MariaDB errors of a database that is away: shutdown in progress, connection killed, can't connect
(socket, TCP), server has gone away, lost connection during a query or at its start."""
RETRY_AFTER_SECONDS = 2

_installed = False


def _error_code(error: BaseException | None) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def database_unavailable(context: Any) -> BaseException | None:
    """SQLAlchemy ``handle_error`` listener: a 503 for a database that is away, else None (error unchanged)."""
    if getattr(context, "is_pre_ping", False):
        return None  # the pool is testing a connection; it reconnects on its own
    original = context.original_exception
    if not (context.is_disconnect or _error_code(original) in UNAVAILABLE_CODES):
        return None
    from fastapi import HTTPException

    logger.warning("The server's database is unavailable: %s", original)
    return HTTPException(
        status_code=503,
        detail=["RuntimeError", f"The server lost its database connection ({original}). Try again shortly."],
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install() -> None:
    """Answer 503 for a lost database in this process (the engine's server); safe to call twice."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "handle_error", database_unavailable)
    _installed = True


__all__ = ["RETRY_AFTER_SECONDS", "UNAVAILABLE_CODES", "database_unavailable", "install"]

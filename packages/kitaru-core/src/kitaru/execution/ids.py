"""The one parser of execution and artifact ids, with one set of messages.

Ids are full UUIDs, accepted with surrounding spaces and in any case, and
returned in the canonical lowercase form the engine uses::

    >>> parse_execution_id(" 0B6F3C1E-5A4D-4C1B-9A43-1F2E3D4C5B6A ")
    '0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a'
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru.errors import KitaruUsageError

EXAMPLE_ID = "0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a"
LIST_EXECUTIONS_HINT = "List executions with `kitaru executions list`."
LIST_ARTIFACTS_HINT = "List an execution's artifacts with `KitaruClient().artifacts.list(exec_id)`."


def _parse(value: Any, what: str, hint: str) -> str:
    try:
        return str(UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        raise KitaruUsageError(
            f"'{value}' is not a valid {what} id: expected a full UUID such as "
            f"'{EXAMPLE_ID}' (prefixes and names are not accepted). {hint}"
        ) from None


def parse_execution_id(value: Any) -> str:
    """Return ``value`` as a canonical execution id.

    Raises:
        KitaruUsageError: If it is not a UUID; the message says how to find one.
    """
    return _parse(value, "execution", LIST_EXECUTIONS_HINT)


def parse_artifact_id(value: Any) -> str:
    """Return ``value`` as a canonical artifact id.

    Raises:
        KitaruUsageError: If it is not a UUID; the message says how to find one.
    """
    return _parse(value, "artifact", LIST_ARTIFACTS_HINT)


__all__ = ["EXAMPLE_ID", "LIST_ARTIFACTS_HINT", "LIST_EXECUTIONS_HINT", "parse_artifact_id", "parse_execution_id"]

"""Short execution ids: a unique prefix of at least 6 characters stands for the whole id, as in git.

Every entry point that takes an execution id (``KitaruClient().executions``,
hence the CLI and the MCP server) resolves it here, once, and works with the
full id from then on::

    resolve_execution_id("0b6f3c")        # one store query -> '0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a'
    resolve_execution_id("0B6F3C1E-5A4D-4C1B-9A43-1F2E3D4C5B6A")   # no query, same result

A full id is only parsed (:func:`kitaru.execution.ids.parse_execution_id`):
whether it exists is for whoever loads it to find out. A prefix costs one
store query, for the runs whose id starts with it (at most
:data:`MAX_MATCHES_SHOWN` + 1 of them). Case and hyphens do not matter:
``0b6f3c1e5a`` and ``0B6F3C1E-5A`` are the same prefix. Names are never
matched. The errors:

* not hex, more hex digits than an id has, or fewer than
  :data:`MIN_PREFIX_LENGTH`: :class:`~kitaru.errors.KitaruUsageError`
  (``'<value>' is not a valid execution id: ...``);
* no execution id starts with it: :class:`~kitaru.errors.KitaruStateError`
  (``Execution '<value>' was not found: ...``);
* several do: :class:`~kitaru.errors.KitaruUsageError` listing each match's
  id, flow, status and start, so the next attempt can be exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from kitaru.client.mapping import flow_name, utc
from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord
from kitaru.errors import KitaruBackendError, KitaruError, KitaruStateError, KitaruUsageError
from kitaru.execution.ids import EXAMPLE_ID, LIST_EXECUTIONS_HINT, parse_execution_id
from kitaru.execution.status import public_status

MIN_PREFIX_LENGTH = 6
"""The fewest characters of an id accepted as a prefix (hyphens not counted)."""

MAX_MATCHES_SHOWN = 10
"""How many matches an ambiguous prefix's error lists."""

ID_HEX_DIGITS = 32
"""Hex digits in a full execution id."""

_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]*")


def resolve_execution_id(value: Any, *, min_length: int = MIN_PREFIX_LENGTH) -> str:
    """Return the full execution id that ``value`` names: the id itself, or a unique prefix of it.

    Args:
        value: A full execution id, or the start of one (surrounding spaces,
            case and hyphens do not matter).
        min_length: The fewest hex digits accepted as a prefix.

    Returns:
        The canonical (lowercase, hyphenated) execution id.

    Raises:
        KitaruUsageError: If ``value`` is neither an id nor a prefix of one
            that is long enough, or several executions match it.
        KitaruStateError: If no execution id starts with it.
        KitaruBackendError: If the store cannot be read.
    """
    try:
        return parse_execution_id(value)
    except KitaruUsageError:
        pass
    prefix = id_prefix(value, min_length=min_length)
    try:
        runs = get_engine().runs.find_runs(id_prefix=prefix, limit=MAX_MATCHES_SHOWN + 1)
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(f"Failed to look up execution id prefix '{value}': {exc}") from exc
    return pick_match(str(value).strip(), prefix, runs)


def id_prefix(value: Any, *, min_length: int = MIN_PREFIX_LENGTH) -> str:
    """The hex digits of an execution id prefix, lowercase and without hyphens.

    Raises:
        KitaruUsageError: If ``value`` is not hex (hyphens allowed), is longer
            than an id, or has fewer than ``min_length`` hex digits.
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    digits = text.replace("-", "")
    if not _PREFIX.fullmatch(text) or len(digits) > ID_HEX_DIGITS:
        raise KitaruUsageError(
            f"'{value}' is not a valid execution id: expected a full UUID such as '{EXAMPLE_ID}', or a unique "
            f"prefix of one of at least {min_length} characters (names are not accepted). {LIST_EXECUTIONS_HINT}"
        )
    if len(digits) < min_length:
        raise KitaruUsageError(
            f"'{value}' is not a valid execution id: a prefix needs at least {min_length} characters of the id "
            f"(give more of it, or the full id). {LIST_EXECUTIONS_HINT}"
        )
    return digits


def pick_match(value: str, prefix: str, runs: Sequence[RunRecord]) -> str:
    """The one run among ``runs`` whose id starts with ``prefix``.

    Args:
        value: The prefix as the user gave it (for messages).
        prefix: Its hex digits (:func:`id_prefix`).
        runs: Candidate runs (the store's matches); others are ignored.

    Raises:
        KitaruStateError: If none matches.
        KitaruUsageError: If several do; the message lists them.
    """
    matches = [run for run in runs if run.id.replace("-", "").startswith(prefix)]
    if not matches:
        raise KitaruStateError(
            f"Execution '{value}' was not found: no execution id starts with it. {LIST_EXECUTIONS_HINT}"
        )
    if len(matches) == 1:
        return matches[0].id
    raise ambiguous(value, matches)


def ambiguous(value: str, matches: Sequence[RunRecord]) -> KitaruUsageError:
    """The error for a prefix several executions share: one line per match (id, flow, status, start)."""
    shown = matches[:MAX_MATCHES_SHOWN]
    count = f"{len(matches)}" if len(matches) <= MAX_MATCHES_SHOWN else f"more than {MAX_MATCHES_SHOWN}"
    lines = [f"Execution id prefix '{value}' is ambiguous: it matches {count} executions:"]
    lines.extend(f"  {describe(run)}" for run in shown)
    if len(matches) > MAX_MATCHES_SHOWN:
        lines.append("  ...")
    lines.append("Give more characters of the id, or the full id.")
    return KitaruUsageError("\n".join(lines))


def describe(run: RunRecord) -> str:
    """``<id>  <flow>  <status>  started <UTC time>``: one match of an ambiguous prefix."""
    started = utc(run.started or run.created)
    when = started.strftime("%Y-%m-%d %H:%M:%S UTC") if started is not None else "not started"
    status = public_status(run.status, has_active_wait=run.active_wait is not None)
    return f"{run.id}  {flow_name(run) or 'unknown flow'}  {status}  started {when}"


__all__ = [
    "ID_HEX_DIGITS",
    "MAX_MATCHES_SHOWN",
    "MIN_PREFIX_LENGTH",
    "ambiguous",
    "describe",
    "id_prefix",
    "pick_match",
    "resolve_execution_id",
]

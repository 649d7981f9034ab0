"""The ``example-jsonl`` log store: runtime logs kept as JSON lines, one file per execution.

A log store record tells Kitaru about a place runtime logs can live, and
(optionally) how to read them back through ``read_logs``, which Kitaru calls
with the execution id and the filters of ``kitaru executions logs``. This one
reads ``$KITARU_EXAMPLE_LOG_DIR/<exec_id>.jsonl``, one
:class:`~kitaru.plugins.records.LogRow` per line::

    {"message": "drafting", "level": "INFO", "timestamp": "2026-01-05T10:00:00+00:00",
     "source": "step", "checkpoint_name": "draft"}

:func:`append_rows` writes that format (a log shipper or a test would call
it). It needs no endpoint (``requires_endpoint=False``), so
``kitaru log-store set example-jsonl`` records the preference without
``--endpoint``.

What this record does **not** do: decide where a run's logs go. The stack
does that: a stack without a log-store component (every ``shelf`` and
``local`` stack) keeps runtime logs in its artifact store, which Kitaru's
``artifact-store`` backend reads; ``kitaru executions logs`` asks a plugin's
``read_logs`` only for logs kept by a log-store component whose engine flavor
is the plugin's ``flavor``. Stack types cannot add a log-store component yet,
and no engine flavor writes these files, so ``flavor`` is None ("no engine
component stands for it") and Kitaru itself never routes an execution here:
the example's tests call ``read_logs`` directly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import LogRow, LogStoreSpec

LOG_DIR_ENV = "KITARU_EXAMPLE_LOG_DIR"
"""The directory holding one ``<exec_id>.jsonl`` file per execution."""

EXAMPLE_LOG_STORE_NAME = "example-jsonl"
"""The backend name (``kitaru log-store set example-jsonl``)."""


def log_dir() -> Path:
    """The directory named by ``KITARU_EXAMPLE_LOG_DIR``.

    Raises:
        KitaruUsageError: When the variable is unset or blank.
    """
    value = os.environ.get(LOG_DIR_ENV, "").strip()
    if not value:
        raise KitaruUsageError(
            f"The {EXAMPLE_LOG_STORE_NAME} log store reads {LOG_DIR_ENV}/<exec_id>.jsonl; "
            f"set {LOG_DIR_ENV} to the directory holding the files."
        )
    return Path(value).expanduser()


def append_rows(exec_id: str, rows: Iterable[LogRow | Mapping[str, Any]], directory: Path | None = None) -> Path:
    """Append log rows to an execution's file (``directory`` defaults to :func:`log_dir`).

    Returns:
        The file written.
    """
    path = (directory or log_dir()) / f"{exec_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(dict(row), default=str) + "\n")
    return path


def matches_checkpoint(row: Mapping[str, Any], checkpoint: str | None) -> bool:
    """Whether a row belongs to ``checkpoint``: that call (``think_2``) or every call of it (``think``)."""
    if checkpoint is None:
        return True
    name = row.get("checkpoint_name")
    if not isinstance(name, str):
        return False
    return name == checkpoint or re.fullmatch(re.escape(checkpoint) + r"_\d+", name) is not None


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if not line.endswith("\n"):
                    return  # a writer is still appending this line: leave it for the next read
                raise KitaruUsageError(f"{path}:{number} is not a JSON log row; fix or remove the line.") from None
            if isinstance(row, dict) and isinstance(row.get("message"), str):
                yield row


def read_jsonl_logs(
    exec_id: str, *, checkpoint: str | None = None, source: str = "step", limit: int | None = None
) -> list[dict[str, Any]]:
    """Read an execution's rows back (the :class:`~kitaru.plugins.records.ReadLogs` protocol).

    Args:
        exec_id: The execution id; its file is ``<exec_id>.jsonl``.
        checkpoint: Only rows of this checkpoint call or checkpoint; None for all.
        source: ``step`` (checkpoints' output) or ``runner`` (the flow body's);
            a row without a source counts as ``step``. ``engine`` rows are
            returned whatever the source: Kitaru drops them unless asked.
        limit: At most this many rows (the first ones), or None.

    Returns:
        The matching rows, in file order (Kitaru sorts them by time). No file
        means no logs: an empty list.
    """
    path = log_dir() / f"{exec_id}.jsonl"
    if not path.is_file():
        return []
    found: list[dict[str, Any]] = []
    for row in _rows(path):
        row_source = row.get("source") or "step"
        if row_source not in (source, "engine") or not matches_checkpoint(row, checkpoint):
            continue
        found.append(row)
        if limit is not None and len(found) >= limit:
            break
    return found


EXAMPLE_LOG_STORE = LogStoreSpec(
    name=EXAMPLE_LOG_STORE_NAME,
    description="Runtime logs as JSON lines in $KITARU_EXAMPLE_LOG_DIR, one file per execution.",
    requires_endpoint=False,
    read_logs=read_jsonl_logs,
    flavor=None,
)
"""The record :mod:`kitaru_example.plugin` registers."""

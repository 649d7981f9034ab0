"""The schedules file: ``schedules.json`` in the Kitaru config directory.

Every change is a read-modify-write under Kitaru's one file lock
(:func:`kitaru.locks.file_lock` on ``schedules.json.lock``) and lands through a
temporary file and ``os.replace``, so a reader never sees half a file and two
processes (two ``kitaru schedule run-due`` started by cron a minute apart)
never both claim the same fire::

    with transaction() as schedules:          # name -> Schedule, held under the lock
        schedules["nightly"] = record         # written when the block ends without error

    load()                                    # a consistent snapshot, without the lock

The file is ``{"version": 1, "schedules": [<Schedule.to_json()>, ...]}``. A
file Kitaru cannot read is an error naming it, never silently replaced: it
holds the only copy of the schedules.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitaru.config.paths import config_dir
from kitaru.errors import KitaruUsageError
from kitaru.locks import file_lock
from kitaru.owner_only import owner_only_dir
from kitaru.schedules.records import Schedule

FILE_NAME = "schedules.json"
VERSION = 1


def store_path() -> Path:
    """Where the schedules are kept (``<config dir>/schedules.json``)."""
    return config_dir() / FILE_NAME


def _read(path: Path) -> dict[str, Schedule]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data: Any = json.loads(text)
        items = data["schedules"]
        records = [Schedule.from_json(item) for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise KitaruUsageError(
            f"The schedules file {path} cannot be read ({type(exc).__name__}: {exc}). Fix it, or move it "
            "away to start with no schedules."
        ) from None
    return {record.name: record for record in records}


def _write(path: Path, schedules: dict[str, Schedule]) -> None:
    owner_only_dir(path.parent)
    payload = {"version": VERSION, "schedules": [record.to_json() for record in schedules.values()]}
    fd, temp_name = tempfile.mkstemp(prefix=".schedules-", suffix=".json.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def load() -> dict[str, Schedule]:
    """Every schedule by name, in creation order (a snapshot; no lock needed to read)."""
    return _read(store_path())


@contextlib.contextmanager
def transaction() -> Iterator[dict[str, Schedule]]:
    """Hold the schedules lock, yield the schedules by name, and write them back if the block succeeds.

    Raises:
        KitaruUsageError: If the file exists but cannot be read.
    """
    path = store_path()
    owner_only_dir(path.parent)
    with file_lock(path.with_name(FILE_NAME + ".lock")):
        schedules = _read(path)
        before = dict(schedules)
        yield schedules
        if schedules != before:
            _write(path, schedules)


__all__ = ["FILE_NAME", "load", "store_path", "transaction"]

"""Owner-only files: the Kitaru config dir, what it holds, and the key that encrypts secrets at rest.

The config dir holds the local store (every secret you set with ``kitaru
secrets set``, run metadata), saved server credentials, locks and the secrets
key. Nobody but its owner should read any of it, so Kitaru keeps the dir and
its store directories ``0700`` and the files Kitaru and the engine keep there
``0600``, and encrypts secret values in the store with a key that never
leaves the dir::

    key = secrets_key(config_dir)     # created once, 0600, never printed
    restrict(config_dir)              # 0700 dirs, 0600 files (store, keys, locks)

Nothing here imports the engine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

OWNER_DIR_MODE = 0o700
"""Directories only their owner may list or enter."""

OWNER_FILE_MODE = 0o600
"""Files only their owner may read or write."""

SECRETS_KEY_FILE = "secrets.key"
"""The key that encrypts secret values in the local store, in the config dir."""

STORE_DIRECTORIES: tuple[str, ...] = ("local_stores", "local_stores/default_zen_store")
"""Directories under the config dir whose files are the store (the SQLite database and its journal)."""


def owner_only_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it ``0700``; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=OWNER_DIR_MODE)
    _chmod(path, OWNER_DIR_MODE)
    return path


def secrets_key(config_dir: Path) -> str:
    """The local store's secrets key, created on first use (64 hex characters, ``0600``).

    Two processes creating it at once agree, and neither ever reads a
    half-written key: each writes a whole key to a file of its own, and
    publishes it with a hard link, which fails if the key file exists; the
    one that loses reads the winner's key.

    Raises:
        PermissionError: When the key file exists but cannot be read.
        ValueError: When the key file is empty or damaged; the message says
            that secrets stored with the lost key cannot be read back.
    """
    path = owner_only_dir(config_dir) / SECRETS_KEY_FILE
    if not path.exists():
        key = secrets.token_hex(32)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE_MODE)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(key + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(draft, path)
            return key
        except FileExistsError:
            pass  # another process published its key first: use that one
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(
            f"The secrets key '{path}' is empty or damaged, so secrets stored with it cannot be "
            "read. Restore it from a backup, or delete it and set your secrets again "
            "(kitaru secrets set ...)."
        )
    return key


def restrict(config_dir: Path) -> None:
    """Make the config dir and its store directories ``0700`` and the files in them ``0600``.

    Covers the files directly in the config dir (engine config, credentials,
    keys, locks, markers) and those in :data:`STORE_DIRECTORIES` (the
    database). Artifact-store directories below ``local_stores`` are not
    walked: ``local_stores`` itself is ``0700``, so nobody else can reach them.
    A file that vanishes meanwhile is skipped.
    """
    if not config_dir.is_dir():
        return
    _chmod(config_dir, OWNER_DIR_MODE)
    for directory in (config_dir, *(config_dir / name for name in STORE_DIRECTORIES)):
        if not directory.is_dir():
            continue
        _chmod(directory, OWNER_DIR_MODE)
        with contextlib.suppress(FileNotFoundError):
            for entry in directory.iterdir():
                if entry.is_file() and not entry.is_symlink():
                    _chmod(entry, OWNER_FILE_MODE)


def is_owner_only(path: Path) -> bool:
    """Whether nobody but the owner may read or enter ``path`` (no group or other bits)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    return stat.S_IMODE(mode) & 0o077 == 0


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)


__all__ = [
    "OWNER_DIR_MODE",
    "OWNER_FILE_MODE",
    "SECRETS_KEY_FILE",
    "STORE_DIRECTORIES",
    "is_owner_only",
    "owner_only_dir",
    "restrict",
    "secrets_key",
]

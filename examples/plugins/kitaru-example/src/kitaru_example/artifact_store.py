"""Where a ``shelf`` stack keeps its artifacts: the directory named by ``--shelf-dir``.

The engine's ``local`` artifact-store flavor writes every checkpoint output,
saved value and log file under its ``path``. This module turns the user's
``shelf_dir`` into that path (:func:`shelf_path`), describes the component
(:func:`shelf_artifact_store`) and checks, before anything is registered,
that the directory can be written (:func:`check_writable`).

No directory is created here (the engine creates it on first write); only a probe file is
written and removed in a directory that exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import ComponentSpec, StackSpec
from kitaru.plugins.stack_helpers import component_spec

SHELF_DIR = "shelf_dir"
"""The stack field holding the directory (``--shelf-dir`` on the command line)."""

SHELF_DIR_FLAG = "--shelf-dir"
"""How messages name the field: users of the CLI type the flag."""

LOCAL_FLAVOR = "local"
"""The engine's artifact-store flavor that keeps artifacts in a directory."""


def shelf_path(value: str) -> Path:
    """The absolute directory for a ``shelf_dir`` value (``~`` expanded, relative to the cwd).

    Raises:
        KitaruUsageError: When the value is a URI: a shelf is a local directory.
    """
    if "://" in value:
        raise KitaruUsageError(
            f"{SHELF_DIR_FLAG} is a local directory; got the URI '{value}'. "
            "For a bucket, create a local stack with --artifact-store instead."
        )
    return Path(value).expanduser().absolute()


def shelf_artifact_store(spec: StackSpec) -> ComponentSpec:
    """The engine ``local`` artifact store with ``path`` set to the shelf directory.

    The user's ``--extra artifact_store.FIELD=VALUE`` overrides are laid over
    the configuration, except ``path``: the shelf directory is what the
    stack type is about, so it is set with ``--shelf-dir`` only.

    Raises:
        KitaruUsageError: When ``--extra artifact_store.path=...`` is given.
    """
    if "path" in spec.extra_for("artifact_store"):
        raise KitaruUsageError(
            f"A shelf stack keeps artifacts in {SHELF_DIR_FLAG}; drop --extra artifact_store.path "
            f"and pass the directory as {SHELF_DIR_FLAG} DIR."
        )
    path = shelf_path(spec.require(SHELF_DIR))
    return component_spec(spec, "artifact_store", LOCAL_FLAVOR, {"path": str(path)})


def check_writable(path: Path) -> None:
    """Check that ``path`` is, or can become, a directory this user may write to.

    An existing directory is probed by creating and removing a file in it.
    A missing one is checked at its closest existing parent, which must be a
    writable directory (the engine creates the rest on first write).

    Raises:
        KitaruUsageError: Naming ``--shelf-dir`` and what to do.
    """
    fix = f"Pass a directory you can write to as {SHELF_DIR_FLAG}."
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == path else f"cannot be created: '{existing}' is a file"
        raise KitaruUsageError(f"Shelf directory '{path}' {what}, not a directory. {fix}")
    if existing != path:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise KitaruUsageError(
                f"Shelf directory '{path}' cannot be created: this user may not write to '{existing}'. {fix}"
            )
        return
    probe = path / f".kitaru-example-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise KitaruUsageError(
            f"Shelf directory '{path}' is not writable ({error.strerror}). {fix}"
        ) from error

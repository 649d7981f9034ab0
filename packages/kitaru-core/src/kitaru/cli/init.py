"""``kitaru init``: mark a directory as a Kitaru project.

The ``.kitaru/`` marker sets the source root used to package code for remote
runs (SPEC §1). Creating it needs no engine, so this command stays fast and
works even when the store is unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kitaru.cli.output import Item, OutputOption, command
from kitaru.errors import KitaruUsageError

# Mirrors kitaru.config.paths.PROJECT_MARKER_DIR; importing kitaru.config here
# would load pydantic models on every `kitaru --help`.
PROJECT_MARKER_DIR = ".kitaru"
LEGACY_MARKER_DIR = ".zen"


def initialize_project(path: Path) -> Path:
    """Create ``.kitaru/`` inside ``path``.

    Args:
        path: An existing directory.

    Returns:
        The resolved project root.

    Raises:
        KitaruUsageError: If ``path`` is not a directory (or not even a
            usable path, say too long), is already initialised (``.kitaru``
            or legacy ``.zen``), or cannot be written.
    """
    try:
        root = path.expanduser().resolve()
        is_directory = root.is_dir()
        existing = [root / name for name in (PROJECT_MARKER_DIR, LEGACY_MARKER_DIR) if (root / name).exists()]
    except OSError as exc:  # a path too long for the file system, a loop of links ...
        raise KitaruUsageError(
            f"Cannot use {str(path)[:200]!r} as a project directory: {exc.strerror or exc}. "
            "Pass an existing directory to `kitaru init`."
        ) from None
    if not is_directory:
        raise KitaruUsageError(
            f"Not a directory: {root}. Pass an existing directory to `kitaru init`, "
            "or create it first."
        )
    if existing:
        raise KitaruUsageError(
            f"Already initialized: {existing[0]} exists. Nothing to do; delete that "
            "directory first if you want to start over."
        )
    marker = root / PROJECT_MARKER_DIR
    try:
        marker.mkdir()
    except FileExistsError:
        raise KitaruUsageError(
            f"Already initialized: {marker} exists. Nothing to do."
        ) from None
    except OSError as exc:
        raise KitaruUsageError(
            f"Could not create {marker}: {exc.strerror or exc}. Check the directory "
            "is writable, or pass another one."
        ) from None
    return root


@command("init")
def init(
    path: Annotated[
        Path,
        typer.Argument(
            help="Directory to initialise (default: the current directory).",
            show_default=False,
        ),
    ] = Path("."),
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Initialise a Kitaru project: create .kitaru/ in PATH."""
    root = initialize_project(path)
    data = {"path": str(root), "repository_directory": PROJECT_MARKER_DIR}

    def text() -> str:
        return f"Initialized Kitaru project in {root} (created {PROJECT_MARKER_DIR}/)."

    return Item(data, text=text)


def register(app: typer.Typer) -> None:
    """Add ``kitaru init`` to ``app``."""
    app.command("init")(init)


__all__ = ["initialize_project", "register"]

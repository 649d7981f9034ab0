"""What ``kitaru clean`` removes, what it refuses to remove, and the backup it keeps (SPEC §4.8).

Three scopes:

* ``project``: the nearest project's ``.kitaru/`` marker (searched from the
  current directory upward), the directory ``kitaru init`` creates. Without
  one this is an error.
* ``global``: the Kitaru config directory (:func:`kitaru.config.paths.config_dir`):
  ``kitaru.yaml``, the engine's ``config.yaml``, ``local_stores/`` with the
  SQLite database and the local artifacts, saved logins and keys.
* ``all``: both; a missing project is skipped.

A clean is planned first, reading only the file system::

    plan = plan_clean(CleanScope.GLOBAL, force=False)
    if plan.blocked:              # dangerous path, model aliases without --force ...
        raise KitaruUsageError(plan.blocked[0])
    backups = back_up_databases(plan)   # before anything is removed
    remove_targets(plan)

Nothing here loads the engine or parses its configuration, so a broken store
(a damaged database, an unreadable ``config.yaml``) can still be cleaned.
Stopping the local server is the caller's step (it lives in
:mod:`kitaru.connection`, a layer above this one).

Rules, each one a refusal in :attr:`CleanPlan.blocked`:

* Never remove the filesystem root, the home directory, the current
  directory, or a directory that contains either of the last two.
* A config directory without ``kitaru.yaml``, ``config.yaml`` or
  ``local_stores`` inside does not look like Kitaru's: refused unless ``force``.
* Model aliases in ``kitaru.yaml`` (or a ``kitaru.yaml`` too damaged to tell)
  are refused unless ``force``: they are the user's own settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kitaru.config.paths import CONFIG_FILE_NAME, PROJECT_MARKER_DIR, config_dir
from kitaru.errors import KitaruStateError, KitaruUsageError
from kitaru.owner_only import OWNER_FILE_MODE, STORE_DIRECTORIES

KITARU_DIR_MARKERS = (CONFIG_FILE_NAME, "config.yaml", "local_stores")
"""Entries of which at least one is inside every config directory Kitaru or its engine has used
(a ``config.yaml`` counts only when it is the engine's, see :func:`looks_like_kitaru_dir`)."""

ENGINE_EXECUTIONS_TABLE = "pipeline_run"
"""The engine's table of executions (ZenML's pipeline runs).

Read only to count executions in a preview; if the engine renames it, the
count shows as unknown and nothing else changes."""

SQLITE_SIDE_SUFFIXES = ("-wal",)
"""SQLite files holding committed data next to a database (copied along when the database is copied as bytes)."""


class CleanScope(StrEnum):
    """What ``kitaru clean`` removes."""

    PROJECT = "project"
    GLOBAL = "global"
    ALL = "all"


@dataclass(frozen=True)
class CleanTarget:
    """One directory a clean removes, with what a user should know before it goes.

    Attributes:
        kind: ``project`` (a ``.kitaru/`` marker) or ``global`` (the config directory).
        path: The directory.
        size_bytes: Total size of the files inside (None: not measured,
            because the path is refused as dangerous).
        file_count: Number of files inside (None: not measured).
        databases: SQLite databases inside (global only), backed up before removal.
        executions: Executions recorded in those databases; None when unknown
            (no database, or one that cannot be read).
        model_aliases: Model alias names in ``kitaru.yaml``; None when
            ``kitaru.yaml`` cannot be read, and for a project marker (which has none).
    """

    kind: str
    path: Path
    size_bytes: int | None
    file_count: int | None
    databases: tuple[Path, ...] = ()
    executions: int | None = None
    model_aliases: tuple[str, ...] | None = ()

    def describe(self, *, removed: bool) -> dict[str, Any]:
        """The JSON form (``kitaru clean -o json`` and the MCP preview)."""
        return {
            "kind": self.kind,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "file_count": self.file_count,
            "executions": self.executions,
            "model_aliases": None if self.model_aliases is None else list(self.model_aliases),
            "removed": removed,
        }


@dataclass(frozen=True)
class Backup:
    """A copy of a database kept outside the directory being removed.

    Attributes:
        database: The database that was copied.
        path: The copy.
        method: ``sqlite`` (SQLite's online backup: a consistent copy) or
            ``bytes`` (the file copied as it is, because SQLite could not read it).
    """

    database: Path
    path: Path
    method: str


@dataclass(frozen=True)
class CleanPlan:
    """What a clean would do, decided before anything changes.

    Attributes:
        scope: The scope asked for.
        targets: The directories to remove (empty when there is nothing).
        blocked: Why the clean must not go ahead (empty when it may).
        notes: Things worth saying that do not block it (a skipped project).
        backup_paths: Where each database of the global target will be copied,
            in the order of its ``databases``.
    """

    scope: CleanScope
    targets: tuple[CleanTarget, ...]
    blocked: tuple[str, ...]
    notes: tuple[str, ...]
    backup_paths: tuple[Path, ...]

    @property
    def global_target(self) -> CleanTarget | None:
        """The config directory target, if the plan removes it."""
        return next((target for target in self.targets if target.kind == "global"), None)

    def next_steps(self) -> list[str]:
        """How to start again after this clean."""
        steps = []
        for target in self.targets:
            if target.kind == "project":
                steps.append(f"Run `kitaru init {target.path.parent}` to make it a Kitaru project again.")
            else:
                steps.append(
                    "Kitaru creates a fresh config directory the next time it needs one: run a flow, "
                    "or `kitaru login` to start the local server."
                )
        return steps


# -- reading what is there -------------------------------------------------------------------


def parse_scope(value: str) -> CleanScope:
    """Turn ``project``/``global``/``all`` into a :class:`CleanScope`.

    Raises:
        KitaruUsageError: For any other value.
    """
    try:
        return CleanScope(str(value).strip().lower())
    except ValueError:
        raise KitaruUsageError(f"Unknown clean scope {str(value)[:80]!r}. Use 'project', 'global' or 'all'.") from None


def current_directory() -> Path:
    """The resolved working directory.

    Raises:
        KitaruUsageError: If it was deleted meanwhile.
    """
    try:
        return Path.cwd().resolve()
    except FileNotFoundError:
        raise KitaruUsageError("The current directory no longer exists. Change to another one and try again.") from None


def home_directory() -> Path | None:
    """The resolved home directory, or None when it cannot be determined."""
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):
        return None


def find_project_marker(start: Path) -> Path | None:
    """The nearest ``.kitaru`` directory in ``start`` or a directory above it."""
    for directory in (start, *start.parents):
        marker = directory / PROJECT_MARKER_DIR
        if marker.is_dir():
            return marker
    return None


def measure(path: Path) -> tuple[int, int]:
    """``(total bytes, file count)`` of the files under ``path``; unreadable parts are skipped."""
    if path.is_symlink() or not path.is_dir():
        return 0, 0
    size = count = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(root, name)).st_size
                count += 1
    return size, count


def find_databases(directory: Path) -> tuple[Path, ...]:
    """The SQLite databases of the local store inside a config directory (``*.db`` files)."""
    found: list[Path] = []
    for relative in STORE_DIRECTORIES:
        folder = directory / relative
        with contextlib.suppress(OSError):
            found.extend(sorted(path for path in folder.glob("*.db") if path.is_file() and not path.is_symlink()))
    return tuple(found)


def _read_only(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=2)


def count_executions(databases: Iterable[Path]) -> int | None:
    """Executions recorded in ``databases`` (opened read-only); None if none can be read."""
    total: int | None = None
    for database in databases:
        try:
            connection = _read_only(database)
            try:
                (rows,) = connection.execute(f'SELECT COUNT(*) FROM "{ENGINE_EXECUTIONS_TABLE}"').fetchone()
            finally:
                connection.close()
        except sqlite3.Error:
            continue
        total = (total or 0) + int(rows)
    return total


def read_model_aliases(directory: Path) -> tuple[str, ...] | None:
    """The model alias names in ``<directory>/kitaru.yaml``; None when the file cannot be read.

    A missing file, or one without a ``model_registry``, has no aliases.
    """
    import yaml

    path = directory / CONFIG_FILE_NAME
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if data is None:
        return ()
    if not isinstance(data, dict):
        return None
    registry = data.get("model_registry") or {}
    aliases = registry.get("aliases") if isinstance(registry, dict) else None
    if aliases is None:
        return ()
    if not isinstance(aliases, dict):
        return None
    return tuple(sorted(str(name) for name in aliases))


# -- refusals --------------------------------------------------------------------------------


def dangerous_reason(path: Path, *, cwd: Path, home: Path | None) -> str | None:
    """Why removing ``path`` (resolved) would be a disaster, or None when it would not."""
    if path == Path(path.anchor):
        return "it is the root of the file system"
    if home is not None and path == home:
        return "it is your home directory"
    if path == cwd:
        return "it is the current directory"
    if path in cwd.parents:
        return f"it contains the current directory ({cwd})"
    if home is not None and path in home.parents:
        return f"it contains your home directory ({home})"
    return None


def looks_like_kitaru_dir(path: Path) -> bool:
    """Whether ``path`` holds ``kitaru.yaml``, ``local_stores`` or the engine's own ``config.yaml``."""
    if (path / CONFIG_FILE_NAME).exists() or (path / "local_stores").is_dir():
        return True
    return _is_engine_config(path / "config.yaml")


ENGINE_CONFIG_KEYS = frozenset({"user_id", "store", "active_stack_id", "analytics_opt_in"})
"""Keys the engine writes in its ``config.yaml`` (any one tells it from another tool's ``config.yaml``)."""


def _is_engine_config(path: Path) -> bool:
    """Whether ``path`` is the engine's ``config.yaml`` rather than some other tool's file of that name."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return False
    return any(line.split(":", 1)[0].strip() in ENGINE_CONFIG_KEYS for line in text.splitlines() if ":" in line)


def _global_refusals(target: CleanTarget, *, force: bool) -> list[str]:
    refusals = []
    if not force and not looks_like_kitaru_dir(target.path):
        refusals.append(
            f"{target.path} does not look like a Kitaru config directory (no {', '.join(KITARU_DIR_MARKERS)} "
            "inside). Check KITARU_CONFIG_PATH / ZENML_CONFIG_PATH, or pass --force to remove it anyway."
        )
    if not force and target.model_aliases is None:
        refusals.append(
            f"{target.path / CONFIG_FILE_NAME} cannot be read, so it may hold model aliases that would be lost. "
            "Pass --force to remove it anyway."
        )
    elif not force and target.model_aliases:
        names = ", ".join(target.model_aliases)
        count = len(target.model_aliases)
        refusals.append(
            f"{target.path / CONFIG_FILE_NAME} holds {count} model alias{'es' if count > 1 else ''} ({names}) "
            "that would be lost (see them with `kitaru model list`). Pass --force to remove them too."
        )
    return refusals


# -- planning --------------------------------------------------------------------------------


def _inspect(kind: str, path: Path) -> CleanTarget:
    """Measure a target and read what it holds (only for paths that passed :func:`dangerous_reason`:
    measuring ``/`` would take minutes)."""
    size, count = measure(path)
    if kind == "project":
        return CleanTarget("project", path, size, count, model_aliases=None)
    databases = find_databases(path)
    return CleanTarget(
        "global",
        path,
        size,
        count,
        databases=databases,
        executions=count_executions(databases),
        model_aliases=read_model_aliases(path),
    )


def _candidates(scope: CleanScope, cwd: Path, notes: list[str], blocked: list[str]) -> list[tuple[str, Path]]:
    """``(kind, path)`` of each directory ``scope`` covers that exists; the rest becomes a note or refusal."""
    found: list[tuple[str, Path]] = []
    if scope is not CleanScope.GLOBAL:
        marker = find_project_marker(cwd)
        if marker is None and scope is CleanScope.PROJECT:
            raise KitaruUsageError(
                f"No Kitaru project here: there is no {PROJECT_MARKER_DIR}/ directory in {cwd} or any directory "
                "above it. Run this inside a project (a directory where `kitaru init` was run)."
            )
        if marker is None:
            notes.append(f"No Kitaru project ({PROJECT_MARKER_DIR}/) in {cwd} or above: skipped.")
        else:
            found.append(("project", marker))
    if scope is not CleanScope.PROJECT:
        directory = config_dir()
        if directory.is_dir():
            found.append(("global", directory))
        elif directory.exists():
            blocked.append(f"{directory} is a file, not a Kitaru config directory. Remove or rename it yourself.")
        else:
            notes.append(f"The Kitaru config directory {directory} does not exist: nothing to remove there.")
    if scope is CleanScope.PROJECT and found and _holds_config_dir(found[0][1]):
        blocked.append(
            f"The Kitaru config directory {config_dir()} (your executions and settings) is inside {found[0][1]}: "
            "cleaning the project would remove it without a backup. Run `kitaru clean all` instead, which backs "
            "up the store first, or point KITARU_CONFIG_PATH elsewhere."
        )
    if len(found) == 2 and _holds_config_dir(found[0][1]):
        # KITARU_CONFIG_PATH is the project marker or inside it: clean the marker once, as the config
        # directory's container, so the store is backed up (outside the marker) before anything goes.
        found = [("global", found[0][1])] if found[0][1] == found[1][1] else found
    return found


def _holds_config_dir(marker: Path) -> bool:
    """Whether the config directory is ``marker`` or inside it."""
    try:
        return config_dir().resolve().is_relative_to(marker.resolve())
    except OSError:
        return False


def backup_destinations(directory: Path, databases: tuple[Path, ...], stamp: str) -> tuple[Path, ...]:
    """Free paths next to ``directory`` (in its parent) for copies of ``databases``.

    ``~/.config/kitaru`` with ``zenml.db`` gives
    ``~/.config/kitaru-backup-20250102-030405.db``; further databases add their
    name, and a path already taken gets ``-2``, ``-3`` ...
    """
    chosen: list[Path] = []
    for index, database in enumerate(databases):
        base = f"{directory.name}-backup-{stamp}" + (f"-{database.stem}" if index else "")
        candidate = directory.parent / f"{base}.db"
        number = 2
        while candidate.exists() or candidate in chosen:
            candidate = directory.parent / f"{base}-{number}.db"
            number += 1
        chosen.append(candidate)
    return tuple(chosen)


def plan_clean(
    scope: CleanScope | str, *, force: bool = False, cwd: Path | None = None, home: Path | None = None
) -> CleanPlan:
    """Decide what a clean of ``scope`` would remove and whether it may; change nothing.

    Args:
        scope: ``project``, ``global`` or ``all``.
        force: Allow removing model aliases and a directory that does not look
            like a Kitaru config directory (never a dangerous path).
        cwd: The working directory (default: the current one).
        home: The home directory (default: the user's).

    Returns:
        The plan; check :attr:`CleanPlan.blocked` before acting on it.

    Raises:
        KitaruUsageError: For an unknown scope, or ``project`` when no
            ``.kitaru/`` exists here or above.
    """
    scope = parse_scope(scope)
    cwd = cwd or current_directory()
    home = home if home is not None else home_directory()
    targets: list[CleanTarget] = []
    blocked: list[str] = []
    notes: list[str] = []
    for kind, path in _candidates(scope, cwd, notes, blocked):
        reason = dangerous_reason(path, cwd=cwd, home=home)
        if reason is not None:
            targets.append(CleanTarget(kind, path, None, None, model_aliases=None))
            blocked.append(f"Refusing to remove {path}: {reason}. {_dangerous_hint(kind)}")
            continue
        target = _inspect(kind, path)
        targets.append(target)
        if kind == "global":
            blocked.extend(_global_refusals(target, force=force))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    global_target = next((target for target in targets if target.kind == "global"), None)
    backups: tuple[Path, ...] = ()
    if global_target is not None:
        # The copies go next to the outermost target holding the config directory, never inside a target.
        container = min(
            (target.path for target in targets if _holds_config_dir(target.path)),
            key=lambda path: len(path.resolve().parts),
            default=global_target.path,
        )
        backups = backup_destinations(container, global_target.databases, stamp)
    return CleanPlan(scope, tuple(targets), tuple(blocked), tuple(notes), backups)


def _dangerous_hint(kind: str) -> str:
    if kind == "project":
        return "Run `kitaru clean project` from the project's own directory instead."
    return "Point KITARU_CONFIG_PATH (or ZENML_CONFIG_PATH) at Kitaru's own config directory, or unset it."


# -- acting ----------------------------------------------------------------------------------


def _exclusive_file(path: Path) -> None:
    """Create ``path`` empty and owner-only; fail if it exists (a backup never overwrites)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE_MODE))


def back_up_database(database: Path, destination: Path) -> Backup:
    """Copy ``database`` to ``destination`` (a new, owner-only file).

    SQLite's online backup makes a consistent copy even while another process
    writes. A database SQLite cannot read (damaged, not a database at all) is
    copied byte for byte instead, with its ``-wal`` file, so nothing is lost
    that might still be recovered.

    Raises:
        KitaruStateError: If the copy cannot be written; nothing was removed.
    """
    try:
        _exclusive_file(destination)
        try:
            source = _read_only(database)
            try:
                target = sqlite3.connect(destination)
                try:
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
            return Backup(database, destination, "sqlite")
        except sqlite3.Error:
            shutil.copyfile(database, destination)
            for suffix in SQLITE_SIDE_SUFFIXES:
                side = Path(f"{database}{suffix}")
                if side.is_file():
                    copy = Path(f"{destination}{suffix}")
                    _exclusive_file(copy)
                    shutil.copyfile(side, copy)
            return Backup(database, destination, "bytes")
    except OSError as exc:
        raise KitaruStateError(
            f"Could not back up the database {database} to {destination}: {exc.strerror or exc}. Nothing was "
            f"removed. Make {destination.parent} writable (or free some space) and try again."
        ) from None


def back_up_databases(plan: CleanPlan) -> list[Backup]:
    """Back up every database of the plan's global target, before anything is removed.

    Raises:
        KitaruStateError: If a copy cannot be written; nothing was removed.
    """
    target = plan.global_target
    if target is None:
        return []
    return [
        back_up_database(database, path) for database, path in zip(target.databases, plan.backup_paths, strict=True)
    ]


def remove_target(target: CleanTarget) -> None:
    """Remove one target directory (a symlinked project marker loses only the link).

    Raises:
        KitaruStateError: If part of it cannot be removed.
    """
    try:
        if target.path.is_symlink():
            target.path.unlink()
        else:
            shutil.rmtree(target.path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise KitaruStateError(
            f"Could not remove all of {target.path}: {exc.strerror or exc} ({exc.filename or target.path}). "
            "Fix its permissions and run `kitaru clean` again."
        ) from None


def remove_targets(plan: CleanPlan) -> None:
    """Remove every target of ``plan``.

    Raises:
        KitaruUsageError: If the plan is blocked (nothing is removed then).
        KitaruStateError: If a directory cannot be removed completely.
    """
    if plan.blocked:
        raise KitaruUsageError(plan.blocked[0])
    for target in plan.targets:
        remove_target(target)


__all__ = [
    "ENGINE_EXECUTIONS_TABLE",
    "KITARU_DIR_MARKERS",
    "Backup",
    "CleanPlan",
    "CleanScope",
    "CleanTarget",
    "back_up_database",
    "back_up_databases",
    "backup_destinations",
    "count_executions",
    "current_directory",
    "dangerous_reason",
    "find_databases",
    "find_project_marker",
    "home_directory",
    "looks_like_kitaru_dir",
    "measure",
    "parse_scope",
    "plan_clean",
    "read_model_aliases",
    "remove_target",
    "remove_targets",
]

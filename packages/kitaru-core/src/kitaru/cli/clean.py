"""``kitaru clean project|global|all``: remove Kitaru's local state and start again (SPEC §4.8).

* ``project`` removes the nearest project's ``.kitaru/`` marker (an error if
  there is none);
* ``global`` removes the Kitaru config directory, after stopping the local
  server if one was set up and copying the SQLite database next to the
  directory (``~/.config/kitaru-backup-<time>.db``);
* ``all`` does both (a missing project is skipped).

Options: ``--yes/-y`` skips the confirmation, which is required when no
terminal can answer it (a script, an agent); ``--dry-run`` shows what would
be removed and changes nothing; ``--force`` (global/all) also removes model
aliases and a directory that does not look like Kitaru's. The filesystem
root, the home directory, the current directory and their parents are never
removed. The rules live in :mod:`kitaru.config.clean`; nothing here loads the
engine unless a local server must be stopped, so a broken store still cleans.

JSON item (``-o json``), also returned by the MCP tool ``kitaru_clean_preview``::

    {"scope": "global", "dry_run": false,
     "targets": [{"kind": "global", "path": ..., "size_bytes": ..., "file_count": ...,
                  "executions": 3, "model_aliases": [], "removed": true}],
     "backup_path": ".../kitaru-backup-20250102-030405.db",
     "backups": [{"database": ..., "path": ..., "method": "sqlite"}],
     "local_server": {"registered": false, "stopped": false},
     "blocked": [], "notes": [], "warnings": [], "next_steps": ["Kitaru creates a fresh config ..."]}
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command
from kitaru.errors import KitaruBackendError, KitaruUsageError

if TYPE_CHECKING:
    from kitaru.config.clean import Backup, CleanPlan, CleanTarget

SCOPE_HELP = (
    "What to remove: project (the nearest project's .kitaru/), global (the Kitaru config directory, "
    "after a backup of its database) or all (both)."
)


# -- the local server --------------------------------------------------------------------


def local_server_set_up() -> bool:
    """Whether a local server was set up in this config dir (its daemon folder exists).

    Reads files only: neither the engine nor a damaged store is touched.

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent (a server
            URL without a token, say); the message says how to fix it.
    """
    from kitaru.connection.environment import prepare_engine
    from kitaru.connection.local_server import daemon_log_file

    prepare_engine()
    return Path(daemon_log_file()).parent.is_dir()


def stop_server_before_clean(*, force: bool) -> tuple[bool, list[str]]:
    """Stop the local server (``kitaru logout``'s way) so it lets go of the database.

    Args:
        force: Go on (with a warning) if it cannot be stopped.

    Returns:
        ``(stopped, warnings)``.

    Raises:
        KitaruBackendError: If it cannot be stopped and ``force`` is off.
    """
    from kitaru.connection import stop_local_server

    try:
        return bool(stop_local_server()["stopped"]), []
    except Exception as exc:
        problem = f"Could not stop the local Kitaru server: {exc}"
        if not force:
            raise KitaruBackendError(
                f"{problem} Nothing was removed. Stop it with `kitaru logout`, or pass --force to remove the "
                "files anyway."
            ) from None
        return False, [f"{problem} The files were removed anyway (--force)."]


# -- the JSON item and its text ----------------------------------------------------------------


def clean_item(
    plan: CleanPlan,
    *,
    dry_run: bool,
    backups: Sequence[Backup] = (),
    server_set_up: bool = False,
    server_stopped: bool = False,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The JSON item of ``kitaru clean`` (and of the MCP preview).

    Args:
        plan: What the clean removes.
        dry_run: Nothing was removed; ``backup_path`` is where the copy would go.
        backups: The copies made (empty for a dry run).
        server_set_up: Whether a local server was set up in the config dir.
        server_stopped: Whether it was running and was stopped.
        warnings: Things that went wrong without stopping the clean.
    """
    removed = not dry_run
    if dry_run:
        target = plan.global_target
        databases = target.databases if target else ()
        copies = [
            {"database": str(db), "path": str(path), "method": None}
            for db, path in zip(databases, plan.backup_paths, strict=True)
        ]
    else:
        copies = [{"database": str(b.database), "path": str(b.path), "method": b.method} for b in backups]
    return {
        "scope": str(plan.scope),
        "dry_run": dry_run,
        "targets": [target.describe(removed=removed) for target in plan.targets],
        "backup_path": copies[0]["path"] if copies else None,
        "backups": copies,
        "local_server": {"registered": server_set_up, "stopped": server_stopped},
        "blocked": list(plan.blocked),
        "notes": list(plan.notes),
        "warnings": list(warnings),
        "next_steps": [] if dry_run else plan.next_steps(),
    }


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def describe_target(target: CleanTarget) -> str:
    """One line about a target: ``/x/.kitaru (project marker: 2 files, 120 bytes)``."""
    if target.file_count is None or target.size_bytes is None:
        return f"{target.path} (not measured: refused)"
    files = f"{target.file_count} file{'' if target.file_count == 1 else 's'}, {human_size(target.size_bytes)}"
    if target.kind == "project":
        return f"{target.path} (project marker: {files})"
    details = [files]
    if target.executions is not None:
        details.append(f"{target.executions} execution{'' if target.executions == 1 else 's'}")
    elif target.databases:
        details.append("executions: unknown (the database cannot be read)")
    if target.model_aliases:
        details.append(f"model aliases: {', '.join(target.model_aliases)}")
    return f"{target.path} (Kitaru config directory: {'; '.join(details)})"


def clean_text(item: dict[str, Any], plan: CleanPlan) -> list[str]:
    """The text-mode lines for a clean or a dry run."""
    dry_run = item["dry_run"]
    lines = []
    if not plan.targets:
        lines.append("Nothing to remove.")
    else:
        lines.append("Dry run: nothing was removed. A clean would remove:" if dry_run else "Removed:")
        lines.extend(f"  {describe_target(target)}" for target in plan.targets)
    for backup in item["backups"]:
        verb = "would be copied" if dry_run else "copied"
        how = " (as raw bytes: SQLite could not read it)" if backup["method"] == "bytes" else ""
        lines.append(f"Database {backup['database']} {verb} to {backup['path']}{how}.")
    server = item["local_server"]
    if dry_run and server["registered"]:
        lines.append("The local Kitaru server would be stopped first.")
    elif server["stopped"]:
        lines.append("Stopped the local Kitaru server.")
    lines.extend(plan.notes)
    if dry_run and plan.blocked:
        lines.append("The clean would be refused:")
        lines.extend(f"  {reason}" for reason in plan.blocked)
    lines.extend(item["next_steps"])
    return lines


# -- confirmation ---------------------------------------------------------------------------------


def confirm_clean(plan: CleanPlan, *, yes: bool) -> None:
    """Ask before removing anything; refuse outright when nobody can answer.

    Raises:
        KitaruUsageError: When stdin is not a terminal and ``yes`` is off, or
            when the answer is no. Nothing was removed then.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise KitaruUsageError(
            f"Refusing to remove {', '.join(str(target.path) for target in plan.targets)} without confirmation: "
            "this is not an interactive terminal. Pass --yes to confirm (see what would go first with --dry-run)."
        )
    listing = "\n".join(f"  {describe_target(target)}" for target in plan.targets)
    backup = "".join(f"\nIts database is copied to {path} first." for path in plan.backup_paths)
    if not typer.confirm(f"This removes:\n{listing}{backup}\nContinue?", default=False):
        raise KitaruUsageError("Nothing was removed: the clean was not confirmed.")


# -- the command ----------------------------------------------------------------------------------


def preview_item(scope: str) -> dict[str, Any]:
    """What ``kitaru clean <scope> --dry-run -o json`` prints as its item (changes nothing).

    Raises:
        KitaruUsageError: For an unknown scope, or ``project`` outside a project.
    """
    from kitaru.config.clean import plan_clean

    plan = plan_clean(scope)
    server_set_up = local_server_set_up() if plan.global_target else False
    return clean_item(plan, dry_run=True, server_set_up=server_set_up)


@command("clean")
def clean(
    scope: Annotated[str, typer.Argument(help=SCOPE_HELP, metavar="project|global|all", show_default=False)],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed; change nothing.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="global/all: also remove model aliases, or a directory that does not look like Kitaru's "
            "config directory. Never allows removing /, your home or the current directory.",
        ),
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Remove Kitaru's local state: the project's .kitaru/, the global config directory, or all."""
    from kitaru.config.clean import CleanScope, back_up_databases, parse_scope, plan_clean, remove_targets

    parsed = parse_scope(scope)
    if force and parsed is CleanScope.PROJECT:
        raise KitaruUsageError("--force only applies to `kitaru clean global` and `kitaru clean all`.")
    plan = plan_clean(parsed, force=force)
    if dry_run:
        item = clean_item(plan, dry_run=True, server_set_up=local_server_set_up() if plan.global_target else False)
        return Item(item, text=clean_text(item, plan))
    if plan.blocked:
        raise KitaruUsageError(" ".join(plan.blocked))
    if not plan.targets:
        item = clean_item(plan, dry_run=False)
        return Item(item, text=clean_text(item, plan))
    confirm_clean(plan, yes=yes)
    server_set_up = local_server_set_up() if plan.global_target else False
    stopped, warnings = stop_server_before_clean(force=force) if server_set_up else (False, [])
    backups = back_up_databases(plan)
    remove_targets(plan)
    item = clean_item(
        plan, dry_run=False, backups=backups, server_set_up=server_set_up, server_stopped=stopped, warnings=warnings
    )
    return Item(item, text=clean_text(item, plan), warnings=warnings)


def register(app: typer.Typer) -> None:
    """Add ``kitaru clean`` to ``app``."""
    app.command("clean")(clean)


__all__ = [
    "clean",
    "clean_item",
    "clean_text",
    "confirm_clean",
    "describe_target",
    "human_size",
    "local_server_set_up",
    "preview_item",
    "register",
    "stop_server_before_clean",
]

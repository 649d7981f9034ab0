"""``kitaru info``: multi-section diagnostics for bug reports.

Sections: connection (as configured; the store is not contacted, so this works
when a server is down), config provenance, system, engine version, packages
and ``KITARU_*`` environment. ``--file`` writes the same snapshot, secrets
masked, as JSON or YAML.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel, to_json
from kitaru.cli.status import (
    SECRETS_AT_REST_LABELS,
    connection_label,
    environment_panel,
    kitaru_environment,
    try_read,
)
from kitaru.cli.version import sdk_version
from kitaru.cli.warm.identity import describe_helper
from kitaru.errors import KitaruUsageError
from kitaru.masking import mask_url

FILE_FORMATS: dict[str, str] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
SOURCE_LABELS: dict[str, str] = {
    "default": "default (local database in the config directory)",
    "saved login": "saved login (engine config.yaml)",
    "KITARU_SERVER_URL": "environment variable KITARU_SERVER_URL",
    "ZENML_STORE_URL": "environment variable ZENML_STORE_URL",
}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def installed_packages() -> dict[str, str]:
    """Return every installed distribution's version, sorted by name."""
    from importlib import metadata

    packages: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            packages.setdefault(_normalize(name), distribution.version)
    return dict(sorted(packages.items()))


def select_packages(
    installed: dict[str, str], *, all_packages: bool, requested: list[str]
) -> dict[str, str | None]:
    """Pick the packages ``kitaru info`` reports.

    Args:
        installed: Every installed distribution (normalised name to version).
        all_packages: Report them all.
        requested: Extra names to report; a missing one maps to None.

    Returns:
        Kitaru's own distributions (``kitaru``, ``kitaru-*``), ``zenml``, and
        the requested or all packages, sorted by name.
    """
    if all_packages:
        selected: dict[str, str | None] = dict(installed)
    else:
        selected = {
            name: version
            for name, version in installed.items()
            if name == "kitaru" or name.startswith("kitaru-") or name == "zenml"
        }
    for raw in requested:
        for name in (_normalize(part) for part in raw.split(",")):
            if name:
                selected[name] = installed.get(name)
    return dict(sorted(selected.items()))


def environment_type() -> str:
    """Guess what kind of environment this process runs in."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    if Path("/.dockerenv").exists() or Path("/run/.containerenv").exists():
        return "container"
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        return "ci"
    if os.environ.get("CONDA_PREFIX"):
        return "conda"
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        return "virtualenv"
    return "system"


def find_repository(start: Path | None = None) -> Path | None:
    """Return the nearest ``.kitaru`` directory at or above ``start`` (cwd)."""
    from kitaru.config.paths import PROJECT_MARKER_DIR

    current = (start or Path.cwd()).resolve()
    for directory in (current, *current.parents):
        marker = directory / PROJECT_MARKER_DIR
        if marker.is_dir():
            return marker
    return None


def collect_info(
    *, all_sections: bool, all_packages: bool, requested_packages: list[str]
) -> dict[str, Any]:
    """Gather the ``kitaru info`` snapshot (loads the engine, never contacts the store).

    Args:
        all_sections: ``--all``: every package plus the environment type.
        all_packages: ``--all-packages``: every installed package.
        requested_packages: ``--packages`` names.

    Returns:
        The JSON item of ``kitaru info``; secrets are already masked.
    """
    from kitaru.config.paths import config_dir, config_file, local_stores_dir
    from kitaru.connection import describe_connection, engine_version

    warnings: list[str] = []
    connection = try_read(describe_connection, warnings)
    connection_data: dict[str, Any] | None = None
    if connection is not None:
        connection_data = {
            "mode": connection.mode,
            "source": connection.source,
            "store_type": connection.store_type,
            "server_url": mask_url(connection.server_url) if connection.server_url else None,
            "database": connection.database,
            "secrets_at_rest": connection.secrets_at_rest,
        }
        if connection.project:
            connection_data["project"] = connection.project
    repository = find_repository()
    kitaru_yaml = config_file()
    system: dict[str, Any] = {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "os": platform.platform(),
        "machine": platform.machine(),
        "cli_helper": describe_helper(),
    }
    if all_sections:
        system["environment_type"] = environment_type()
    return {
        "sdk_version": sdk_version(),
        "connection": connection_data,
        "config": {
            "config_directory": str(config_dir()),
            "kitaru_yaml": str(kitaru_yaml),
            "kitaru_yaml_exists": kitaru_yaml.is_file(),
            "engine_config": str(config_dir() / "config.yaml"),
            "local_stores": str(local_stores_dir()),
            "repository": str(repository) if repository else None,
        },
        "system": system,
        "zenml_version": engine_version(),
        "packages": select_packages(
            installed_packages(),
            all_packages=all_packages or all_sections,
            requested=requested_packages,
        ),
        "environment": kitaru_environment(),
        "warnings": warnings,
    }


def check_snapshot_path(path: Path) -> tuple[Path, str]:
    """Validate a ``--file`` path before any work is done.

    Args:
        path: The path the user passed.

    Returns:
        The resolved path and the format its extension selects.

    Raises:
        KitaruUsageError: If the extension is not .json/.yaml/.yml or the
            directory does not exist.
    """
    target = path.expanduser().resolve()
    file_format = FILE_FORMATS.get(target.suffix.lower())
    if file_format is None:
        raise KitaruUsageError(
            f"Cannot write info to '{path}': unsupported extension "
            f"'{target.suffix or '(none)'}'. Use a .json, .yaml or .yml file."
        )
    if not target.parent.is_dir():
        raise KitaruUsageError(
            f"Cannot write info to '{path}': directory {target.parent} does not exist. "
            "Create it first or choose another path."
        )
    return target, file_format


def write_snapshot(data: dict[str, Any], path: Path) -> tuple[Path, str]:
    """Write the snapshot to ``path`` as JSON or YAML (chosen by extension).

    Args:
        data: The snapshot, secrets already masked.
        path: A .json, .yaml or .yml file; overwritten if it exists.

    Returns:
        The resolved path and the format written.

    Raises:
        KitaruUsageError: If the extension is not .json/.yaml/.yml, the
            directory does not exist, or the file cannot be written.
    """
    target, file_format = check_snapshot_path(path)
    if file_format == "json":
        content = to_json(data) + "\n"
    else:
        import yaml

        content = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        target.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise KitaruUsageError(
            f"Cannot write info to '{target}': {exc.strerror or exc}. Choose a writable path."
        ) from None
    return target, file_format


def _info_panels(data: dict[str, Any]) -> list[Any]:
    connection = data["connection"] or {}
    connection_rows: list[tuple[str, Any]] = [
        ("Connection", connection_label(connection.get("mode"))),
        ("Source", SOURCE_LABELS.get(connection.get("source") or "", connection.get("source"))),
    ]
    if connection.get("mode") == "server":
        connection_rows.append(("Server URL", connection.get("server_url")))
    else:
        connection_rows.append(("Database", connection.get("database")))
    if connection.get("secrets_at_rest"):
        at_rest = connection["secrets_at_rest"]
        connection_rows.append(("Secrets at rest", SECRETS_AT_REST_LABELS.get(at_rest, at_rest)))
    if connection.get("project"):
        connection_rows.append(("Project override", connection["project"]))
    config = data["config"]
    kitaru_yaml = config["kitaru_yaml"] + ("" if config["kitaru_yaml_exists"] else " (not created yet)")
    system = data["system"]
    system_rows: list[tuple[str, Any]] = [
        ("Python", f"{system['python']} ({system['python_executable']})"),
        ("OS", system["os"]),
        ("Machine", system["machine"]),
    ]
    if "environment_type" in system:
        system_rows.append(("Environment type", system["environment_type"]))
    system_rows.append(("CLI helper", system["cli_helper"]))
    packages = [
        (name, version if version is not None else "not installed")
        for name, version in data["packages"].items()
    ]
    return [
        panel(
            "Kitaru info",
            [("SDK version", data["sdk_version"]), ("ZenML version", data["zenml_version"])],
        ),
        panel("Connection", connection_rows),
        panel(
            "Configuration",
            [
                ("Config directory", config["config_directory"]),
                ("kitaru.yaml", kitaru_yaml),
                ("Engine config", config["engine_config"]),
                ("Local stores", config["local_stores"]),
                ("Project repository", config["repository"] or "none (run `kitaru init`)"),
            ],
        ),
        panel("System", system_rows),
        panel("Packages", packages),
        environment_panel(data["environment"]),
    ]


@command("info")
def info(
    all_sections: Annotated[
        bool,
        typer.Option("--all", "-a", help="Add every installed package and the environment type."),
    ] = False,
    all_packages: Annotated[
        bool, typer.Option("--all-packages", help="List every installed package.")
    ] = False,
    packages: Annotated[
        list[str] | None,
        typer.Option(
            "--packages",
            "-p",
            help="Also report these packages (repeat the option or separate with commas).",
            metavar="NAME",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Write the snapshot (secrets masked) to a .json or .yaml file.",
            dir_okay=False,
            metavar="PATH",
        ),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Show diagnostics: connection, config, system, packages.

    Never contacts the store, so it works while a server is unreachable.
    With --file, writes the snapshot (secrets masked) instead of printing it.
    """
    if any(not name.replace(",", "").strip() for name in packages or []):
        raise KitaruUsageError("--packages needs a package name, e.g. --packages pydantic.")
    if file is not None:
        check_snapshot_path(file)
    data = collect_info(
        all_sections=all_sections,
        all_packages=all_packages,
        requested_packages=list(packages or []),
    )
    if file is not None:
        target, file_format = write_snapshot(data, file)
        return Item(
            {"file": str(target), "format": file_format},
            text=f"Wrote Kitaru info to {target} ({file_format}).",
            warnings=data["warnings"],
        )
    return Item(data, text=lambda: _info_panels(data), warnings=data["warnings"])


def register(app: typer.Typer) -> None:
    """Add ``kitaru info`` to ``app``."""
    app.command("info")(info)


__all__ = ["collect_info", "find_repository", "register", "select_packages", "write_snapshot"]

"""``kitaru --version``: the SDK version, read lazily from distribution metadata."""

from __future__ import annotations

import typer

DISTRIBUTIONS = ("kitaru", "kitaru-core")
"""Distributions whose version is Kitaru's, most specific first."""


def sdk_version() -> str:
    """Return the installed Kitaru version, or ``unknown`` without metadata.

    The umbrella ``kitaru`` distribution wins; a bare ``kitaru-core`` install
    reports its own version.
    """
    from importlib import metadata

    for distribution in DISTRIBUTIONS:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def version_callback(value: bool) -> None:
    """Print ``kitaru <version>`` and exit (eager ``--version/-V`` callback)."""
    if value:
        typer.echo(f"kitaru {sdk_version()}")
        raise typer.Exit(0)

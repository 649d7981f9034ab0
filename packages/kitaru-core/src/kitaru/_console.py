"""Kitaru's own terminal lines during a run (start, one per checkpoint, end)."""

from __future__ import annotations

import os
import sys

QUIET_ENV = "KITARU_QUIET"


def say(line: str) -> None:
    """Print one Kitaru line to stdout unless ``KITARU_QUIET=1``."""
    if os.environ.get(QUIET_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def format_duration(seconds: float) -> str:
    """Format a duration the way Kitaru prints it (``0.04s``, ``2m 03s``)."""
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"

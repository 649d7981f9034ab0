"""Kitaru's own terminal lines during a run: one at the start, one per checkpoint, one at the end.

Engine chatter stays in the stored logs; these lines are what a user sees::

    Starting flow `agent`.
    Checkpoint `research` finished in 0.04s.
    Execution 0b6f3c1e-... completed in 0.31s.

``KITARU_QUIET`` (read through :func:`kitaru.settings.settings`) keeps them
off stdout.
"""

from __future__ import annotations

import sys

from kitaru.settings import settings


def say(line: str) -> None:
    """Print one Kitaru line to stdout unless ``KITARU_QUIET`` is on."""
    if settings().quiet:
        return
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def format_duration(seconds: float) -> str:
    """Format a duration the way Kitaru prints it (``0.04s``, ``2m 03s``)."""
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


__all__ = ["format_duration", "say"]

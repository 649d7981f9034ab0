"""The ``kitaru`` command line.

The console script calls :func:`main`. Command groups live in their own
modules (``kitaru.cli.status``, ``kitaru.cli.info``, ...) and are registered
in :mod:`kitaru.cli.app`; every command follows the output contract in
:mod:`kitaru.cli.output`. Nothing here imports the engine: commands that need
it load it through ``kitaru._engine`` when they run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``kitaru`` CLI and exit with its status (0 success, 1 error).

    Args:
        argv: Arguments after the program name; ``sys.argv[1:]`` by default.

    Raises:
        SystemExit: Always, with the command's exit code.
    """
    if sys.version_info < (3, 11):  # noqa: UP036  # pragma: no cover - an old Python gets a message, not a SyntaxError
        sys.stderr.write(
            "Error: Kitaru needs Python 3.11 or newer; this is "
            f"{sys.version.split()[0]}. Install Kitaru into a Python 3.11+ environment.\n"
        )
        raise SystemExit(1)
    from kitaru.cli.app import run

    raise SystemExit(run(argv))


__all__ = ["main"]

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
    args = list(sys.argv[1:] if argv is None else argv)
    from kitaru.cli.warm import identity

    # Only the console script itself (no argv given) uses the helper: a caller
    # running commands in its own process (a test, a harness) keeps them there.
    if argv is None and identity.routed(args) and identity.enabled() and identity.real_stdio():
        from kitaru.cli.warm import client, server

        code = client.run_through_helper(args)
        if code is not None:
            raise SystemExit(code)
        server.start_helper()
    from kitaru.cli.app import run

    raise SystemExit(run(args))


__all__ = ["main"]

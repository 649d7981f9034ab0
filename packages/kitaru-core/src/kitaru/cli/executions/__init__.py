"""``kitaru executions``: inspect and control executions.

One module per concern registers its subcommands on the shared group:
``inspect`` (get, list), ``logs`` (logs), ``waits`` (input), ``events`` (send), ``control``
(retry, resume, cancel), ``replay`` (replay), ``delete`` (delete, prune),
``diff`` (diff), ``export`` (export a cassette).
"""

from __future__ import annotations

import importlib

import typer

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "kitaru.cli.executions.inspect",
    "kitaru.cli.executions.logs",
    "kitaru.cli.executions.waits",
    "kitaru.cli.executions.events",
    "kitaru.cli.executions.control",
    "kitaru.cli.executions.replay",
    "kitaru.cli.executions.delete",
    "kitaru.cli.executions.diff",
    "kitaru.cli.executions.export",
)

group = typer.Typer(
    name="executions",
    help="Inspect and control executions (get, list, logs, input, send, retry, resume, cancel, replay, delete, prune, diff, export).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def register(app: typer.Typer) -> None:
    """Add the ``executions`` group to ``app``."""
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(group)
    app.add_typer(group, name="executions")

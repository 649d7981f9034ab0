"""Build the ``kitaru`` Typer app and run it.

Commands live in one module per command or command group. Each module listed
in :data:`COMMAND_MODULES` defines ``register(app: typer.Typer) -> None``,
which adds top-level commands (``app.command("status")(status)``) or a group
(``app.add_typer(group, name="executions")``). Command modules must not import
the engine at module level: ``kitaru --help`` and ``kitaru --version`` never
load ZenML.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from kitaru.cli import output
from kitaru.cli.version import version_callback

COMMAND_MODULES: tuple[str, ...] = (
    "kitaru.cli.init",
    "kitaru.cli.status",
    "kitaru.cli.login",
    "kitaru.cli.ui",
    "kitaru.cli.info",
    "kitaru.cli.plugins",
    "kitaru.cli.run",
    "kitaru.cli.executions",
    "kitaru.cli.schedule",
    "kitaru.cli.stack",
    "kitaru.cli.log_store",
    "kitaru.cli.model",
    "kitaru.cli.secrets",
    "kitaru.cli.clean",
)
"""Modules that register commands, in help order."""

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}

HELP = (
    "Kitaru: durable execution for AI agents.\n\n"
    "Every command accepts --output/-o text|json; JSON goes to stdout, errors to "
    "stderr, and failures exit with status 1."
)


def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=version_callback,
            is_eager=True,
            help="Show the Kitaru version and exit.",
        ),
    ] = False,
) -> None:
    """Kitaru: durable execution for AI agents."""
    if ctx.invoked_subcommand is None:
        # Typer's rich help prints itself and returns ""; plain help returns text.
        help_text = ctx.get_help()
        if help_text:
            typer.echo(help_text)
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    """Create the Typer app with every command registered.

    Returns:
        The ``kitaru`` app.
    """
    app = typer.Typer(
        name="kitaru",
        help=HELP,
        context_settings=CONTEXT_SETTINGS,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback(invoke_without_command=True)(_root)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    return app


def _usage_error(exc: typer.TyperException, args: Sequence[str]) -> int:
    """Render a command-line parsing error per the output contract."""
    ctx = getattr(exc, "ctx", None)
    command_path = ctx.command_path if ctx is not None else "kitaru"
    key = output.command_key(command_path)
    message = exc.format_message()
    if output.json_requested(args):
        output.fail(key, exc, output.OutputFormat.JSON, message)
    else:
        output.fail(
            key,
            exc,
            output.OutputFormat.TEXT,
            f"{message}\nRun '{command_path} --help' for usage.",
        )
    return 1


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code.

    Parsing errors (unknown option, missing argument) follow the output
    contract too: ``Error: ...`` on stderr, or a JSON error when the
    arguments ask for ``-o json``; exit code 1.

    Args:
        argv: Arguments after the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 1 on error (130 when interrupted).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    app = build_app()
    try:
        result = app(args=args, prog_name="kitaru", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        return 1
    except typer.TyperException as exc:
        return _usage_error(exc, args)
    return result if isinstance(result, int) else 0

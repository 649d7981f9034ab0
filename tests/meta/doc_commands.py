"""Check the ``kitaru …`` command lines of a doc page against the real CLI, without running them.

Pages in ``docs/`` show shell blocks; their tests (``test_team_docs.py``,
``test_primitives_docs.py``) use these helpers to find every ``kitaru``
command of the page's ``bash`` blocks and to parse each with the click tree
``kitaru.cli.app.run`` builds: the command exists, each ``--flag`` exists on
it, and ``<placeholders>`` fill its arguments.
"""

from __future__ import annotations

import functools
import re
import shlex
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from kitaru.cli.app import build_app

SEPARATORS = frozenset({"&&", "||", ";", "|"})
"""Shell words that end one command and start the next."""
REDIRECTIONS = frozenset({"<", "<<", "<<<", ">", ">>", "2>", "&>"})
"""Shell words that take the next word as their file or text (not the command's)."""


def shell_commands(block: str) -> list[list[str]]:
    """The words of each command of a ``bash`` block.

    Backslash continuations are joined, comments dropped, lines split on
    ``&&`` (and ``||``, ``;``, ``|``), and redirections (``<<< "$KEY"``) removed.
    """
    commands: list[list[str]] = []
    for line in re.sub(r"\\\n\s*", " ", block).splitlines():
        words: list[str] = []
        tokens = iter(shlex.split(line, comments=True))
        for token in tokens:
            if token in SEPARATORS:
                commands.append(words)
                words = []
            elif token in REDIRECTIONS:
                next(tokens, None)
            else:
                words.append(token)
        commands.append(words)
    return [words for words in commands if words]


def kitaru_commands(doc: str) -> list[list[str]]:
    """The arguments of every ``kitaru`` command in the doc's ``bash`` blocks.

    A command may follow a cron schedule or ``VARIABLE=value`` words, and be
    run through an absolute path (``/usr/local/bin/kitaru``).
    """
    found = []
    for block in re.findall(r"```(?:bash|sh|cron)\n(.*?)```", doc, re.S):
        for words in shell_commands(block):
            while words and not words[0].endswith("kitaru") and ("=" in words[0] or _cron_field(words[0])):
                words = words[1:]  # VARIABLE=value, or a crontab's time fields, in front of the command
            if words and (words[0] == "kitaru" or words[0].endswith("/kitaru")):
                found.append(words[1:])
    return found


def _cron_field(word: str) -> bool:
    return re.fullmatch(r"[\d*/,\-]+", word) is not None


@functools.cache
def kitaru_cli() -> Any:
    """The click command ``kitaru.cli.app.run`` runs: typer's view of :func:`build_app`."""
    return typer.main.get_command(build_app())


def refusal(args: list[str]) -> str | None:
    """Why the real CLI refuses ``kitaru ARGS`` (None if it parses).

    Walks typer's click tree to the subcommand and parses the rest of the line
    with it, as ``kitaru.cli.app.run`` would, without running the command:
    unknown commands and options, missing and extra arguments are refused;
    ``<exec_id>`` counts as an argument value.
    """
    command = kitaru_cli()
    path, rest = ["kitaru"], list(args)
    while isinstance(command, TyperGroup) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    if isinstance(command, TyperGroup):
        return f"`{' '.join(path)}` has no command {rest[0] if rest else ''!r}"
    try:
        command.make_context(" ".join(path), rest)
    except typer.TyperException as exc:
        return f"`{' '.join(path)}`: {exc.format_message()}"
    return None

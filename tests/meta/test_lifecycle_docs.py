"""``docs/lifecycle.md`` against the code: every command it shows exists with the flags it uses, and its numbers are the code's.

The page teaches clean, delete, prune, short ids and child flows. This test
walks the real ``kitaru`` Typer app for each ``kitaru …`` line of the page's
shell blocks, and reads the constants the prose quotes (the shortest id
prefix, the durations ``prune`` takes, the backup name, the live-status
timings, the child-call checkpoint type) from the modules that define them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer.main
from tests.conftest import REPO_ROOT

from kitaru.cli.app import build_app
from kitaru.cli.executions.delete import parse_duration
from kitaru.client.short_ids import MIN_PREFIX_LENGTH
from kitaru.config.clean import backup_destinations
from kitaru.execution.child_flows import FLOW_CALL_TYPE
from kitaru.execution.console import FIRST_NOTICE_SECONDS, STATUS_AFTER_SECONDS

DOC = REPO_ROOT / "docs" / "lifecycle.md"
REQUIRED_SECTIONS = ("Short ids", "Child flows", "Delete and prune", "Clean")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    text = doc_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shell_lines() -> list[str]:
    """The ``kitaru …`` lines of the page's ``bash`` blocks, without comments."""
    blocks = re.findall(r"```bash\n(.*?)```", doc_text(), flags=re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("kitaru "):
                lines.append(line)
    return lines


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def counted(word: str, flags: set[str]) -> bool:
    """Whether ``word`` repeats a short flag (``-vv`` for a counted ``-v``)."""
    repeated = re.fullmatch(r"-(\w)\1+", word)
    return repeated is not None and f"-{repeated.group(1)}" in flags


def resolve(root: Any, words: list[str]) -> tuple[Any, list[str]]:
    """The (Click) command a line names, and the words after its path."""
    command = root
    rest = list(words)
    while is_group(command) and rest and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    return command, rest


@pytest.mark.parametrize("title", REQUIRED_SECTIONS)
def test_the_page_covers_each_everyday_operation(title: str) -> None:
    assert f"## {title}\n" in doc_text()


def test_every_command_line_names_a_real_command_and_its_real_flags() -> None:
    root = typer.main.get_command(build_app())
    lines = shell_lines()
    assert any(line.startswith("kitaru clean ") for line in lines)
    assert any(line.startswith("kitaru executions prune ") for line in lines)
    problems = []
    for line in lines:
        # Options in brackets and alternatives (``[-v|-vv]``) are checked like the others; values
        # are never flags here, so splitting on blanks is enough (shell quoting is not needed).
        words = re.sub(r"[\[\]|]", " ", line.replace("...", "")).split()[1:]
        command, rest = resolve(root, words)
        if is_group(command):
            problems.append(f"{line}: names no command")
            continue
        flags = {flag for param in command.params for flag in (*param.opts, *param.secondary_opts)}
        unknown = [word for word in rest if word.startswith("-") and word not in flags and not counted(word, flags)]
        if unknown:
            problems.append(f"{line}: {command.name} has no {unknown}")
    assert problems == []


def test_short_ids_state_the_code_minimum() -> None:
    text = section("Short ids")
    assert f"at least {MIN_PREFIX_LENGTH} characters" in text
    assert f"Fewer than {MIN_PREFIX_LENGTH} characters is refused" in text
    # The examples use prefixes the rule accepts.
    for prefix in re.findall(r"kitaru executions \w+ ([0-9A-Fa-f]+)\b", text):
        assert len(prefix) >= MIN_PREFIX_LENGTH, prefix


def test_every_prune_duration_the_page_names_parses() -> None:
    durations = re.findall(r"`(\d[\dsmhdw]*[smhdw])`", section("Delete and prune"))
    assert {"45s", "90m", "12h", "30d", "2w", "1d12h"} <= set(durations)
    for duration in durations:
        assert parse_duration(duration).total_seconds() > 0, duration
    assert parse_duration("1d12h").total_seconds() == 36 * 3600


def test_the_backup_name_is_the_one_clean_writes(tmp_path: Path) -> None:
    shown = re.search(r"`~/.config/(kitaru-backup-(\d{8}-\d{6})\.db)`", section("Clean"))
    assert shown is not None
    datetime.strptime(shown.group(2), "%Y%m%d-%H%M%S")
    directory = tmp_path / "kitaru"
    (chosen,) = backup_destinations(directory, (directory / "zenml.db",), shown.group(2))
    assert chosen == tmp_path / shown.group(1)


def test_live_status_timings_and_the_child_call_type_are_the_code_s() -> None:
    looking = section("Looking at executions")
    assert f"longer than {STATUS_AFTER_SECONDS:g} s" in looking
    assert f"appears at {FIRST_NOTICE_SECONDS:g} s" in looking
    assert f"`{FLOW_CALL_TYPE}` checkpoint" in section("Child flows")

"""``docs/primitives.md`` against the code: its commands parse, its Python names exist, its numbers are the code's.

The page teaches the durable primitives of issue 16 (timeouts, durable sleep,
idempotent starts, events, schedules, traces, bulk retry). This test reads it
without running anything:

* every ``kitaru …`` command of its shell and crontab blocks parses against
  the real CLI (command, flags, arguments), and the page shows each
  primitive's commands;
* every ``kitaru.name`` it mentions exists, every ``KitaruClient().group.method``
  is a real method, every keyword it passes to ``@kitaru.flow``,
  ``@kitaru.checkpoint``, ``.run(...)`` and the client methods is a real
  parameter, and every Python block compiles;
* every ``Kitaru…Error`` it names is a Kitaru exception and every
  ``KITARU_*`` variable a setting.

The end-to-end tests of each primitive (``tests/core``, ``tests/lifecycle``)
run the real flows; this file only catches a page that drifted from the code.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import shlex
from typing import Any

import pytest
from tests.conftest import REPO_ROOT
from tests.meta.doc_commands import kitaru_commands, refusal

import kitaru
import kitaru.errors
import kitaru.schedules  # a submodule: the page imports it before using kitaru.schedules.*
from kitaru.client.client import KitaruClient
from kitaru.flows import FlowDefinition
from kitaru.settings import KitaruSettings

DOC = REPO_ROOT / "docs" / "primitives.md"
SECTIONS = (
    "Timeouts",
    "Durable sleep",
    "Idempotent starts",
    "Events: `receive` and `send`",
    "Schedules",
    "OpenTelemetry traces",
    "Bulk retry",
)
EXPECTED_COMMANDS = (
    "executions resume --due",
    "run --idempotency-key",
    "executions send",
    "schedule create",
    "schedule list",
    "schedule delete",
    "schedule run-due",
    "executions retry --status",
)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(heading: str) -> str:
    text = doc_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc_text(), re.S)


@pytest.mark.parametrize("heading", SECTIONS)
def test_each_primitive_has_its_written_section(heading: str) -> None:
    body = section(heading)
    assert "section owned by" not in body, f"'{heading}' still holds its placeholder"
    assert len(body.split()) > 60, f"'{heading}' is too short to teach anything"


def test_every_command_parses_and_each_primitive_shows_its_commands() -> None:
    commands = kitaru_commands(doc_text())
    refused = [f"kitaru {shlex.join(args)}\n  {reason}" for args in commands if (reason := refusal(args))]
    assert not refused, "docs/primitives.md shows commands the CLI refuses:\n" + "\n".join(refused)
    lines = [" ".join(args) for args in commands]
    missing = [expected for expected in EXPECTED_COMMANDS if not any(expected_in(expected, line) for line in lines)]
    assert not missing, f"docs/primitives.md shows no command for: {missing}"


def expected_in(expected: str, line: str) -> bool:
    words = expected.split()
    command = [word for word in words if not word.startswith("-")]
    flags = [word for word in words if word.startswith("-")]
    return line.split()[: len(command)] == command and all(flag in line.split() for flag in flags)


def test_every_python_block_compiles() -> None:
    blocks = python_blocks()
    assert blocks, "the page shows no Python"
    for block in blocks:
        ast.parse(block)


def dotted(root: Any, path: str) -> Any:
    value = root
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_every_kitaru_name_exists() -> None:
    names = set(re.findall(r"\bkitaru\.((?:[a-z_][a-zA-Z0-9_]*\.)*[a-zA-Z_][a-zA-Z0-9_]*)", doc_text()))
    names -= {"yaml"}  # the kitaru.yaml file
    assert {"sleep", "sleep_until", "receive"} <= names
    missing = []
    for name in sorted(names):
        try:
            dotted(kitaru, name)
        except AttributeError:
            missing.append(f"kitaru.{name}")
    assert not missing, f"docs/primitives.md names what kitaru does not have: {missing}"


def client_calls() -> list[tuple[str, str, list[str]]]:
    """``(group, method, keywords)`` of every ``KitaruClient().group.method(...)`` on the page."""
    calls = []
    for group, method, arguments in re.findall(r"KitaruClient\(\)\.(\w+)\.(\w+)\(([^)]*)\)", doc_text()):
        calls.append((group, method, re.findall(r"\b(\w+)=", arguments)))
    return calls


def test_every_client_method_and_keyword_exists() -> None:
    calls = client_calls()
    assert {"send"} <= {method for _, method, _ in calls}
    client = KitaruClient()  # builds the API objects only; nothing is read until a method runs
    problems = []
    for group, method, keywords in calls:
        function = getattr(getattr(client, group, None), method, None)
        if function is None:
            problems.append(f"KitaruClient().{group}.{method}")
            continue
        parameters = inspect.signature(function).parameters
        problems += [f"{group}.{method}({keyword}=)" for keyword in keywords if keyword not in parameters]
    assert not problems, f"docs/primitives.md names client calls that do not exist: {problems}"


@pytest.mark.parametrize(
    ("pattern", "function"),
    [
        (r"@kitaru\.flow\(([^)]*)\)", kitaru.flow),
        (r"@kitaru\.checkpoint\(([^)]*)\)", kitaru.checkpoint),
    ],
)
def test_every_decorator_keyword_is_a_real_parameter(pattern: str, function: Any) -> None:
    keywords = {
        keyword for arguments in re.findall(pattern, doc_text()) for keyword in re.findall(r"\b(\w+)=", arguments)
    }
    assert "timeout" in keywords
    parameters = inspect.signature(function).parameters
    assert keywords <= set(parameters), sorted(keywords - set(parameters))


def test_run_keywords_are_real_parameters() -> None:
    keywords = {
        keyword
        for arguments in re.findall(r"\.run\(([^)]*)\)", doc_text())
        for keyword in re.findall(r"\b(\w+)=", arguments)
    }
    assert "idempotency_key" in keywords
    parameters = inspect.signature(FlowDefinition.run).parameters
    assert keywords <= set(parameters), sorted(keywords - set(parameters))


def test_every_error_named_is_a_kitaru_exception() -> None:
    named = set(re.findall(r"\bKitaru\w*Error\b", doc_text()))
    assert "KitaruTimeoutError" in named
    missing = sorted(name for name in named if not isinstance(getattr(kitaru.errors, name, None), type))
    assert not missing, f"docs/primitives.md names errors that do not exist: {missing}"


def test_every_kitaru_variable_is_a_setting() -> None:
    named = set(re.findall(r"\bKITARU_[A-Z0-9_]*[A-Z0-9]\b", doc_text()))
    settings = {KitaruSettings.variable(field.name) for field in dataclasses.fields(KitaruSettings)}
    unknown = sorted(named - settings)
    assert not unknown, f"docs/primitives.md names variables Kitaru does not read: {unknown}"

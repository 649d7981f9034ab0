"""Keep ``docs/diff.md`` in step with ``kitaru executions diff`` and ``kitaru.client.diff``.

The page's command lines must parse with the real CLI; its JSON example must
have exactly the keys the code emits (the diff is a tree of dataclasses that
:func:`kitaru.jsonable.to_jsonable` turns into JSON field by field); its
tables must list exactly the code's change kinds and changed-call fields, in
the code's order; the client method and the MCP tool it names must exist.
No engine is needed.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.meta.doc_commands import kitaru_commands, refusal

from kitaru._llm.usage import summarize
from kitaru.client import ExecutionsAPI
from kitaru.client.diff import (
    CALL_FIELDS,
    CHANGE_KINDS,
    LLM_TOTALS,
    TOKEN_KEYS,
    CallDiff,
    CallSide,
    ExecutionDiff,
    InputsDiff,
    LlmDiff,
    ResultDiff,
)
from kitaru.mcp import server

DOC = (Path(__file__).resolve().parents[2] / "docs" / "diff.md").read_text()


def fields(model: type) -> set[str]:
    return {field.name for field in dataclasses.fields(model)}


def section(heading: str) -> str:
    """The text under ``heading`` up to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#)", DOC, re.S | re.M)
    assert match, f"docs/diff.md has no section {heading!r}"
    return match.group(1)


def first_column(text: str) -> list[str]:
    """The backticked first cell of each table row of ``text``."""
    return re.findall(r"^\| `([^`]+)` \|", text, re.M)


def example() -> dict[str, Any]:
    [block] = re.findall(r"```json\n(.*?)```", DOC, re.S)
    return json.loads(block)


def test_every_command_line_parses() -> None:
    commands = kitaru_commands(DOC)
    assert [args[:2] for args in commands] == [["executions", "diff"]] * 3
    assert {"--full", "-o"} <= {word for args in commands for word in args}
    for args in commands:
        assert refusal(args) is None, (args, refusal(args))


def test_the_change_kinds_and_fields_are_the_codes() -> None:
    kinds = section("Change kinds")
    table, fields_table = kinds.split("A changed call lists these fields")
    assert tuple(first_column(table)) == CHANGE_KINDS
    assert tuple(first_column(fields_table)) == CALL_FIELDS


def test_the_json_example_has_exactly_the_keys_the_code_emits() -> None:
    item = example()
    assert set(item) == fields(ExecutionDiff)
    assert set(item["counts"]) == set(CHANGE_KINDS)
    assert set(item["flows"]) == set(item["status"]) == {"a", "b"}
    for call in item["checkpoints"]:
        assert set(call) == fields(CallDiff)
        assert call["change"] in CHANGE_KINDS
        assert set(call["changed"]) <= set(CALL_FIELDS)
        sides = [side for side in (call["a"], call["b"]) if side is not None]
        assert sides
        for side in sides:
            assert set(side) == fields(CallSide)
            assert set(side["tokens"]) == set(TOKEN_KEYS)
    assert {call["change"] for call in item["checkpoints"]} >= {"changed", "removed"}
    assert set(item["inputs"]) == fields(InputsDiff)
    assert set(item["result"]) == fields(ResultDiff)
    assert set(item["llm"]) == fields(LlmDiff)
    assert set(item["llm"]["changed"]) <= set(LLM_TOTALS)
    # Each side's llm is the execution's llm_usage, as kitaru._llm.usage sums it.
    entry = {"tokens_input": 1, "tokens_output": 2, "cost_usd": 0.1}
    usage = summarize([SimpleNamespace(attempts=[], metadata={"llm_calls": {"x": entry}})])
    assert usage is not None
    assert set(item["llm"]["a"]) == set(item["llm"]["b"]) == set(usage)


def test_the_prose_names_the_totals_and_the_side_fields() -> None:
    json_section = section("JSON")
    for name in LLM_TOTALS:
        assert f"`{name}`" in json_section.split("* `llm`:", 1)[1].split("* `counts`")[0], name
    sides = json_section.split("Each side has", 1)[1].split("* `inputs`")[0]
    assert set(re.findall(r"`(\w+)`", sides)) == fields(CallSide) | set(TOKEN_KEYS)


def test_the_client_method_and_the_mcp_tool_exist() -> None:
    assert list(inspect.signature(ExecutionsAPI.diff).parameters) == ["self", "a", "b"]
    assert "executions.diff(" in DOC
    assert "kitaru_executions_diff" in server.TOOL_NAMES
    assert "`kitaru_executions_diff(a, b)`" in DOC

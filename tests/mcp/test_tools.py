"""In-process checks of the MCP tools' own logic (no engine, no server process).

The behaviour against real executions is tested over stdio in test_server.py;
these cover the parts that decide before anything is run: the target policy,
the shallow wait-input type check, artifact value rendering and manage_stack's
option rules.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel

from kitaru.client.models import PendingWait
from kitaru.errors import KitaruUsageError, KitaruWaitValidationError
from kitaru.mcp import server
from kitaru.mcp.executions import TargetPolicy, check_schema_type
from kitaru.mcp.system import describe_value, manage_stack
from kitaru.targets import TargetNotAllowedError

FLOW_FILE = "import kitaru\n\n@kitaru.flow\ndef {name}() -> None:\n    pass\n"


def _wait(schema: dict | None) -> PendingWait:
    return PendingWait(wait_id="0" * 32, name="approve", question=None, schema=schema)


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "boolean"}, [True, False], ["yes", 1, None]),
        ({"type": "integer"}, [0, 42], [True, 1.5, "1"]),
        ({"type": "number"}, [1, 2.5], [False, "2"]),
        ({"type": "string"}, ["", "x"], [1, None]),
        ({"type": "object", "properties": {}}, [{}, {"a": 1}], [[], "x"]),
        ({"type": "array"}, [[], [1]], [{}, "x"]),
        ({"type": ["string", "null"]}, ["x", None], [1]),
    ],
)
def test_input_type_check(schema: dict, good: list, bad: list) -> None:
    for value in good:
        check_schema_type(_wait(schema), value)
    for value in bad:
        with pytest.raises(KitaruWaitValidationError, match="expected JSON type"):
            check_schema_type(_wait(schema), value)


def test_input_type_check_skips_schemas_without_a_known_type() -> None:
    check_schema_type(_wait(None), "anything")
    check_schema_type(_wait({"anyOf": [{"type": "string"}]}), 3)
    check_schema_type(_wait({"type": "custom"}), 3)


class Model(BaseModel):
    name: str


@dataclasses.dataclass
class Record:
    size: int


def test_artifact_values_are_json_or_repr() -> None:
    assert describe_value({"a": [1, "x"]}) == ({"a": [1, "x"]}, "json", "dict")
    assert describe_value("text") == ("text", "json", "str")
    assert describe_value(Model(name="n")) == ({"name": "n"}, "json", f"{__name__}.Model")
    assert describe_value(Record(3)) == ({"size": 3}, "json", f"{__name__}.Record")
    assert describe_value({1, 2}) == ("{1, 2}", "repr", "set")
    assert describe_value(float("nan")) == ("nan", "repr", "float")


def test_manage_stack_rejects_options_of_the_other_action() -> None:
    with pytest.raises(KitaruUsageError, match=r"does not take artifact_store, verify: those options apply to action='create' only"):
        manage_stack("delete", "s", artifact_store="s3://b", verify=False)
    with pytest.raises(KitaruUsageError, match=r"does not take force: that option applies to action='delete'"):
        manage_stack("create", "s", force=True)
    with pytest.raises(KitaruUsageError, match="Unsupported action"):
        manage_stack("", "s")
    with pytest.raises(KitaruUsageError, match="Unknown manage_stack options: colour"):
        manage_stack("create", "s", colour="red")
    with pytest.raises(KitaruUsageError, match="extra must be an object"):
        manage_stack("create", "s", extra=["orchestrator"])
    # Defaults and blank strings of the other action count as not given.
    with pytest.raises(KitaruUsageError, match="delete_stack\\(\\) needs a stack name"):
        manage_stack("DELETE", " ", stack_type="local", region="", activate=True)


def test_target_policy_restricts_to_the_working_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "sub" / "inside_flows_a.py").write_text(FLOW_FILE.format(name="inside"))
    (tmp_path / "outside_flows_a.py").write_text(FLOW_FILE.format(name="outside"))

    strict = TargetPolicy(root=project)
    assert strict.load("sub/inside_flows_a.py:inside").flow.name == "inside"
    with pytest.raises(TargetNotAllowedError) as refused:
        strict.load("../outside_flows_a.py:outside")
    assert "--allow-any-target" in str(refused.value)
    assert "KITARU_MCP_ALLOW_ANY_TARGET=1" in str(refused.value)

    relaxed = TargetPolicy(root=project, allow_any=True)
    assert relaxed.load("../outside_flows_a.py:outside").flow.name == "outside"


def test_the_flag_and_the_environment_allow_any_target(monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.parse_args([]).allow_any_target is False
    assert server.parse_args(["--allow-any-target"]).allow_any_target is True
    monkeypatch.setenv("KITARU_MCP_ALLOW_ANY_TARGET", "1")
    assert server.allows_any_target(server.parse_args([])) is True
    monkeypatch.setenv("KITARU_MCP_ALLOW_ANY_TARGET", "0")
    assert server.allows_any_target(server.parse_args([])) is False
    assert server.allows_any_target(server.parse_args(["--allow-any-target"])) is True


def test_server_is_named_kitaru_and_registers_every_tool(tmp_path: Path) -> None:
    built = server.build_server(root=tmp_path)
    assert built.name == "kitaru"
    tools = anyio.run(built.list_tools)
    assert [tool.name for tool in tools] == list(server.TOOL_NAMES)
    run = next(tool for tool in tools if tool.name == "kitaru_executions_run")
    assert run.input_schema["required"] == ["target"]
    assert "--allow-any-target" in (run.description or "")


def test_docs_describe_every_tool_and_the_target_flag() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mcp.md").read_text()
    documented = re.findall(r"^#### `(\w+)\(", docs, re.M)
    assert sorted(documented) == sorted(server.TOOL_NAMES)
    assert "pip install 'kitaru[mcp]'" in docs
    assert "--allow-any-target" in docs and "KITARU_MCP_ALLOW_ANY_TARGET=1" in docs

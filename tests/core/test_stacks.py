"""Stack helpers and the ``kitaru stack`` CLI (SPEC §2.9, §4.3, §5.4 local row).

In-process tests share the session config dir with other tests that run
flows on the active stack, so each one uses unique stack names and the
``restore_default`` fixture reactivates ``default`` afterwards. CLI tests run
the real console script in a subprocess with a fresh config dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kitaru.stacks as stacks
from kitaru.engine import get_engine
from kitaru.engine.stacks import NewComponent
from kitaru.errors import KitaruStateError
from tests.conftest import run_python, subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _engine_client() -> Any:
    """ZenML's client, to check what the engine really stores."""
    from kitaru._engine.bootstrap import client

    return client()


def _component_names(target: str) -> set[str]:
    from zenml.utils.pagination_utils import depaginate

    return {c.name for c in depaginate(_engine_client().list_stack_components, type=target)}


@pytest.fixture
def restore_default() -> Iterator[list[str]]:
    """Names appended here are deleted (recursively) after the test; 'default' is reactivated."""
    created: list[str] = []
    yield created
    stacks.use_stack("default")
    for name in created:
        try:
            stacks.delete_stack(name, recursive=True, force=True)
        except KitaruStateError:
            pass
    assert stacks.current_stack().name == "default"


def kitaru_cli(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1"),
        cwd=config_dir.parent,
        timeout=300,
    )


def cli_json(config_dir: Path, *args: str) -> dict[str, Any]:
    result = kitaru_cli(config_dir, *args, "-o", "json")
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    return json.loads(result.stdout)


def cli_json_error(config_dir: Path, command: str, *args: str) -> dict[str, Any]:
    result = kitaru_cli(config_dir, *args, "-o", "json")
    assert result.returncode == 1, result
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert payload["command"] == command
    return payload["error"]


# -- Python API (in-process, real store) -----------------------------------------


def test_create_stack_registers_managed_local_stack(restore_default: list[str]) -> None:
    name = _unique("py-dev")
    restore_default.append(name)
    info = stacks.create_stack(name, labels={"team": "agents"})
    assert info.name == name and info.is_active
    assert stacks.current_stack().name == name
    details = stacks.stack_details(name)
    assert details.is_managed and details.stack_type == "local"
    assert details.labels == {"team": "agents", "kitaru.managed": "true", "kitaru.stack_type": "local"}
    assert {(c.type, c.name, c.flavor) for c in details.components} == {
        ("orchestrator", name, "local"),
        ("artifact_store", name, "local"),
    }
    assert name in {s.name for s in stacks.list_stacks()}


def test_create_stack_no_activate_and_duplicate(restore_default: list[str]) -> None:
    name = _unique("py-dup")
    restore_default.append(name)
    info = stacks.create_stack(name, activate=False)
    assert not info.is_active
    assert stacks.current_stack().name == "default"
    with pytest.raises(KitaruStateError, match="already exists"):
        stacks.create_stack(name)
    assert [s.name for s in stacks.list_stacks()].count(name) == 1


def test_create_stack_rolls_back_when_stack_registration_fails(
    restore_default: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _unique("py-broken")
    restore_default.append(name)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("stack registration exploded")

    monkeypatch.setattr(get_engine().stacks, "register_stack", boom)
    with pytest.raises(RuntimeError, match="exploded"):
        stacks.create_stack(name)
    monkeypatch.undo()
    assert name not in _component_names("orchestrator")
    assert name not in _component_names("artifact_store")
    assert name not in {s.name for s in stacks.list_stacks()}
    assert stacks.current_stack().name == "default"
    # The name is free again: creating it now works.
    assert stacks.create_stack(name, activate=False).name == name


def test_create_stack_rolls_back_when_second_component_fails(
    restore_default: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _unique("py-half")
    restore_default.append(name)
    real = get_engine().stacks.register_component

    def second_fails(component: NewComponent) -> str:
        if component.type == "artifact_store":
            raise RuntimeError("artifact store refused")
        return real(component)

    monkeypatch.setattr(get_engine().stacks, "register_component", second_fails)
    with pytest.raises(RuntimeError, match="refused"):
        stacks.create_stack(name)
    assert name not in _component_names("orchestrator")


def test_delete_stack_rules(restore_default: list[str]) -> None:
    name = _unique("py-del")
    restore_default.append(name)
    stacks.create_stack(name)
    with pytest.raises(KitaruStateError, match="force"):
        stacks.delete_stack(name)
    assert name in {s.name for s in stacks.list_stacks()}
    with pytest.raises(KitaruStateError, match="default"):
        stacks.delete_stack("default", force=True)
    assert stacks.delete_stack(name, force=True, recursive=True) is None
    assert stacks.current_stack().name == "default"
    assert name not in {s.name for s in stacks.list_stacks()}
    assert name not in _component_names("orchestrator")
    assert name not in _component_names("artifact_store")
    with pytest.raises(KitaruStateError, match="No stack"):
        stacks.delete_stack(name)


def test_delete_without_recursive_keeps_components(restore_default: list[str]) -> None:
    name = _unique("py-keep")
    stacks.create_stack(name, activate=False)
    stacks.delete_stack(name)
    assert name not in {s.name for s in stacks.list_stacks()}
    assert name in _component_names("orchestrator")
    assert name in _component_names("artifact_store")
    from zenml.enums import StackComponentType

    for target in ("orchestrator", "artifact_store"):
        model = _engine_client().get_stack_component(StackComponentType(target), name)
        get_engine().stacks.delete_component(target, str(model.id))


# -- CLI (subprocess, fresh config dir) -------------------------------------------


def test_cli_round_trip_and_json_shapes(fresh_config_dir: Path, tmp_path: Path) -> None:
    artifacts = tmp_path / "dev-artifacts"
    text = kitaru_cli(fresh_config_dir, "stack", "create", "dev", "--extra", f"artifact_store.path={artifacts}")
    assert text.returncode == 0, text.stderr
    assert "Created stack: dev (local)" in text.stdout
    assert "Active stack: default → dev" in text.stdout

    created = cli_json(fresh_config_dir, "stack", "create", "other", "--no-activate")
    assert created["command"] == "stack.create"
    item = created["item"]
    assert set(item) == {"id", "name", "is_active", "previous_active_stack", "components_created", "stack_type"}
    assert item["name"] == "other" and item["is_active"] is False
    assert item["previous_active_stack"] == "dev" and item["stack_type"] == "local"
    assert len(item["components_created"]) == 2

    listed = cli_json(fresh_config_dir, "stack", "list")
    assert listed["count"] == 3
    by_name = {i["name"]: i for i in listed["items"]}
    assert set(by_name) == {"default", "dev", "other"}
    assert all(set(i) == {"id", "name", "is_active", "is_managed"} for i in listed["items"])
    assert by_name["dev"]["is_active"] and not by_name["other"]["is_active"]
    assert by_name["dev"]["is_managed"] and not by_name["default"]["is_managed"]

    text_list = kitaru_cli(fresh_config_dir, "stack", "list")
    assert f"dev: {by_name['dev']['id']} (active)" in text_list.stdout

    shown = cli_json(fresh_config_dir, "stack", "show", "dev")["item"]
    assert set(shown) == {"id", "name", "is_active", "is_managed", "stack_type", "components"}
    assert shown["stack_type"] == "local" and shown["is_managed"] and shown["is_active"]
    roles = {c["role"]: c for c in shown["components"]}
    assert roles["Runner"]["name"] == "dev" and roles["Runner"]["backend"] == "local"
    assert roles["Storage"]["details"] == str(artifacts)
    show_text = kitaru_cli(fresh_config_dir, "stack", "show", "dev").stdout
    for label in ("Name", "ID", "Type", "Active", "Managed", "Runner", "Storage"):
        assert label in show_text

    used = cli_json(fresh_config_dir, "stack", "use", "other")["item"]
    assert used["name"] == "other"
    assert cli_json(fresh_config_dir, "stack", "current")["item"]["name"] == "other"

    error = cli_json_error(fresh_config_dir, "stack.delete", "stack", "delete", "other")
    assert "force" in error["message"] and error["type"] == "KitaruStateError"

    deleted = cli_json(fresh_config_dir, "stack", "delete", "other", "--force", "--recursive")["item"]
    assert deleted == {
        "deleted_stack": "other",
        "components_deleted": ["orchestrator:other", "artifact_store:other"],
        "new_active_stack": "default",
        "recursive": True,
    }
    text_delete = kitaru_cli(fresh_config_dir, "stack", "delete", "dev", "--recursive")
    assert text_delete.returncode == 0, text_delete.stderr
    assert "Deleted stack: dev" in text_delete.stdout
    assert "Active stack: default" in text_delete.stdout
    names = [i["name"] for i in cli_json(fresh_config_dir, "stack", "list")["items"]]
    assert names == ["default"]

    dup = kitaru_cli(fresh_config_dir, "stack", "create", "default")
    assert dup.returncode == 1 and "already exists" in dup.stderr


def test_cli_flow_runs_on_created_stack_artifact_dir(fresh_config_dir: Path, tmp_path: Path) -> None:
    artifacts = tmp_path / "stack-artifacts"
    created = cli_json(fresh_config_dir, "stack", "create", "onstack", "--extra", f"artifact_store.path={artifacts}")
    assert created["item"]["is_active"]
    script = tmp_path / "flow_on_stack.py"
    script.write_text(
        textwrap.dedent(
            """
            import kitaru

            @kitaru.checkpoint
            def double(n: int) -> int:
                return n * 2

            @kitaru.flow
            def doubler(n: int) -> int:
                return double(n)

            if __name__ == "__main__":
                print("RESULT", doubler.run(21).wait())
            """
        )
    )
    result = run_python(script, fresh_config_dir)
    assert result.returncode == 0, result.stderr
    assert "RESULT 42" in result.stdout
    assert artifacts.is_dir()
    assert [p for p in artifacts.rglob("*") if p.is_file()], "no artifact files under the stack's path"


def test_cli_extra_values_are_yaml_parsed_and_validated(fresh_config_dir: Path) -> None:
    bad_target = cli_json_error(
        fresh_config_dir, "stack.create", "stack", "create", "x", "--extra", "container_registry.uri=r.io"
    )
    assert "container_registry" in bad_target["message"]
    malformed = cli_json_error(fresh_config_dir, "stack.create", "stack", "create", "x", "--extra", "nodot")
    assert "TARGET.FIELD=VALUE" in malformed["message"]
    names = [i["name"] for i in cli_json(fresh_config_dir, "stack", "list")["items"]]
    assert names == ["default"]


def test_parse_extras_yaml_and_deep_merge() -> None:
    from kitaru.cli.stack import parse_extras

    parsed = parse_extras(
        ["orchestrator.a=true", "orchestrator.n=3", "orchestrator.l=[1, 2]", "orchestrator.x.y=1",
         "orchestrator.x={z: 2}", "artifact_store.path=/d"],
        allowed_targets=("orchestrator", "artifact_store"),
    )
    assert parsed == {
        "orchestrator": {"a": True, "n": 3, "l": [1, 2], "x": {"y": 1, "z": 2}},
        "artifact_store": {"path": "/d"},
    }


def test_cli_unsupported_type(fresh_config_dir: Path) -> None:
    error = cli_json_error(fresh_config_dir, "stack.create", "stack", "create", "x", "--type", "nomad")
    assert error["message"] == (
        "Unsupported stack type: nomad. Use 'local', 'kubernetes', 'vertex', 'sagemaker', or 'azureml'."
    )


# -- remote types: service connectors (AWS plugin, no cloud contacted: --no-verify) -----

SAGEMAKER_FIELDS = {
    "artifact_store": "s3://team-bucket/kitaru",
    "container_registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "region": "eu-west-1",
    "execution_role": "arn:aws:iam::123456789012:role/kitaru",
    "credentials": "aws-access-keys:AKIAEXAMPLEKEY:not-a-real-secret",
}


def _connector_names() -> set[str]:
    from zenml.utils.pagination_utils import depaginate

    return {c.name for c in depaginate(_engine_client().list_service_connectors)}


def test_remote_stack_registers_a_connector_and_recursive_delete_removes_it(
    restore_default: list[str],
) -> None:
    name = _unique("sm")
    restore_default.append(name)
    result = stacks.create_stack_with_summary(
        name, stack_type="sagemaker", fields=SAGEMAKER_FIELDS, verify=False, activate=False
    )
    assert result["service_connectors_created"] == [name]
    assert result["resources"]["provider"] == "aws"
    assert name in _connector_names()
    assert stacks.stack_details(name).stack_type == "sagemaker"
    deleted = stacks.delete_stack_with_summary(name, recursive=True)
    assert sorted(deleted["components_deleted"]) == sorted(
        f"{target}:{name}" for target in ("orchestrator", "artifact_store", "container_registry")
    )
    assert deleted["service_connectors_deleted"] == [name]
    assert name not in _connector_names()


def test_remote_stack_creation_rolls_back_the_connector_too(
    monkeypatch: pytest.MonkeyPatch, restore_default: list[str]
) -> None:
    name = _unique("sm-half")
    restore_default.append(name)

    def refuse(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("stack registration refused")

    monkeypatch.setattr(get_engine().stacks, "register_stack", refuse)
    with pytest.raises(RuntimeError, match="refused"):
        stacks.create_stack_with_summary(name, stack_type="sagemaker", fields=SAGEMAKER_FIELDS, verify=False)
    assert name not in _connector_names()
    for target in ("orchestrator", "artifact_store", "container_registry"):
        assert name not in _component_names(target)
    assert stacks.current_stack().name == "default"


def test_invalid_extra_is_caught_before_anything_is_registered(restore_default: list[str]) -> None:
    from kitaru.errors import KitaruUsageError

    name = _unique("sm-bad")
    restore_default.append(name)
    fields = {**SAGEMAKER_FIELDS, "extra": {"orchestrator": {"instance_typ": "ml.m5.large"}}}
    with pytest.raises(KitaruUsageError) as excinfo:
        stacks.create_stack_with_summary(name, stack_type="sagemaker", fields=fields, verify=False)
    assert "'instance_typ' (did you mean instance_type?)" in str(excinfo.value)
    assert name not in _connector_names()
    assert name not in _component_names("orchestrator")

"""A stack type's fields are its whole interface: flags, ``--file`` keys, MCP parameters, messages.

A throwaway distribution, found only through its ``kitaru`` entry point,
declares a stack type ``shelfy`` with its own required field ``app_dir``.
Nothing in core names that field, yet:

* ``kitaru stack create --help`` lists ``--app-dir`` with the field's help;
* leaving it out is an error naming ``--app-dir`` (``app_dir`` from Python);
* ``kitaru stack create s --type shelfy --app-dir DIR`` creates the stack, and
  so does a ``--file`` with ``app_dir:``;
* ``kitaru stack types`` lists the type and its flag;
* the MCP ``manage_stack`` tool has an ``app_dir`` parameter and creates it.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution
from tests.conftest import subprocess_env

SHELFY_PLUGIN = '''
import kitaru
from kitaru.plugins import ComponentSpec, StackComponents, StackField, StackProviderSpec, StackSpec


def build(spec: StackSpec) -> StackComponents:
    return StackComponents(
        orchestrator=ComponentSpec("local"),
        artifact_store=ComponentSpec("local", {"path": spec.require("app_dir")}),
    )


SHELFY = StackProviderSpec(
    name="shelfy",
    description="Runs flows here; artifacts on a shelf directory.",
    fields=(
        StackField("app_dir", "Directory the shelf keeps artifacts in.", required=True,
                   example="/srv/shelf", label="Shelf"),
        StackField("credentials", "Unused; shelves need none."),
    ),
    build_components=build,
)


@kitaru.hookimpl
def kitaru_stack_providers():
    yield SHELFY
'''


@pytest.fixture
def shelfy(tmp_path: Path) -> ThrowawayDistribution:
    return make_distribution(
        tmp_path / "site",
        "kitaru-shelfy",
        version="0.1",
        modules={"kitaru_shelfy": SHELFY_PLUGIN},
        entry_points={"shelfy": "kitaru_shelfy"},
    )


@pytest.fixture
def activated(shelfy: ThrowawayDistribution) -> Iterator[ThrowawayDistribution]:
    with shelfy.activated():
        yield shelfy


def kitaru(dist: ThrowawayDistribution, config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dist.env(subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1"))
    return subprocess.run(
        [sys.executable, "-m", "kitaru.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=config_dir.parent,
        timeout=300,
    )


def test_the_fields_flag_is_in_the_help_and_its_absence_is_named(
    shelfy: ThrowawayDistribution, fresh_config_dir: Path
) -> None:
    help_text = kitaru(shelfy, fresh_config_dir, "stack", "create", "--help")
    assert help_text.returncode == 0, help_text.stderr
    flat = " ".join(help_text.stdout.split())
    assert "--app-dir" in flat
    assert "Directory the shelf keeps artifacts in (shelfy)." in flat
    assert "shelfy" in flat.split("--type", 1)[1], "the --type help lists the installed types"

    missing = kitaru(shelfy, fresh_config_dir, "stack", "create", "s", "--type", "shelfy", "-o", "json")
    assert missing.returncode == 1
    error = json.loads(missing.stderr)["error"]
    assert error["message"] == "--type shelfy requires: --app-dir."

    misplaced = kitaru(shelfy, fresh_config_dir, "stack", "create", "s", "--app-dir", "/x")
    assert misplaced.returncode == 1
    assert "Shelfy-only options require --type shelfy: --app-dir (got --type local)." in misplaced.stderr

    types = kitaru(shelfy, fresh_config_dir, "stack", "types", "-o", "json")
    assert types.returncode == 0, types.stderr
    [item] = [item for item in json.loads(types.stdout)["items"] if item["name"] == "shelfy"]
    assert item["installed"] is True and item["plugin"] == "shelfy"
    assert item["fields"][0] == {
        "name": "app_dir",
        "flag": "--app-dir",
        "required": True,
        "description": "Directory the shelf keeps artifacts in.",
        "example": "/srv/shelf",
    }


def test_the_flag_and_the_file_key_create_the_stack(
    shelfy: ThrowawayDistribution, fresh_config_dir: Path, tmp_path: Path
) -> None:
    shelf = tmp_path / "shelf"
    created = kitaru(
        shelfy, fresh_config_dir, "stack", "create", "s1", "--type", "shelfy", "--app-dir", str(shelf)
    )
    assert created.returncode == 0, created.stderr
    assert "Created stack: s1 (shelfy)" in created.stdout
    assert f"Shelf: {shelf}" in created.stdout, "the summary uses the field's label"

    stack_file = tmp_path / "stack.yaml"
    stack_file.write_text(f"name: s2\ntype: shelfy\napp-dir: {shelf}/two\nactivate: false\n", encoding="utf-8")
    from_file = kitaru(shelfy, fresh_config_dir, "stack", "create", "--file", str(stack_file), "-o", "json")
    assert from_file.returncode == 0, from_file.stderr
    result = json.loads(from_file.stdout)["item"]
    assert result["stack_type"] == "shelfy"
    assert result["resources"] == {"app_dir": f"{shelf}/two"}

    shown = kitaru(shelfy, fresh_config_dir, "stack", "show", "s2", "-o", "json")
    assert json.loads(shown.stdout)["item"]["stack_type"] == "shelfy", "read back as the type it was created as"
    storage = [c for c in json.loads(shown.stdout)["item"]["components"] if c["role"] == "Storage"]
    assert storage[0]["details"] == f"{shelf}/two"


def test_the_mcp_tool_has_one_parameter_per_field(activated: ThrowawayDistribution) -> None:
    from kitaru.mcp.server import manage_stack_tool

    parameters = inspect.signature(manage_stack_tool()).parameters
    assert "app_dir" in parameters
    assert list(parameters)[:6] == ["action", "name", "activate", "recursive", "force", "stack_type"]
    assert list(parameters)[-4:] == ["options", "extra", "async_mode", "verify"]

    from kitaru.mcp.system import manage_stack

    with pytest.raises(KitaruUsageError, match=r"stack_type='shelfy' requires: app_dir\."):
        manage_stack("create", "m", stack_type="shelfy")
    with pytest.raises(KitaruUsageError, match="Stack field 'app_dir' is given twice"):
        manage_stack("create", "m", stack_type="shelfy", app_dir="/a", options={"app_dir": "/b"})
    with pytest.raises(KitaruUsageError, match="Unknown stack options: colour"):
        manage_stack("create", "m", stack_type="shelfy", options={"colour": "red"})


def test_the_mcp_tool_creates_the_stack(activated: ThrowawayDistribution, tmp_path: Path) -> None:
    from kitaru.mcp.system import manage_stack
    from kitaru.stacks import delete_stack_with_summary

    result: dict[str, Any] = manage_stack(
        "create", "mcp-shelf", stack_type="shelfy", activate=False, options={"app_dir": str(tmp_path / "m")}
    )
    try:
        assert result["stack_type"] == "shelfy"
        assert result["resources"] == {"app_dir": str(tmp_path / "m")}
        assert result["components_created"] == ["orchestrator:mcp-shelf", "artifact_store:mcp-shelf"]
    finally:
        delete_stack_with_summary("mcp-shelf", recursive=True)

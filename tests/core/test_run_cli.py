"""``kitaru run TARGET`` and the flow-target loader it shares with the MCP server.

The loader (:mod:`kitaru.targets`) is tested in-process on real files: every
error a user can make with a target, the working-directory restriction the
MCP server uses, and how module names and source roots are chosen. The
command itself runs as the installed console script in a few subprocesses,
including the property the source root exists for: an execution started by
``kitaru run`` can be retried from another directory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.targets import TargetNotAllowedError, load_flow_target, run_flow_target, split_target
from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")

FLOWS = '''\
import os
from pathlib import Path

import kitaru


@kitaru.checkpoint
def cli_greet(name: str) -> str:
    print(f"greeting {name}")
    return f"hello {name}"


@kitaru.checkpoint
def cli_check(text: str) -> str:
    if (Path(os.environ["KITARU_TEST_FLAG_DIR"]) / "fail").exists():
        raise RuntimeError("cli flaky failure")
    return text.upper()


@kitaru.flow(cache=False)
def cli_flow(name: str) -> str:
    return cli_greet(name)


@kitaru.flow(cache=False)
def cli_flaky(name: str) -> str:
    return cli_check(cli_greet(name))
'''


@pytest.fixture(autouse=True)
def _restore_import_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Loading targets edits sys.path and sys.modules; forget the test's own modules afterwards."""
    path = list(sys.path)
    temp_root = tmp_path_factory.getbasetemp().resolve()
    yield
    sys.path[:] = path
    for name, module in list(sys.modules.items()):
        locations = [getattr(module, "__file__", None) or "", *(getattr(module, "__path__", None) or [])]
        if any(location and temp_root in Path(location).resolve().parents for location in locations):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def flow_source(*names: str, extra: str = "") -> str:
    lines = ["import kitaru", ""]
    for name in names:
        lines += ["@kitaru.flow", f"def {name}() -> None:", "    pass", ""]
    return "\n".join(lines) + extra


def usage_error(target: str, **options: object) -> str:
    with pytest.raises(KitaruUsageError) as caught:
        load_flow_target(target, **options)  # type: ignore[arg-type]
    return str(caught.value)


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("", "A flow target is required: <module_or_file.py>:<flow>"),
        ("flows.py", "Invalid flow target 'flows.py': use <module_or_file.py>:<flow>"),
        (":my_flow", "Invalid flow target ':my_flow'"),
        ("flows.py:", "'' after the colon is not a Python name"),
        ("flows.py:my-flow", "'my-flow' after the colon is not a Python name"),
    ],
)
def test_malformed_targets(target: str, expected: str) -> None:
    with pytest.raises(KitaruUsageError, match="e.g. flows.py:my_flow") as caught:
        split_target(target)
    assert expected in str(caught.value)


def test_split_keeps_colons_in_paths() -> None:
    assert split_target(" C:/work/flows.py:agent ") == ("C:/work/flows.py", "agent")
    assert split_target("pkg.flows:agent") == ("pkg.flows", "agent")


# -- file targets -------------------------------------------------------------------------------


def test_missing_file_directory_and_non_python_file(tmp_path: Path) -> None:
    message = usage_error("nope_flows.py:agent", base_dir=tmp_path)
    assert "Flow file 'nope_flows.py' does not exist" in message and str(tmp_path / "nope_flows.py") in message
    (tmp_path / "adir.py").mkdir()
    assert "is a directory" in usage_error("adir.py:agent", base_dir=tmp_path)
    write(tmp_path / "notes" / "flows.txt", "x")
    assert "is not a Python file (.py)" in usage_error("notes/flows.txt:agent", base_dir=tmp_path)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "broken_syntax_flows.py", "import kitaru\ndef agent(:\n")
    message = usage_error("broken_syntax_flows.py:agent", base_dir=tmp_path)
    assert "invalid syntax in" in message and "broken_syntax_flows.py, line 2" in message
    assert "broken_syntax_flows" not in sys.modules


def test_import_failure_is_reported_with_its_exception(tmp_path: Path) -> None:
    write(tmp_path / "raising_flows.py", "import kitaru\n1 / 0\n")
    message = usage_error("raising_flows.py:agent", base_dir=tmp_path)
    assert "importing it raised ZeroDivisionError: division by zero" in message
    assert "raising_flows" not in sys.modules


def test_missing_attribute_lists_the_flows(tmp_path: Path) -> None:
    write(tmp_path / "listed_flows.py", flow_source("beta", "alpha"))
    message = usage_error("listed_flows.py:gamma", base_dir=tmp_path)
    assert message == "'listed_flows.py' has no attribute 'gamma'. Flows in it: alpha, beta."
    write(tmp_path / "empty_flows.py", "VALUE = 1\n")
    assert "It defines no flows (functions decorated with @kitaru.flow)." in usage_error(
        "empty_flows.py:agent", base_dir=tmp_path
    )


@pytest.mark.parametrize(
    ("attribute", "description"),
    [
        ("plain", "a plain function"),
        ("step", "a checkpoint (checkpoints run inside a flow)"),
        ("VALUE", "a value of type int"),
        ("Thing", "a class (Thing)"),
    ],
)
def test_objects_that_are_not_flows(tmp_path: Path, attribute: str, description: str) -> None:
    extra = (
        "def plain():\n    pass\n\n@kitaru.checkpoint\ndef step() -> int:\n    return 1\n\n"
        "VALUE = 3\n\nclass Thing:\n    pass\n"
    )
    write(tmp_path / f"mixed_{attribute.lower()}_flows.py", flow_source("agent", extra=extra))
    message = usage_error(f"mixed_{attribute.lower()}_flows.py:{attribute}", base_dir=tmp_path)
    assert f":{attribute}' is {description}, not a flow." in message
    assert "Decorate the orchestration function with @kitaru.flow. Flows in it: agent." in message


def test_file_target_loads_with_its_directory_as_source_root(tmp_path: Path) -> None:
    path = write(tmp_path / "agents" / "plain_root_flows.py", flow_source("agent"))
    loaded = load_flow_target("agents/plain_root_flows.py:agent", base_dir=tmp_path)
    assert (loaded.kind, loaded.module_name, loaded.attribute) == ("file", "plain_root_flows", "agent")
    assert loaded.path == path.resolve() and loaded.source_root == path.parent.resolve()
    assert loaded.flow.name == "agent" and loaded.target == "agents/plain_root_flows.py:agent"
    # Absolute paths work too, and a second load reuses the module unless fresh.
    again = load_flow_target(f"{path}:agent")
    assert again.flow is loaded.flow


def test_project_marker_sets_the_source_root(tmp_path: Path) -> None:
    (tmp_path / ".kitaru").mkdir()
    write(tmp_path / "agents" / "marked_flows.py", flow_source("agent"))
    loaded = load_flow_target("agents/marked_flows.py:agent", base_dir=tmp_path)
    assert loaded.module_name == "agents.marked_flows"
    assert loaded.source_root == tmp_path.resolve()
    assert sys.path[0] == str(tmp_path.resolve())


def test_fresh_loads_pick_up_edits(tmp_path: Path) -> None:
    path = write(tmp_path / "edited_flows.py", flow_source("first"))
    load_flow_target("edited_flows.py:first", base_dir=tmp_path)
    path.write_text(flow_source("second"))
    assert "no attribute 'second'" in usage_error("edited_flows.py:second", base_dir=tmp_path)
    assert load_flow_target("edited_flows.py:second", base_dir=tmp_path, fresh=True).flow.name == "second"


def test_a_file_cannot_take_the_name_of_a_loaded_module(tmp_path: Path) -> None:
    write(tmp_path / "json.py", flow_source("agent"))
    message = usage_error("json.py:agent", base_dir=tmp_path)
    assert "would be imported as module 'json'" in message and "Rename the file" in message
    import json as real_json

    assert sys.modules["json"] is real_json


def test_another_file_target_of_the_same_module_name_replaces_it(tmp_path: Path) -> None:
    write(tmp_path / "a" / "same_name_flows.py", flow_source("first"))
    write(tmp_path / "b" / "same_name_flows.py", flow_source("second"))
    assert load_flow_target("a/same_name_flows.py:first", base_dir=tmp_path).flow.name == "first"
    assert load_flow_target("b/same_name_flows.py:second", base_dir=tmp_path).flow.name == "second"


# -- module targets -----------------------------------------------------------------------------


def test_module_target(tmp_path: Path) -> None:
    write(tmp_path / "modpkg_a" / "__init__.py", "")
    path = write(tmp_path / "modpkg_a" / "flows.py", flow_source("agent"))
    loaded = load_flow_target("modpkg_a.flows:agent", base_dir=tmp_path)
    assert (loaded.kind, loaded.module_name) == ("module", "modpkg_a.flows")
    assert loaded.path == path.resolve() and loaded.source_root == tmp_path.resolve()
    init = write(tmp_path / "modpkg_b" / "__init__.py", flow_source("agent"))
    package = load_flow_target("modpkg_b:agent", base_dir=tmp_path, allowed_root=tmp_path)
    assert (package.module_name, package.path, package.source_root) == ("modpkg_b", init.resolve(), tmp_path.resolve())


def test_module_target_errors(tmp_path: Path) -> None:
    message = usage_error("no_such_module_xyz.flows:agent", base_dir=tmp_path)
    assert "No module named 'no_such_module_xyz'" in message and str(tmp_path.resolve()) in message
    write(tmp_path / "needs_dep_flows.py", "import missing_dependency_xyz\n")
    message = usage_error("needs_dep_flows:agent", base_dir=tmp_path)
    assert "importing it raised ModuleNotFoundError: No module named 'missing_dependency_xyz'" in message
    assert "neither a .py file nor a module name" in usage_error("my-module:agent", base_dir=tmp_path)
    assert "is not a Python source file" in usage_error("sys:path", base_dir=tmp_path)


# -- the working-directory restriction ------------------------------------------------------


def refused(target: str, root: Path) -> str:
    with pytest.raises(TargetNotAllowedError) as caught:
        load_flow_target(target, base_dir=root, allowed_root=root, refusal_hint="Start with --allow-any-target.")
    return str(caught.value)


def test_restriction_refuses_code_outside_before_running_it(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    marker = tmp_path / "imported"
    write(tmp_path / "outside_flows_r.py", f"open({str(marker)!r}, 'w').close()\n")
    message = refused("../outside_flows_r.py:agent", root)
    assert message == (
        f"Refusing to load flow file '../outside_flows_r.py': {tmp_path.resolve() / 'outside_flows_r.py'} "
        f"is outside {root.resolve()}. Start with --allow-any-target."
    )
    (root / "link_flows_r.py").symlink_to(tmp_path / "outside_flows_r.py")
    assert "is outside" in refused("link_flows_r.py:agent", root)
    write(tmp_path / "outside_pkg_r" / "__init__.py", f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(tmp_path))
    assert "it is not a module under" in refused("outside_pkg_r:agent", root)
    assert "its package is already loaded from" in refused("json:dumps", root)
    assert not marker.exists()


def test_restriction_allows_files_and_modules_under_the_root(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "allowed_flows_r.py", flow_source("agent"))
    write(tmp_path / "allowed_pkg_r" / "flows.py", flow_source("agent"))
    assert load_flow_target("sub/allowed_flows_r.py:agent", base_dir=tmp_path, allowed_root=tmp_path).flow
    assert load_flow_target("allowed_pkg_r.flows:agent", base_dir=tmp_path, allowed_root=tmp_path).flow
    # The namespace package is loaded now; a second module of it is still allowed.
    write(tmp_path / "allowed_pkg_r" / "more.py", flow_source("other"))
    assert load_flow_target("allowed_pkg_r.more:other", base_dir=tmp_path, allowed_root=tmp_path).flow


def test_run_rejects_inputs_that_clash_with_run_options(tmp_path: Path) -> None:
    write(tmp_path / "clash_flows.py", flow_source("agent"))
    loaded = load_flow_target("clash_flows.py:agent", base_dir=tmp_path)
    with pytest.raises(KitaruUsageError, match="cannot be named cache, stack: run\\(\\) uses those names"):
        run_flow_target(loaded, {"stack": "x", "cache": False})
    with pytest.raises(KitaruUsageError, match="must be a JSON object"):
        run_flow_target(loaded, ["x"])  # type: ignore[arg-type]


# -- the command ------------------------------------------------------------------------------


def kitaru(*args: str, cwd: Path, config: Path, flags: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KITARU), *args],
        cwd=cwd,
        env=subprocess_env(config, KITARU_TEST_FLAG_DIR=str(flags), COLUMNS="200", NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the command tests: creating a store costs more than the runs."""
    return tmp_path_factory.mktemp("run-cli-config")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "cli_flows.py", FLOWS)
    (tmp_path / "flags").mkdir()
    return root


def test_run_prints_the_execution(project: Path, config_dir: Path) -> None:
    flags = project.parent / "flags"
    result = kitaru("run", "cli_flows.py:cli_flow", "--args", '{"name": "ada"}', "-o", "json",
                    cwd=project, config=config_dir, flags=flags)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "run"
    item = payload["item"]
    assert item["flow_name"] == "cli_flow" and item["status"] == "completed"
    assert [call["name"] for call in item["checkpoints"]] == ["cli_greet"]
    assert "Starting flow `cli_flow`." in result.stderr  # terminal output stays off stdout in JSON mode


def test_failed_run_exits_1_and_retries_from_another_directory(project: Path, config_dir: Path) -> None:
    flags = project.parent / "flags"
    (flags / "fail").touch()
    result = kitaru("run", "cli_flows.py:cli_flaky", "--args", '{"name": "bo"}',
                    cwd=project, config=config_dir, flags=flags)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"Status +failed", result.stdout) and "cli flaky failure" in result.stdout
    exec_id = result.stdout.split("Execution ID")[1].split()[0]
    assert f"To retry this failed execution, run: kitaru executions retry {exec_id}" in result.stdout

    (flags / "fail").unlink()
    retried = kitaru("executions", "retry", exec_id, "-o", "json",
                     cwd=project.parent, config=config_dir, flags=flags)
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["item"]["status"] == "completed"


def test_run_errors_follow_the_output_contract(project: Path, config_dir: Path) -> None:
    flags = project.parent / "flags"
    missing = kitaru("run", "nope.py:agent", "-o", "json", cwd=project, config=config_dir, flags=flags)
    assert missing.returncode == 1 and missing.stdout == ""
    error = json.loads(missing.stderr)["error"]
    assert error["type"] == "KitaruUsageError" and "Flow file 'nope.py' does not exist" in error["message"]
    bad_args = kitaru("run", "cli_flows.py:cli_flow", "--args", "[1]", cwd=project, config=config_dir,
                      flags=flags)
    assert bad_args.returncode == 1 and bad_args.stdout == ""
    assert bad_args.stderr.startswith("Error: --args must be a JSON object, got list: [1].")
    bad_stack = kitaru("run", "cli_flows.py:cli_flow", "--args", '{"name": "x"}', "--stack", "no-such-stack",
                       cwd=project, config=config_dir, flags=flags)
    assert bad_stack.returncode == 1, bad_stack.stdout
    assert "Stack 'no-such-stack' does not exist" in bad_stack.stderr

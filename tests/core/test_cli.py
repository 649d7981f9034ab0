"""The ``kitaru`` CLI through the real console script (SPEC §4, §4.1).

Every test runs the installed ``kitaru`` executable in a subprocess with an
isolated config directory (``KITARU_CONFIG_PATH`` under ``tmp_path``), and
checks stdout, stderr and the exit code separately: the output contract says
JSON results go to stdout, errors to stderr, and failures exit 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from kitaru.cli.output import json_requested
from kitaru.masking import is_secret_name, mask_secret, mask_url

KITARU = Path(sys.executable).with_name("kitaru")
OUTPUT_ERROR = "Error: `--output` must be either `text` or `json`.\n"

# Secrets used in environment tests: none may appear unmasked anywhere.
LONG_SECRET = "lsk-0123456789abcdefghijklmnop"  # 30 chars: first 8 shown
SHORT_SECRET = "hunter2pw"  # 9 chars: fully hidden


def _env(config_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KITARU_", "ZENML_"))
    }
    env.update({"KITARU_CONFIG_PATH": str(config_dir), "COLUMNS": "200", "NO_COLOR": "1"})
    env.update(extra or {})
    return env


def run_kitaru(
    *args: str,
    config_dir: Path,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
    module: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (console script, or ``python -m kitaru.cli``)."""
    command = [sys.executable, "-m", "kitaru.cli"] if module else [str(KITARU)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=_env(config_dir, extra_env),
        cwd=cwd or config_dir.parent,
        timeout=300,
    )


def json_stdout(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The whole of stdout must be one JSON document."""
    assert result.returncode == 0, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    return json.loads(result.stdout)


def json_stderr_error(result: subprocess.CompletedProcess[str], command: str) -> dict[str, Any]:
    """A JSON-mode failure: exit 1, nothing on stdout, one JSON error on stderr."""
    assert result.returncode == 1, result
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert set(payload) == {"command", "error"}
    assert payload["command"] == command
    assert set(payload["error"]) == {"message", "type"}
    return payload["error"]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "kitaru-config"


@pytest.fixture(scope="module")
def shared_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One config dir for the tests that initialise the local store (slow once)."""
    return tmp_path_factory.mktemp("shared") / "kitaru-config"


# -- top level ------------------------------------------------------------------


def test_console_script_is_installed() -> None:
    assert KITARU.exists(), f"no kitaru script next to {sys.executable}; run `uv sync`"


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(config_dir: Path, flag: str) -> None:
    result = run_kitaru(flag, config_dir=config_dir)
    assert result.returncode == 0
    assert result.stdout == f"kitaru {metadata.version('kitaru')}\n"
    assert result.stderr == ""


def test_python_dash_m_works(config_dir: Path) -> None:
    result = run_kitaru("--version", config_dir=config_dir, module=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kitaru ")


@pytest.mark.parametrize("args", [(), ("--help",), ("-h",)])
def test_bare_kitaru_and_help_print_help(config_dir: Path, args: tuple[str, ...]) -> None:
    result = run_kitaru(*args, config_dir=config_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: kitaru")
    for name in ("init", "status", "info", "plugins"):
        assert f"  {name} " in result.stdout
    assert "--version" in result.stdout


def test_every_command_documents_output_option(config_dir: Path) -> None:
    for name in ("init", "status", "info", "plugins"):
        result = run_kitaru(name, "-h", config_dir=config_dir)
        assert result.returncode == 0, result.stderr
        assert "-o, --output" in result.stdout, name


@pytest.mark.parametrize("name", ["init", "status", "info", "plugins"])
def test_invalid_output_format_is_rejected(config_dir: Path, tmp_path: Path, name: str) -> None:
    result = run_kitaru(name, "-o", "yaml", config_dir=config_dir, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == OUTPUT_ERROR
    assert result.stdout == ""
    # Validated before any work: init did not create the marker.
    assert not (tmp_path / ".kitaru").exists()


def test_output_format_is_case_insensitive(config_dir: Path, tmp_path: Path) -> None:
    result = run_kitaru("init", str(tmp_path), "--output", "JSON", config_dir=config_dir)
    assert json_stdout(result)["command"] == "init"


def test_parse_errors_follow_the_contract(config_dir: Path) -> None:
    text = run_kitaru("init", "--bogus", config_dir=config_dir)
    assert text.returncode == 1
    assert text.stderr.startswith("Error: No such option: --bogus")
    assert "kitaru init --help" in text.stderr

    as_json = run_kitaru("init", "--bogus", "-o", "json", config_dir=config_dir)
    error = json_stderr_error(as_json, "init")
    assert "--bogus" in error["message"]

    unknown = run_kitaru("frobnicate", config_dir=config_dir)
    assert unknown.returncode == 1
    assert "No such command" in unknown.stderr


# -- init -------------------------------------------------------------------------


def test_init_creates_marker_in_path(config_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = run_kitaru("init", str(project), config_dir=config_dir)
    assert result.returncode == 0, result.stderr
    assert (project / ".kitaru").is_dir()
    assert str(project.resolve()) in result.stdout
    assert result.stderr == ""


def test_init_defaults_to_cwd_and_reports_json(config_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "here"
    project.mkdir()
    result = run_kitaru("init", "-o", "json", config_dir=config_dir, cwd=project)
    assert json_stdout(result) == {
        "command": "init",
        "item": {"path": str(project.resolve()), "repository_directory": ".kitaru"},
    }
    assert (project / ".kitaru").is_dir()


@pytest.mark.parametrize("marker", [".kitaru", ".zen"])
def test_init_refuses_an_initialized_directory(config_dir: Path, tmp_path: Path, marker: str) -> None:
    (tmp_path / marker).mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_kitaru("init", str(tmp_path), config_dir=config_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"Error: Already initialized: {tmp_path.resolve() / marker} exists."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before

    as_json = run_kitaru("init", str(tmp_path), "-o", "json", config_dir=config_dir)
    error = json_stderr_error(as_json, "init")
    assert error["type"] == "KitaruUsageError"
    assert error["message"].startswith("Already initialized:")


def test_init_rejects_a_file_and_a_missing_path(config_dir: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for target in (a_file, tmp_path / "missing"):
        result = run_kitaru("init", str(target), config_dir=config_dir)
        assert result.returncode == 1
        assert result.stderr.startswith(f"Error: Not a directory: {target.resolve()}")
        error = json_stderr_error(
            run_kitaru("init", str(target), "-o", "json", config_dir=config_dir), "init"
        )
        assert error["type"] == "KitaruUsageError"
        assert "Not a directory" in error["message"]
    assert not (tmp_path / "missing").exists()


# -- status -----------------------------------------------------------------------


def test_status_json_reports_local_connection_and_masks_secrets(shared_config: Path) -> None:
    result = run_kitaru(
        "status",
        "-o",
        "json",
        config_dir=shared_config,
        extra_env={
            "KITARU_LOG_STORE_API_KEY": LONG_SECRET,
            "KITARU_MY_PASSWORD": SHORT_SECRET,
            "KITARU_STACK": "default",
            "KITARU_CACHE": "  ",  # blank counts as unset
        },
    )
    payload = json_stdout(result)
    assert payload["command"] == "status"
    item = payload["item"]
    assert item["sdk_version"] == metadata.version("kitaru")
    assert item["connection"] == "local"
    assert item["server_url"] is None
    assert item["database"].startswith(str(shared_config))
    assert item["active_user"] == "default"
    assert item["active_stack"] == "default"
    assert item["config_directory"] == str(shared_config)
    assert item["log_store"] is None
    assert len(item["warnings"]) == 1 and "KITARU_LOG_STORE_BACKEND is not" in item["warnings"][0]
    env = item["environment"]
    # Documented variables first, in SPEC order, then others alphabetically.
    assert list(env) == [
        "KITARU_STACK",
        "KITARU_LOG_STORE_API_KEY",
        "KITARU_CONFIG_PATH",
        "KITARU_MY_PASSWORD",
    ]
    assert env["KITARU_LOG_STORE_API_KEY"] == LONG_SECRET[:8] + "***"
    assert env["KITARU_MY_PASSWORD"] == "***"
    assert env["KITARU_STACK"] == "default"
    assert LONG_SECRET not in result.stdout + result.stderr
    assert SHORT_SECRET not in result.stdout + result.stderr


def test_status_text_renders_panels(shared_config: Path) -> None:
    result = run_kitaru(
        "status", config_dir=shared_config, extra_env={"KITARU_AUTH_TOKEN_X": LONG_SECRET}
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("Kitaru status", "SDK version", "Local database", "Active stack", "default", "Environment"):
        assert text in out, text
    assert LONG_SECRET[:8] + "***" in out
    assert LONG_SECRET not in out


def test_status_reports_an_unreachable_server_quickly(shared_config: Path) -> None:
    result = run_kitaru(
        "status",
        "-o",
        "json",
        config_dir=shared_config,
        extra_env={"KITARU_SERVER_URL": "http://127.0.0.1:9", "KITARU_AUTH_TOKEN": LONG_SECRET},
    )
    item = json_stdout(result)["item"]
    assert item["connection"] == "server"
    assert item["server_url"] == "http://127.0.0.1:9"
    assert item["active_user"] is None
    assert any("Cannot reach the Kitaru server" in warning for warning in item["warnings"])
    assert item["environment"]["KITARU_AUTH_TOKEN"] == LONG_SECRET[:8] + "***"


# -- info ---------------------------------------------------------------------------


def test_info_json_sections(shared_config: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    nested = project / "src" / "pkg"
    nested.mkdir(parents=True)
    (project / ".kitaru").mkdir()
    result = run_kitaru(
        "info", "-o", "json", "-p", "pyyaml", "-p", "no-such-package-xyz",
        config_dir=shared_config,
        cwd=nested,
    )
    item = json_stdout(result)["item"]
    assert json.loads(result.stdout)["command"] == "info"
    assert item["sdk_version"] == metadata.version("kitaru")
    assert item["zenml_version"] == metadata.version("zenml")
    assert item["connection"]["mode"] == "local"
    assert item["connection"]["source"] == "default"
    config = item["config"]
    assert config["config_directory"] == str(shared_config)
    assert config["kitaru_yaml"] == str(shared_config / "kitaru.yaml")
    assert config["local_stores"] == str(shared_config / "local_stores")
    assert config["repository"] == str((project / ".kitaru").resolve())
    assert item["system"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "environment_type" not in item["system"]
    packages = item["packages"]
    assert packages["kitaru-core"] == metadata.version("kitaru-core")
    assert packages["kitaru-local"] == metadata.version("kitaru-local")
    assert packages["pyyaml"] == metadata.version("pyyaml")
    assert packages["no-such-package-xyz"] is None
    assert "typer" not in packages  # only with --all-packages


def test_info_all_adds_every_package_and_environment_type(shared_config: Path) -> None:
    item = json_stdout(run_kitaru("info", "--all", "-o", "json", config_dir=shared_config))["item"]
    assert "environment_type" in item["system"]
    assert item["packages"]["typer"] == metadata.version("typer")
    only_packages = json_stdout(
        run_kitaru("info", "--all-packages", "-o", "json", config_dir=shared_config)
    )["item"]
    assert "typer" in only_packages["packages"]
    assert "environment_type" not in only_packages["system"]


def test_info_text_renders_sections(shared_config: Path) -> None:
    result = run_kitaru("info", config_dir=shared_config)
    assert result.returncode == 0, result.stderr
    for title in ("Kitaru info", "Connection", "Configuration", "System", "Packages", "Environment"):
        assert title in result.stdout, title


@pytest.mark.parametrize("suffix, loader", [(".json", json.loads), (".yaml", yaml.safe_load)])
def test_info_file_writes_masked_snapshot(
    shared_config: Path, tmp_path: Path, suffix: str, loader: Any
) -> None:
    target = tmp_path / f"snapshot{suffix}"
    result = run_kitaru(
        "info", "--file", str(target), "-o", "json",
        config_dir=shared_config,
        extra_env={"KITARU_LOG_STORE_API_KEY": LONG_SECRET, "KITARU_SOME_TOKEN": SHORT_SECRET},
    )
    payload = json_stdout(result)
    assert payload == {
        "command": "info",
        "item": {"file": str(target.resolve()), "format": suffix.lstrip(".")},
    }
    content = target.read_text()
    assert LONG_SECRET not in content and SHORT_SECRET not in content
    snapshot = loader(content)
    assert snapshot["environment"]["KITARU_LOG_STORE_API_KEY"] == LONG_SECRET[:8] + "***"
    assert snapshot["environment"]["KITARU_SOME_TOKEN"] == "***"
    assert snapshot["config"]["config_directory"] == str(shared_config)
    assert snapshot["packages"]["kitaru-core"] == metadata.version("kitaru-core")


def test_info_file_text_mode_and_bad_extension(config_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "snapshot.txt"
    result = run_kitaru("info", "-f", str(bad), config_dir=config_dir)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Cannot write info to")
    assert ".json, .yaml or .yml" in result.stderr
    assert not bad.exists()

    error = json_stderr_error(
        run_kitaru("info", "-f", str(tmp_path / "no" / "dir.json"), "-o", "json", config_dir=config_dir),
        "info",
    )
    assert "does not exist" in error["message"]


# -- plugins --------------------------------------------------------------------------


def test_plugins_json_lists_local_with_hooks(config_dir: Path) -> None:
    payload = json_stdout(run_kitaru("plugins", "-o", "json", config_dir=config_dir))
    assert payload["command"] == "plugins"
    assert payload["count"] == len(payload["items"])
    assert isinstance(payload["problems"], list)
    by_name = {item["name"]: item for item in payload["items"]}
    for item in payload["items"]:
        assert set(item) == {"name", "distribution", "version", "hooks"}
    local = by_name["local"]
    assert local["distribution"] == "kitaru-local"
    assert local["version"] == metadata.version("kitaru-local")
    assert "kitaru_stack_providers" in local["hooks"]
    assert all(hook.startswith("kitaru_") for hook in local["hooks"])
    assert by_name["core"]["distribution"] == "kitaru-core"


def test_plugins_text_table(config_dir: Path) -> None:
    result = run_kitaru("plugins", config_dir=config_dir)
    assert result.returncode == 0, result.stderr
    assert "Kitaru plugins" in result.stdout
    assert "kitaru-local" in result.stdout
    assert "kitaru_stack_providers" in result.stdout


# -- helpers of the output contract ----------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a" * 30, "aaaaaaaa***"),
        ("b" * 24, "bbbbbbbb***"),
        ("c" * 20, "cccccc***"),
        ("d" * 17, "***"),
        ("short", "***"),
        ("", "***"),
    ],
)
def test_mask_secret_never_shows_more_than_a_third(value: str, expected: str) -> None:
    masked = mask_secret(value)
    assert masked == expected
    assert len(masked.removesuffix("***")) <= len(value) // 3


def test_secret_names_and_urls() -> None:
    assert is_secret_name("KITARU_AUTH_TOKEN")
    assert is_secret_name("KITARU_LOG_STORE_API_KEY")
    assert is_secret_name("kitaru_db_password")
    assert not is_secret_name("KITARU_STACK")
    assert mask_url("mysql://user:pw@db.example:3306/kitaru") == "mysql://user:***@db.example:3306/kitaru"
    assert mask_url("https://kitaru.example/api") == "https://kitaru.example/api"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["status", "-o", "json"], True),
        (["status", "--output=json"], True),
        (["status", "-ojson"], True),
        (["status", "--output", "text"], False),
        (["status", "--", "-o", "json"], False),
    ],
)
def test_json_requested(args: list[str], expected: bool) -> None:
    assert json_requested(args) is expected

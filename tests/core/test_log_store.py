"""The log-store preference and ``kitaru log-store set/show/reset`` (SPEC §4.4, §7).

In-process tests exercise :mod:`kitaru.config.log_store` against a temporary
``kitaru.yaml`` (``KITARU_CONFIG_PATH`` is read on every call). The CLI tests
run the real console script in a fresh config dir; the mismatch tests give
that dir a real stack whose log-store component is the engine's ``otel``
flavor, and the session store one with the ``datadog`` flavor.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kitaru.cli.log_store import backend_for_flavor, mismatch_warning
from kitaru.config import log_store as prefs
from kitaru.errors import KitaruUsageError
from tests.conftest import run_python, subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
ENDPOINT = "https://collector.example.com:4318/v1/logs"
SAVED_KEY = "saved-key-0123456789abcdef"  # long enough that masking would show a prefix
ENV_KEY = "env-key-xyz"
INVALID_FILE = "The Kitaru global config file is invalid. Fix or delete"
ITEM_KEYS = [
    "backend",
    "endpoint",
    "api_key_configured",
    "source",
    "active_stack_backend",
    "active_stack_name",
    "warning",
]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config dir for the preference module, with no KITARU_LOG_STORE_* set."""
    path = tmp_path / "config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(path))
    for name in prefs.ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return path


# -- names, endpoints, environment ------------------------------------------------


def test_backend_names_are_normalised_and_checked() -> None:
    assert prefs.normalise_backend("  OTel ") == "otel"
    assert prefs.normalise_backend("my.logs_2-x") == "my.logs_2-x"
    for bad in ("", "  ", "-otel", "my logs", "otel/http", None):
        with pytest.raises(KitaruUsageError, match="not a valid name"):
            prefs.normalise_backend(bad)


def test_endpoints_must_be_http_urls() -> None:
    assert prefs.validate_endpoint(f" {ENDPOINT} ") == ENDPOINT
    assert prefs.validate_endpoint("http://127.0.0.1:4318") == "http://127.0.0.1:4318"
    for bad in ("ftp://host/logs", "collector:4318", "http://", "", None):
        with pytest.raises(KitaruUsageError, match="not an http:// or https:// URL"):
            prefs.validate_endpoint(bad)


def test_environment_override_is_read_when_consistent() -> None:
    assert prefs.read_env_preference({}) is None
    assert prefs.read_env_preference({"KITARU_LOG_STORE_BACKEND": "  "}) is None  # blank = unset
    full = prefs.read_env_preference(
        {
            "KITARU_LOG_STORE_BACKEND": "Datadog",
            "KITARU_LOG_STORE_ENDPOINT": ENDPOINT,
            "KITARU_LOG_STORE_API_KEY": ENV_KEY,
        }
    )
    assert full == prefs.LogStorePreference("datadog", ENDPOINT, ENV_KEY, "environment")
    assert ENV_KEY not in repr(full)
    assert full.public() == {
        "backend": "datadog",
        "endpoint": ENDPOINT,
        "api_key_configured": True,
        "source": "environment",
    }
    default = prefs.read_env_preference({"KITARU_LOG_STORE_BACKEND": "artifact-store"})
    assert default == prefs.LogStorePreference("artifact-store", source="environment")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"KITARU_LOG_STORE_ENDPOINT": ENDPOINT},
            "KITARU_LOG_STORE_ENDPOINT is set but KITARU_LOG_STORE_BACKEND is not",
        ),
        (
            {"KITARU_LOG_STORE_API_KEY": ENV_KEY},
            "KITARU_LOG_STORE_API_KEY is set but KITARU_LOG_STORE_BACKEND is not",
        ),
        (
            {"KITARU_LOG_STORE_ENDPOINT": ENDPOINT, "KITARU_LOG_STORE_API_KEY": ENV_KEY},
            "KITARU_LOG_STORE_ENDPOINT and KITARU_LOG_STORE_API_KEY are set",
        ),
        ({"KITARU_LOG_STORE_BACKEND": "otel"}, "KITARU_LOG_STORE_BACKEND=otel needs an endpoint"),
        ({"KITARU_LOG_STORE_BACKEND": "loki"}, "KITARU_LOG_STORE_BACKEND=loki needs an endpoint"),
        (
            {"KITARU_LOG_STORE_BACKEND": "artifact-store", "KITARU_LOG_STORE_ENDPOINT": ENDPOINT},
            "takes no endpoint or API key. Unset KITARU_LOG_STORE_ENDPOINT",
        ),
        (
            {"KITARU_LOG_STORE_BACKEND": "artifact-store", "KITARU_LOG_STORE_API_KEY": ENV_KEY},
            "Unset KITARU_LOG_STORE_API_KEY",
        ),
        (
            {"KITARU_LOG_STORE_BACKEND": "otel", "KITARU_LOG_STORE_ENDPOINT": "collector:4318"},
            "KITARU_LOG_STORE_ENDPOINT 'collector:4318' is not an http:// or https:// URL",
        ),
        (
            {"KITARU_LOG_STORE_BACKEND": "Not Valid"},
            "KITARU_LOG_STORE_BACKEND 'Not Valid' is not a valid name",
        ),
    ],
)
def test_inconsistent_environment_is_a_clear_error(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(KitaruUsageError) as info:
        prefs.read_env_preference(environ)
    assert expected in str(info.value)
    assert ENV_KEY not in str(info.value)


# -- kitaru.yaml -----------------------------------------------------------------------


def test_set_show_reset_round_trip_preserves_other_fields(config_home: Path) -> None:
    assert prefs.resolve_log_store() == prefs.DEFAULT_PREFERENCE
    assert prefs.clear_preference() is False
    assert not config_home.exists(), "reset must not create the config dir"

    config_home.mkdir()
    registry = {"aliases": {"fast": {"model": "openai/gpt-4o-mini"}}, "default": "fast"}
    (config_home / "kitaru.yaml").write_text(yaml.safe_dump({"version": 1, "model_registry": registry}))

    prefs.save_preference(prefs.check_new_preference("OTEL", ENDPOINT, SAVED_KEY))
    path = config_home / "kitaru.yaml"
    data = yaml.safe_load(path.read_text())
    assert data == {
        "version": 1,
        "model_registry": registry,
        "log_store": {"backend": "otel", "endpoint": ENDPOINT, "api_key": SAVED_KEY},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the file holds an API key"
    saved = prefs.LogStorePreference("otel", ENDPOINT, SAVED_KEY, "global user config")
    assert prefs.resolve_log_store() == saved

    # Setting again replaces the whole section: the old key does not linger.
    prefs.save_preference(prefs.check_new_preference("datadog", ENDPOINT, None))
    assert yaml.safe_load(path.read_text())["log_store"] == {"backend": "datadog", "endpoint": ENDPOINT}

    # The environment wins over the file.
    env = {"KITARU_LOG_STORE_BACKEND": "otel", "KITARU_LOG_STORE_ENDPOINT": "http://127.0.0.1:4318"}
    assert prefs.resolve_log_store(env).source == "environment"

    assert prefs.clear_preference() is True
    assert yaml.safe_load(path.read_text()) == {"version": 1, "model_registry": registry}
    assert prefs.resolve_log_store() == prefs.DEFAULT_PREFERENCE
    assert prefs.clear_preference() is False


def test_set_refuses_bad_input_before_writing(config_home: Path) -> None:
    with pytest.raises(KitaruUsageError, match=r"cannot be set. Run `kitaru log-store reset`"):
        prefs.check_new_preference("Artifact-Store", None, None)
    for backend in ("otel", "datadog", "loki"):  # unknown backends are assumed to need one
        with pytest.raises(KitaruUsageError, match=f"The log store '{backend}' needs an endpoint"):
            prefs.check_new_preference(backend, None, None)
    with pytest.raises(KitaruUsageError, match="not an http"):
        prefs.check_new_preference("otel", "grpc://collector:4317", None)
    with pytest.raises(KitaruUsageError, match="--api-key is blank"):
        prefs.check_new_preference("otel", ENDPOINT, "  ")
    assert not config_home.exists()


def test_unknown_backends_are_accepted_with_a_warning() -> None:
    assert prefs.unknown_backend_warning("otel") is None
    assert prefs.unknown_backend_warning("datadog") is None
    warning = prefs.unknown_backend_warning("loki")
    assert warning is not None
    assert "No installed plugin registers the log store 'loki'" in warning
    assert "installed: artifact-store, datadog, otel" in warning
    assert prefs.check_new_preference("loki", ENDPOINT, None).backend == "loki"


def test_malformed_file_fails_reads_and_writers_start_fresh(config_home: Path) -> None:
    config_home.mkdir()
    path = config_home / "kitaru.yaml"
    path.write_text("log_store: [unclosed\n")
    with pytest.raises(KitaruUsageError) as info:
        prefs.resolve_log_store()
    assert str(info.value).startswith(f"{INVALID_FILE} {path} and try again. YAML syntax error at line 2, column 1:")
    prefs.save_preference(prefs.check_new_preference("otel", ENDPOINT, None))
    assert prefs.resolve_log_store().backend == "otel"

    path.write_text("- a list\n")
    assert prefs.clear_preference() is True
    assert yaml.safe_load(path.read_text()) == {"version": 1}


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("not a mapping", "log_store must be a mapping"),
        ({"backend": "Not Valid", "endpoint": ENDPOINT}, "log_store.backend 'Not Valid' is not a valid name"),
        ({"backend": "otel", "endpoint": "ftp://x"}, "log_store.endpoint 'ftp://x' is not an http"),
        ({"backend": "otel"}, "log_store.backend otel needs an endpoint"),
        ({"backend": "artifact-store", "endpoint": ENDPOINT}, "artifact-store takes no endpoint"),
        ({"backend": "otel", "endpoint": ENDPOINT, "token": "x"}, "unknown keys: token"),
    ],
)
def test_invalid_log_store_section_names_the_problem(config_home: Path, section: Any, problem: str) -> None:
    config_home.mkdir()
    (config_home / "kitaru.yaml").write_text(yaml.safe_dump({"version": 1, "log_store": section}))
    with pytest.raises(KitaruUsageError) as info:
        prefs.read_saved_preference()
    assert str(info.value).startswith(f"{INVALID_FILE} {config_home / 'kitaru.yaml'} and try again.")
    assert problem in str(info.value)


# -- the active stack ------------------------------------------------------------------


def test_stack_flavors_map_to_backend_names() -> None:
    assert backend_for_flavor(None) == "artifact-store"
    assert backend_for_flavor("artifact") == "artifact-store"
    assert backend_for_flavor("otel") == "otel"
    assert backend_for_flavor("datadog") == "datadog"
    assert backend_for_flavor("My_Custom") == "my-custom"


def test_mismatch_warning_names_both_sides_and_the_fix() -> None:
    saved_otel = prefs.LogStorePreference("otel", ENDPOINT, None, "global user config")
    assert mismatch_warning(saved_otel, "otel", "team") is None
    assert mismatch_warning(prefs.DEFAULT_PREFERENCE, "artifact-store", "default") is None

    warning = mismatch_warning(saved_otel, "artifact-store", "default")
    assert warning is not None
    assert "preference is 'otel' (saved with `kitaru log-store set`)" in warning
    assert "the active stack 'default' has no log-store component" in warning
    assert "activate a stack whose log-store component is 'otel' (`kitaru stack use NAME`)" in warning
    assert "run `kitaru log-store reset`" in warning

    warning = mismatch_warning(prefs.DEFAULT_PREFERENCE, "datadog", "dd")
    assert warning is not None
    assert "preference is 'artifact-store' (the default)" in warning
    assert "the active stack 'dd' sends runtime logs to 'datadog'" in warning
    assert "`kitaru stack use default`" in warning
    assert "`kitaru log-store set datadog --endpoint URL`" in warning

    from_env = prefs.LogStorePreference("datadog", ENDPOINT, None, "environment")
    warning = mismatch_warning(from_env, "otel", "team")
    assert warning is not None
    assert "(from KITARU_LOG_STORE_BACKEND)" in warning
    assert "set KITARU_LOG_STORE_BACKEND=otel" in warning


def test_local_plugin_registers_otel_and_datadog() -> None:
    """The two backends the engine keeps logs for read them back through the hook; OTLP cannot."""
    from kitaru.plugins import get_plugin_manager
    from kitaru_local.log_store import read_engine_logs

    stores = get_plugin_manager().log_stores()
    registered = {
        name: (spec.requires_endpoint, spec.flavor, spec.read_logs, spec.source.plugin)
        for name, spec in stores.items()
        if name in ("artifact-store", "otel", "datadog")
    }
    assert registered == {
        "artifact-store": (False, None, read_engine_logs, "local"),
        "otel": (True, "otel", None, "local"),
        "datadog": (True, "datadog", read_engine_logs, "local"),
    }


def test_importing_the_local_plugin_loads_neither_the_engine_nor_the_log_reader() -> None:
    """``read_engine_logs`` looks core's reader up when called, so the plugin imports stay cheap."""
    script = (
        "import sys, kitaru_local.plugin\n"
        "heavy = ('zenml', 'kitaru._engine', 'kitaru.engine', 'kitaru.logs.stored', 'kitaru.execution')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_contract_rejects_an_unknown_engine_flavor() -> None:
    from kitaru.plugins.records import LogStoreSpec, PluginSource
    from kitaru.testing.contracts import LogStoreContract

    source = PluginSource(plugin="bad", distribution="kitaru-bad", version="0")
    contract = LogStoreContract()
    contract.test_flavor_is_an_engine_log_store_flavor(LogStoreSpec(name="ok", flavor="otel", source=source))
    with pytest.raises(AssertionError, match="no log-store flavor of that name"):
        contract.test_flavor_is_an_engine_log_store_flavor(
            LogStoreSpec(name="ok", flavor="open-telemetry", source=source)
        )


@pytest.fixture
def datadog_stack() -> Iterator[str]:
    """A stack in the session store whose log store is the engine's datadog flavor, active."""
    from zenml.client import Client
    from zenml.enums import StackComponentType as Type

    import kitaru.stacks

    client = Client()
    name = f"logs-dd-{uuid.uuid4().hex[:8]}"
    component = client.create_stack_component(
        name=name,
        flavor="datadog",
        component_type=Type.LOG_STORE,
        configuration={"api_key": "dd-api-key", "application_key": "dd-app-key"},
    )
    client.create_stack(
        name=name,
        components={
            Type.ORCHESTRATOR: "default", Type.ARTIFACT_STORE: "default", Type.LOG_STORE: component.id
        },
    )
    kitaru.stacks.use_stack(name)
    try:
        yield name
    finally:
        kitaru.stacks.use_stack("default")
        kitaru.stacks.delete_stack(name)
        client.delete_stack_component(component.id, Type.LOG_STORE)


def test_active_datadog_stack_is_compared_with_the_preference(datadog_stack: str) -> None:
    from kitaru.cli.log_store import describe
    from kitaru.stacks import active_stack_log_store

    stack = active_stack_log_store()
    assert (stack.stack_name, stack.component_name, stack.flavor) == (datadog_stack, datadog_stack, "datadog")
    assert stack.endpoint == "https://http-intake.logs.datadoghq.com/api/v2/logs"
    agree = describe(prefs.LogStorePreference("datadog", ENDPOINT, "k", "environment"), stack)
    assert agree == {
        "backend": "datadog",
        "endpoint": ENDPOINT,
        "api_key_configured": True,
        "source": "environment",
        "active_stack_backend": "datadog",
        "active_stack_name": datadog_stack,
        "warning": None,
    }
    differ = describe(prefs.DEFAULT_PREFERENCE, stack)
    assert differ["active_stack_backend"] == "datadog"
    assert f"the active stack '{datadog_stack}' sends runtime logs to 'datadog'" in differ["warning"]


def test_set_under_an_environment_override_saves_and_says_so(
    config_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process (same store): set saves, but the effective preference stays the environment's."""
    from kitaru._engine.bootstrap import load_engine
    from kitaru.cli.app import run

    load_engine()  # before the env changes below, so the engine keeps the session's config
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "otel")
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", ENDPOINT)
    args = ["log-store", "set", "loki", "--endpoint", "http://loki:3100", "--api-key", SAVED_KEY]
    code = run([*args, "-o", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    item = json.loads(captured.out)["item"]
    assert (item["backend"], item["source"], item["api_key_configured"]) == ("otel", "environment", False)
    assert item["active_stack_name"] == "default"
    warning = item["warning"]
    assert "No installed plugin registers the log store 'loki'" in warning
    assert "KITARU_LOG_STORE_* variables are set and take priority over the saved preference" in warning
    assert "preference is 'otel' (from KITARU_LOG_STORE_BACKEND)" in warning
    assert SAVED_KEY not in captured.out + captured.err
    saved = yaml.safe_load((config_home / "kitaru.yaml").read_text())["log_store"]
    assert saved == {"backend": "loki", "endpoint": "http://loki:3100", "api_key": SAVED_KEY}


# -- the CLI, in a fresh config dir ------------------------------------------------------


def cli(config_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1", **env),
        cwd=config_dir.parent,
        timeout=300,
    )


def cli_item(config_dir: Path, command: str, *args: str, **env: str) -> dict[str, Any]:
    result = cli(config_dir, *args, "-o", "json", **env)
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    payload = json.loads(result.stdout)
    assert payload["command"] == command
    for secret in (SAVED_KEY, ENV_KEY):
        assert secret not in result.stdout + result.stderr
    return payload["item"]


def cli_error(config_dir: Path, command: str, *args: str, **env: str) -> str:
    result = cli(config_dir, *args, "-o", "json", **env)
    assert result.returncode == 1, result
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert payload["command"] == command
    assert payload["error"]["type"] == "KitaruUsageError"
    for secret in (SAVED_KEY, ENV_KEY):
        assert secret not in result.stderr
    return payload["error"]["message"]


OTEL_STACK_SCRIPT = textwrap.dedent(
    """
    from kitaru._engine.bootstrap import load_engine

    load_engine()
    from zenml.client import Client
    from zenml.enums import StackComponentType as Type

    client = Client()
    component = client.create_stack_component(
        name="collector",
        flavor="otel",
        component_type=Type.LOG_STORE,
        configuration={"endpoint": "http://127.0.0.1:4318/v1/logs"},
    )
    client.create_stack(
        name="with-otel",
        components={
            Type.ORCHESTRATOR: "default", Type.ARTIFACT_STORE: "default", Type.LOG_STORE: component.id
        },
    )
    client.activate_stack("with-otel")
    """
)


def test_cli_set_show_reset_and_the_mismatch_warning(fresh_config_dir: Path, tmp_path: Path) -> None:
    config = fresh_config_dir
    path = config / "kitaru.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "model_registry": {"aliases": {}, "default": None}}))

    # Saved preference, default stack (no log-store component): mismatch.
    item = cli_item(
        config, "log-store.set", "log-store", "set", "OTel", "--endpoint", ENDPOINT, "--api-key", SAVED_KEY
    )
    assert list(item) == ITEM_KEYS
    assert item["backend"] == "otel" and item["endpoint"] == ENDPOINT
    assert item["api_key_configured"] is True and item["source"] == "global user config"
    assert (item["active_stack_backend"], item["active_stack_name"]) == ("artifact-store", "default")
    assert "preference is 'otel'" in item["warning"] and "has no log-store component" in item["warning"]
    saved = yaml.safe_load(path.read_text())
    assert saved["log_store"] == {"backend": "otel", "endpoint": ENDPOINT, "api_key": SAVED_KEY}
    assert saved["model_registry"] == {"aliases": {}, "default": None}

    # A stack whose log store is the engine's otel flavor: they agree.
    script = tmp_path / "otel_stack.py"
    script.write_text(OTEL_STACK_SCRIPT)
    made = run_python(script, config)
    assert made.returncode == 0, made.stderr
    item = cli_item(config, "log-store.show", "log-store", "show")
    assert item["active_stack_backend"] == "otel"
    assert item["active_stack_name"] == "with-otel"
    assert item["warning"] is None

    # The environment wins and disagrees with the stack: show and status both warn.
    env = {
        "KITARU_LOG_STORE_BACKEND": "datadog",
        "KITARU_LOG_STORE_ENDPOINT": "https://http-intake.logs.datadoghq.eu/api/v2/logs",
        "KITARU_LOG_STORE_API_KEY": ENV_KEY,
    }
    item = cli_item(config, "log-store.show", "log-store", "show", **env)
    assert (item["backend"], item["source"], item["api_key_configured"]) == ("datadog", "environment", True)
    assert "preference is 'datadog' (from KITARU_LOG_STORE_BACKEND)" in item["warning"]
    assert "the active stack 'with-otel' sends runtime logs to 'otel'" in item["warning"]
    status = cli_item(config, "status", "status", **env)
    assert status["log_store"]["backend"] == "datadog"
    assert status["log_store"]["warning"] == item["warning"]
    assert status["warnings"] == [item["warning"]]
    assert status["environment"]["KITARU_LOG_STORE_API_KEY"] == "***"

    # Reset: back to the default, which the otel stack does not follow.
    item = cli_item(config, "log-store.reset", "log-store", "reset")
    assert (item["backend"], item["endpoint"], item["source"]) == ("artifact-store", None, "default")
    assert item["api_key_configured"] is False
    assert "preference is 'artifact-store' (the default)" in item["warning"]
    assert "`kitaru stack use default`" in item["warning"]
    assert yaml.safe_load(path.read_text()) == {
        "version": 1,
        "model_registry": {"aliases": {}, "default": None},
    }

    # Text mode: a panel on stdout, the warning on stderr.
    text = cli(config, "log-store", "show")
    assert text.returncode == 0, text.stderr
    for expected in ("Kitaru log store", "artifact-store", "with-otel", "otel (component 'collector')"):
        assert expected in text.stdout, expected
    assert text.stderr.startswith("Warning: The log-store preference is 'artifact-store'")


def test_cli_rejects_bad_input_quickly_and_leaves_the_file_alone(fresh_config_dir: Path) -> None:
    config = fresh_config_dir
    message = cli_error(config, "log-store.set", "log-store", "set", "artifact-store")
    assert message == (
        "'artifact-store' is the default log store and cannot be set. "
        "Run `kitaru log-store reset` to go back to it."
    )
    message = cli_error(config, "log-store.set", "log-store", "set", "datadog", "--api-key", SAVED_KEY)
    assert message.startswith(
        "The log store 'datadog' needs an endpoint. Run: kitaru log-store set datadog --endpoint"
    )
    message = cli_error(config, "log-store.set", "log-store", "set", "otel", "--endpoint", "localhost:4318")
    assert "'localhost:4318' is not an http:// or https:// URL" in message
    message = cli_error(
        config, "log-store.set", "log-store", "set", "otel", "--endpoint", ENDPOINT,
        KITARU_LOG_STORE_API_KEY=ENV_KEY,
    )
    assert "KITARU_LOG_STORE_API_KEY is set but KITARU_LOG_STORE_BACKEND is not" in message
    assert not (config / "kitaru.yaml").exists(), "failed commands must not write"

    message = cli_error(config, "log-store.show", "log-store", "show", KITARU_LOG_STORE_BACKEND="otel")
    assert "KITARU_LOG_STORE_BACKEND=otel needs an endpoint" in message

    (config / "kitaru.yaml").write_text("log_store: {backend: otel\n")
    message = cli_error(config, "log-store.show", "log-store", "show")
    assert message.startswith(f"{INVALID_FILE} {config / 'kitaru.yaml'} and try again. YAML syntax error at line 2")

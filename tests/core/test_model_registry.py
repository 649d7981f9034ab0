"""Model aliases, their transport and model resolution (SPEC §4.5, §5.1, §6).

In-process tests of :mod:`kitaru._llm.registry` against a private
``kitaru.yaml`` (``KITARU_CONFIG_PATH`` is read on every call). No engine is
needed: the registry is a file plus two environment variables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kitaru._llm import registry
from kitaru._llm.registry import ModelRegistry, ResolvedModel, resolve_model
from kitaru.config import ImageSettings, ResolvedExecutionConfig, build_frozen_spec
from kitaru.errors import KitaruUsageError

INVALID_FILE = "The Kitaru global config file is invalid. Fix or delete"
NO_MODEL = (
    "No model alias is configured. Run `kitaru model register <alias> --model <provider/model>` first, "
    "set KITARU_DEFAULT_MODEL, or pass a concrete model to kitaru.llm(...)."
)


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config dir, with no registry or default model in the environment."""
    path = tmp_path / "config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(path))
    monkeypatch.delenv(registry.ENV_REGISTRY, raising=False)
    monkeypatch.delenv(registry.ENV_DEFAULT_MODEL, raising=False)
    return path


def saved(config_home: Path) -> dict:
    return yaml.safe_load((config_home / "kitaru.yaml").read_text())


# -- names and models -------------------------------------------------------------------


def test_aliases_are_lowercased_and_checked() -> None:
    assert registry.normalise_alias("  Fast ") == "fast"
    assert registry.normalise_alias("gpt-4o_mini") == "gpt-4o_mini"
    assert registry.normalise_alias("4o") == "4o"
    for bad in ("", " ", "-fast", "_fast", "fa st", "openai/gpt", "fast!", None, 3):
        with pytest.raises(KitaruUsageError, match="is not a valid name"):
            registry.normalise_alias(bad)


def test_models_need_a_provider_and_a_name() -> None:
    assert registry.validate_model(" openai/gpt-4o-mini ") == "openai/gpt-4o-mini"
    assert registry.validate_model("openrouter/anthropic/claude-3.5") == "openrouter/anthropic/claude-3.5"
    for bad in ("gpt-4o", "/gpt-4o", "openai/", "openai/ gpt", "", None):
        with pytest.raises(KitaruUsageError, match="needs the form provider/model"):
            registry.validate_model(bad)


# -- kitaru.yaml ------------------------------------------------------------------------


def test_first_alias_becomes_default_and_other_fields_are_preserved(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "kitaru.yaml").write_text(
        "version: 1\nlog_store:\n  backend: otel\n  endpoint: https://c.example.com/v1/logs\ncustom: [1, 2]\n"
    )
    entry, after = registry.register_alias("Fast", "openai/gpt-4o-mini", " openai ")
    assert (entry.alias, entry.model, entry.secret) == ("fast", "openai/gpt-4o-mini", "openai")
    assert after.default == "fast"
    registry.register_alias("smart", "anthropic/claude-sonnet-4-5")
    registry.register_alias("FAST", "openai/gpt-4.1-mini")  # replaces, stays the default

    data = saved(config_home)
    assert data["log_store"] == {"backend": "otel", "endpoint": "https://c.example.com/v1/logs"}
    assert data["custom"] == [1, 2]
    assert data["version"] == 1
    assert data["model_registry"] == {
        "aliases": {"fast": {"model": "openai/gpt-4.1-mini"}, "smart": {"model": "anthropic/claude-sonnet-4-5"}},
        "default": "fast",
    }
    local = registry.read_local_registry()
    assert local.entries() == [
        {"alias": "fast", "model": "openai/gpt-4.1-mini", "secret": None, "is_default": True},
        {"alias": "smart", "model": "anthropic/claude-sonnet-4-5", "secret": None, "is_default": False},
    ]


def test_set_default_and_remove(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b", "c"):
        registry.register_alias(name, f"openai/{name}")
    entry, after = registry.set_default_alias("B")
    assert entry.alias == "b" and after.default == "b"

    removed = registry.remove_alias("a")  # not the default: default unchanged
    assert (removed.removed.alias, removed.was_default, removed.registry.default) == ("a", False, "b")

    registry.register_alias("d", "openai/d")
    removed = registry.remove_alias("b")  # the default, two left: cleared, nothing is picked silently
    assert removed.was_default and removed.registry.default is None
    assert saved(config_home)["model_registry"]["default"] is None
    with pytest.raises(KitaruUsageError, match=r"Several model aliases are configured \(c, d\) but none"):
        resolve_model()

    removed = registry.remove_alias("c")  # one left: it becomes the default
    assert removed.registry.default == "d"
    assert registry.read_local_registry().default == "d"

    registry.remove_alias("d")  # the last one: the section goes away
    assert "model_registry" not in saved(config_home)

    with pytest.raises(KitaruUsageError, match="Model alias 'zzz' is not registered"):
        registry.remove_alias("zzz")
    with pytest.raises(KitaruUsageError, match="Model alias 'zzz' is not registered"):
        registry.set_default_alias("zzz")
    monkeypatch.setenv(registry.ENV_REGISTRY, json.dumps({"aliases": {"zzz": {"model": "ollama/x"}}}))
    with pytest.raises(KitaruUsageError, match="comes from KITARU_MODEL_REGISTRY, not from kitaru.yaml"):
        registry.remove_alias("zzz")


def test_malformed_section_is_reported_and_not_overwritten(config_home: Path) -> None:
    config_home.mkdir()
    path = config_home / "kitaru.yaml"
    broken = "version: 1\nmodel_registry:\n  aliases:\n    fast: {model: gpt-4o}\n"
    path.write_text(broken)
    for action in (
        registry.read_local_registry,
        resolve_model,
        lambda: registry.register_alias("x", "openai/x"),
        lambda: registry.set_default_alias("fast"),
    ):
        with pytest.raises(KitaruUsageError, match=INVALID_FILE) as info:
            action()
        assert "alias 'fast'" in str(info.value)
    assert path.read_text() == broken

    path.write_text("version: 1\nmodel_registry:\n  aliases: {a: {model: openai/a}}\n  default: b\n")
    with pytest.raises(KitaruUsageError, match=r"default 'b' is not one of its aliases \(a\)"):
        registry.read_local_registry()
    path.write_text("version: 1\nmodel_registry:\n  aliases: {Fast: openai/a, fast: openai/b}\n")
    with pytest.raises(KitaruUsageError, match="appears twice"):
        registry.read_local_registry()


def test_writers_start_fresh_on_a_file_that_is_not_yaml(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "kitaru.yaml").write_text("- just\n- a list\n")
    with pytest.raises(KitaruUsageError, match=INVALID_FILE):
        registry.read_local_registry()
    registry.register_alias("fast", "openai/gpt-4o-mini")
    assert saved(config_home) == {
        "version": 1,
        "model_registry": {"aliases": {"fast": {"model": "openai/gpt-4o-mini"}}, "default": "fast"},
    }


# -- KITARU_MODEL_REGISTRY ---------------------------------------------------------------


def test_environment_registry_is_merged_over_the_local_one(config_home: Path) -> None:
    registry.register_alias("fast", "openai/gpt-4o-mini", "openai")
    registry.register_alias("smart", "anthropic/claude-sonnet-4-5")
    env = {
        registry.ENV_REGISTRY: json.dumps(
            {"aliases": {"FAST": {"model": "ollama/llama3.2", "secret": None}, "remote": "bedrock/x"}}
        )
    }
    merged = registry.effective_registry(env)
    assert merged.default == "fast"  # the env registry has none: the local default stays
    assert [(e["alias"], e["model"], e["secret"]) for e in merged.entries()] == [
        ("fast", "ollama/llama3.2", None),  # env alias replaces the local one, secret included
        ("remote", "bedrock/x", None),
        ("smart", "anthropic/claude-sonnet-4-5", None),
    ]
    assert merged.aliases["fast"].source == "KITARU_MODEL_REGISTRY"
    assert merged.aliases["smart"].source == "kitaru.yaml"

    env[registry.ENV_REGISTRY] = json.dumps({"aliases": {"remote": {"model": "bedrock/x"}}, "default": "remote"})
    assert registry.effective_registry(env).default == "remote"  # env default wins
    assert resolve_model(environ=env) == ResolvedModel("remote", "remote", "bedrock/x", None, "default alias")
    # an env default may name a local alias only if the env registry defines it too
    env[registry.ENV_REGISTRY] = json.dumps({"aliases": {}, "default": "smart"})
    with pytest.raises(KitaruUsageError, match="Invalid KITARU_MODEL_REGISTRY value: default 'smart'"):
        registry.effective_registry(env)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", r"Invalid KITARU_MODEL_REGISTRY value: not valid JSON \(.* at line 1, column 2\)"),
        ("[1, 2]", "must be a mapping with 'aliases' and 'default'"),
        ('{"aliases": {"Bad Name": {"model": "openai/x"}}}', "is not a valid name"),
        ('{"aliases": {"a": {"model": "no-provider"}}}', "alias 'a': Model 'no-provider' needs the form"),
        ('{"aliases": {"a": {"model": "openai/x", "secret": "  "}}}', "alias 'a': Secret '  ' is blank"),
        ('{"aliases": ["a"]}', "'aliases' must be a mapping"),
    ],
)
def test_invalid_environment_registry_is_a_usage_error(config_home: Path, value: str, message: str) -> None:
    with pytest.raises(KitaruUsageError, match=message):
        registry.read_env_registry({registry.ENV_REGISTRY: value})
    with pytest.raises(KitaruUsageError, match=message):  # also when an llm() call resolves its model
        resolve_model("openai/gpt-4o", environ={registry.ENV_REGISTRY: value})


def test_blank_environment_registry_counts_as_unset(config_home: Path) -> None:
    assert registry.read_env_registry({registry.ENV_REGISTRY: "  "}) is None
    assert registry.read_env_registry({}) is None
    # unknown keys are ignored, so a registry from a newer Kitaru still loads
    data = {"aliases": {"a": {"model": "openai/a", "future": 1}}, "default": "a", "version": 9}
    loaded = registry.read_env_registry({registry.ENV_REGISTRY: json.dumps(data)})
    assert loaded == ModelRegistry(aliases={"a": registry.ModelAlias("a", "openai/a")}, default="a")


def test_snapshot_travels_through_the_image_environment(config_home: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry.snapshot() is None
    assert registry.with_registry_env(None) is None
    assert registry.with_registry_env({"A": "1"}) == {"A": "1"}

    registry.register_alias("fast", "openai/gpt-4o-mini", "openai-creds")
    registry.register_alias("smart", "anthropic/claude-sonnet-4-5")
    snap = registry.snapshot()
    assert snap == {
        "aliases": {
            "fast": {"model": "openai/gpt-4o-mini", "secret": "openai-creds"},
            "smart": {"model": "anthropic/claude-sonnet-4-5"},
        },
        "default": "fast",
    }
    image_env = registry.with_registry_env({"HF_HOME": "/cache"})
    assert image_env is not None and set(image_env) == {"HF_HOME", "KITARU_MODEL_REGISTRY"}
    assert json.loads(image_env["KITARU_MODEL_REGISTRY"]) == snap
    # a value the user put in the image environment is kept
    assert registry.with_registry_env({"KITARU_MODEL_REGISTRY": "{}"}) == {"KITARU_MODEL_REGISTRY": "{}"}

    # The frozen spec stores the snapshot; the transport variable is not masked as a secret.
    resolved = ResolvedExecutionConfig(image=ImageSettings(environment=image_env))
    spec = build_frozen_spec(resolved=resolved, flow_defaults={}, server_url=None, project=None, model_registry=snap)
    dumped = spec.model_dump(mode="json")
    assert dumped["model_registry"] == snap
    assert dumped["resolved_execution"]["image"]["environment"]["KITARU_MODEL_REGISTRY"] == image_env[
        "KITARU_MODEL_REGISTRY"
    ]

    # In the remote runtime there is no kitaru.yaml: the variable alone resolves the same models.
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path / "remote-config"))
    remote_env = {"KITARU_MODEL_REGISTRY": image_env["KITARU_MODEL_REGISTRY"]}
    assert resolve_model(environ=remote_env) == ResolvedModel(
        "fast", "fast", "openai/gpt-4o-mini", "openai-creds", "default alias"
    )
    assert resolve_model("Smart", environ=remote_env).model == "anthropic/claude-sonnet-4-5"


# -- resolution ---------------------------------------------------------------------------


def test_nothing_configured_gives_the_spec_message(config_home: Path) -> None:
    with pytest.raises(KitaruUsageError) as info:
        resolve_model()
    assert str(info.value) == NO_MODEL
    assert registry.NO_MODEL_MESSAGE == NO_MODEL
    # a raw model needs no registry
    assert resolve_model("openai/gpt-4o") == ResolvedModel("openai/gpt-4o", None, "openai/gpt-4o", None, "explicit")


def test_resolution_order_and_alias_lookup(config_home: Path) -> None:
    registry.register_alias("fast", "openai/gpt-4o-mini", "openai-creds")
    registry.register_alias("smart", "anthropic/claude-sonnet-4-5")

    # default alias
    assert resolve_model(environ={}) == ResolvedModel(
        "fast", "fast", "openai/gpt-4o-mini", "openai-creds", "default alias"
    )
    # KITARU_DEFAULT_MODEL beats the default alias; it may be an alias or a raw model
    assert resolve_model(environ={"KITARU_DEFAULT_MODEL": " SMART "}) == ResolvedModel(
        "SMART", "smart", "anthropic/claude-sonnet-4-5", None, "KITARU_DEFAULT_MODEL"
    )
    assert resolve_model(environ={"KITARU_DEFAULT_MODEL": "ollama/llama3.2"}) == ResolvedModel(
        "ollama/llama3.2", None, "ollama/llama3.2", None, "KITARU_DEFAULT_MODEL"
    )
    # explicit beats both; alias lookup is case-insensitive; anything else is a raw model
    env = {"KITARU_DEFAULT_MODEL": "smart"}
    assert resolve_model("Fast", environ=env).alias == "fast"
    assert resolve_model("openai/gpt-4.1", environ=env) == ResolvedModel(
        "openai/gpt-4.1", None, "openai/gpt-4.1", None, "explicit"
    )
    # not an alias and no provider: returned raw, for the backend lookup to reject (or the mock to accept)
    assert resolve_model("unknown-model").alias is None


def test_blank_models_are_usage_errors(config_home: Path) -> None:
    registry.register_alias("fast", "openai/gpt-4o-mini")
    for blank in ("", "   "):
        with pytest.raises(KitaruUsageError, match="KITARU_DEFAULT_MODEL is set but blank"):
            resolve_model(environ={"KITARU_DEFAULT_MODEL": blank})
    for bad in ("", "  ", 42):
        with pytest.raises(KitaruUsageError, match="is not a model"):
            resolve_model(bad)  # type: ignore[arg-type]


def test_single_alias_without_default_is_used(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "kitaru.yaml").write_text("model_registry:\n  aliases:\n    only: {model: openai/x}\n")
    assert resolve_model().model == "openai/x"


def test_resolution_reads_the_process_environment(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_DEFAULT_MODEL", "anthropic/claude-3-5-haiku-latest")
    assert resolve_model().source == "KITARU_DEFAULT_MODEL"
    monkeypatch.delenv("KITARU_DEFAULT_MODEL")
    monkeypatch.setenv(registry.ENV_REGISTRY, json.dumps({"aliases": {"e": {"model": "openai/e"}}, "default": "e"}))
    assert resolve_model().model == "openai/e"

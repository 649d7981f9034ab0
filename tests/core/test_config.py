"""Tests for kitaru.config: precedence, configure(), models, frozen spec, kitaru.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kitaru._engine.images import docker_settings_kwargs
from kitaru.config import (
    UNSET,
    FrozenExecutionSpec,
    ImageSettings,
    KitaruConfig,
    ResolvedExecutionConfig,
    build_frozen_spec,
    coerce_image,
    configure,
    get_connection_overrides,
    get_runtime_config,
    image_for_build,
    read_global_config,
    requirement_names_kitaru,
    reset_configure,
    resolve_execution_config,
    update_global_config,
)
from kitaru.config.paths import config_file
from kitaru.errors import KitaruUsageError

ENV_VARS = ("KITARU_STACK", "KITARU_CACHE", "KITARU_RETRIES", "KITARU_IMAGE", "KITARU_RUNNER")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolate config dir, env, cwd and the configure() layer; return the project dir."""
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path / "config"))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    monkeypatch.chdir(project)
    reset_configure()
    yield project
    reset_configure()


def write_pyproject(project: Path, body: str) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n\n' + textwrap.dedent(body))


def resolve(*, active_stack: str | None = None, decorator: dict | None = None, call: dict | None = None):
    return resolve_execution_config(active_stack=active_stack, decorator=decorator or {}, call=call or {})


# --- precedence -------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    resolved = resolve()
    assert isinstance(resolved, ResolvedExecutionConfig)
    assert (resolved.stack, resolved.image, resolved.cache, resolved.retries) == (None, None, True, 0)
    assert resolved.layers == {"stack": "default", "image": "default", "cache": "default", "retries": "default"}


LAYERS = ["active_stack", "pyproject", "env", "configure", "decorator", "call"]


def _apply_layers(upto: str, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Set stack/cache/retries in every layer up to ``upto``; return resolve kwargs."""
    kwargs: dict = {"active_stack": None, "decorator": {}, "call": {}}
    for index, layer in enumerate(LAYERS[: LAYERS.index(upto) + 1]):
        cache = index % 2 == 1  # alternate so each layer visibly changes cache
        if layer == "active_stack":
            kwargs["active_stack"] = "stack-active_stack"
        elif layer == "pyproject":
            write_pyproject(
                project,
                f"""
                [tool.kitaru]
                stack = "stack-pyproject"
                cache = {str(cache).lower()}
                retries = {index}
                """,
            )
        elif layer == "env":
            monkeypatch.setenv("KITARU_STACK", "stack-env")
            monkeypatch.setenv("KITARU_CACHE", str(cache))
            monkeypatch.setenv("KITARU_RETRIES", str(index))
        elif layer == "configure":
            configure(stack="stack-configure", cache=cache, retries=index)
        else:
            kwargs[layer] = {"stack": f"stack-{layer}", "cache": cache, "retries": index}
    return kwargs


@pytest.mark.parametrize("top", LAYERS)
def test_each_layer_overrides_all_lower_layers(top: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = resolve_execution_config(**_apply_layers(top, isolated, monkeypatch))
    index = LAYERS.index(top)
    assert resolved.stack == f"stack-{top}"
    assert resolved.layers["stack"] == top
    if top != "active_stack":  # the active stack only provides the stack name
        assert resolved.cache is (index % 2 == 1)
        assert resolved.retries == index
        assert resolved.layers["cache"] == resolved.layers["retries"] == top
    else:
        assert (resolved.cache, resolved.retries) == (True, 0)


def test_none_in_a_higher_layer_does_not_clear_a_lower_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_STACK", "from-env")
    monkeypatch.setenv("KITARU_RETRIES", "4")
    resolved = resolve(decorator={"stack": None, "retries": None}, call={"stack": None, "cache": None})
    assert (resolved.stack, resolved.retries) == ("from-env", 4)
    assert resolved.layers["stack"] == resolved.layers["retries"] == "env"


def test_pyproject_is_found_from_a_subdirectory(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pyproject(isolated, '[tool.kitaru]\nstack = "nested"\n')
    deep = isolated / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert resolve().stack == "nested"


def test_nearest_pyproject_wins_even_without_kitaru_table(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pyproject(isolated, '[tool.kitaru]\nstack = "outer"\n')
    inner = isolated / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    monkeypatch.chdir(inner)
    assert resolve().stack is None


def test_pyproject_legacy_runner_key_is_rejected(isolated: Path) -> None:
    write_pyproject(isolated, '[tool.kitaru]\nrunner = "old"\n')
    with pytest.raises(KitaruUsageError, match="'runner' key was renamed to 'stack'") as info:
        resolve()
    assert str(isolated / "pyproject.toml") in str(info.value)


def test_pyproject_bad_value_names_file_and_field(isolated: Path) -> None:
    write_pyproject(isolated, "[tool.kitaru]\nretries = -1\n")
    with pytest.raises(KitaruUsageError, match=r"\[tool.kitaru\] in .*pyproject.toml.*'retries'.*-1"):
        resolve()


def test_pyproject_invalid_toml_names_file(isolated: Path) -> None:
    (isolated / "pyproject.toml").write_text("[tool.kitaru\nstack = \n")
    with pytest.raises(KitaruUsageError, match="Could not parse .*pyproject.toml.*Fix the TOML syntax"):
        resolve()


def test_pyproject_unknown_keys_warn(isolated: Path) -> None:
    write_pyproject(isolated, '[tool.kitaru]\nstack = "s"\nretry = 3\n')
    with pytest.warns(UserWarning, match="ignoring unknown key\\(s\\) retry"):
        assert resolve().stack == "s"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        *[(w, True) for w in ("true", "1", "yes", "on", "t", "y", "TRUE", "Yes", " On ")],
        *[(w, False) for w in ("false", "0", "no", "off", "f", "n", "FALSE", "No", "OFF")],
    ],
)
def test_kitaru_cache_bool_words(word: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_CACHE", word)
    resolved = resolve()
    assert resolved.cache is expected
    assert resolved.layers["cache"] == "env"


def test_kitaru_cache_bad_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_CACHE", "maybe")
    with pytest.raises(KitaruUsageError, match=r"Invalid KITARU_CACHE value 'maybe'.*true, false, 1, 0, yes, no"):
        resolve()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "two"])
def test_kitaru_retries_bad_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_RETRIES", value)
    with pytest.raises(KitaruUsageError, match=f"Invalid KITARU_RETRIES value '{value}'.*>= 0"):
        resolve()


def test_timeouts_from_the_environment_sit_between_pyproject_and_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_TIMEOUT", "90")
    monkeypatch.setenv("KITARU_CHECKPOINT_TIMEOUT", "2.5")
    resolved = resolve()
    assert (resolved.timeout, resolved.checkpoint_timeout) == (90.0, 2.5)
    assert resolved.layers["timeout"] == resolved.layers["checkpoint_timeout"] == "env"
    assert resolve(decorator={"timeout": 30}).timeout == 30.0  # @flow(timeout=...) wins over the environment


@pytest.mark.parametrize("value", ["abc", "0", "-3", "inf", "nan"])
@pytest.mark.parametrize("variable", ["KITARU_TIMEOUT", "KITARU_CHECKPOINT_TIMEOUT"])
def test_bad_timeout_variables_name_the_variable(variable: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(KitaruUsageError, match=f"Invalid {variable} value '{value}'. Use a positive number of seconds"):
        resolve()


def test_blank_env_vars_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.setenv(name, "  ")
    assert resolve().layers == {"stack": "default", "image": "default", "cache": "default", "retries": "default"}


def test_kitaru_runner_env_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_RUNNER", "gpu")
    with pytest.raises(KitaruUsageError, match="KITARU_RUNNER was renamed to KITARU_STACK. Set KITARU_STACK=gpu"):
        resolve()


def test_kitaru_image_plain_string_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_IMAGE", "python:3.12-slim")
    assert resolve().image == ImageSettings(base_image="python:3.12-slim")
    monkeypatch.setenv("KITARU_IMAGE", '{"parent_image": "py", "environment": {"A": "1"}}')
    assert resolve().image == ImageSettings(base_image="py", environment={"A": "1"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"base_image": ', "Invalid KITARU_IMAGE value: not valid JSON"),
        ('{"bogus": 1}', "KITARU_IMAGE: Unknown image setting 'bogus'"),
    ],
)
def test_kitaru_image_bad_values(value: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_IMAGE", value)
    with pytest.raises(KitaruUsageError, match=message):
        resolve()


@pytest.mark.parametrize("layer", ["decorator", "call"])
def test_decorator_and_call_reject_runner_and_unknown_keys(layer: str) -> None:
    with pytest.raises(KitaruUsageError, match="'runner' was renamed to 'stack'"):
        resolve(**{layer: {"runner": "x"}})
    with pytest.raises(KitaruUsageError, match="unknown execution option\\(s\\) stak"):
        resolve(**{layer: {"stak": "x"}})
    with pytest.raises(KitaruUsageError, match="retries"):
        resolve(**{layer: {"retries": -3}})


def test_images_merge_field_wise_and_environment_key_wise(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pyproject(
        isolated,
        """
        [tool.kitaru.image]
        base_image = "python:3.11"
        requirements = ["httpx"]
        [tool.kitaru.image.environment]
        A = "pyproject"
        B = "pyproject"
        PORT = 8080
        """,
    )
    monkeypatch.setenv("KITARU_IMAGE", '{"environment": {"B": "env", "C": "env"}}')
    configure(image={"apt_packages": ["git"], "environment": {"C": "configure"}})
    resolved = resolve(
        decorator={"image": ImageSettings(requirements=["rich"])},
        call={"image": {"parent_image": "python:3.12", "environment": {"D": "call"}}},
    )
    assert resolved.image == ImageSettings(
        base_image="python:3.12",
        requirements=["rich"],
        apt_packages=["git"],
        environment={"A": "pyproject", "B": "env", "C": "configure", "D": "call", "PORT": "8080"},
    )
    assert resolved.layers["image"] == "pyproject+env+configure+decorator+call"


def test_pyproject_image_may_be_a_string(isolated: Path) -> None:
    write_pyproject(isolated, '[tool.kitaru]\nimage = "python:3.12"\n')
    resolved = resolve()
    assert resolved.image == ImageSettings(base_image="python:3.12")
    assert resolved.layers["image"] == "pyproject"


def test_resolved_config_is_frozen() -> None:
    resolved = resolve()
    with pytest.raises(Exception, match="frozen"):
        resolved.stack = "x"  # type: ignore[misc]


# --- configure() -------------------------------------------------------------


def test_configure_unset_leaves_fields_and_none_clears() -> None:
    first = configure(stack="gpu", image="python:3.12", cache=False, retries=2)
    assert first == KitaruConfig(stack="gpu", image=ImageSettings(base_image="python:3.12"), cache=False, retries=2)
    second = configure(retries=5)
    assert (second.stack, second.cache, second.retries) == ("gpu", False, 5)
    assert second.image == ImageSettings(base_image="python:3.12")
    third = configure(stack=None, image=None)
    assert third == KitaruConfig(cache=False, retries=5)
    assert get_runtime_config() == third
    assert configure() == third
    assert repr(UNSET) == "UNSET"


def test_configure_validates_before_replacing_layer() -> None:
    configure(stack="keep", retries=1)
    with pytest.raises(KitaruUsageError, match="'retries'.*-1"):
        configure(stack="other", retries=-1)
    with pytest.raises(KitaruUsageError, match="Configuration string values cannot be empty"):
        configure(stack="  ")
    with pytest.raises(KitaruUsageError, match="Unknown image setting 'nope'"):
        configure(image={"nope": 1})
    assert get_runtime_config() == KitaruConfig(stack="keep", retries=1)


def test_configure_layer_feeds_resolution_and_none_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_STACK", "from-env")
    configure(stack="from-configure")
    assert resolve().layers["stack"] == "configure"
    configure(stack=None)
    assert resolve().stack == "from-env"


def test_configure_project_goes_to_connection_layer() -> None:
    result = configure(project="team-a")
    assert result.project is None
    assert get_connection_overrides() == {"project": "team-a"}
    configure(retries=1)
    assert get_connection_overrides() == {"project": "team-a"}
    configure(project=None)
    assert get_connection_overrides() == {}
    configure(project="team-b")
    reset_configure()
    assert get_connection_overrides() == {}
    assert get_runtime_config() == KitaruConfig()


# --- KitaruConfig / ImageSettings --------------------------------------------


@pytest.mark.parametrize("field", ["stack", "server_url", "auth_token", "project"])
def test_kitaru_config_rejects_blank_strings(field: str) -> None:
    with pytest.raises(KitaruUsageError, match=f"^Configuration string values cannot be empty. Field '{field}'"):
        KitaruConfig(**{field: "   "})


def test_kitaru_config_fields() -> None:
    config = KitaruConfig(server_url="https://kitaru.example.com//", retries=3, cache="no", unknown="ignored")
    assert config.server_url == "https://kitaru.example.com"
    assert (config.retries, config.cache) == (3, False)
    assert not hasattr(config, "unknown")
    with pytest.raises(KitaruUsageError, match="Invalid Kitaru server URL 'kitaru.example.com'.*http:// or https://"):
        KitaruConfig(server_url="kitaru.example.com")
    with pytest.raises(KitaruUsageError, match="'retries'.*greater than or equal to 0"):
        KitaruConfig(retries=-1)
    with pytest.raises(KitaruUsageError, match="retries must be a whole number"):
        KitaruConfig(retries=True)
    with pytest.raises(KitaruUsageError):
        KitaruConfig.model_validate({"cache": "sometimes"})


def test_image_settings_validation() -> None:
    assert ImageSettings(parent_image="py").base_image == "py"
    assert ImageSettings.model_validate({"parent_image": "py", "base_image": "py"}).base_image == "py"
    with pytest.raises(KitaruUsageError, match="both base_image='a' and parent_image='b'"):
        ImageSettings(base_image="a", parent_image="b")
    with pytest.raises(KitaruUsageError, match="Unknown image setting 'python_version'"):
        ImageSettings(python_version="3.12")
    with pytest.raises(KitaruUsageError, match="Field 'image.requirements\\[1\\]' is blank"):
        ImageSettings(requirements=["httpx", ""])
    with pytest.raises(KitaruUsageError, match="Field 'image.dockerfile' is blank"):
        ImageSettings(dockerfile=" ")
    with pytest.raises(KitaruUsageError, match="image.environment key"):
        ImageSettings(environment={" ": "x"})
    assert ImageSettings(environment={"EMPTY": ""}).environment == {"EMPTY": ""}


def test_coerce_image_accepts_every_form() -> None:
    expected = ImageSettings(base_image="py")
    assert coerce_image(None) is None
    assert coerce_image("py") == expected
    assert coerce_image({"parent_image": "py"}) == expected
    assert coerce_image(expected) is expected
    assert KitaruConfig(image="py").image == expected
    with pytest.raises(KitaruUsageError, match="Unsupported image value 42 of type int"):
        coerce_image(42)


def test_coerce_image_from_docker_settings_and_back() -> None:
    docker_settings = pytest.importorskip("zenml.config.docker_settings")
    settings = docker_settings.DockerSettings(
        parent_image="python:3.12",
        requirements=["httpx"],
        environment={"A": "1"},
        build_config={"build_options": {"platform": "linux/arm64"}},
    )
    image = coerce_image(settings)
    assert image == ImageSettings(
        base_image="python:3.12", requirements=["httpx"], environment={"A": "1"}, platform="linux/arm64"
    )
    rebuilt = docker_settings.DockerSettings(**image_to_docker_settings_kwargs(image))
    assert rebuilt.parent_image == "python:3.12"
    assert rebuilt.requirements == ["httpx"]
    assert rebuilt.build_config.build_options.model_dump(exclude_none=True) == {"platform": "linux/arm64"}
    with pytest.raises(KitaruUsageError, match="DockerSettings fields have no Kitaru image equivalent: skip_build"):
        coerce_image(docker_settings.DockerSettings(parent_image="x", skip_build=True))


# --- Docker settings conversion ------------------------------------------------


def image_to_docker_settings_kwargs(image: object) -> dict:
    """What a remote execution's DockerSettings are built from: Kitaru's rule, then the adapter's mapping."""
    return docker_settings_kwargs(image_for_build(image).model_dump(exclude_none=True))


def test_docker_kwargs_for_empty_settings() -> None:
    assert image_to_docker_settings_kwargs(None) == {"requirements": ["kitaru"]}
    assert image_to_docker_settings_kwargs(ImageSettings()) == {"requirements": ["kitaru"]}


def test_docker_kwargs_map_fields_and_append_kitaru() -> None:
    kwargs = image_to_docker_settings_kwargs(
        {"requirements": ["httpx"], "apt_packages": ["git"], "environment": {"A": "1"}, "image_tag": "v1"}
    )
    assert kwargs == {
        "requirements": ["httpx", "kitaru"],
        "apt_packages": ["git"],
        "environment": {"A": "1"},
        "image_tag": "v1",
    }


@pytest.mark.parametrize(
    "image",
    [{"base_image": "my/img:1", "requirements": ["httpx"]}, {"dockerfile": "Dockerfile"}],
)
def test_docker_kwargs_do_not_append_kitaru_when_user_controls_image(image: dict) -> None:
    kwargs = image_to_docker_settings_kwargs(image)
    assert "kitaru" not in kwargs.get("requirements", [])
    if "base_image" in image:
        assert kwargs["parent_image"] == "my/img:1"
        assert "base_image" not in kwargs


@pytest.mark.parametrize(
    "requirement",
    [
        "kitaru",
        "Kitaru",
        "kitaru==0.1.0",
        "kitaru>=0.1,<1",
        "kitaru[llm]",
        "kitaru [llm,mcp] ~= 0.1",
        "kitaru; python_version >= '3.11'",
        "kitaru @ https://example.com/kitaru-0.1.0-py3-none-any.whl",
        "git+https://github.com/acme/kitaru.git@main",
        "git+https://github.com/acme/kitaru",
        "https://example.com/dist/kitaru-0.1.0.tar.gz",
        "git+https://github.com/acme/mono.git#egg=kitaru&subdirectory=x",
        "./vendor/kitaru",
    ],
)
def test_existing_kitaru_requirement_is_detected(requirement: str) -> None:
    assert requirement_names_kitaru(requirement)
    assert image_to_docker_settings_kwargs({"requirements": [requirement]})["requirements"] == [requirement]


@pytest.mark.parametrize(
    "requirement",
    ["kitaru-core", "kitaru_core==1", "kitarux", "not-kitaru", "https://example.com/kitaru-tools.git"],
)
def test_other_requirements_do_not_count_as_kitaru(requirement: str) -> None:
    assert not requirement_names_kitaru(requirement)
    assert image_to_docker_settings_kwargs({"requirements": [requirement]})["requirements"] == [
        requirement,
        "kitaru",
    ]


# --- frozen execution spec ------------------------------------------------------


def _spec(**overrides) -> FrozenExecutionSpec:
    resolved = resolve(
        call={
            "stack": "prod",
            "retries": 2,
            "image": {
                "base_image": "py",
                "environment": {
                    "OPENAI_API_KEY": "sk-1",
                    "github_token": "ghp",
                    "DbPassword": "pw",
                    "MY_SECRET_NAME": "s",
                    "GCP_CREDENTIALS": "c",
                    "BASIC_AUTH": "a",
                    "LOG_LEVEL": "debug",
                },
            },
        }
    )
    arguments = {
        "resolved": resolved,
        "flow_defaults": {"retries": 1, "image": {"environment": {"HF_TOKEN": "hf", "MODE": "x"}}, "cache": None},
        "server_url": "https://kitaru.example.com/",
        "project": "team",
        "model_registry": {"aliases": {"fast": {"model": "openai/gpt-4o-mini", "secret": "openai"}}},
    }
    arguments.update(overrides)
    return build_frozen_spec(**arguments)


def test_frozen_spec_shape_and_masking() -> None:
    spec = _spec()
    dumped = spec.model_dump(mode="json")
    assert json.loads(json.dumps(dumped)) == dumped
    assert dumped["version"] == 1
    resolved = dumped["resolved_execution"]
    assert (resolved["stack"], resolved["cache"], resolved["retries"]) == ("prod", True, 2)
    assert resolved["image"]["environment"] == {
        "OPENAI_API_KEY": "***",
        "github_token": "***",
        "DbPassword": "***",
        "MY_SECRET_NAME": "***",
        "GCP_CREDENTIALS": "***",
        "BASIC_AUTH": "***",
        "LOG_LEVEL": "debug",
    }
    assert dumped["flow_defaults"]["image"]["environment"] == {"HF_TOKEN": "***", "MODE": "x"}
    assert dumped["flow_defaults"]["retries"] == 1
    assert dumped["connection"] == {"server_url": "https://kitaru.example.com", "project": "team"}
    assert dumped["model_registry"]["aliases"]["fast"]["secret"] == "openai"
    assert "sk-1" not in json.dumps(dumped)
    assert FrozenExecutionSpec.model_validate(dumped) == spec


def test_frozen_spec_never_stores_auth_token_and_reads_legacy_runner() -> None:
    spec = _spec(flow_defaults={"runner": "old-stack", "auth_token": "secret-token"})
    assert spec.flow_defaults.stack == "old-stack"
    assert spec.flow_defaults.auth_token is None
    loaded = FrozenExecutionSpec.model_validate(
        {
            "version": 1,
            "resolved_execution": {"runner": "legacy", "cache": False, "retries": 0},
            "flow_defaults": {"auth_token": "t"},
            "connection": {"server_url": "https://x", "project": "p", "auth_token": "leak"},
            "model_registry": None,
        }
    )
    assert loaded.resolved_execution.stack == "legacy"
    assert loaded.flow_defaults.auth_token is None
    assert "leak" not in json.dumps(loaded.model_dump(mode="json"))


def test_frozen_spec_masks_when_loaded_from_unmasked_data() -> None:
    loaded = FrozenExecutionSpec.model_validate(
        {"resolved_execution": {"image": {"environment": {"API_KEY": "plain"}}}}
    )
    assert loaded.resolved_execution.image.environment == {"API_KEY": "***"}


# --- kitaru.yaml ----------------------------------------------------------------


def test_global_config_round_trip_preserves_other_fields(tmp_path: Path) -> None:
    path = config_file()
    assert path == tmp_path / "config" / "kitaru.yaml"
    assert not path.parent.exists()
    assert read_global_config() == {}

    def set_log_store(data: dict) -> None:
        data["log_store"] = {"backend": "otel", "endpoint": "http://collector:4318"}

    def add_alias(data: dict) -> None:
        data.setdefault("model_registry", {"aliases": {}})["aliases"]["fast"] = {"model": "openai/gpt-4o-mini"}
        data["model_registry"]["default"] = "fast"

    update_global_config(set_log_store)
    written = update_global_config(add_alias)
    assert written == read_global_config()
    assert read_global_config() == {
        "version": 1,
        "log_store": {"backend": "otel", "endpoint": "http://collector:4318"},
        "model_registry": {"aliases": {"fast": {"model": "openai/gpt-4o-mini"}}, "default": "fast"},
    }
    assert path.read_text().startswith("version: 1\n")
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("content", ["log_store: [unclosed\n", "- just\n- a list\n", "\tbad: tab\n"])
def test_malformed_global_config_read_fails_and_writer_recovers(content: str) -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(KitaruUsageError) as info:
        read_global_config()
    # SPEC §5.1's sentence, then what is wrong (line and column for a syntax error: test_config_errors.py)
    assert str(info.value).startswith(f"The Kitaru global config file is invalid. Fix or delete {path} and try again. ")
    update_global_config(lambda data: data.update(log_store={"backend": "x"}))
    assert read_global_config() == {"version": 1, "log_store": {"backend": "x"}}


def test_failing_mutator_leaves_file_untouched() -> None:
    update_global_config(lambda data: data.update(keep="me"))
    before = config_file().read_text()

    def boom(data: dict) -> None:
        data["keep"] = "changed"
        raise RuntimeError("mutator failed")

    with pytest.raises(RuntimeError, match="mutator failed"):
        update_global_config(boom)
    assert config_file().read_text() == before


# --- import cost --------------------------------------------------------------------


def test_importing_config_does_not_import_engine_or_yaml(tmp_path: Path) -> None:
    code = (
        "import sys, kitaru.config as c; c.configure(retries=1); "
        "print(sorted(m for m in ('zenml', 'yaml') if m in sys.modules))"
    )
    env = {**os.environ, "KITARU_CONFIG_PATH": str(tmp_path / "cfg")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"

"""The plugin manager with real pluggy and real entry points.

Plugins here are real modules: either built in-process (for manager-level
behaviour) or written as throwaway installed distributions with a ``kitaru``
entry point (for discovery), using :mod:`kitaru.testing.distributions`, the
same helper plugin authors get.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from kitaru.plugins import (
    ArtifactStoreBackend,
    ComponentSpec,
    KitaruPluginManager,
    LlmBackendSpec,
    LogStoreSpec,
    PluginLoadError,
    PluginRecordError,
    PluginSource,
    StackField,
    StackProviderSpec,
    StackSpec,
    get_plugin_manager,
)
from kitaru.plugins.manager import RAISE_ERRORS_ENV
from kitaru.testing import plugin_manager_with
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution

BIN = Path(sys.executable).parent

POINT_PLUGIN = """
    import json

    import kitaru
    from kitaru.plugins import ArtifactSerializerSpec


    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __eq__(self, other):
            return type(other) is Point and (self.x, self.y) == (other.x, other.y)

        def __hash__(self):
            return hash((self.x, self.y))


    def _write(value):
        return json.dumps({"x": value.x, "y": value.y}).encode()


    def _read(data, python_type):
        fields = json.loads(data)
        return Point(fields["x"], fields["y"])


    @kitaru.hookimpl
    def kitaru_artifact_serializers():
        yield ArtifactSerializerSpec(
            name="point",
            content_type="application/vnd.pointy+json",
            can_write=lambda value: isinstance(value, Point),
            write=_write,
            read=_read,
            python_types=(Point,),
            priority=90,
        )
"""


def _module(name: str, source: str) -> types.ModuleType:
    """Build a real module from source, as if imported from a plugin package."""
    module = types.ModuleType(name)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


def _log_store_plugin(name: str, record_name: str, description: str) -> types.ModuleType:
    return _module(
        name,
        f"""
        import kitaru
        from kitaru.plugins import LogStoreSpec

        @kitaru.hookimpl
        def kitaru_log_stores():
            yield LogStoreSpec(name={record_name!r}, description={description!r})
        """,
    )


@pytest.fixture(autouse=True)
def _no_raise_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RAISE_ERRORS_ENV, raising=False)


@pytest.fixture
def point_dist(tmp_path: Path) -> ThrowawayDistribution:
    return make_distribution(
        tmp_path / "site",
        "pointy-plugin",
        version="1.0",
        modules={"pointy_plugin": POINT_PLUGIN},
        entry_points={"pointy": "pointy_plugin"},
    )


@pytest.fixture
def broken_dist(tmp_path: Path) -> ThrowawayDistribution:
    return make_distribution(
        tmp_path / "broken-site",
        "kitaru-broken",
        version="2.5",
        modules={"kitaru_broken_plugin": "import kitaru_module_that_does_not_exist\n"},
        entry_points={"broken": "kitaru_broken_plugin"},
    )


def _subprocess_env(dist: ThrowawayDistribution, tmp_path: Path) -> dict[str, str]:
    """The plugin on PYTHONPATH, a fresh config dir, and none of this process's settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env = dist.env(base)
    env["KITARU_CONFIG_PATH"] = str(tmp_path / "config")
    env["ZENML_ANALYTICS_OPT_IN"] = "false"
    env["COLUMNS"] = "200"  # keep the text table on one line per plugin
    return env


# -- conflicts ---------------------------------------------------------------


def test_duplicate_record_names_name_both_sources(caplog: pytest.LogCaptureFixture) -> None:
    manager = KitaruPluginManager()
    manager.register(
        _log_store_plugin("alpha_mod", "shared", "from alpha"),
        PluginSource(plugin="alpha", distribution="kitaru-alpha", version="1.2"),
    )
    manager.register(
        _log_store_plugin("beta_mod", "shared", "from beta"),
        PluginSource(plugin="beta", distribution="beta-dist", version="3.4"),
    )
    with caplog.at_level(logging.WARNING, logger="kitaru.plugins.manager"):
        stores = manager.log_stores()

    assert stores["shared"].description == "from beta", "pluggy calls the later-registered plugin first"
    assert stores["shared"].source == PluginSource("beta", "beta-dist", "3.4")
    [problem] = manager.problems
    assert "Duplicate log store 'shared'" in problem
    assert "plugin 'alpha' (kitaru-alpha 1.2)" in problem
    assert "plugin 'beta' (beta-dist 3.4)" in problem
    assert "kitaru_log_stores()" in problem
    assert problem in caplog.text

    manager.log_stores()  # asking again does not repeat the report
    assert len(manager.problems) == 1


def test_tryfirst_decides_a_conflict_whatever_the_registration_order() -> None:
    """pluggy orders the hook calls, so ``tryfirst`` beats the later-registered plugin."""
    eager = _module(
        "eager_mod",
        """
        import kitaru
        from kitaru.plugins import LogStoreSpec

        @kitaru.hookimpl(tryfirst=True)
        def kitaru_log_stores():
            yield LogStoreSpec(name="shared", description="from eager")
        """,
    )
    for order in (("eager", "plain"), ("plain", "eager")):
        manager = KitaruPluginManager()
        plugins = {"eager": eager, "plain": _log_store_plugin("plain_mod", "shared", "from plain")}
        for name in order:
            manager.register(plugins[name], PluginSource(plugin=name, distribution=f"kitaru-{name}", version="1"))
        assert manager.log_stores()["shared"].description == "from eager", order
        assert manager.log_stores()["shared"].source == PluginSource("eager", "kitaru-eager", "1")
        [problem] = manager.problems
        assert "Using the one from plugin 'eager'" in problem


def test_a_hook_wrapper_sees_and_changes_every_plugins_records() -> None:
    """A ``wrapper=True`` hookimpl wraps the whole call, as in any pluggy host; what it adds is its own."""
    wrapper = _module(
        "wrapping_mod",
        """
        import kitaru
        from kitaru.plugins import LogStoreSpec

        seen = []

        @kitaru.hookimpl(wrapper=True)
        def kitaru_log_stores():
            results = yield
            seen.extend(record.name for produced in results for record in produced)
            kept = [[record for record in produced if record.name != "dropped"] for produced in results]
            return [*kept, [LogStoreSpec(name="added", description="by the wrapper")]]
        """,
    )
    manager = KitaruPluginManager()
    manager.register(_log_store_plugin("kept_mod", "kept", "kept"), PluginSource("kept", "kitaru-kept", "1"))
    manager.register(_log_store_plugin("dropped_mod", "dropped", "dropped"), PluginSource("dropped", "d", "1"))
    manager.register(wrapper, PluginSource("wrapping", "kitaru-wrapping", "2"))

    stores = manager.log_stores()

    assert sorted(wrapper.seen) == ["dropped", "kept"]  # type: ignore[attr-defined]
    assert sorted(stores) == ["added", "kept"]
    assert stores["kept"].source == PluginSource("kept", "kitaru-kept", "1")
    assert stores["added"].source == PluginSource("wrapping", "kitaru-wrapping", "2")


def test_a_failing_wrapper_is_reported_and_the_records_are_kept() -> None:
    failing = _module(
        "failing_wrapper_mod",
        """
        import kitaru

        @kitaru.hookimpl(wrapper=True)
        def kitaru_log_stores():
            yield
            raise RuntimeError("wrapper broke")
        """,
    )
    manager = KitaruPluginManager()
    manager.register(_log_store_plugin("kept_by_wrapper_mod", "kept", "kept"), PluginSource("kept", "k", "1"))
    manager.register(failing, PluginSource("breaking", "kitaru-breaking", "1"))
    assert list(manager.log_stores()) == ["kept"]
    assert any("plugin 'breaking' (kitaru-breaking 1)'s wrapper failed in kitaru_log_stores(): RuntimeError" in p
               for p in manager.problems), manager.problems


def test_records_survive_copying_as_older_plugins_do() -> None:
    spec = StackSpec("s", {"credentials": "azure-access-token:SECRET"}, {"orchestrator": {"tolerations": [{"key": "gpu"}]}})
    assert copy.deepcopy(spec) == spec and pickle.loads(pickle.dumps(spec)) == spec
    assert spec.extra_for("orchestrator") == {"tolerations": [{"key": "gpu"}]}, "lists come back as lists"
    assert "SECRET" not in repr(spec)
    component = ComponentSpec("local", {"tolerations": [{"key": "gpu"}]})
    assert copy.deepcopy(component) == component and hash(component) == hash(copy.deepcopy(component))
    with pytest.raises(TypeError):
        spec.extra["orchestrator"]["x"] = 1  # type: ignore[index]  # the typed view is read-only


def test_hook_calls_are_traced_by_pluggy() -> None:
    manager = KitaruPluginManager()
    manager.register(_log_store_plugin("traced_mod", "traced", "traced"), PluginSource("traced", "t", "1"))
    lines: list[str] = []
    manager.trace(lines.append)
    manager.log_stores()
    assert any("kitaru_log_stores" in line for line in lines), lines
    assert any("LogStoreSpec(name='traced'" in line for line in lines), "the result is traced too"


def test_a_failing_hookimpl_is_skipped_without_breaking_the_others() -> None:
    failing = _module(
        "failing_mod",
        """
        import kitaru

        @kitaru.hookimpl
        def kitaru_log_stores():
            raise RuntimeError("boom")
        """,
    )
    manager = KitaruPluginManager()
    manager.register(_log_store_plugin("fine_mod", "fine", "fine"), PluginSource("fine", "f", "1"))
    manager.register(failing, PluginSource("failing", "kitaru-failing", "1"))
    assert list(manager.log_stores()) == ["fine"]
    assert any("plugin 'failing' (kitaru-failing 1) failed in kitaru_log_stores(): RuntimeError: boom" in p
               for p in manager.problems)


def test_a_malformed_record_fails_where_the_plugin_loads_naming_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = make_distribution(
        tmp_path / "site",
        "kitaru-halfdone",
        version="0.3",
        modules={
            "kitaru_halfdone": """
                import kitaru
                from kitaru.plugins import StackField, StackProviderSpec

                HALF = StackProviderSpec(name="half", fields=(StackField("app_name", required=True),))

                @kitaru.hookimpl
                def kitaru_stack_providers():
                    yield HALF
            """
        },
        entry_points={"halfdone": "kitaru_halfdone"},
    )
    with dist.activated():
        manager = get_plugin_manager()
        assert "half" not in manager.stack_providers()
        [problem] = [p for p in manager.problems if "halfdone" in p]
    assert "plugin 'halfdone' (kitaru-halfdone 0.3)" in problem
    assert "StackProviderSpec 'half': build_components is required" in problem
    monkeypatch.setenv(RAISE_ERRORS_ENV, "1")
    with dist.activated(), pytest.raises(PluginLoadError, match="build_components is required"):
        get_plugin_manager()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StackField("App-Name"), "invalid field name 'App-Name'"),
        (lambda: StackField("type"), "'type' is taken by `kitaru stack create` itself"),
        (lambda: StackProviderSpec(name="Bad Name", build_components=print), "invalid stack type name 'Bad Name'"),
        (lambda: LogStoreSpec(name="x", read_logs="not callable"), "read_logs must be a function"),  # type: ignore[arg-type]
        (lambda: LlmBackendSpec(name="echo", prefixes=("echo/",)), "call is required"),
        (lambda: LlmBackendSpec(name="echo", prefixes=("echo",), call=print), "invalid model prefix 'echo'"),
        (
            lambda: ArtifactStoreBackend(schemes=("s3://",), provider="aws", build=print),
            "invalid URI scheme (bare, lowercase) 's3://'",
        ),
    ],
)
def test_records_check_themselves_when_built(build: Any, message: str) -> None:
    with pytest.raises(PluginRecordError) as excinfo:
        build()
    assert message in str(excinfo.value)


@pytest.mark.parametrize("entry_point_name", ["aaa", "zzz"])
def test_first_party_records_win_a_conflict_whatever_the_third_partys_name(
    tmp_path: Path, entry_point_name: str
) -> None:
    """Kitaru's own plugins register after third-party ones, so pluggy asks them first."""
    dist = make_distribution(
        tmp_path / "site",
        f"kitaru-{entry_point_name}",
        version="1.0",
        modules={
            f"kitaru_{entry_point_name}": """
                import kitaru
                from kitaru.plugins import ComponentSpec, StackComponents, StackProviderSpec

                @kitaru.hookimpl
                def kitaru_stack_providers():
                    yield StackProviderSpec(
                        name="local", description="An impostor.",
                        build_components=lambda spec: StackComponents(ComponentSpec("local"), ComponentSpec("local")),
                    )
            """
        },
        entry_points={entry_point_name: f"kitaru_{entry_point_name}"},
    )
    with dist.activated():
        manager = get_plugin_manager()
        local = manager.stack_providers()["local"]
        problems = list(manager.problems)
    assert local.source is not None and local.source.plugin == "local"
    assert any("Duplicate stack type 'local'" in p and f"plugin '{entry_point_name}'" in p for p in problems)


def test_a_deprecated_record_form_is_listed_among_the_plugins_problems(tmp_path: Path) -> None:
    dist = make_distribution(
        tmp_path / "site",
        "kitaru-olden",
        version="0.9",
        modules={
            "kitaru_olden": """
                import kitaru
                from kitaru.plugins import StackProviderSpec

                OLD = StackProviderSpec(name="olden", description="Old style.", artifact_store_schemes=("olden",),
                                        build_components=lambda spec: {})

                @kitaru.hookimpl
                def kitaru_stack_providers():
                    yield OLD
            """
        },
        entry_points={"olden": "kitaru_olden"},
    )
    with dist.activated(), pytest.warns(DeprecationWarning, match="artifact_store_schemes is deprecated"):
        manager = get_plugin_manager()
        assert manager.stack_providers()["olden"].schemes == ("olden",), "the old form still works"
        problems = list(manager.problems)
    assert any(
        p.startswith("plugin 'olden' (kitaru-olden 0.9): StackProviderSpec 'olden': artifact_store_schemes is deprecated")
        for p in problems
    ), problems


def test_builtin_serializer_wins_over_a_plugin_reusing_its_name() -> None:
    impostor = _module(
        "impostor",
        """
        import kitaru
        from kitaru.plugins import ArtifactSerializerSpec

        @kitaru.hookimpl
        def kitaru_artifact_serializers():
            yield ArtifactSerializerSpec(
                name="json", content_type="application/json", priority=99,
                can_write=lambda value: True, write=lambda value: b"", read=lambda d, t: None,
            )
        """,
    )
    manager = plugin_manager_with(impostor, name="impostor", builtins=True)
    by_name = {spec.name: spec for spec in manager.artifact_serializers()}
    assert by_name["json"].source.distribution == "kitaru-core"
    assert by_name["json"].priority == 10
    assert any(
        "Duplicate artifact serializer 'json'" in p and "plugin 'impostor'" in p
        for p in manager.problems
    )


def test_duplicate_plugin_names_from_two_distributions(tmp_path: Path) -> None:
    first = make_distribution(
        tmp_path / "one",
        "kitaru-dup-one",
        version="1.0",
        modules={"dup_one": ""},
        entry_points={"dup": "dup_one"},
    )
    second = make_distribution(
        tmp_path / "two",
        "kitaru-dup-two",
        version="2.0",
        modules={"dup_two": ""},
        entry_points={"dup": "dup_two"},
    )
    with first.activated(), second.activated():
        manager = get_plugin_manager()
        [info] = [info for info in manager.plugins() if info.name == "dup"]
        problems = [p for p in manager.problems if "Duplicate plugin name 'dup'" in p]

    assert len(problems) == 1
    assert "kitaru-dup-one 1.0" in problems[0]
    assert "kitaru-dup-two 2.0" in problems[0]
    assert f"Keeping plugin 'dup' ({info.distribution} {info.version})" in problems[0]


# -- broken plugins ------------------------------------------------------------


def test_broken_plugin_is_logged_and_skipped(
    broken_dist: ThrowawayDistribution, caplog: pytest.LogCaptureFixture
) -> None:
    with broken_dist.activated(), caplog.at_level(logging.WARNING):
        manager = get_plugin_manager()
        names = [info.name for info in manager.plugins()]
        stack_types = manager.stack_providers()

    assert "broken" not in names
    assert {"core", "local"} <= set(names), "one broken plugin must not hide the others"
    assert "local" in stack_types
    [problem] = [p for p in manager.problems if "broken" in p]
    assert "Could not load plugin 'broken' (kitaru-broken 2.5)" in problem
    assert "ModuleNotFoundError" in problem and "kitaru_module_that_does_not_exist" in problem
    assert f"{RAISE_ERRORS_ENV}=1" in problem
    assert problem in caplog.text


def test_raise_plugin_errors_makes_a_broken_plugin_fatal(
    broken_dist: ThrowawayDistribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RAISE_ERRORS_ENV, "1")
    with broken_dist.activated():
        with pytest.raises(PluginLoadError, match=r"plugin 'broken' \(kitaru-broken 2.5\)") as info:
            get_plugin_manager()
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_hook_that_raises_is_skipped_or_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    failing = _module(
        "failing",
        """
        import kitaru

        @kitaru.hookimpl
        def kitaru_log_stores():
            raise RuntimeError("boom")
        """,
    )
    manager = plugin_manager_with(failing, name="failing", distribution="kitaru-failing")
    manager.register(
        _log_store_plugin("fine", "fine", "works"), PluginSource("fine", "fine-dist", "1")
    )
    assert list(manager.log_stores()) == ["fine"]
    [problem] = manager.problems
    assert "plugin 'failing' (kitaru-failing 0.0.0) failed in kitaru_log_stores()" in problem
    assert "RuntimeError: boom" in problem

    monkeypatch.setenv(RAISE_ERRORS_ENV, "1")
    fatal = plugin_manager_with(failing, name="failing")
    with pytest.raises(PluginLoadError, match="RuntimeError: boom"):
        fatal.log_stores()


def test_record_of_the_wrong_type_is_skipped_with_a_message() -> None:
    confused = _module(
        "confused",
        """
        import kitaru
        from kitaru.plugins import LogStoreSpec, StackProviderSpec

        @kitaru.hookimpl
        def kitaru_stack_providers():
            yield LogStoreSpec(name="not-a-stack")
            yield {"name": "a-dict"}
            yield StackProviderSpec(name="real", description="A real one.", build_components=dict)
        """,
    )
    manager = plugin_manager_with(confused, name="confused", distribution="kitaru-confused")
    providers = manager.stack_providers()

    assert list(providers) == ["real"]
    assert providers["real"].source == PluginSource("confused", "kitaru-confused", "0.0.0")
    assert manager.problems == [
        "plugin 'confused' (kitaru-confused 0.0.0) returned LogStoreSpec from "
        "kitaru_stack_providers(); expected StackProviderSpec. Skipping it.",
        "plugin 'confused' (kitaru-confused 0.0.0) returned dict from "
        "kitaru_stack_providers(); expected StackProviderSpec. Skipping it.",
    ]


def test_hookimpl_with_arguments_is_rejected_and_the_name_stays_free() -> None:
    bad = _module(
        "bad",
        """
        import kitaru

        @kitaru.hookimpl
        def kitaru_log_stores(config):
            return []
        """,
    )
    manager = plugin_manager_with(bad, name="bad")
    assert [info.name for info in manager.plugins()] == []
    [problem] = manager.problems
    assert "Could not register plugin 'bad'" in problem and "kitaru_log_stores" in problem

    manager.register(_log_store_plugin("good", "good", "ok"), PluginSource("bad", "fixed", "2"))
    assert list(manager.log_stores()) == ["good"]


def test_misspelled_hook_is_reported() -> None:
    typo = _module(
        "typo",
        """
        import kitaru

        @kitaru.hookimpl
        def kitaru_stack_provider():
            return []
        """,
    )
    manager = plugin_manager_with(typo, name="typo")
    [problem] = manager.problems
    assert "'kitaru_stack_provider', which is not a Kitaru hook" in problem
    assert "kitaru_stack_providers" in problem


# -- a third-party distribution ------------------------------------------------


def test_third_party_plugin_is_found_in_process(point_dist: ThrowawayDistribution) -> None:
    with point_dist.activated():
        manager = get_plugin_manager()
        serializers = manager.artifact_serializers()
        infos = {info.name: info for info in manager.plugins()}
        from pointy_plugin import Point  # importable while activated

        point = serializers[0]
        value = Point(1, 2)
        restored = point.read(point.write(value), Point)

    assert point.name == "point", "priority 90 sorts above every built-in"
    assert point.source == PluginSource("pointy", "pointy-plugin", "1.0")
    assert [s.name for s in serializers[1:3]] == ["pydantic", "dataclass"]
    assert infos["pointy"].hooks == ("kitaru_artifact_serializers",)
    assert infos["pointy"].distribution == "pointy-plugin"
    assert restored == value
    assert manager.problems == []

    # Deactivated: the plugin is gone again.
    assert "pointy" not in {info.name for info in get_plugin_manager().plugins()}


def test_third_party_plugin_is_listed_by_the_cli(
    point_dist: ThrowawayDistribution, tmp_path: Path
) -> None:
    env = _subprocess_env(point_dist, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "kitaru.cli", "plugins", "-o", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "plugins"
    assert payload["count"] == len(payload["items"])
    by_name = {item["name"]: item for item in payload["items"]}
    assert by_name["pointy"] == {
        "name": "pointy",
        "distribution": "pointy-plugin",
        "version": "1.0",
        "hooks": ["kitaru_artifact_serializers"],
    }
    assert by_name["local"]["distribution"] == "kitaru-local"
    assert "kitaru_stack_providers" in by_name["local"]["hooks"]

    text = subprocess.run(
        [str(BIN / "kitaru"), "plugins"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert text.returncode == 0, text.stderr
    [row] = [line for line in text.stdout.splitlines() if "pointy" in line]
    assert "pointy-plugin" in row and "1.0" in row and "kitaru_artifact_serializers" in row


def test_broken_third_party_plugin_is_reported_by_the_cli(
    broken_dist: ThrowawayDistribution, tmp_path: Path
) -> None:
    env = _subprocess_env(broken_dist, tmp_path)
    listed = subprocess.run(
        [sys.executable, "-m", "kitaru.cli", "plugins", "-o", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    names = [item["name"] for item in json.loads(listed.stdout)["items"]]
    assert "broken" not in names and "local" in names
    assert "kitaru-broken" in listed.stderr + listed.stdout

    fatal = subprocess.run(
        [sys.executable, "-m", "kitaru.cli", "plugins", "-o", "json"],
        env={**env, RAISE_ERRORS_ENV: "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fatal.returncode == 1
    assert fatal.stdout.strip() == ""
    error = json.loads(fatal.stderr)["error"]  # SPEC §4: errors as JSON on stderr
    assert error["type"] == "PluginLoadError"
    assert "plugin 'broken' (kitaru-broken 2.5)" in error["message"]

"""Behaviour of the ``local`` plugin (kitaru-local), loaded the way users get it.

The records are taken from the process-wide plugin manager, which finds the
plugin through the real ``kitaru`` entry point of the installed
``kitaru-local`` distribution, so these tests also cover the packaging.

Specs are built the way core builds them, with
:meth:`~kitaru.plugins.records.StackSpec.for_provider`::

    StackSpec(name="dev", values={"artifact_store": None | "/dir" | "s3://bucket",
                                  "credentials": None | "..."},
              extra={"orchestrator": {...}, "artifact_store": {...}})

A few tests hand a plain mapping instead, as older callers do. Borrowing a
cloud plugin's artifact store (``s3://``, ``gs://``, ``az://``) is tested by
the cloud plugins' tests against emulators, not here.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import (
    LogStoreSpec,
    StackProviderSpec,
    get_plugin_manager,
)
from kitaru.plugins.records import ComponentSpec, PluginRecordError, StackComponents, StackSpec
from kitaru_local import LOCAL_STACK_PROVIDER, build_local_components, verify_local
from kitaru_local.log_store import read_engine_logs

FIX = "Pass a directory you can write to with --extra artifact_store.path=DIR."


@pytest.fixture
def local(fresh_manager: None) -> StackProviderSpec:
    return get_plugin_manager().stack_providers()["local"]


def stack_spec(
    name: str = "dev",
    *,
    artifact_store: Any = None,
    credentials: Any = None,
    orchestrator: Mapping[str, Any] | None = None,
    store_extra: Mapping[str, Any] | None = None,
) -> StackSpec:
    """The spec core builds for ``kitaru stack create NAME --type local``."""
    return StackSpec.for_provider(
        LOCAL_STACK_PROVIDER,
        name,
        {"artifact_store": artifact_store, "credentials": credentials},
        {"orchestrator": orchestrator or {}, "artifact_store": store_extra or {}},
    )


def local_component(configuration: dict[str, Any] | None = None) -> ComponentSpec:
    """A component of flavor ``local`` named like the stack ``dev``."""
    return ComponentSpec(flavor="local", configuration=configuration or {}, name="dev")


def local_stack(
    orchestrator: dict[str, Any] | None = None, artifact_store: dict[str, Any] | None = None
) -> StackComponents:
    """The two components of the local stack ``dev``."""
    return StackComponents(
        orchestrator=local_component(orchestrator), artifact_store=local_component(artifact_store)
    )


def build(provider: StackProviderSpec, spec: Mapping[str, Any]) -> StackComponents:
    """What the record's ``build_components`` returns, checked to be typed."""
    assert provider.build_components is not None
    built = provider.build_components(spec)
    assert isinstance(built, StackComponents)
    return built


def verify(provider: StackProviderSpec, spec: Mapping[str, Any]) -> None:
    assert provider.verify is not None
    provider.verify(spec)


# -- discovery through the entry point ------------------------------------------


def test_local_entry_point_is_declared_by_kitaru_local() -> None:
    [entry_point] = [
        ep for ep in metadata.entry_points(group="kitaru") if ep.name == "local"
    ]
    assert entry_point.value == "kitaru_local.plugin"
    assert entry_point.dist is not None and entry_point.dist.name == "kitaru-local"


def test_local_stack_type_comes_from_the_local_plugin(fresh_manager: None) -> None:
    manager = get_plugin_manager()
    provider = manager.stack_providers()["local"]

    assert isinstance(provider, StackProviderSpec)
    assert provider == LOCAL_STACK_PROVIDER
    assert provider.source is not None
    assert provider.source.plugin == "local"
    assert provider.source.distribution == "kitaru-local"
    assert provider.source.version == metadata.version("kitaru-local")
    assert provider.provider is None
    assert provider.key == "local"
    assert provider.display_name == "Local"
    assert provider.title == "Local"
    assert provider.schemes == ()
    assert provider.artifact_store_schemes == ()
    assert provider.credential_formats == ()
    assert provider.artifact_store_backend is None
    assert provider.extra_targets == ("orchestrator", "artifact_store")
    assert [f.name for f in provider.fields] == ["artifact_store", "credentials"]
    assert [f.title for f in provider.fields] == ["Artifacts", "Credentials"]
    assert all(f.description for f in provider.fields)
    assert provider.required_fields == ()
    assert provider.build_components is build_local_components
    # No backend to fall back on: the type checks its directory (or bucket) itself.
    assert provider.verify is verify_local and provider.verifier() is verify_local
    assert not [p for p in manager.problems if "'local'" in p]


def test_artifact_store_log_store_comes_from_the_local_plugin(fresh_manager: None) -> None:
    store = get_plugin_manager().log_stores()["artifact-store"]

    assert isinstance(store, LogStoreSpec)
    assert store.source is not None
    assert store.source.plugin == "local"
    assert store.source.distribution == "kitaru-local"
    assert store.requires_endpoint is False
    assert store.read_logs is read_engine_logs, "core reads these logs only through the plugin's read_logs"


def test_local_plugin_lists_exactly_its_three_hooks(fresh_manager: None) -> None:
    [info] = [info for info in get_plugin_manager().plugins() if info.name == "local"]
    assert info.distribution == "kitaru-local"
    assert info.hooks == ("kitaru_llm_backends", "kitaru_log_stores", "kitaru_stack_providers")
    assert [b.name for b in get_plugin_manager().llm_backends().values() if b.source.plugin == "local"] == [
        "ollama"
    ]


# -- build_components -----------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [stack_spec(), {"name": "dev"}],
    ids=["core-built", "plain-mapping"],
)
def test_build_without_overrides_names_both_local_components(
    local: StackProviderSpec, spec: Mapping[str, Any]
) -> None:
    assert build(local, spec) == local_stack()


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_build_treats_none_and_blank_values_as_omitted(
    local: StackProviderSpec, blank: Any
) -> None:
    spec = stack_spec(" dev ", artifact_store=blank, credentials=blank)
    assert build(local, spec) == local_stack()


def test_build_treats_a_missing_or_none_extra_as_no_overrides(local: StackProviderSpec) -> None:
    assert build(local, {"name": "dev", "extra": None}) == local_stack()
    assert build(local, {"name": "dev", "extra": {}}) == local_stack()
    assert build(local, {"name": "dev", "extra": {"orchestrator": {}}}) == local_stack()


@pytest.mark.parametrize("as_path_object", [False, True])
def test_build_artifact_store_given_as_a_plain_directory_path(
    local: StackProviderSpec, tmp_path: Path, as_path_object: bool
) -> None:
    target = tmp_path / "artifacts"
    value: Any = target if as_path_object else str(target)
    components = build(local, stack_spec(artifact_store=value))
    assert components == local_stack(artifact_store={"path": str(target)})
    assert isinstance(components.artifact_store.configuration["path"], str)
    assert not target.exists(), "build_components must not create the directory"


def test_build_expands_the_home_directory(local: StackProviderSpec) -> None:
    components = build(local, stack_spec(artifact_store="~/kitaru-artifacts"))
    assert components.artifact_store.configuration == {
        "path": str(Path.home() / "kitaru-artifacts")
    }


def test_build_relative_artifact_store_path_is_made_absolute(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    components = build(local, stack_spec(artifact_store=" store "))
    path = components.artifact_store.configuration["path"]
    assert path == str(Path.cwd() / "store")
    assert Path(path).is_absolute()


def test_build_relative_extra_path_is_made_absolute_keeping_other_settings(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    components = build(
        local, stack_spec(store_extra={"path": "data/artifacts", "custom_setting": 3})
    )
    configuration = components.artifact_store.configuration
    assert configuration == {"path": str(Path.cwd() / "data" / "artifacts"), "custom_setting": 3}
    assert Path(configuration["path"]).is_absolute()


def test_build_extra_path_overrides_the_artifact_store_path(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    components = build(
        local,
        stack_spec(
            artifact_store=str(tmp_path / "given"), store_extra={"path": str(tmp_path / "extra")}
        ),
    )
    assert components.artifact_store == local_component({"path": str(tmp_path / "extra")})


def test_build_extra_settings_merge_with_the_artifact_store_path(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    components = build(
        local, stack_spec(artifact_store=str(tmp_path), store_extra={"custom_setting": True})
    )
    assert components.artifact_store == local_component(
        {"path": str(tmp_path), "custom_setting": True}
    )


def test_build_passes_orchestrator_overrides_through(local: StackProviderSpec) -> None:
    components = build(
        local, stack_spec(orchestrator={"synchronous": False, "labels": {"team": "a"}})
    )
    assert components == local_stack(orchestrator={"synchronous": False, "labels": {"team": "a"}})


def test_a_plain_mapping_is_neither_changed_nor_shared(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = {
        "name": " dev ",
        "artifact_store": "relative/dir",
        "credentials": None,
        "extra": {
            "orchestrator": {"labels": {"team": "a"}},
            "artifact_store": {"options": {"nested": [1, 2]}},
        },
    }
    before = copy.deepcopy(spec)

    components = build(local, spec)
    assert spec == before, "build_components changed its input"
    assert components == build(
        local,
        stack_spec(
            artifact_store="relative/dir",
            orchestrator={"labels": {"team": "a"}},
            store_extra={"options": {"nested": [1, 2]}},
        ),
    )

    # The result is read-only, and changing the mapping afterwards does not reach it.
    with pytest.raises(TypeError):
        components.orchestrator.configuration["labels"]["team"] = "changed"  # type: ignore[index]
    spec["extra"]["artifact_store"]["options"]["nested"].append(3)  # type: ignore[index]
    assert components.artifact_store.configuration["options"] == {"nested": (1, 2)}


# -- what the record and the spec refuse ---------------------------------------


def test_the_record_declares_only_the_two_local_fields(local: StackProviderSpec) -> None:
    # ``orchestrator`` was a top-level key of an old spec shape; now it is an --extra target.
    with pytest.raises(PluginRecordError) as info:
        StackSpec.for_provider(local, "dev", {"zone": "x", "region": "y", "orchestrator": {}})
    assert "has no fields ['orchestrator', 'region', 'zone']" in str(info.value)
    assert "it declares ['artifact_store', 'credentials']" in str(info.value)


def test_a_local_stack_has_no_container_registry_to_override(local: StackProviderSpec) -> None:
    with pytest.raises(PluginRecordError) as info:
        StackSpec.for_provider(local, "dev", extra={"container_registry": {"uri": "r"}})
    assert "stacks have no ['container_registry']" in str(info.value)
    assert "extra targets: ['orchestrator', 'artifact_store']" in str(info.value)


@pytest.mark.parametrize(
    "extra",
    [
        ["orchestrator"],
        "orchestrator.synchronous=true",
        {"orchestrator": ["synchronous"]},
        {"artifact_store": "/some/dir"},
    ],
)
def test_a_plain_mapping_with_malformed_overrides_is_refused(
    local: StackProviderSpec, extra: Any
) -> None:
    with pytest.raises(PluginRecordError, match="extra"):
        build(local, {"name": "dev", "extra": extra})


@pytest.mark.parametrize(
    "spec",
    [{}, {"name": None}, {"name": "  "}, {"name": 7}],
    ids=["no-name", "none", "blank", "int"],
)
def test_a_plain_mapping_without_a_name_is_refused(
    local: StackProviderSpec, spec: dict[str, Any]
) -> None:
    with pytest.raises(PluginRecordError, match="A stack spec needs the stack's name"):
        build(local, spec)


@pytest.mark.parametrize("artifact_store", [None, "/data/kitaru"])
def test_build_rejects_credentials_without_a_bucket(
    local: StackProviderSpec, artifact_store: Any
) -> None:
    spec = stack_spec(artifact_store=artifact_store, credentials="aws-profile:dev")
    with pytest.raises(KitaruUsageError) as info:
        build(local, spec)
    assert str(info.value) == (
        "--credentials only applies to a bucket artifact store (--artifact-store s3://..., "
        "gs://... or az://...); a local directory needs none."
    )
    assert "aws-profile:dev" not in str(info.value)


@pytest.mark.parametrize("uri", ["foo://x", " foo://x "])
def test_build_and_verify_reject_a_bucket_scheme_no_plugin_serves(
    local: StackProviderSpec, tmp_path: Path, uri: str
) -> None:
    spec = stack_spec(artifact_store=uri)
    for check in (build, verify):
        with pytest.raises(KitaruUsageError) as info:
            check(local, spec)
        message = str(info.value)
        assert message.startswith("Cannot infer cloud provider from 'foo://x'. Use an ")
        assert "s3://" in message and "gs://" in message and "az://" in message
    assert sorted(tmp_path.iterdir()) == []


def test_build_rejects_a_uri_in_the_extra_path(local: StackProviderSpec) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, stack_spec(store_extra={"path": "s3://bucket/prefix"}))
    assert str(info.value) == (
        "artifact_store.path is a local directory; got the URI 's3://bucket/prefix'. "
        "Put a bucket in the artifact store itself: --artifact-store s3://bucket."
    )


def test_verify_rejects_a_uri_in_the_extra_path_too(local: StackProviderSpec) -> None:
    with pytest.raises(KitaruUsageError, match="got the URI 's3://bucket'"):
        verify(local, stack_spec(store_extra={"path": "s3://bucket"}))


@pytest.mark.parametrize("path", [12, "", "   "])
def test_build_rejects_a_non_path_extra_path(local: StackProviderSpec, path: Any) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, stack_spec(store_extra={"path": path}))
    assert str(info.value) == (
        f"artifact_store.path must be a directory path; got {path!r}. "
        "Pass one with --extra artifact_store.path=DIR."
    )


@pytest.mark.parametrize(
    ("artifact_store", "type_name"),
    # The spec is read-only: a list given as a value is kept as a tuple.
    [({"path": "/data"}, "dict"), (42, "int"), (["/data"], "list")],
)
def test_build_rejects_an_artifact_store_that_is_neither_path_nor_uri(
    local: StackProviderSpec, artifact_store: Any, type_name: str
) -> None:
    # A mapping was the old spec shape; its settings now go under extra.artifact_store.
    with pytest.raises(KitaruUsageError) as info:
        build(local, stack_spec(artifact_store=artifact_store))
    assert str(info.value) == (
        "A local stack's artifact_store is a directory path or a bucket URI; got "
        f"{type_name}. Pass settings with --extra artifact_store.FIELD=VALUE."
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "dev", "artifact_store": "foo://b/p", "extra": {"orchestrator": {"labels": {"a": 1}}}},
        {"name": "dev", "credentials": "aws-profile:x", "extra": {"orchestrator": {"labels": {"a": 1}}}},
        {"name": "dev", "artifact_store": "rel", "extra": {"orchestrator": ["x"]}},
        {"name": "dev", "extra": {"artifact_store": {"path": "s3://b"}, "orchestrator": {"a": [1]}}},
        {"name": None, "artifact_store": "rel", "extra": {"orchestrator": {"labels": {"a": 1}}}},
    ],
    ids=["unknown-scheme", "credentials", "non-mapping", "uri-path", "no-name"],
)
def test_rejections_leave_a_plain_mapping_untouched(
    local: StackProviderSpec, spec: dict[str, Any]
) -> None:
    before = copy.deepcopy(spec)
    with pytest.raises((KitaruUsageError, PluginRecordError)):
        build(local, spec)
    assert spec == before


# -- verify ---------------------------------------------------------------------


def test_verify_without_a_path_has_nothing_to_check(local: StackProviderSpec) -> None:
    assert verify(local, {"name": "dev"}) is None
    assert verify(local, stack_spec()) is None
    assert verify(local, stack_spec(artifact_store="  ")) is None
    assert verify(local, stack_spec(orchestrator={"synchronous": True})) is None


@pytest.mark.parametrize("via_extra", [False, True])
def test_verify_accepts_a_new_nested_path_without_creating_it(
    local: StackProviderSpec, tmp_path: Path, via_extra: bool
) -> None:
    target = str(tmp_path / "not" / "yet" / "there")
    spec = (
        stack_spec(store_extra={"path": target}) if via_extra else stack_spec(artifact_store=target)
    )
    verify(local, spec)

    assert not (tmp_path / "not").exists(), "verify must not create directories"
    assert sorted(tmp_path.iterdir()) == []


def test_verify_accepts_an_existing_writable_directory(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    verify(local, stack_spec(artifact_store=str(tmp_path)))
    verify(local, stack_spec(artifact_store=tmp_path))


def test_verify_checks_the_extra_path_rather_than_the_artifact_store(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    # The extra path wins, as in build_components: the file given as artifact_store is ignored.
    verify(local, stack_spec(artifact_store=str(blocker), store_extra={"path": str(tmp_path)}))
    with pytest.raises(KitaruUsageError, match="is a file"):
        verify(local, stack_spec(artifact_store=str(tmp_path), store_extra={"path": str(blocker)}))


def test_verify_rejects_a_path_below_a_file(local: StackProviderSpec, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    target = blocker / "sub" / "dir"

    with pytest.raises(KitaruUsageError) as info:
        verify(local, stack_spec(artifact_store=str(target)))

    assert str(info.value) == (
        f"Artifact store path '{target}' cannot be created: '{blocker}' is a file, "
        f"not a directory. {FIX}"
    )
    assert not (blocker.parent / "sub").exists()


@pytest.mark.parametrize("via_extra", [False, True])
def test_verify_rejects_a_path_that_is_a_file(
    local: StackProviderSpec, tmp_path: Path, via_extra: bool
) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    spec = (
        stack_spec(store_extra={"path": str(target)})
        if via_extra
        else stack_spec(artifact_store=str(target))
    )
    with pytest.raises(KitaruUsageError) as info:
        verify(local, spec)
    assert str(info.value) == f"Artifact store path '{target}' is a file, not a directory. {FIX}"


def test_verify_resolves_a_relative_path_against_the_working_directory(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(KitaruUsageError) as info:
        verify(local, stack_spec(artifact_store="file.txt"))
    expected = f"Artifact store path '{Path.cwd() / 'file.txt'}' is a file"
    assert str(info.value).startswith(expected)


def test_verify_rejects_a_path_under_a_read_only_directory(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "new" / "store"
    locked.chmod(0o500)
    try:
        if os.geteuid() == 0:
            # Root may write anywhere, so chmod cannot produce a read-only
            # directory here; ask the same question os.access answers for a
            # normal user instead of skipping.
            real_access = os.access
            monkeypatch.setattr(
                os,
                "access",
                lambda path, mode: False if Path(path) == locked else real_access(path, mode),
            )
        with pytest.raises(KitaruUsageError) as info:
            verify(local, stack_spec(artifact_store=str(target)))
    finally:
        locked.chmod(0o700)

    assert str(info.value) == (
        f"Artifact store path '{target}' is not writable: this user may not write to "
        f"'{locked}'. {FIX} Or change the directory's permissions."
    )
    assert not (locked / "new").exists()

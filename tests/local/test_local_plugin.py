"""Behaviour of the ``local`` plugin (kitaru-local), loaded the way users get it.

The records are taken from the process-wide plugin manager, which finds the
plugin through the real ``kitaru`` entry point of the installed
``kitaru-local`` distribution, so these tests also cover the packaging.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import (
    LogStoreSpec,
    StackProviderSpec,
    get_plugin_manager,
    reset_plugin_manager,
)


@pytest.fixture
def fresh_manager() -> Iterator[None]:
    """Load plugins from scratch, and leave no manager behind for other tests."""
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def local(fresh_manager: None) -> StackProviderSpec:
    return get_plugin_manager().stack_providers()["local"]


def build(provider: StackProviderSpec, spec: dict[str, Any]) -> dict[str, Any]:
    assert provider.build_components is not None
    return dict(provider.build_components(spec))


def verify(provider: StackProviderSpec, spec: dict[str, Any]) -> None:
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
    assert provider.source is not None
    assert provider.source.plugin == "local"
    assert provider.source.distribution == "kitaru-local"
    assert provider.source.version == metadata.version("kitaru-local")
    assert provider.provider is None
    assert provider.artifact_store_schemes == ()
    assert [f.name for f in provider.fields] == ["orchestrator", "artifact_store"]
    assert provider.required_fields == ()
    assert callable(provider.build_components) and callable(provider.verify)
    assert not [p for p in manager.problems if "'local'" in p]


def test_artifact_store_log_store_comes_from_the_local_plugin(fresh_manager: None) -> None:
    store = get_plugin_manager().log_stores()["artifact-store"]

    assert isinstance(store, LogStoreSpec)
    assert store.source is not None
    assert store.source.plugin == "local"
    assert store.source.distribution == "kitaru-local"
    assert store.requires_endpoint is False
    assert store.read_logs is None


def test_local_plugin_lists_exactly_its_two_hooks(fresh_manager: None) -> None:
    [info] = [info for info in get_plugin_manager().plugins() if info.name == "local"]
    assert info.distribution == "kitaru-local"
    assert info.hooks == ("kitaru_log_stores", "kitaru_stack_providers")


# -- build_components -----------------------------------------------------------


def test_build_without_overrides_names_both_local_components(
    local: StackProviderSpec,
) -> None:
    assert build(local, {"name": "dev"}) == {
        "orchestrator": {"name": "dev", "flavor": "local", "configuration": {}},
        "artifact_store": {"name": "dev", "flavor": "local", "configuration": {}},
    }


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_build_treats_none_and_blank_overrides_as_omitted(
    local: StackProviderSpec, blank: Any
) -> None:
    components = build(local, {"name": " dev ", "orchestrator": blank, "artifact_store": blank})
    assert components["orchestrator"] == {"name": "dev", "flavor": "local", "configuration": {}}
    assert components["artifact_store"] == {"name": "dev", "flavor": "local", "configuration": {}}


def test_build_artifact_store_given_as_a_path_string(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    target = tmp_path / "artifacts"
    components = build(local, {"name": "dev", "artifact_store": str(target)})
    assert components["artifact_store"] == {
        "name": "dev",
        "flavor": "local",
        "configuration": {"path": str(target)},
    }
    assert components["orchestrator"]["configuration"] == {}


def test_build_artifact_store_mapping_makes_a_relative_path_absolute(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    components = build(
        local, {"name": "dev", "artifact_store": {"path": "data/artifacts", "extra": 3}}
    )
    configuration = components["artifact_store"]["configuration"]
    assert configuration == {"path": str(Path.cwd() / "data" / "artifacts"), "extra": 3}
    assert Path(configuration["path"]).is_absolute()


def test_build_relative_path_string_is_made_absolute_too(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    components = build(local, {"name": "dev", "artifact_store": "store"})
    assert components["artifact_store"]["configuration"] == {"path": str(Path.cwd() / "store")}


def test_build_passes_orchestrator_overrides_through(local: StackProviderSpec) -> None:
    components = build(
        local,
        {"name": "dev", "orchestrator": {"synchronous": True, "labels": {"team": "a"}}},
    )
    assert components["orchestrator"] == {
        "name": "dev",
        "flavor": "local",
        "configuration": {"synchronous": True, "labels": {"team": "a"}},
    }
    assert components["artifact_store"]["configuration"] == {}


def test_build_never_mutates_nor_shares_the_spec(
    local: StackProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec: dict[str, Any] = {
        "name": "dev",
        "orchestrator": {"labels": {"team": "a"}},
        "artifact_store": {"path": "relative/dir"},
    }
    before = copy.deepcopy(spec)

    components = build(local, spec)
    assert spec == before, "build_components changed its input"

    # Mutating the result must not reach back into the spec.
    components["orchestrator"]["configuration"]["labels"]["team"] = "changed"
    components["artifact_store"]["configuration"]["path"] = "/elsewhere"
    assert spec == before, "build_components' result shares objects with its input"


# -- rejections -----------------------------------------------------------------


def test_build_rejects_unknown_keys_listing_them_sorted(local: StackProviderSpec) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, {"name": "dev", "zone": "x", "region": "y"})
    assert str(info.value) == (
        "Local stacks do not accept: region, zone. "
        "Accepted: orchestrator, artifact_store (as --extra TARGET.FIELD=VALUE)."
    )


@pytest.mark.parametrize(
    ("target", "value", "type_name"),
    [
        ("orchestrator", ["synchronous"], "list"),
        ("orchestrator", "synchronous", "str"),
        ("artifact_store", 42, "int"),
        ("orchestrator", {1: "not a string key"}, "dict"),
    ],
)
def test_build_rejects_non_mapping_overrides(
    local: StackProviderSpec, target: str, value: Any, type_name: str
) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, {"name": "dev", target: value})
    assert str(info.value) == (
        f"The '{target}' field of a local stack takes a mapping of settings "
        f"(--extra {target}.FIELD=VALUE); got {type_name}."
    )


@pytest.mark.parametrize(
    "artifact_store", ["s3://bucket/prefix", {"path": "s3://bucket/prefix"}]
)
def test_build_rejects_a_remote_uri(local: StackProviderSpec, artifact_store: Any) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, {"name": "dev", "artifact_store": artifact_store})
    message = str(info.value)
    assert message.startswith(
        "Local stacks keep artifacts in a local directory; got the URI 's3://bucket/prefix'."
    )
    assert "--type kubernetes" in message


def test_verify_rejects_a_remote_uri_too(local: StackProviderSpec) -> None:
    with pytest.raises(KitaruUsageError, match="got the URI 's3://bucket'"):
        verify(local, {"name": "dev", "artifact_store": "s3://bucket"})


@pytest.mark.parametrize("spec", [{}, {"name": None}, {"name": "  "}, {"name": 7}])
def test_build_rejects_a_missing_name(local: StackProviderSpec, spec: dict[str, Any]) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, spec)
    assert str(info.value) == (
        "A local stack needs a name to name its components after; "
        f"got {spec.get('name')!r}. Pass the stack name under 'name'."
    )


def test_build_rejects_a_non_path_artifact_store_path(local: StackProviderSpec) -> None:
    with pytest.raises(KitaruUsageError) as info:
        build(local, {"name": "dev", "artifact_store": {"path": 12}})
    assert str(info.value) == (
        "artifact_store.path must be a directory path; got 12. "
        "Pass one with --extra artifact_store.path=DIR."
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "dev", "orchestrator": {"labels": {"a": 1}}, "bogus": {"x": [1]}},
        {"name": "dev", "orchestrator": {"labels": {"a": 1}}, "artifact_store": "s3://b/p"},
        {"name": "dev", "orchestrator": ["x"], "artifact_store": {"path": "rel"}},
        {"orchestrator": {"labels": {"a": 1}}, "artifact_store": {"path": "rel"}},
    ],
)
def test_rejections_leave_the_spec_untouched(
    local: StackProviderSpec, spec: dict[str, Any]
) -> None:
    before = copy.deepcopy(spec)
    with pytest.raises(KitaruUsageError):
        build(local, spec)
    assert spec == before


# -- verify ---------------------------------------------------------------------


def test_verify_without_a_path_has_nothing_to_check(local: StackProviderSpec) -> None:
    assert verify(local, {"name": "dev"}) is None
    assert verify(local, {"name": "dev", "orchestrator": {"synchronous": True}}) is None


@pytest.mark.parametrize("as_mapping", [False, True])
def test_verify_accepts_a_new_nested_path_without_creating_it(
    local: StackProviderSpec, tmp_path: Path, as_mapping: bool
) -> None:
    target = tmp_path / "not" / "yet" / "there"
    value: Any = {"path": str(target)} if as_mapping else str(target)
    spec = {"name": "dev", "artifact_store": value}
    before = copy.deepcopy(spec)

    verify(local, spec)

    assert not (tmp_path / "not").exists(), "verify must not create directories"
    assert sorted(tmp_path.iterdir()) == []
    assert spec == before


def test_verify_accepts_an_existing_writable_directory(
    local: StackProviderSpec, tmp_path: Path
) -> None:
    verify(local, {"name": "dev", "artifact_store": str(tmp_path)})


def test_verify_rejects_a_path_below_a_file(local: StackProviderSpec, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    target = blocker / "sub" / "dir"

    with pytest.raises(KitaruUsageError) as info:
        verify(local, {"name": "dev", "artifact_store": str(target)})

    assert str(info.value) == (
        f"Artifact store path '{target}' cannot be created: '{blocker}' is a file, "
        "not a directory. Pass a directory you can write to with "
        "--extra artifact_store.path=DIR."
    )
    assert not (blocker.parent / "sub").exists()


def test_verify_rejects_a_path_that_is_a_file(local: StackProviderSpec, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(KitaruUsageError) as info:
        verify(local, {"name": "dev", "artifact_store": {"path": str(target)}})
    assert str(info.value).startswith(
        f"Artifact store path '{target}' is a file, not a directory."
    )


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
                os, "access", lambda path, mode: False if Path(path) == locked else real_access(path, mode)
            )
        with pytest.raises(KitaruUsageError) as info:
            verify(local, {"name": "dev", "artifact_store": str(target)})
    finally:
        locked.chmod(0o700)

    assert str(info.value) == (
        f"Artifact store path '{target}' is not writable: this user may not write to "
        f"'{locked}'. Pass a directory you can write to with "
        "--extra artifact_store.path=DIR. Or change the directory's permissions."
    )
    assert not (locked / "new").exists()

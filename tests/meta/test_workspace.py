"""Checks that keep the workspace, the plugin hooks and their docs from drifting.

* Every package under ``packages/`` has a ``src`` layout, a ``[tool.uv.sources]``
  workspace entry in the root ``pyproject.toml`` and a version the root pins.
* Every plugin package (all but ``kitaru-core``) declares a ``kitaru`` entry
  point whose module exists, and is reachable from the root distribution: as an
  extra of the entry point's name, or as a root dependency.
* Every hookspec is documented in ``docs/plugins/hooks.md`` under a heading equal
  to its exact signature, with every field of its records and their types, and
  the example plugin in its section loads and satisfies the contract suite.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import tomllib
import types
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from kitaru.plugins import hookspecs
from kitaru.plugins.records import HOOK_RECORD_TYPES, PluginSource
from kitaru.testing import plugin_manager_with
from kitaru.testing.contracts import (
    ArtifactSerializerContract,
    LlmBackendContract,
    LogStoreContract,
    StackProviderContract,
)

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"
CORE = "kitaru-core"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"Cannot parse requirement {requirement!r}"
    return _normalize(match.group(1))


def _pinned_version(requirement: str) -> str | None:
    match = re.search(r"==\s*([^\s,;]+)", requirement)
    return match.group(1) if match else None


def _load_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


ROOT_PYPROJECT = _load_toml(ROOT / "pyproject.toml")
PACKAGE_DIRS = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
PACKAGES = {
    _normalize(_load_toml(p / "pyproject.toml")["project"]["name"]): p for p in PACKAGE_DIRS
}
PLUGIN_PACKAGES = sorted(name for name in PACKAGES if name != CORE)


# -- workspace -------------------------------------------------------------------


def test_every_directory_under_packages_is_a_package() -> None:
    directories = [
        p for p in (ROOT / "packages").iterdir() if p.is_dir() and not p.name.startswith(".")
    ]
    without = [p.name for p in directories if not (p / "pyproject.toml").exists()]
    assert not without, f"Directories under packages/ without a pyproject.toml: {without}"
    assert CORE in PACKAGES and "kitaru-local" in PACKAGES


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_has_a_src_layout(package: str) -> None:
    directory = PACKAGES[package]
    assert directory.name == package, f"packages/{directory.name} holds {package}; name them alike"
    src = directory / "src"
    modules = [p for p in src.iterdir() if (p / "__init__.py").exists()] if src.is_dir() else []
    assert modules, f"{package} has no src/<module>/__init__.py"
    wheel = _load_toml(directory / "pyproject.toml")["tool"]["hatch"]["build"]["targets"]["wheel"]
    for target in wheel["packages"]:
        assert (directory / target / "__init__.py").exists(), f"{package}: {target} does not exist"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_has_a_workspace_source(package: str) -> None:
    sources = {_normalize(k): v for k, v in ROOT_PYPROJECT["tool"]["uv"]["sources"].items()}
    assert sources.get(package) == {"workspace": True}, (
        f"Add `{package} = {{ workspace = true }}` to [tool.uv.sources] in the root pyproject.toml"
    )


def test_workspace_sources_name_existing_packages() -> None:
    sources = {
        _normalize(name)
        for name, source in ROOT_PYPROJECT["tool"]["uv"]["sources"].items()
        if source.get("workspace")
    }
    stale = sources - set(PACKAGES)
    assert not stale, f"[tool.uv.sources] names packages that do not exist: {stale}"
    assert "packages/*" in ROOT_PYPROJECT["tool"]["uv"]["workspace"]["members"]


def test_root_pins_match_package_versions() -> None:
    requirements = list(ROOT_PYPROJECT["project"].get("dependencies", []))
    for extra in ROOT_PYPROJECT["project"].get("optional-dependencies", {}).values():
        requirements.extend(extra)
    for requirement in requirements:
        name = _requirement_name(requirement)
        if name.startswith("kitaru"):
            assert name in PACKAGES, f"The root requires {name}, which is not under packages/"
            version = _load_toml(PACKAGES[name] / "pyproject.toml")["project"]["version"]
            pinned = _pinned_version(requirement)
            assert pinned in (None, version), (
                f"The root pins {requirement!r} but packages/{name} is version {version}"
            )


@pytest.mark.parametrize("package", PLUGIN_PACKAGES)
def test_plugin_package_declares_a_kitaru_entry_point(package: str) -> None:
    directory = PACKAGES[package]
    project = _load_toml(directory / "pyproject.toml")["project"]
    entry_points = project.get("entry-points", {}).get("kitaru", {})
    assert entry_points, f"Add [project.entry-points.kitaru] to packages/{package}/pyproject.toml"
    for name, target in entry_points.items():
        assert re.match(r"^[a-z0-9][a-z0-9._-]*$", name), f"Entry-point name {name!r} is not valid"
        module = target.split(":")[0]
        path = directory / "src" / Path(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), (
            f"Entry point {name} = {target!r} of {package} names a module that does not exist"
        )


@pytest.mark.parametrize("package", PLUGIN_PACKAGES)
def test_plugin_package_is_a_root_extra_or_dependency(package: str) -> None:
    project = _load_toml(PACKAGES[package] / "pyproject.toml")["project"]
    dependencies = {_requirement_name(r) for r in ROOT_PYPROJECT["project"].get("dependencies", [])}
    if package in dependencies:
        return
    extras = ROOT_PYPROJECT["project"].get("optional-dependencies", {})
    for name in project["entry-points"]["kitaru"]:
        assert name in extras, (
            f"{package} is neither a root dependency nor the root extra '{name}': add "
            f'{name} = ["{package}==<version>"] to [project.optional-dependencies] '
            "in the root pyproject.toml"
        )
        assert package in {_requirement_name(r) for r in extras[name]}, (
            f"The root extra '{name}' does not install {package}"
        )


def test_kitaru_local_is_a_root_dependency() -> None:
    dependencies = {_requirement_name(r) for r in ROOT_PYPROJECT["project"]["dependencies"]}
    assert {"kitaru-core", "kitaru-local"} <= dependencies


# -- hooks documentation ------------------------------------------------------------


def _annotation(annotation: Any) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def hook_signature(function: Callable[..., Any]) -> str:
    """``name(arg: type, ...) -> return`` exactly as written in the hookspec source."""
    signature = inspect.signature(function)  # annotations stay strings (PEP 563)
    parameters = [
        name if p.annotation is inspect.Parameter.empty else f"{name}: {_annotation(p.annotation)}"
        for name, p in signature.parameters.items()
    ]
    text = f"{function.__name__}({', '.join(parameters)})"
    if signature.return_annotation is not inspect.Signature.empty:
        text += f" -> {_annotation(signature.return_annotation)}"
    return text


HOOKSPECS = {
    name: function
    for name, function in vars(hookspecs).items()
    if callable(function) and hasattr(function, f"{hookspecs.PROJECT_NAME}_spec")
}


def _doc() -> str:
    assert HOOKS_DOC.exists(), f"{HOOKS_DOC.relative_to(ROOT)} is missing"
    return HOOKS_DOC.read_text()


def _sections() -> dict[str, str]:
    """Level-2 heading (without ``## ``) -> the text up to the next level-2 heading."""
    sections: dict[str, str] = {}
    for chunk in re.split(r"^## ", _doc(), flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        sections[heading.strip()] = body
    return sections


def _section(hook_name: str) -> str:
    heading = f"`{hook_signature(HOOKSPECS[hook_name])}`"
    sections = _sections()
    assert heading in sections, (
        f"docs/plugins/hooks.md has no heading '## {heading}'. Hook headings must be the exact "
        f"signature; found: {[h for h in sections if hook_name in h]}"
    )
    return sections[heading]


def _documented_field(text: str, field: dataclasses.Field) -> bool:
    prefix = f"- `{field.name}` (`{field.type}`"
    return any(line.strip().startswith(prefix) for line in text.splitlines())


def _record_types_of(record_type: type) -> list[type]:
    """The record type and the records its fields hold (``StackField``), but not sources."""
    from kitaru.plugins import records

    nested = [
        candidate
        for name, candidate in vars(records).items()
        if dataclasses.is_dataclass(candidate)
        and candidate not in (record_type, PluginSource)
        and any(re.search(rf"\b{name}\b", str(f.type)) for f in dataclasses.fields(record_type))
    ]
    return [record_type, *nested]


def test_hookspecs_and_record_types_agree() -> None:
    assert set(HOOKSPECS) == set(HOOK_RECORD_TYPES)
    assert all(name.startswith("kitaru_") for name in HOOKSPECS)


@pytest.mark.parametrize("hook_name", sorted(HOOKSPECS))
def test_hook_is_documented_under_its_exact_signature(hook_name: str) -> None:
    section = _section(hook_name)
    docstring = inspect.getdoc(HOOKSPECS[hook_name]) or ""
    summary = docstring.splitlines()[0].replace("``", "`") if docstring else ""
    assert summary, f"{hook_name} has no docstring; start it with one imperative line"
    assert section.lstrip().startswith(summary), (
        f"Start the {hook_name} section with the hookspec's summary line: {summary!r}"
    )
    assert "*Added in version" in section, "Say in which version the hook was added"


def test_hook_headings_name_existing_hooks() -> None:
    expected = {f"`{hook_signature(function)}`" for function in HOOKSPECS.values()}
    documented = {heading for heading in _sections() if heading.startswith("`kitaru_")}
    assert documented == expected, f"Stale hook headings: {sorted(documented - expected)}"


@pytest.mark.parametrize("hook_name", sorted(HOOKSPECS))
def test_every_record_field_is_documented(hook_name: str) -> None:
    section = _section(hook_name)
    for record_type in _record_types_of(HOOK_RECORD_TYPES[hook_name]):
        assert f"### `{record_type.__name__}`" in section, f"Document {record_type.__name__}"
        missing = [
            f"{f.name} ({f.type})"
            for f in dataclasses.fields(record_type)
            if not _documented_field(section, f)
        ]
        assert not missing, (
            f"Document these {record_type.__name__} fields in the {hook_name} section as "
            f"'- `name` (`type`...': {missing}"
        )


def test_plugin_source_fields_are_documented() -> None:
    missing = [f.name for f in dataclasses.fields(PluginSource) if not _documented_field(_doc(), f)]
    assert not missing, f"Document these PluginSource fields: {missing}"


# -- the documented example plugins work -----------------------------------------


def _example_records(hook_name: str) -> list[Any]:
    blocks = re.findall(r"```python\n(.*?)```", _section(hook_name), flags=re.DOTALL)
    assert blocks, f"The {hook_name} section has no complete example plugin"
    module = types.ModuleType(f"docs_example_{hook_name}")
    exec(compile(blocks[-1], f"<hooks.md {hook_name} example>", "exec"), module.__dict__)
    manager = plugin_manager_with(module, name="docs-example", distribution="docs-example")
    facade = {
        "kitaru_stack_providers": lambda: list(manager.stack_providers().values()),
        "kitaru_artifact_serializers": manager.artifact_serializers,
        "kitaru_log_stores": lambda: list(manager.log_stores().values()),
        "kitaru_llm_backends": lambda: list(manager.llm_backends().values()),
    }
    records = facade[hook_name]()
    assert records, f"The {hook_name} example registers nothing"
    assert manager.problems == []
    return records


@pytest.mark.parametrize("hook_name", sorted(HOOKSPECS))
def test_example_plugin_registers_records(hook_name: str) -> None:
    for record in _example_records(hook_name):
        assert isinstance(record, HOOK_RECORD_TYPES[hook_name])


class TestDocsStackProviderExample(StackProviderContract):
    @pytest.fixture
    def stack_provider(self) -> Any:
        [record] = _example_records("kitaru_stack_providers")
        return record

    def test_verify_accepts_the_sample_spec(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Its verify needs a MinIO server; check instead that boto3 is imported lazily."""
        monkeypatch.setitem(sys.modules, "boto3", None)  # any `import boto3` now fails
        [record] = _example_records("kitaru_stack_providers")
        endpoint = {"client_kwargs": {"endpoint_url": "http://x"}}
        with pytest.raises(ImportError):
            record.verify({"name": "docs", "artifact_store": "s3://b", "extra": {"artifact_store": endpoint}})

    def test_the_endpoint_comes_from_extra(self) -> None:
        [record] = _example_records("kitaru_stack_providers")
        endpoint = {"client_kwargs": {"endpoint_url": "http://minio:9000"}}
        spec = {"name": "docs", "artifact_store": "s3://b", "extra": {"artifact_store": endpoint}}
        store = record.build_components(spec)["artifact_store"]
        assert store["configuration"]["client_kwargs"] == {"endpoint_url": "http://minio:9000"}


class TestDocsSerializerExample(ArtifactSerializerContract):
    @pytest.fixture
    def serializer(self) -> Any:
        [record] = _example_records("kitaru_artifact_serializers")
        return record

    @pytest.fixture
    def serializer_samples(self) -> list[Fraction]:
        return [Fraction(3, 7), Fraction(-1, 2), Fraction(5)]


class TestDocsLogStoreExample(LogStoreContract):
    @pytest.fixture
    def log_store(self) -> Any:
        [record] = _example_records("kitaru_log_stores")
        return record


class TestDocsLlmBackendExample(LlmBackendContract):
    @pytest.fixture
    def llm_backend(self) -> Any:
        [record] = _example_records("kitaru_llm_backends")
        return record

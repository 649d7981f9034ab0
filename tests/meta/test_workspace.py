"""Checks that keep the workspace, the plugin hooks and their docs from drifting.

* Every package under ``packages/`` has a ``src`` layout, a ``[tool.uv.sources]``
  workspace entry in the root ``pyproject.toml`` and a version the root pins.
* Every plugin package (all but ``kitaru-core``) declares a ``kitaru`` entry
  point whose module exists, and is reachable from the root distribution: as an
  extra of the entry point's name, or as a root dependency.
* Every hookspec is documented in ``docs/plugins/hooks.md`` under a heading equal
  to its exact signature, with every field of its records (and of the records
  ``build_components`` reads and returns, ``LogRow`` and ``ReadLogs``) and their
  types, and the example plugin in its section loads and satisfies the contract
  suite.
* The messages ``hooks.md`` quotes (a record checking itself, a plugin that
  fails to load, the deprecation warning) are the ones the code produces, and
  its ``tryfirst`` and hook-wrapper examples do what the page says.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import sys
import tomllib
import types
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import kitaru_local.plugin
from kitaru.errors import KitaruError
from kitaru.plugins import get_plugin_manager, hookspecs
from kitaru.plugins.records import (
    HOOK_RECORD_TYPES,
    ArtifactSerializerSpec,
    ArtifactStoreBackend,
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    LlmBackendSpec,
    LogRow,
    LogStoreSpec,
    ModelPrice,
    PluginRecordError,
    PluginSource,
    ReadLogs,
    StackComponents,
    StackField,
    StackProviderSpec,
    StackSpec,
)
from kitaru.testing import plugin_manager_with
from kitaru.testing.contracts import (
    ArtifactSerializerContract,
    LlmBackendContract,
    LogStoreContract,
    StackProviderContract,
)
from kitaru.testing.distributions import make_distribution
from kitaru.testing.managers import only_plugins

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
    if isinstance(annotation, str):
        return annotation
    return getattr(annotation, "__forward_arg__", None) or inspect.formatannotation(annotation)


def hook_signature(function: Callable[..., Any]) -> str:
    """``name(arg: type, ...) -> return`` exactly as written in the source (``*`` before keyword-only)."""
    signature = inspect.signature(function)  # annotations stay strings (PEP 563)
    parameters: list[str] = []
    for name, p in signature.parameters.items():
        if p.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parameters:
            parameters.append("*")
        parameters.append(name if p.annotation is inspect.Parameter.empty else f"{name}: {_annotation(p.annotation)}")
    text = f"{function.__name__}({', '.join(parameters)})"
    if signature.return_annotation is not inspect.Signature.empty:
        text += f" -> {_annotation(signature.return_annotation)}"
    return text


HOOKSPECS = {
    name: function
    for name, function in vars(hookspecs).items()
    if callable(function) and hasattr(function, f"{hookspecs.PROJECT_NAME}_spec")
}

COMPANION_RECORDS: dict[str, tuple[type, ...]] = {
    "kitaru_stack_providers": (StackSpec, StackComponents, ComponentSpec, ConnectorSpec, ArtifactStoreComponents),
}
"""Records a hook's section documents besides those its record's fields name: what
``build_components`` reads and returns."""


def _doc() -> str:
    assert HOOKS_DOC.exists(), f"{HOOKS_DOC.relative_to(ROOT)} is missing"
    return HOOKS_DOC.read_text()


def _flat(text: str) -> str:
    """``text`` with each run of whitespace made one space, so wrapped quotes still match."""
    return " ".join(text.split())


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


def _has_heading(text: str, name: str) -> bool:
    """Whether ``text`` has a level-3 or level-4 heading ```name```."""
    return re.search(rf"^#{{3,4}} `{re.escape(name)}`$", text, re.M) is not None


def _documented_field(text: str, field: dataclasses.Field) -> bool:
    prefix = f"- `{field.name}` (`{field.type}`"
    return any(line.strip().startswith(prefix) for line in text.splitlines())


def _record_types_of(hook_name: str) -> list[type]:
    """The hook's record type, the records its fields hold (``StackField``) but not sources,
    and the companion records of :data:`COMPANION_RECORDS`."""
    from kitaru.plugins import records

    record_type = HOOK_RECORD_TYPES[hook_name]
    nested = [
        candidate
        for name, candidate in vars(records).items()
        if dataclasses.is_dataclass(candidate)
        and candidate not in (record_type, PluginSource)
        and any(re.search(rf"\b{name}\b", str(f.type)) for f in dataclasses.fields(record_type))
    ]
    companions = [c for c in COMPANION_RECORDS.get(hook_name, ()) if c not in nested]
    return [record_type, *nested, *companions]


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
    for record_type in _record_types_of(hook_name):
        assert _has_heading(section, record_type.__name__), f"Document {record_type.__name__}"
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


def test_log_rows_and_the_read_logs_protocol_are_documented() -> None:
    section = _section("kitaru_log_stores")
    assert _has_heading(section, "LogRow") and _has_heading(section, "ReadLogs")
    missing = [
        f"{name} ({_annotation(annotation)})"
        for name, annotation in LogRow.__annotations__.items()
        if f"- `{name}` (`{_annotation(annotation)}`)" not in section
    ]
    assert not missing, f"Document these LogRow keys as '- `name` (`type`)': {missing}"
    call = hook_signature(ReadLogs.__call__).replace("__call__(self, ", "read_logs(")
    assert call in section, f"hooks.md does not show the ReadLogs signature: {call}"


def test_every_record_module_is_listed() -> None:
    from kitaru.plugins import records

    doc = _doc()
    names = ("stacks", "serializers", "logs", "llm", "validation", "source")
    modules = [f"kitaru.plugins.records.{name}" for name in names]
    assert all(hasattr(records, module.rsplit(".", 1)[1]) for module in modules)
    missing = [module for module in modules if f"`{module}`" not in doc]
    assert not missing, f"hooks.md does not list the record modules {missing}"


# -- the messages hooks.md quotes are real --------------------------------------------


def _raised(build: Callable[[], Any], error: type[Exception] = PluginRecordError) -> str:
    with pytest.raises(error) as excinfo:
        build()
    return str(excinfo.value)


def _not_quoted(messages: list[str]) -> list[str]:
    doc = _flat(_doc())
    return [message for message in messages if _flat(message) not in doc]


def test_the_quoted_record_errors_are_real() -> None:
    messages = [
        _raised(lambda: StackField("app-name")),
        _raised(lambda: StackField("type")),
        _raised(lambda: ArtifactStoreBackend(schemes=("s3://",), provider="aws", build=print)),
        _raised(lambda: ArtifactSerializerSpec(name="x", content_type="JSON", can_write=bool, write=bytes, read=print)),
        _raised(lambda: LogStoreSpec(name="jsonl", read_logs="nope")),  # type: ignore[arg-type]
        _raised(lambda: LlmBackendSpec(name="echo", prefixes=("echo",), call=print)),
        _raised(lambda: LlmBackendSpec(name="echo", prefixes=("echo/",))),
        _raised(lambda: ModelPrice(-1, 0)),
        _raised(
            lambda: StackSpec(name="x", field_values={"cluster": None}, stack_type="sagemaker").require("cluster"),
            KitaruError,
        ),
    ]
    missing = _not_quoted(messages)
    assert not missing, "hooks.md quotes outdated messages; the code says:\n" + "\n".join(missing)


def test_the_quoted_deprecation_warning_is_real() -> None:
    backend = ArtifactStoreBackend(schemes=("s3",), provider="aws", build=print)
    with pytest.warns(DeprecationWarning) as warned:
        StackProviderSpec(
            name="demo", artifact_store_schemes=("s3",), artifact_store_backend=backend, build_components=print
        )
    missing = _not_quoted([str(warning.message) for warning in warned])
    assert not missing, f"hooks.md quotes an outdated deprecation warning; the code says: {missing}"


def test_the_quoted_plugin_load_error_is_real(tmp_path: Path) -> None:
    """A record without ``build_components`` makes its plugin fail to load, naming the plugin."""
    dist = make_distribution(
        tmp_path,
        "kitaru-demo",
        version="0.1.0",
        modules={"kitaru_demo": '''
            import kitaru
            from kitaru.plugins import StackProviderSpec

            DEMO = StackProviderSpec(name="demo", description="Runs flows here.")

            @kitaru.hookimpl
            def kitaru_stack_providers():
                yield DEMO
        '''},
        entry_points={"demo": "kitaru_demo"},
    )
    with dist.activated():
        manager = get_plugin_manager()
        manager.stack_providers()
        [problem] = [problem for problem in manager.problems if "'demo'" in problem]
    quoted = problem.split(". Skipping it", 1)[0]
    assert not _not_quoted([quoted]), f"hooks.md quotes an outdated load error; the code says: {problem}"


# -- the ordering examples do what the page says ----------------------------------------


ORDER_SECTION = "Order, overrides and wrappers"


def _order_examples() -> list[types.ModuleType]:
    """The python blocks of the ordering section, each loaded as a module: the override, the wrapper."""
    blocks = re.findall(r"```python\n(.*?)```", _sections()[ORDER_SECTION], flags=re.DOTALL)
    assert len(blocks) == 2, f"the '{ORDER_SECTION}' section shows an override and a wrapper; found {len(blocks)}"
    return [_module_from(block, f"docs_order_{index}") for index, block in enumerate(blocks)]


def _module_from(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<hooks.md {name}>", "exec"), module.__dict__)
    return module


def test_tryfirst_overrides_a_core_record() -> None:
    override, _ = _order_examples()
    manager = plugin_manager_with(override, name="acme-gateway", distribution="acme-gateway", builtins=True)
    backend = manager.llm_backends()["openai"]
    assert backend.source is not None and backend.source.plugin == "acme-gateway"
    assert backend.credential_env == ("ACME_GATEWAY_KEY",)
    [problem] = manager.problems
    fragments = ["Duplicate LLM backend 'openai'", "Using the one from plugin 'acme-gateway'"]
    assert all(fragment in problem for fragment in fragments), problem
    assert not _not_quoted(fragments), f"hooks.md does not quote {fragments}"


def test_without_tryfirst_the_core_record_wins() -> None:
    source = re.findall(r"```python\n(.*?)```", _sections()[ORDER_SECTION], flags=re.DOTALL)[0]
    assert "@kitaru.hookimpl(tryfirst=True)" in source
    plain = _module_from(source.replace("@kitaru.hookimpl(tryfirst=True)", "@kitaru.hookimpl"), "docs_order_plain")
    manager = plugin_manager_with(plain, name="acme-gateway", distribution="acme-gateway", builtins=True)
    backend = manager.llm_backends()["openai"]
    assert backend.source is not None and backend.source.plugin == "core"


def test_the_wrapper_example_filters_every_plugins_records() -> None:
    _, policy = _order_examples()
    manager = plugin_manager_with(policy, name="acme-policy", distribution="acme-policy", builtins=True)
    assert sorted(manager.llm_backends()) == ["anthropic"]
    assert manager.problems == []


# -- the documented example plugins work -----------------------------------------


def _example_module(hook_name: str) -> types.ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", _section(hook_name), flags=re.DOTALL)
    assert blocks, f"The {hook_name} section has no complete example plugin"
    return _module_from(blocks[-1], f"docs_example_{hook_name}")


def _example_records(hook_name: str) -> list[Any]:
    manager = plugin_manager_with(_example_module(hook_name), name="docs-example", distribution="docs-example")
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
        """Its verify (the backend's) needs a MinIO server; check instead that boto3 is imported lazily."""
        monkeypatch.setitem(sys.modules, "boto3", None)  # any `import boto3` now fails
        [record] = _example_records("kitaru_stack_providers")
        assert record.verify is None and record.artifact_store_backend is not None
        verifier = record.verifier()
        assert verifier is record.artifact_store_backend.verify
        with pytest.raises(ImportError):
            verifier(record.sample_spec())

    def test_the_endpoint_is_a_field_of_its_own(self) -> None:
        [record] = _example_records("kitaru_stack_providers")
        assert "endpoint" in record.field_names
        values = {"artifact_store": "minio://b/runs", "endpoint": "http://minio:9000"}
        spec = StackSpec.for_provider(record, "docs", values)
        store = StackComponents.coerce(record.build_components(spec)).artifact_store
        assert store.flavor == "s3" and store.configuration["path"] == "s3://b/runs"
        assert store.configuration["client_kwargs"] == {"endpoint_url": "http://minio:9000"}

    def test_local_stacks_borrow_the_bucket_store(self) -> None:
        """The page says ``local`` stacks can borrow the ``minio://`` backend: its build reads no own field."""
        with only_plugins(local=kitaru_local.plugin, minio=_example_module("kitaru_stack_providers")):
            local = get_plugin_manager().stack_providers()["local"]
            spec = StackSpec.for_provider(local, "dev", {"artifact_store": "minio://kitaru-artifacts/dev"})
            components = StackComponents.coerce(local.build_components(spec))
        store = components.artifact_store
        assert store.flavor == "s3" and store.configuration["path"] == "s3://kitaru-artifacts/dev"
        assert store.configuration["client_kwargs"] == {"endpoint_url": "http://localhost:9000"}


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

    def test_read_logs_filters_like_the_protocol_says(
        self, log_store: LogStoreSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KITARU_JSONL_LOG_DIR", str(tmp_path))
        rows = [
            {"message": "a", "checkpoint_name": "think"},
            {"message": "b", "checkpoint_name": "think_2"},
            {"message": "c", "checkpoint_name": "think_tank"},
            {"message": "d", "source": "runner"},
            {"message": "e", "source": "engine"},
        ]
        (tmp_path / "e1.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        assert log_store.read_logs is not None

        def read(**filters: Any) -> list[str]:
            arguments = {"checkpoint": None, "source": "step", "limit": None, **filters}
            return [row["message"] for row in log_store.read_logs("e1", **arguments)]  # type: ignore[misc]

        assert read() == ["a", "b", "c", "e"]
        assert read(checkpoint="think") == ["a", "b"]
        assert read(checkpoint="think_2") == ["b"]
        assert read(source="runner") == ["d", "e"]
        assert read(limit=1) == ["a"]
        assert read() and list(log_store.read_logs("missing", checkpoint=None, source="step", limit=None)) == []


class TestDocsLlmBackendExample(LlmBackendContract):
    @pytest.fixture
    def llm_backend(self) -> Any:
        [record] = _example_records("kitaru_llm_backends")
        return record

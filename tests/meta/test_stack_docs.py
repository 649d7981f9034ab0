"""Keep the stack docs in step with the code they describe.

``docs/stacks.md`` (for users) must mention every option of ``kitaru stack
create`` and ``delete``, every installed stack type and record key, every
credential format an installed plugin accepts, every ``--file`` key and
``--extra`` target. Its command lines must parse and pass validation, its stack
file must load, and the error messages it quotes must be the ones the code
produces.

``docs/plugins/writing-a-stack-provider.md`` (for plugin authors) quotes
``STACK_SPEC_DOC`` and the helpers of :mod:`kitaru.plugins.stack_helpers`, and
holds a complete plugin package. That package is written out as a throwaway
distribution and must load through its entry point, pass core's validation,
pass its own documented test file (contract suite plus an in-process S3
server), and be accepted by the engine.

Everything runs in this process; only the last test loads the engine.
"""

from __future__ import annotations

import inspect
import re
import shlex
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main

import kitaru_local.plugin
from kitaru.cli.stack import parse_extras
from kitaru.cli.stack_file import ALL_KEYS, read_stack_file
from kitaru.errors import KitaruError
from kitaru.plugins import catalog, get_plugin_manager, stack_helpers
from kitaru.plugins.records import STACK_SPEC_DOC
from kitaru.stacks.request import EXTRA_TARGETS as ALL_TARGETS
from kitaru.stacks.request import OPTION_FIELDS, resolve_stack_request
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution
from kitaru.testing.managers import only_plugins

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]
STACKS_DOC = ROOT / "docs" / "stacks.md"
AUTHORING_DOC = ROOT / "docs" / "plugins" / "writing-a-stack-provider.md"

LOCAL_TARGETS = ("orchestrator", "artifact_store")


def stacks_doc() -> str:
    return STACKS_DOC.read_text(encoding="utf-8")


def authoring_doc() -> str:
    return AUTHORING_DOC.read_text(encoding="utf-8")


def mentions_code(doc: str, text: str) -> bool:
    """Whether ``doc`` starts an inline code span with ``text`` (not with a longer word)."""
    return re.search("`" + re.escape(text) + r"(?![\w-])", doc) is not None


def flat(text: str) -> str:
    """``text`` with each run of whitespace made one space, so wrapped quotes still match."""
    return " ".join(text.split())


def not_quoted(doc: str, messages: list[str]) -> list[str]:
    """The messages ``doc`` does not quote (line wrapping ignored)."""
    return [message for message in messages if flat(message) not in flat(doc)]


def raised(function: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the Kitaru error ``function`` raises."""
    with pytest.raises(KitaruError) as excinfo:
        function(*args, **kwargs)
    return str(excinfo.value)


def first_party(spec: Any) -> bool:
    """Whether a record comes from Kitaru's own packages (others document themselves)."""
    return spec.source is None or spec.source.distribution.startswith("kitaru")


def stack_commands() -> dict[str, Any]:
    """The click commands of ``kitaru stack``, by name."""
    from kitaru.cli.app import build_app

    root = typer.main.get_command(build_app())
    return dict(root.commands["stack"].commands)  # type: ignore[attr-defined]


# -- docs/stacks.md: every option, type, format and key ----------------------------------


@pytest.mark.parametrize("command", ["create", "delete"])
def test_every_option_of_the_stack_command_is_documented(command: str) -> None:
    doc = stacks_doc()
    # Typer ships its own copy of click: tell options from arguments by their kind.
    params = stack_commands()[command].params
    options = [param for param in params if param.param_type_name == "option"]
    assert len(options) >= 3, f"found no options on `kitaru stack {command}`"
    missing = [
        flag
        for option in options
        for flag in [*option.opts, *option.secondary_opts]
        if not mentions_code(doc, flag)
    ]
    assert not missing, f"docs/stacks.md does not mention `kitaru stack {command}` {missing}"


def test_every_stack_subcommand_has_a_section() -> None:
    doc = stacks_doc()
    names = sorted(stack_commands())
    assert {"create", "delete", "list"} <= set(names)
    missing = [name for name in names if f"### `kitaru stack {name}" not in doc]
    assert not missing, f"docs/stacks.md has no '### `kitaru stack NAME ...`' for {missing}"


def test_every_installed_stack_type_and_record_is_documented() -> None:
    doc = stacks_doc()
    records = get_plugin_manager().stack_providers()
    assert {"local", "kubernetes@aws", "kubernetes@gcp"} <= set(records), "install every extra"
    missing = [
        text
        for key, spec in records.items()
        if first_party(spec)
        for text in (spec.name, key)
        if not mentions_code(doc, text)
    ]
    missing += [name for name in catalog.STACK_TYPE_PROVIDERS if not mentions_code(doc, name)]
    assert not missing, f"docs/stacks.md does not mention the stack types / records {missing}"


def test_every_credential_format_is_documented() -> None:
    doc = stacks_doc()
    formats = {
        (spec.key, credential_format)
        for spec in get_plugin_manager().stack_providers().values()
        if first_party(spec)
        for credential_format in spec.credential_formats
    }
    assert len(formats) >= 9, formats
    missing = sorted(f"{key}: {fmt}" for key, fmt in formats if f"`{fmt}`" not in doc)
    assert not missing, f"docs/stacks.md does not show these --credentials formats: {missing}"


def test_every_stack_file_key_is_documented_in_both_spellings() -> None:
    doc = stacks_doc()
    spellings = sorted({spelling for key in ALL_KEYS for spelling in (key, key.replace("_", "-"))})
    missing = [spelling for spelling in spellings if not mentions_code(doc, spelling)]
    assert not missing, f"docs/stacks.md does not list the --file keys {missing}"


def test_extra_targets_options_and_schemes_are_documented() -> None:
    doc = stacks_doc()
    wanted = [*ALL_TARGETS]
    wanted += ["--" + option.replace("_", "-") for option in OPTION_FIELDS]
    wanted += [f"{scheme}://" for scheme in catalog.SCHEME_PROVIDERS]
    missing = [text for text in wanted if not mentions_code(doc, text)]
    assert not missing, f"docs/stacks.md does not mention {missing}"


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    """Relative links of ``page`` to missing pages or headings (docs/azure.md may not exist yet)."""
    broken = []
    for target, anchor in re.findall(r"\]\(([\w./-]*\.md|)(?:#([\w-]+))?\)", page.read_text()):
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            if path.name != "azure.md":
                broken.append(target)
            continue
        if anchor and anchor not in {slug(h) for h in re.findall(r"^#+ (.*)$", path.read_text(), re.M)}:
            broken.append(f"{target}#{anchor}")
    return broken


def test_the_cloud_pages_are_linked() -> None:
    targets = set(re.findall(r"\]\(([\w./-]+\.md)", stacks_doc()))
    assert {"aws.md", "gcp.md", "azure.md", "plugins/writing-a-stack-provider.md"} <= targets


@pytest.mark.parametrize("page", [STACKS_DOC, AUTHORING_DOC], ids=["stacks", "writing-a-stack-provider"])
def test_links_lead_to_existing_pages_and_headings(page: Path) -> None:
    broken = broken_links(page)
    assert not broken, f"{page.name} has broken links: {broken}"


# -- docs/stacks.md: its examples work ------------------------------------------------------


def console_create_commands(doc: str) -> list[list[str]]:
    """The arguments of every ``kitaru stack create`` in the doc's console blocks."""
    commands = []
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.removeprefix("$ ").strip()
            if "kitaru stack create" not in line:
                continue
            words = shlex.split(line, comments=True)
            while words and words[0] != "kitaru" and "=" in words[0]:
                words.pop(0)  # VARIABLE=value in front of the command
            if words[:3] == ["kitaru", "stack", "create"]:
                commands.append(words[3:])
    return commands


def test_the_documented_create_commands_parse_and_validate() -> None:
    """Every example's options exist; complete examples (no ``...``) pass validation."""
    command = stack_commands()["create"]
    examples = console_create_commands(stacks_doc())
    assert len(examples) >= 10, examples
    for words in examples:
        params = command.make_context("create", [w for w in words if w != "..."]).params
        if "..." in words or params["file"]:
            continue
        kind = (params["stack_type"] or "local").strip().lower()
        extra = parse_extras(params["extra"], allowed_targets=LOCAL_TARGETS if kind == "local" else ALL_TARGETS)
        resolve_stack_request(
            params["name"],
            params["stack_type"],
            {option: params[option] for option in OPTION_FIELDS},
            extra=extra,
            async_mode=params["async_mode"],
        )


def test_the_documented_stack_file_loads_and_validates(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", stacks_doc(), re.S)
    [text] = [block for block in blocks if block.startswith("# team-stack.yaml")]
    path = tmp_path / "team-stack.yaml"
    path.write_text(text)
    settings = read_stack_file(path)
    request = resolve_stack_request(
        settings["name"],
        settings["type"],
        {option: settings.get(option) for option in OPTION_FIELDS},
        extra=settings["extra"],
        async_mode=settings["async"],
    )
    assert request.spec["extra"]["orchestrator"]["synchronous"] is False
    assert request.spec["extra"]["container_registry"] == {"default_repository": "kitaru"}


S3 = "s3://team-artifacts/kitaru"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
GAR = "europe-west1-docker.pkg.dev/my-project/kitaru"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
SAGEMAKER = {"artifact_store": S3, "container_registry": ECR, "region": "eu-west-1", "execution_role": ROLE}
KUBERNETES = {"artifact_store": S3, "container_registry": ECR, "cluster": "c", "region": "eu-west-1"}


def test_the_quoted_validation_messages_are_the_real_ones() -> None:
    resolve = resolve_stack_request
    messages = [
        raised(resolve, "x", "kubernetes", {"artifact_store": "s3://b", "container_registry": ECR}),
        raised(resolve, "x", "sagemaker", {"artifact_store": "s3://b"}),
        raised(resolve, "x", "local", {"cluster": "c"}),
        raised(resolve, "x", "kubernetes", {**KUBERNETES, "execution_role": ROLE}),
        raised(resolve, "x", "sagemaker", {**SAGEMAKER, "subscription_id": "s", "workspace": "w"}),
        raised(resolve, "x", "local", {"container_registry": ECR, "region": "r"}),
        raised(resolve, "x", "swarm", {}),
        raised(resolve, "x", "vertex", {"artifact_store": "s3://b", "container_registry": GAR, "region": "r"}),
        raised(resolve, "x", "sagemaker", {**SAGEMAKER, "artifact_store": "gs://team-bucket/kitaru"}),
        raised(resolve, "x", "kubernetes", {**KUBERNETES, "artifact_store": "az://kitaru"}),
        raised(resolve, "x", "local", {"artifact_store": "ftp://host/dir"}),
        raised(resolve, "x", "local", {}, async_mode=True),
        raised(parse_extras, ["registry.uri=x"], allowed_targets=LOCAL_TARGETS),
        raised(parse_extras, ["nodot"], allowed_targets=LOCAL_TARGETS),
    ]
    missing = not_quoted(stacks_doc(), messages)
    assert not missing, "docs/stacks.md quotes outdated messages; the code says:\n" + "\n".join(missing)


def only_local_plugins() -> Any:
    """The plugins a user has after a plain `pip install kitaru`."""
    return only_plugins(local=kitaru_local.plugin)


def test_the_quoted_missing_plugin_messages_are_the_real_ones() -> None:
    with only_local_plugins():
        kinds = ("sagemaker", "vertex", "azureml", "kubernetes")
        messages = [raised(resolve_stack_request, "x", kind, {}) for kind in kinds]
        messages += [raised(catalog.artifact_store_backend, f"{s}://bucket") for s in ("s3", "gs", "az")]
    missing = not_quoted(stacks_doc(), messages)
    assert not missing, "docs/stacks.md quotes outdated messages; the code says:\n" + "\n".join(missing)


# -- docs/plugins/writing-a-stack-provider.md ---------------------------------------------


def test_the_stack_spec_doc_is_quoted_verbatim() -> None:
    doc = authoring_doc()
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", STACK_SPEC_DOC)
    assert len(blocks) == 2, "STACK_SPEC_DOC changed shape; update this test and the doc"
    for block in blocks:
        dedented = "\n".join(line[4:] for line in block.strip("\n").splitlines())
        assert dedented in doc, f"writing-a-stack-provider.md no longer quotes:\n{dedented}"


def helper_rows(doc: str) -> list[str]:
    """The first cell of each row of the doc's Helpers table: ``component(spec, ...)``."""
    section = doc.split("## Helpers", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)`", section, re.M)


def test_the_helpers_the_doc_mentions_exist() -> None:
    doc = authoring_doc()
    public = {name for name in vars(stack_helpers) if not name.startswith("_")}
    table = [row.split("(")[0] for row in helper_rows(doc)]
    imported = [
        name.strip()
        for names in re.findall(r"from kitaru\.plugins\.stack_helpers import \(?([\w\s,]+)\)?", doc)
        for name in names.split(",")
        if name.strip()
    ]
    dotted = re.findall(r"stack_helpers\.(\w+)", doc)
    unknown = sorted({*table, *imported, *dotted} - public)
    assert not unknown, f"writing-a-stack-provider.md mentions helpers that do not exist: {unknown}"
    essential = ["component", "connector", "deep_merge", "verify_object_name"]
    lacking = [name for name in essential if name not in table]
    assert not lacking, f"writing-a-stack-provider.md's Helpers table lacks {lacking}"


def test_every_helper_is_in_the_table() -> None:
    own = [
        name
        for name, value in vars(stack_helpers).items()
        if not name.startswith("_")
        and (getattr(value, "__module__", None) == stack_helpers.__name__ or name.isupper())
    ]
    table = [row.split("(")[0] for row in helper_rows(authoring_doc())]
    missing = [name for name in own if name not in table]
    assert not missing, f"writing-a-stack-provider.md's Helpers table lacks {missing}"


def signature_as_shown(function: Callable[..., Any]) -> str:
    """``component(spec, target, ..., *, connector=False, ...)`` as the Helpers table writes it."""
    parts: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        default = parameter.default
        parts.append(parameter.name if default is inspect.Parameter.empty else f"{parameter.name}={default!r}")
    return f"{function.__name__}({', '.join(parts)})"


def test_the_helper_signatures_match() -> None:
    rows = [row for row in helper_rows(authoring_doc()) if "(" in row]
    assert len(rows) >= 5, "the Helpers table shows no signatures"
    for row in rows:
        expected = signature_as_shown(getattr(stack_helpers, row.split("(")[0]))
        assert row == expected, f"the Helpers table shows {row}; the code has {expected}"


def test_the_standard_options_are_listed() -> None:
    doc = authoring_doc()
    assert len(OPTION_FIELDS) == 10, "OPTION_FIELDS changed: update 'the ten standard ones'"
    missing = [option for option in OPTION_FIELDS if f"`{option}`" not in doc]
    assert not missing, f"writing-a-stack-provider.md does not list the options {missing}"


# -- the documented plugin package works -----------------------------------------------------


def documented_files() -> dict[str, str]:
    """``path -> content`` of each file the authoring doc shows as "`path`:" and a code block."""
    pattern = r"^`([\w./-]+\.(?:py|toml))`:\n\n```(?:python|toml)\n(.*?)```"
    return dict(re.findall(pattern, authoring_doc(), re.M | re.S))


def documented_distribution(root: Path) -> ThrowawayDistribution:
    """The doc's package as an installed distribution, with the entry point of its pyproject."""
    files = documented_files()
    project = tomllib.loads(files["pyproject.toml"])["project"]
    modules = {
        path.removeprefix("src/").removesuffix(".py").removesuffix("/__init__").replace("/", "."): text
        for path, text in files.items()
        if path.startswith("src/")
    }
    return make_distribution(
        root,
        project["name"],
        version=project["version"],
        modules=modules,
        entry_points=project["entry-points"]["kitaru"],
    )


def example_fields(record: Any) -> dict[str, Any]:
    return {field.name: field.example or None for field in record.fields}


def test_the_documented_package_is_complete() -> None:
    assert set(documented_files()) >= {
        "pyproject.toml",
        "src/kitaru_scaleway/__init__.py",
        "src/kitaru_scaleway/plugin.py",
        "src/kitaru_scaleway/stack.py",
        "tests/test_kapsule.py",
    }


def test_the_documented_plugin_loads_and_core_validates_it(tmp_path: Path) -> None:
    from kitaru_local import build_local_components

    with documented_distribution(tmp_path).activated():
        manager = get_plugin_manager()
        record = manager.stack_providers()["kapsule@scaleway"]
        assert record.source is not None and record.source.distribution == "kitaru-scaleway"
        assert manager.problems == []
        examples = example_fields(record)
        assert resolve_stack_request("k1", "kapsule", examples).provider is record
        messages = [
            raised(resolve_stack_request, "x", "kapsule", {"artifact_store": "scw://b"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "execution_role": "arn"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "artifact_store": "s3://b"}),
            raised(resolve_stack_request, "x", "nope", {}),
        ]
        local = build_local_components(
            {"name": "dev", "artifact_store": "scw://kitaru-artifacts", "credentials": None, "extra": {}}
        )
    missing = not_quoted(authoring_doc(), messages)
    assert not missing, "writing-a-stack-provider.md quotes outdated messages:\n" + "\n".join(missing)
    assert local["artifact_store"]["flavor"] == "s3"


def test_the_documented_test_file_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    tests = pytester.path / "tests"
    tests.mkdir()
    (tests / "test_kapsule.py").write_text(documented_files()["tests/test_kapsule.py"])
    with documented_distribution(tmp_path / "site").activated():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "tests")
    outcomes = result.parseoutcomes()
    failures = outcomes.get("failed", 0) + outcomes.get("errors", 0)
    assert failures == 0, "\n".join(result.outlines)
    assert outcomes.get("passed", 0) >= 15, outcomes


def test_the_engine_accepts_the_documented_stacks(tmp_path: Path) -> None:
    """Register a kapsule stack and a local stack on scw:// (no verify), then delete both."""
    import kitaru.stacks

    suffix = uuid.uuid4().hex[:8]
    created: list[str] = []
    deleted: list[dict[str, Any]] = []
    with documented_distribution(tmp_path).activated():
        try:
            fields = example_fields(get_plugin_manager().stack_providers()["kapsule@scaleway"])
            fields["credentials"] = "scaleway-keys:SCWACCESS:s3cr3t"
            remote = kitaru.stacks.create_stack_with_summary(
                f"docs-kapsule-{suffix}", stack_type="kapsule", activate=False, fields=fields, verify=False
            )
            created.append(remote["name"])
            local = kitaru.stacks.create_stack_with_summary(
                f"docs-scw-{suffix}",
                stack_type="local",
                activate=False,
                fields={"artifact_store": "scw://kitaru-artifacts/dev"},
                verify=False,
            )
            created.append(local["name"])
        finally:
            deleted = [kitaru.stacks.delete_stack_with_summary(name, recursive=True) for name in created]
    assert remote["service_connectors_created"] == [remote["name"]]
    assert len(remote["components_created"]) == 3 and len(local["components_created"]) == 2
    assert deleted[0]["service_connectors_deleted"] == [remote["name"]]
    shown = set(re.findall(r'"(\w+)":', stacks_doc()))
    undocumented = sorted({key for result in (remote, local, *deleted) for key in result} - shown)
    assert not undocumented, f"docs/stacks.md shows no JSON key {undocumented}"

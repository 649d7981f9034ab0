"""Keep the stack docs in step with the code they describe.

``docs/stacks.md`` (for users) must mention every option of ``kitaru stack
create`` and ``delete``, every installed stack type and record key, every
credential format an installed plugin accepts, every ``--file`` key and
``--extra`` target; its command lines must parse, its stack file must load, and
the error messages it quotes must be the ones the code produces.

``docs/plugins/writing-a-stack-provider.md`` (for plugin authors) quotes
``STACK_SPEC_DOC`` and the helpers of :mod:`kitaru.plugins.stack_helpers`, and
holds a complete plugin package. That package is written to disk as a throwaway
distribution and must load through its entry point, pass core's validation,
pass its own documented test file (contract suite plus an in-process S3
server), and be accepted by the engine.

Everything runs in this process; only the last test loads the engine.
"""

from __future__ import annotations

import re
import shlex
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer.main

import kitaru_local.plugin
from kitaru.cli.stack import ALL_TARGETS, parse_extras
from kitaru.cli.stack_file import ALL_KEYS, read_stack_file
from kitaru.errors import KitaruError
from kitaru.plugins import catalog, get_plugin_manager, stack_helpers
from kitaru.plugins import manager as manager_module
from kitaru.plugins.records import STACK_SPEC_DOC, PluginSource
from kitaru.stack_request import OPTION_FIELDS, resolve_stack_request
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]
STACKS_DOC = ROOT / "docs" / "stacks.md"
AUTHORING_DOC = ROOT / "docs" / "plugins" / "writing-a-stack-provider.md"


def stacks_doc() -> str:
    return STACKS_DOC.read_text(encoding="utf-8")


def authoring_doc() -> str:
    return AUTHORING_DOC.read_text(encoding="utf-8")


def code(text: str) -> str:
    """``text`` written as inline code, as the docs must show it: ``--region`` → `` `--region` ``."""
    return f"`{text}`"


def mentions_code(doc: str, text: str) -> bool:
    """Whether ``doc`` has ``text`` as (the start of) an inline code span, not part of a longer word."""
    return re.search(r"`" + re.escape(text) + r"(?![\w-])", doc) is not None


def stack_commands() -> dict[str, Any]:
    """The click commands of ``kitaru stack``, by name."""
    from kitaru.cli.app import build_app

    root = typer.main.get_command(build_app())
    return dict(root.commands["stack"].commands)  # type: ignore[attr-defined]


def stack_command(name: str) -> Any:
    """The click command behind ``kitaru stack NAME``."""
    return stack_commands()[name]


def flat(text: str) -> str:
    """``text`` with every run of whitespace made one space, so wrapped quotes still match."""
    return " ".join(text.split())


def quoted_in(doc: str, messages: list[str]) -> list[str]:
    """The messages that ``doc`` does not quote (line wrapping ignored)."""
    return [message for message in messages if flat(message) not in flat(doc)]


def raised(function: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the Kitaru error ``function`` raises."""
    with pytest.raises(KitaruError) as excinfo:
        function(*args, **kwargs)
    return str(excinfo.value)


# -- docs/stacks.md: every option, type, format and key ------------------------------------


@pytest.mark.parametrize("command", ["create", "delete"])
def test_every_option_of_the_stack_command_is_documented(command: str) -> None:
    doc = stacks_doc()
    # Typer ships its own copy of click, so tell options from arguments by their kind.
    options = [p for p in stack_command(command).params if p.param_type_name == "option"]
    assert len(options) >= 3, f"found no options on `kitaru stack {command}`"
    missing = [
        opt
        for param in options
        for opt in [*param.opts, *param.secondary_opts]
        if not mentions_code(doc, opt)
    ]
    assert not missing, f"docs/stacks.md does not mention `kitaru stack {command}` {missing}"


def test_every_stack_subcommand_has_a_section() -> None:
    doc = stacks_doc()
    names = sorted(stack_commands())
    assert {"create", "delete", "list"} <= set(names)
    missing = [name for name in names if f"### `kitaru stack {name}" not in doc]
    assert not missing, f"docs/stacks.md has no '### `kitaru stack NAME ...`' section for {missing}"


def test_every_installed_stack_type_and_record_is_documented() -> None:
    doc = stacks_doc()
    records = get_plugin_manager().stack_providers()
    assert {"local", "kubernetes@aws", "kubernetes@gcp"} <= set(records), "install every extra"
    missing = []
    for key, spec in records.items():
        if spec.source is not None and not spec.source.distribution.startswith("kitaru"):
            continue  # a third-party plugin someone installed documents itself
        if not mentions_code(doc, spec.name):
            missing.append(spec.name)
        if not mentions_code(doc, key):
            missing.append(key)
    missing += [name for name in catalog.STACK_TYPE_PROVIDERS if not mentions_code(doc, name)]
    assert not missing, f"docs/stacks.md does not mention the stack types / records {missing}"


def test_every_credential_format_is_documented() -> None:
    doc = stacks_doc()
    missing = {
        f"{spec.key}: {credential_format}"
        for spec in get_plugin_manager().stack_providers().values()
        if spec.source is None or spec.source.distribution.startswith("kitaru")
        for credential_format in spec.credential_formats
        if code(credential_format) not in doc
    }
    assert not missing, f"docs/stacks.md does not show these --credentials formats: {sorted(missing)}"


def test_every_stack_file_key_is_documented_in_both_spellings() -> None:
    doc = stacks_doc()
    missing = []
    for key in ALL_KEYS:
        for spelling in {key, key.replace("_", "-")}:
            if not mentions_code(doc, spelling):
                missing.append(spelling)
    assert not missing, f"docs/stacks.md does not list the --file keys {missing}"


def test_extra_targets_options_and_schemes_are_documented() -> None:
    doc = stacks_doc()
    missing = [target for target in ALL_TARGETS if not mentions_code(doc, target)]
    missing += [f"--{option.replace('_', '-')}" for option in OPTION_FIELDS if not mentions_code(doc, f"--{option.replace('_', '-')}")]
    missing += [f"{scheme}://" for scheme in catalog.SCHEME_PROVIDERS if not mentions_code(doc, f"{scheme}://")]
    assert not missing, f"docs/stacks.md does not mention {missing}"


def test_the_documented_links_exist() -> None:
    doc = stacks_doc()
    targets = set(re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", doc))
    assert {"aws.md", "gcp.md", "azure.md", "plugins/writing-a-stack-provider.md"} <= targets
    # docs/azure.md is written alongside; the others must exist already.
    missing = [t for t in targets - {"azure.md"} if not (STACKS_DOC.parent / t).exists()]
    assert not missing, f"docs/stacks.md links to missing pages {missing}"


# -- docs/stacks.md: its examples run ------------------------------------------------------


def _console_commands(doc: str) -> list[str]:
    """Every ``kitaru stack create`` line of the console blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.removeprefix("$ ").strip()
            words = shlex.split(line, comments=True) if "kitaru stack create" in line else []
            while words and "=" in words[0] and words[0] != "kitaru":
                words.pop(0)  # NAME=value environment prefixes
            if words[:3] == ["kitaru", "stack", "create"]:
                commands.append(shlex.join(words[3:]))
    return commands


def test_documented_create_commands_parse_and_validate(tmp_path: Path) -> None:
    """Each example's options exist, and (without ``...``) pass core's validation."""
    command = stack_command("create")
    commands = _console_commands(stacks_doc())
    assert len(commands) >= 10, commands
    for line in commands:
        args = [arg for arg in shlex.split(line) if arg != "..."]
        context = command.make_context("create", args)
        params = context.params
        if "..." in line or params["file"]:
            continue
        options = {option: params[option] for option in OPTION_FIELDS}
        extra = parse_extras(params["extra"], allowed_targets=ALL_TARGETS)
        resolve_stack_request(
            params["name"], params["stack_type"], options, extra=extra, async_mode=params["async_mode"]
        )


def test_the_documented_stack_file_loads_and_validates(tmp_path: Path) -> None:
    [text] = [block for block in re.findall(r"```yaml\n(.*?)```", stacks_doc(), re.S)
              if block.startswith("# team-stack.yaml")]
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
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
SAGEMAKER = {"artifact_store": S3, "container_registry": ECR, "region": "eu-west-1", "execution_role": ROLE}


def _quoted_messages() -> list[str]:
    return [
        raised(resolve_stack_request, "x", "kubernetes", {"artifact_store": "s3://b", "container_registry": ECR}),
        raised(resolve_stack_request, "x", "sagemaker", {"artifact_store": "s3://b"}),
        raised(resolve_stack_request, "x", "local", {"cluster": "c"}),
        raised(resolve_stack_request, "x", "kubernetes",
               {"artifact_store": S3, "container_registry": ECR, "cluster": "c", "region": "eu-west-1",
                "execution_role": ROLE}),
        raised(resolve_stack_request, "x", "sagemaker", {**SAGEMAKER, "subscription_id": "s", "workspace": "w"}),
        raised(resolve_stack_request, "x", "local", {"container_registry": ECR, "region": "r"}),
        raised(resolve_stack_request, "x", "swarm", {}),
        raised(resolve_stack_request, "x", "vertex", {"artifact_store": "s3://b",
               "container_registry": "europe-west1-docker.pkg.dev/my-project/kitaru", "region": "europe-west1"}),
        raised(resolve_stack_request, "x", "sagemaker", {**SAGEMAKER, "artifact_store": "gs://team-bucket/kitaru"}),
        raised(resolve_stack_request, "x", "kubernetes",
               {"artifact_store": "az://kitaru", "container_registry": ECR, "cluster": "c", "region": "eu-west-1"}),
        raised(resolve_stack_request, "x", "local", {"artifact_store": "ftp://host/dir"}),
        raised(resolve_stack_request, "x", "local", {}, async_mode=True),
        raised(parse_extras, ["registry.uri=x"], allowed_targets=("orchestrator", "artifact_store")),
        raised(parse_extras, ["nodot"], allowed_targets=("orchestrator", "artifact_store")),
    ]


def test_quoted_validation_messages_are_the_real_ones() -> None:
    missing = quoted_in(stacks_doc(), _quoted_messages())
    assert not missing, "docs/stacks.md quotes outdated messages; the code now says:\n" + "\n".join(missing)


@contextmanager
def only_local_plugins() -> Iterator[None]:
    """The plugins a user has after a plain `pip install kitaru`."""
    manager = manager_module.KitaruPluginManager()
    manager.load_builtins()
    manager.register(kitaru_local.plugin, PluginSource("local", "kitaru-local", "0.1.0"))
    saved = manager_module._manager
    manager_module._manager = manager
    try:
        yield
    finally:
        manager_module._manager = saved


def test_quoted_missing_plugin_messages_are_the_real_ones() -> None:
    with only_local_plugins():
        messages = [raised(resolve_stack_request, "x", kind, {}) for kind in ("sagemaker", "vertex", "azureml")]
        messages.append(raised(resolve_stack_request, "x", "kubernetes", {}))
        messages += [raised(catalog.artifact_store_backend, f"{scheme}://bucket") for scheme in ("s3", "gs", "az")]
    missing = quoted_in(stacks_doc(), messages)
    assert not missing, "docs/stacks.md quotes outdated messages; the code now says:\n" + "\n".join(missing)


# -- docs/plugins/writing-a-stack-provider.md ---------------------------------------------------


def test_the_stack_spec_doc_is_quoted_verbatim() -> None:
    doc = authoring_doc()
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", STACK_SPEC_DOC)
    assert len(blocks) == 2, "STACK_SPEC_DOC changed shape; update this test and the doc"
    for block in blocks:
        dedented = "\n".join(line[4:] for line in block.strip("\n").splitlines())
        assert dedented in doc, f"writing-a-stack-provider.md no longer quotes STACK_SPEC_DOC:\n{dedented}"


def _helper_table_names(doc: str) -> list[str]:
    section = doc.split("## Helpers", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Za-z_]\w*)", section, re.M)


def test_documented_helpers_exist_and_the_essential_ones_are_documented() -> None:
    doc = authoring_doc()
    public = {name for name in vars(stack_helpers) if not name.startswith("_")}
    table = _helper_table_names(doc)
    imported = [
        name.strip()
        for group in re.findall(r"from kitaru\.plugins\.stack_helpers import \(?([\w\s,]+)\)?", doc)
        for name in group.split(",")
        if name.strip()
    ]
    dotted = re.findall(r"stack_helpers\.(\w+)", doc)
    unknown = sorted({*table, *imported, *dotted} - public)
    assert not unknown, f"writing-a-stack-provider.md mentions helpers that do not exist: {unknown}"
    for essential in ("component", "connector", "deep_merge", "verify_object_name"):
        assert essential in table, f"the Helpers table lacks {essential}"
    defined_here = sorted(
        name for name in public
        if getattr(getattr(stack_helpers, name), "__module__", None) == stack_helpers.__name__
        or name.isupper()
    )
    undocumented = [name for name in defined_here if name not in table]
    assert not undocumented, f"the Helpers table lacks {undocumented}"


def test_the_helper_signatures_match() -> None:
    import inspect

    section = authoring_doc().split("## Helpers", 1)[1]
    for name, args in re.findall(r"^\| `(\w+)\(([^)]*)\)`", section, re.M):
        signature = inspect.signature(getattr(stack_helpers, name))
        shown = [part.strip() for part in args.split(",") if part.strip()]
        expected = [str(p).replace(": Mapping[str, Any]", "").split(":")[0].strip()
                    if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
                    for p in signature.parameters.values()]
        if any(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values()):
            first = next(i for i, p in enumerate(signature.parameters.values()) if p.kind is inspect.Parameter.KEYWORD_ONLY)
            expected.insert(first, "*")
        assert shown == expected, f"{name}: the doc shows ({', '.join(shown)}), the code has ({', '.join(expected)})"


def test_the_standard_options_are_listed() -> None:
    doc = authoring_doc()
    assert len(OPTION_FIELDS) == 10, "OPTION_FIELDS changed: update 'the ten standard ones' in the doc"
    missing = [option for option in OPTION_FIELDS if code(option) not in doc]
    assert not missing, f"writing-a-stack-provider.md does not list the options {missing}"


# -- the documented plugin package works ------------------------------------------------------


def documented_files() -> dict[str, str]:
    """``path -> content`` of every file the authoring doc shows as "`path`:" + a code block."""
    pattern = r"^`([\w./-]+\.(?:py|toml))`:\n\n```(?:python|toml)\n(.*?)```"
    return dict(re.findall(pattern, authoring_doc(), re.M | re.S))


def documented_distribution(root: Path) -> ThrowawayDistribution:
    """The doc's package as an installed distribution, entry point from its pyproject.toml."""
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


def test_the_documented_package_is_complete() -> None:
    files = documented_files()
    assert {"pyproject.toml", "src/kitaru_scaleway/__init__.py", "src/kitaru_scaleway/plugin.py",
            "src/kitaru_scaleway/stack.py", "tests/test_kapsule.py"} <= set(files)


def test_the_documented_plugin_loads_and_core_validates_it(tmp_path: Path) -> None:
    from kitaru_local import build_local_components

    doc = authoring_doc()
    with documented_distribution(tmp_path).activated():
        manager = get_plugin_manager()
        record = manager.stack_providers()["kapsule@scaleway"]
        assert record.source is not None and record.source.distribution == "kitaru-scaleway"
        assert manager.problems == []
        examples = {field.name: field.example or None for field in record.fields}
        request = resolve_stack_request("k1", "kapsule", examples)
        assert request.provider is record
        quoted = [
            raised(resolve_stack_request, "x", "kapsule", {"artifact_store": "scw://b"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "execution_role": "arn"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "artifact_store": "s3://b"}),
            raised(resolve_stack_request, "x", "nope", {}),
        ]
        local = build_local_components(
            {"name": "dev", "artifact_store": "scw://kitaru-artifacts", "credentials": None, "extra": {}}
        )
    missing = quoted_in(doc, quoted)
    assert not missing, "writing-a-stack-provider.md quotes outdated messages:\n" + "\n".join(missing)
    assert local["artifact_store"]["flavor"] == "s3"


def test_the_documented_test_file_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_kapsule.py").write_text(documented_files()["tests/test_kapsule.py"])
    with documented_distribution(tmp_path / "site").activated():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "tests")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, "\n".join(result.outlines)
    assert outcomes.get("passed", 0) >= 15, outcomes


def test_the_engine_accepts_the_documented_stacks(tmp_path: Path) -> None:
    """Register a kapsule stack and a local stack on scw:// (no verify), then delete them."""
    import kitaru.stacks

    suffix = uuid.uuid4().hex[:8]
    with documented_distribution(tmp_path).activated():
        record = get_plugin_manager().stack_providers()["kapsule@scaleway"]
        fields: dict[str, Any] = {field.name: field.example or None for field in record.fields}
        fields["credentials"] = "scaleway-keys:SCWACCESS:s3cr3t"
        remote = kitaru.stacks._create_stack(
            f"docs-kapsule-{suffix}", stack_type="kapsule", activate=False, fields=fields, verify=False
        )
        local = kitaru.stacks._create_stack(
            f"docs-scw-{suffix}", stack_type="local", activate=False,
            fields={"artifact_store": "scw://kitaru-artifacts/dev"}, verify=False,
        )
        deleted = [kitaru.stacks._delete_stack(result["name"], recursive=True) for result in (remote, local)]
    assert remote["service_connectors_created"] == [remote["name"]]
    assert len(remote["components_created"]) == 3 and len(local["components_created"]) == 2
    assert deleted[0]["service_connectors_deleted"] == [remote["name"]]
    doc = stacks_doc()
    undocumented = sorted({key for result in (remote, local, *deleted) for key in result} - {
        key for key in re.findall(r'"(\w+)":', doc)
    })
    assert not undocumented, f"docs/stacks.md shows no JSON key {undocumented}"

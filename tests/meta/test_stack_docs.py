"""Keep the stack docs in step with the code they describe.

``docs/stacks.md`` (for users) must mention every option of ``kitaru stack
create`` and ``delete``, every first-party stack type, record key and field
flag, every credential format an installed plugin accepts, every ``--file`` key
and ``--extra`` target. Its command lines must parse (field flags included) and
pass validation, its stack file must load, and the error messages and
``kitaru stack types`` lines it quotes must be the ones the code produces.
``docs/mcp.md`` must list ``manage_stack``'s own parameters and quote its real
messages.

``docs/plugins/writing-a-stack-provider.md`` (for plugin authors) quotes
``STACK_SPEC_DOC``, the reserved field names and the helpers of
:mod:`kitaru.plugins.stack_helpers`, and holds a complete plugin package. That
package is written out as a throwaway distribution and must load through its
entry point, pass core's validation, pass its own documented test file
(contract suite, its flag through the CLI, an in-process S3 server), give
``kitaru stack create`` its own flag (in ``--help``, in the message naming a
missing field, in ``kitaru stack types``), and be accepted by the engine.

Everything runs in this process (the CLI through typer's ``CliRunner``); only
the last test loads the engine.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import kitaru_local.plugin
from kitaru.cli.app import build_app
from kitaru.cli.stack import parse_extras
from kitaru.cli.stack_fields import field_values
from kitaru.cli.stack_file import FIELDS_KEY, file_keys, read_stack_file
from kitaru.errors import KitaruError
from kitaru.mcp import server as mcp_server
from kitaru.mcp import system as mcp_system
from kitaru.plugins import catalog, get_plugin_manager, stack_helpers
from kitaru.plugins.records import RESERVED_FIELD_NAMES, STACK_SPEC_DOC, StackComponents, StackSpec
from kitaru.stacks.request import EXTRA_TARGETS as ALL_TARGETS
from kitaru.stacks.request import resolve_stack_request
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution
from kitaru.testing.managers import only_plugins

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]
STACKS_DOC = ROOT / "docs" / "stacks.md"
AUTHORING_DOC = ROOT / "docs" / "plugins" / "writing-a-stack-provider.md"
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"
MCP_DOC = ROOT / "docs" / "mcp.md"

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
    return spec.source is None or spec.source.plugin in catalog.FIRST_PARTY_PLUGINS


def first_party_types() -> list[catalog.KnownStackType]:
    """The stack types of Kitaru's own plugins, installed or not, in message order."""
    return [known for known in catalog.known_stack_types() if known.plugin in catalog.FIRST_PARTY_PLUGINS]


def cli(*args: str) -> Any:
    """Run ``kitaru ARGS`` in this process; the result has ``exit_code``, ``stdout`` and ``stderr``."""
    return CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


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
    missing += [name for name in catalog.type_names(first_party_types()) if not mentions_code(doc, name)]
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
    keys = [key for key in file_keys() if key not in third_party_fields()]
    assert {"name", "type", "extra", "region", "execution_role"} <= set(keys)
    spellings = sorted({spelling for key in keys for spelling in (key, key.replace("_", "-"))})
    missing = [spelling for spelling in spellings if not mentions_code(doc, spelling)]
    assert not missing, f"docs/stacks.md does not list the --file keys {missing}"


def third_party_fields() -> set[str]:
    """Fields only types outside Kitaru's own plugins declare (they document themselves)."""
    first = set(catalog.known_fields(first_party_types()))
    return set(catalog.known_fields()) - first


def test_extra_targets_field_flags_and_schemes_are_documented() -> None:
    doc = stacks_doc()
    fields = catalog.known_fields(first_party_types())
    assert {"artifact_store", "credentials", "cluster", "execution_role", "workspace"} <= set(fields)
    wanted = [*ALL_TARGETS]
    wanted += [declared[0][1].flag for declared in fields.values()]
    wanted += [f"{scheme}://" for scheme in catalog.scheme_providers()]
    missing = [text for text in wanted if not mentions_code(doc, text)]
    assert not missing, f"docs/stacks.md does not mention {missing}"


def test_the_quoted_stack_types_lines_are_real() -> None:
    """Every ``--type``/flag line of the doc's ``kitaru stack types`` output is one the command prints."""
    doc = stacks_doc()
    [block] = [b for b in re.findall(r"```console\n(.*?)```", doc, re.S) if b.startswith("$ kitaru stack types\n")]
    quoted = [line for line in block.splitlines()[1:] if line.strip() and line.strip() != "..."]
    assert len(quoted) >= 5, quoted
    result = cli("stack", "types")
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.splitlines()
    missing = [line for line in quoted if line not in printed]
    assert not missing, "docs/stacks.md quotes `kitaru stack types` lines it does not print:\n" + "\n".join(missing)


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


@pytest.mark.parametrize(
    "page", [STACKS_DOC, AUTHORING_DOC, HOOKS_DOC, MCP_DOC], ids=["stacks", "writing-a-stack-provider", "hooks", "mcp"]
)
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
        context = command.make_context("create", [w for w in words if w != "..."])
        params = context.params
        if "..." in words or params["file"]:
            continue
        kind = (params["stack_type"] or "local").strip().lower()
        extra = parse_extras(params["extra"], allowed_targets=LOCAL_TARGETS if kind == "local" else ALL_TARGETS)
        resolve_stack_request(
            params["name"],
            params["stack_type"],
            field_values(context),  # the field flags, parsed by the flags generated from the records
            extra=extra,
            async_mode=params["async_mode"],
        )


def test_the_documented_stack_file_loads_and_validates(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", stacks_doc(), re.S)
    [text] = [block for block in blocks if block.startswith("# team-stack.yaml")]
    path = tmp_path / "team-stack.yaml"
    path.write_text(text)
    settings = read_stack_file(path)
    assert set(settings[FIELDS_KEY]) == {"artifact_store", "container_registry", "region", "execution_role",
                                         "credentials"}
    request = resolve_stack_request(
        settings["name"],
        settings["type"],
        settings[FIELDS_KEY],
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


# -- docs/mcp.md: manage_stack -------------------------------------------------------------


def manage_stack_section() -> str:
    doc = MCP_DOC.read_text(encoding="utf-8")
    return doc.split("#### `manage_stack(", 1)[1].split("\n## ", 1)[0]


def test_manage_stack_parameters_are_its_own_then_one_per_field() -> None:
    """The tool's parameters: its own (documented one per row), and one per known stack field."""
    head = [name for name, *_ in mcp_server.MANAGE_STACK_HEAD]
    tail = [name for name, *_ in mcp_server.MANAGE_STACK_TAIL]
    parameters = list(inspect.signature(mcp_server.manage_stack_tool()).parameters)
    assert parameters == [*head, *catalog.known_fields(), *tail]
    section = manage_stack_section()
    rows = re.findall(r"^\| `(\w+)` \|", section, re.M)
    assert rows == [*head, *tail], f"docs/mcp.md's manage_stack table lists {rows}"
    fields = catalog.known_fields(first_party_types())
    missing = [name for name in fields if f"`{name}`" not in section]
    assert not missing, f"docs/mcp.md does not name the manage_stack field parameters {missing}"


def test_the_quoted_manage_stack_messages_are_the_real_ones() -> None:
    manage = mcp_system.manage_stack
    messages = [
        raised(manage, "delete", "x", artifact_store="s3://b"),
        raised(manage, "create", "x", options={"colour": "red"}),
        raised(manage, "create", "x", stack_type="sagemaker", region="eu-west-1", options={"region": "us-east-1"}),
        raised(manage, "create", "x", stack_type="sagemaker", options={"artifact_store": "s3://b"}),
    ]
    missing = not_quoted(MCP_DOC.read_text(encoding="utf-8"), messages)
    assert not missing, "docs/mcp.md quotes outdated messages; the code says:\n" + "\n".join(missing)


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
        for groups in re.findall(r"from kitaru\.plugins\.stack_helpers import (?:\(([\w\s,]+)\)|([\w ,]+))", doc)
        for name in "".join(groups).split(",")
        if name.strip()
    ]
    assert {"component_spec", "connector_spec", "bucket_and_prefix", "verify_object_name"} <= set(imported)
    dotted = re.findall(r"stack_helpers\.(\w+)", doc)
    unknown = sorted({*table, *imported, *dotted} - public)
    assert not unknown, f"writing-a-stack-provider.md mentions helpers that do not exist: {unknown}"
    essential = ["component_spec", "connector_spec", "deep_merge", "verify_object_name"]
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


def test_the_reserved_field_names_are_listed() -> None:
    """The doc lists exactly the names a field may not take, and no longer a list of allowed ones."""
    doc = authoring_doc()
    [sentence] = re.findall(r"\(`kitaru\.plugins\.records\.RESERVED_FIELD_NAMES`\): (.*?)\. The record", flat(doc))
    listed = set(re.findall(r"`(\w+)`", sentence))
    assert listed == set(RESERVED_FIELD_NAMES), f"the doc lists {sorted(listed)}; the code reserves " + str(
        sorted(RESERVED_FIELD_NAMES)
    )
    assert "OPTION_FIELDS" not in doc and "standard options" not in doc


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
    """Every file of the layout the doc shows, laid out like Kitaru's own plugins."""
    assert set(documented_files()) == {
        "pyproject.toml",
        "src/kitaru_scaleway/__init__.py",
        "src/kitaru_scaleway/plugin.py",
        "src/kitaru_scaleway/stacks.py",
        "src/kitaru_scaleway/artifact_store.py",
        "src/kitaru_scaleway/credentials.py",
        "tests/test_kapsule.py",
    }
    layout = authoring_doc().split("## Layout", 1)[1].split("\n## ", 1)[0]
    for path in documented_files():
        assert Path(path).name in layout, f"the Layout tree does not show {path}"


def test_the_documented_plugin_loads_and_core_validates_it(tmp_path: Path) -> None:
    with documented_distribution(tmp_path).activated():
        manager = get_plugin_manager()
        record = manager.stack_providers()["kapsule@scaleway"]
        assert record.source is not None and record.source.distribution == "kitaru-scaleway"
        assert [problem for problem in manager.problems if "scaleway" in problem] == []
        assert record.schemes == ("scw",) and record.artifact_store_schemes == ()
        examples = example_fields(record)
        assert resolve_stack_request("k1", "kapsule", examples).provider is record
        messages = [
            raised(resolve_stack_request, "x", "kapsule", {"artifact_store": "scw://b"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "execution_role": "arn"}),
            raised(resolve_stack_request, "x", "kapsule", {**examples, "artifact_store": "s3://b"}),
            raised(resolve_stack_request, "x", "local", {"registry_namespace": "kitaru"}),
            raised(resolve_stack_request, "x", "nope", {}),
        ]
        local = manager.stack_providers()["local"]
        spec = StackSpec.for_provider(local, "dev", {"artifact_store": "scw://kitaru-artifacts"})
        store = StackComponents.coerce(local.build_components(spec)).artifact_store
    missing = not_quoted(authoring_doc(), messages)
    assert not missing, "writing-a-stack-provider.md quotes outdated messages:\n" + "\n".join(missing)
    assert store.flavor == "s3" and store.configuration["path"] == "s3://kitaru-artifacts"


def test_the_plugins_own_field_is_a_flag(tmp_path: Path) -> None:
    """``registry_namespace``, which no Kitaru code names, is a flag, a ``--file`` key and a line of ``stack types``."""
    with documented_distribution(tmp_path / "site").activated():
        help_text = cli("stack", "create", "--help")
        missing = cli("stack", "create", "x", "--type", "kapsule", "--artifact-store", "scw://b", "-o", "json")
        misplaced = cli("stack", "create", "x", "--registry-namespace", "kitaru")
        types = cli("stack", "types", "-o", "json")
        stack_file = tmp_path / "kapsule.yaml"
        stack_file.write_text("name: x\ntype: kapsule\nregistry-namespace: kitaru\n", encoding="utf-8")
        from_file = cli("stack", "create", "--file", str(stack_file))
        keys = file_keys()
    assert help_text.exit_code == 0, help_text.stderr
    flat_help = flat(help_text.stdout)
    assert "--registry-namespace <str> Container Registry namespace; images go to" in flat_help
    assert "(kapsule)" in flat_help.split("--registry-namespace", 1)[1]

    assert missing.exit_code == 1
    message = json.loads(missing.stderr)["error"]["message"]
    assert message == "--type kapsule requires: --registry-namespace, --cluster, --region."
    assert "Kapsule-only options require --type kapsule: --registry-namespace (got --type local)." in misplaced.stderr

    assert types.exit_code == 0, types.stderr
    [kapsule] = [item for item in json.loads(types.stdout)["items"] if item["name"] == "kapsule"]
    assert kapsule["installed"] is True and kapsule["plugin"] == "scaleway"
    flags = {field["flag"]: field["required"] for field in kapsule["fields"]}
    assert flags["--registry-namespace"] is True

    assert "registry_namespace" in keys
    assert from_file.exit_code == 1, "the file lacks --artifact-store, --cluster and --region"
    assert "--type kapsule requires: --artifact-store, --cluster, --region." in from_file.stderr


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
            flags = [word for name, value in fields.items() if value for word in (f"--{name.replace('_', '-')}", value)]
            result = cli("stack", "create", f"docs-kapsule-{suffix}", "--type", "kapsule", *flags,
                         "--no-verify", "--no-activate", "-o", "json")
            assert result.exit_code == 0, result.stderr
            remote = json.loads(result.stdout)["item"]
            created.append(remote["name"])
            assert "s3cr3t" not in result.stdout + result.stderr
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
    assert remote["resources"]["registry_namespace"] == "kitaru"
    assert len(remote["components_created"]) == 3 and len(local["components_created"]) == 2
    assert deleted[0]["service_connectors_deleted"] == [remote["name"]]
    shown = set(re.findall(r'"(\w+)":', stacks_doc()))
    undocumented = sorted({key for result in (remote, local, *deleted) for key in result} - shown)
    assert not undocumented, f"docs/stacks.md shows no JSON key {undocumented}"

"""Keep ``docs/llm.md`` in step with the code it describes.

The page must name every installed LLM backend with its prefix, extra,
credential variables and price date; every key ``kitaru._llm.call`` records in
``llm_calls`` and every credential source; every ``kitaru model`` and
``kitaru secrets`` subcommand and option; the keys of an execution's
``llm_usage``. Its ``llm_prices`` example must load, and each message quoted in
its *Errors* section must be exactly what the code raises today (and every
message regenerated here must be quoted), so a reworded error fails this test.

Everything runs in this process without the engine: the provider failure is
produced by the real ``openai`` SDK against a local HTTP server.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer.main
import yaml
from tests.llm.recording_server import RecordingServer, json_response

import kitaru
import kitaru_local.plugin
from kitaru._llm import call as call_module
from kitaru._llm import credentials as credentials_module
from kitaru._llm.backends import backend_for
from kitaru._llm.credentials import credentials_for
from kitaru._llm.pricing import PRICES_SECTION, configured_prices
from kitaru._llm.registry import ENV_DEFAULT_MODEL, ENV_REGISTRY, resolve_model
from kitaru._llm.usage import describe_cost, summarize
from kitaru.errors import KitaruError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import LlmBackendSpec, LlmRequest
from kitaru.testing.managers import only_plugins

ROOT = Path(__file__).resolve().parents[2]
LLM_DOC = ROOT / "docs" / "llm.md"

MODEL = "openai/gpt-4o-mini"
HELLO = LlmRequest(model="x", messages=({"role": "user", "content": "Hello"},))

PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_CUSTOM_HEADERS",
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
    ENV_REGISTRY, ENV_DEFAULT_MODEL, call_module.MOCK_ENV,
)
"""Variables a developer may have set that would change what the code says."""

UNAUTHORIZED = {
    "error": {
        "message": (
            "Incorrect API key provided: sk-proj-****abcd. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        ),
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
"""OpenAI's answer to a wrong key."""


def llm_doc() -> str:
    return LLM_DOC.read_text(encoding="utf-8")


def flat(text: str) -> str:
    """``text`` with each run of whitespace made one space, so wrapped lines still match."""
    return " ".join(text.split())


def mentions_code(doc: str, text: str) -> bool:
    """Whether ``doc`` starts an inline code span with ``text`` (not with a longer word)."""
    return re.search("`" + re.escape(text) + r"(?![\w-])", doc) is not None


def section(doc: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## `` heading."""
    assert f"\n## {heading}\n" in doc, f"docs/llm.md has no '## {heading}' section"
    return doc.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def raised(function: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the Kitaru error ``function`` raises."""
    with pytest.raises(KitaruError) as excinfo:
        function(*args, **kwargs)
    return str(excinfo.value)


def backends() -> dict[str, LlmBackendSpec]:
    return get_plugin_manager().llm_backends()


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty config dir and no provider or model variables."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    return config


def without_cloud_plugins() -> Any:
    """The plugins a user has after a plain `pip install kitaru`."""
    return only_plugins(local=kitaru_local.plugin)


# -- providers ------------------------------------------------------------------------


def provider_rows(doc: str) -> dict[str, str]:
    """The rows of the providers table, by prefix (``openai/``)."""
    table = section(doc, "Providers")
    return {match[1]: match[0] for match in re.finditer(r"^\| `([^`]+/)` \|.*$", table, re.M)}


def row_problems(backend: LlmBackendSpec, row: str) -> list[str]:
    """What a backend's providers-table row fails to say."""
    problems = [f"`{variable}`" for variable in backend.credential_env if not mentions_code(row, variable)]
    if backend.extra and f"kitaru[{backend.extra}]" not in row:
        problems.append(f"pip install 'kitaru[{backend.extra}]'")
    if backend.prices:
        expected = f"as of {backend.prices_as_of}"
    elif backend.default_price is not None and backend.default_price.input_per_million == 0:
        expected = "free"
    else:
        expected = "unknown"
    if expected not in row:
        problems.append(f"prices: {expected!r}")
    if backend.ambient_credentials and "default chain" not in row and "Default Credentials" not in row:
        problems.append("the SDK's own credential chain")
    return problems


def test_every_installed_backend_has_a_row_with_its_extra_credentials_and_prices() -> None:
    rows = provider_rows(llm_doc())
    installed = backends()
    assert {"openai", "anthropic", "openrouter", "ollama"} <= set(installed)
    problems = [
        f"`{prefix}`: " + (", ".join(row_problems(backend, rows[prefix])) if prefix in rows else "no row")
        for backend in installed.values()
        for prefix in backend.prefixes
        if prefix not in rows or row_problems(backend, rows[prefix])
    ]
    assert not problems, "docs/llm.md providers table does not say:\n" + "\n".join(problems)


def test_the_endpoint_settings_kitaru_reads_itself_are_documented() -> None:
    """Variables and defaults defined by Kitaru's backends, not by an SDK."""
    from kitaru.llm_backends import anthropic_backend, openrouter_backend

    rows = provider_rows(llm_doc())
    expected = {
        "openrouter/": [
            openrouter_backend.OPENROUTER_BASE_URL_ENV,
            openrouter_backend.OPENROUTER_API_KEY_ENV,
            openrouter_backend.OPENROUTER_DEFAULT_BASE_URL,
        ],
    }
    ollama = pytest.importorskip("kitaru_local.llm")
    expected["ollama/"] = [ollama.OLLAMA_HOST_ENV, ollama.OLLAMA_API_KEY_ENV, ollama.ollama_base_url("")[:-3]]
    azure = pytest.importorskip("kitaru_azure.llm")
    expected["azure/"] = [
        azure.AZURE_OPENAI_ENDPOINT_ENV,
        azure.AZURE_OPENAI_API_KEY_ENV,
        azure.AZURE_API_VERSION_ENV,
        azure.DEFAULT_AZURE_API_VERSION,
    ]
    missing = [f"{key} {value}" for key, values in expected.items() for value in values if value not in rows[key]]
    assert not missing, f"docs/llm.md providers table misses {missing}"
    assert f"`max_tokens` defaults to {anthropic_backend.DEFAULT_MAX_TOKENS}" in flat(llm_doc())


# -- what a call records --------------------------------------------------------------


def recorded_keys() -> set[str]:
    """Every key ``kitaru._llm.call`` puts in a call's ``llm_calls`` entry.

    Read from the code: the keys of the ``record = {...}`` literal and the
    keyword names of every ``record.update(...)``.
    """
    tree = ast.parse(inspect.getsource(call_module))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "record":
            keys |= {key.value for key in node.value.keys}  # type: ignore[union-attr]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and getattr(node.func.value, "id", None) == "record"
        ):
            keys |= {keyword.arg for keyword in node.keywords if keyword.arg}
    return keys


def credential_sources() -> set[str]:
    """Every ``credential_source`` the code can record."""
    tree = ast.parse(inspect.getsource(credentials_module))
    sources = {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Yield) and isinstance(node.value, ast.Constant)
    }
    call_tree = ast.parse(inspect.getsource(call_module))
    for node in ast.walk(call_tree):
        if isinstance(node, ast.keyword) and node.arg == "credential_source":
            if isinstance(node.value, ast.Constant):
                sources.add(node.value.value)
    return sources


def test_every_llm_calls_key_and_credential_source_is_documented() -> None:
    doc = section(llm_doc(), "What is recorded")
    keys = recorded_keys()
    assert {"requested_model", "resolved_model", "tokens_input", "cost_usd"} <= keys, keys
    table = set(re.findall(r"^\| `(\w+)` \|", doc, re.M))
    assert table == keys, f"the llm_calls table lists {sorted(table)}; the code records {sorted(keys)}"
    sources = credential_sources()
    assert {"environment", "secret", "none", "mock"} <= sources, sources
    missing = [source for source in sorted(sources) if not mentions_code(doc, source)]
    assert not missing, f"docs/llm.md does not name the credential sources {missing}"
    for artifact, kind in (("_prompt", "prompt"), ("_response", "response")):
        assert f"`<name>{artifact}`" in doc and f"type `{kind}`" in doc


def test_the_documented_llm_usage_keys_are_the_ones_executions_get_reports() -> None:
    attempt = SimpleNamespace(metadata={"llm_calls": {"a": {"tokens_input": 1, "tokens_output": 2}}})
    usage = summarize([SimpleNamespace(attempts=[attempt], metadata={})])
    assert usage is not None
    cost = section(llm_doc(), "Cost")
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", cost, re.S)]
    assert shown, "docs/llm.md shows no llm_usage JSON"
    for block in shown:
        assert set(block) == set(usage), f"documented llm_usage keys {sorted(block)} != {sorted(usage)}"
    assert flat(describe_cost(usage)) in flat(cost), "the unknown-cost text changed"
    assert "calls_with_unknown_cost" in cost


def test_the_documented_price_overrides_load(clean_env: Path) -> None:
    doc = llm_doc()
    blocks = [block for block in re.findall(r"```yaml\n(.*?)```", doc, re.S) if PRICES_SECTION in block]
    assert len(blocks) == 1, "docs/llm.md should show one llm_prices example"
    data = yaml.safe_load(blocks[0])
    clean_env.mkdir()
    (clean_env / "kitaru.yaml").write_text(yaml.safe_dump({"version": 1, **data}))
    prices = configured_prices()
    assert set(prices) == set(data[PRICES_SECTION])
    for model in prices:
        assert model.split("/", 1)[0] + "/" in provider_rows(doc)


# -- commands -------------------------------------------------------------------------


def group_commands(group: str) -> dict[str, Any]:
    from kitaru.cli.app import build_app

    root = typer.main.get_command(build_app())
    return dict(root.commands[group].commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("group", ["model", "secrets"])
def test_every_subcommand_and_option_is_documented(group: str) -> None:
    doc = llm_doc()
    commands = group_commands(group)
    expected = {"model": "register list remove default", "secrets": "set show list delete"}[group]
    assert set(expected.split()) <= set(commands)
    missing = [name for name in sorted(commands) if f"#### `kitaru {group} {name}`" not in doc]
    assert not missing, f"docs/llm.md has no section for `kitaru {group}` {missing}"
    flags = [
        flag
        for command in commands.values()
        for param in command.params
        if param.param_type_name == "option"
        for flag in [*param.opts, *param.secondary_opts]
        if flag not in ("-h", "--help")
    ]
    assert "--output" in flags
    undocumented = sorted({flag for flag in flags if not mentions_code(doc, flag) and flag not in doc})
    assert not undocumented, f"docs/llm.md does not mention the `kitaru {group}` options {undocumented}"


def test_the_documented_env_variables_are_the_ones_the_code_reads() -> None:
    doc = llm_doc()
    for variable in (ENV_REGISTRY, ENV_DEFAULT_MODEL, call_module.MOCK_ENV):
        assert mentions_code(doc, variable), variable
    assert f"type `{call_module.LLM_CALL_TYPE}`" in doc or f"`{call_module.LLM_CALL_TYPE}`" in doc


# -- quoted errors --------------------------------------------------------------------


def provider_failure(monkeypatch: pytest.MonkeyPatch) -> str:
    """What a call reports when the provider refuses the key (real SDK, local server)."""
    with RecordingServer(lambda request: json_response(UNAUTHORIZED, status=401)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-wrong")
        request = {"name": "research", "model": MODEL, "messages": list(HELLO.messages)}
        message = raised(call_module._call_provider, request, {})
        assert len(server.requests) == 1
    return message


def missing_credentials(backend: str, model: str) -> str:
    """What a call without a key in the environment or a linked secret reports."""

    def enter() -> None:
        with credentials_for(backends()[backend], None, model):
            pass

    return raised(enter)


def missing_sdk(monkeypatch: pytest.MonkeyPatch, backend: str, module: str) -> str:
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now fails
    return raised(backends()[backend].call, HELLO)


def regenerated_messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message the Errors section should quote, as the code produces it now."""
    two_aliases = {"aliases": {"fast": {"model": MODEL}, "smart": {"model": "anthropic/claude-sonnet-4-5"}}}
    messages = [
        raised(resolve_model, None, {}),
        raised(resolve_model, None, {ENV_REGISTRY: json.dumps(two_aliases)}),
        raised(resolve_model, None, {ENV_DEFAULT_MODEL: " "}),
        raised(kitaru.llm, "Hello"),
        raised(backend_for, "mistral/mistral-large-latest"),
        raised(backend_for, "gpt-4o-mini"),
        missing_credentials("openai", MODEL),
        provider_failure(monkeypatch),
    ]
    with without_cloud_plugins():
        messages.append(raised(backend_for, "bedrock/amazon.nova-lite-v1:0"))
    messages += [
        missing_sdk(monkeypatch, "openai", "openai"),
        missing_sdk(monkeypatch, "anthropic", "anthropic"),
        missing_sdk(monkeypatch, "ollama", "openai"),
    ]
    return messages


def test_the_quoted_errors_are_the_real_ones(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    errors = section(llm_doc(), "Errors")
    quoted = [flat(block) for block in re.findall(r"```text\n(.*?)```", errors, re.S)]
    messages = [flat(message) for message in regenerated_messages(monkeypatch)]
    stale = [block for block in quoted if block not in messages]
    unquoted = [message for message in messages if message not in quoted]
    assert not stale, "docs/llm.md quotes messages the code no longer produces:\n" + "\n".join(stale)
    assert not unquoted, "docs/llm.md should quote these messages:\n" + "\n".join(unquoted)


def test_the_example_failure_names_a_real_message(clean_env: Path) -> None:
    """The console example at the top of Errors shows the real missing-credentials text."""
    message = missing_credentials("anthropic", "anthropic/claude-haiku-4-5")
    assert flat(message) in flat(section(llm_doc(), "Errors"))


def test_the_documented_call_names_are_the_real_ones() -> None:
    from kitaru._llm.messages import call_name

    table = section(llm_doc(), "`kitaru.llm()`")
    rows = re.findall(r'^\| `"([^"]*)"` \| `(\w+)`', table, re.M)
    assert len(rows) >= 3, "the call-name table is missing"
    for given, recorded in rows:
        assert call_name(given, 1) == recorded, f"name={given!r} is recorded as {call_name(given, 1)!r}"
    assert raised(call_name, "!!!", 1)


def test_links_lead_to_existing_pages_and_headings() -> None:
    doc = llm_doc()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc):
        if "://" not in target:
            assert (LLM_DOC.parent / target).exists(), f"docs/llm.md links to missing {target}"
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", doc, re.M)
    }
    for anchor in re.findall(r"\]\((?:[^)#]*)#([^)]+)\)", doc):
        assert anchor in anchors, f"docs/llm.md links to a missing heading #{anchor}"

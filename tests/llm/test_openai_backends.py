"""The OpenAI-protocol backends (openai, openrouter, ollama, azure) on the wire.

Each backend's ``call`` runs the official ``openai`` SDK against a local
:class:`RecordingServer` speaking Chat Completions (``openai_protocol.py``);
the SDK is pointed there only through the environment a user would set
(``OPENAI_BASE_URL``, ``OPENROUTER_BASE_URL``, ``OLLAMA_HOST``,
``AZURE_OPENAI_ENDPOINT``). The tests assert the exact request that left the
process and what the backend made of the answer.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest

import kitaru
from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.llm_backends.openai_backend import OPENAI_BACKEND
from kitaru.llm_backends.openrouter_backend import (
    OPENROUTER_BACKEND,
    OPENROUTER_DEFAULT_BASE_URL,
    openrouter_base_url,
)
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult
from kitaru.testing import plugin_manager_with
from kitaru.testing.contracts import LlmBackendContract
from kitaru_azure.llm import AZURE_LLM_BACKEND, DEFAULT_AZURE_API_VERSION
from kitaru_local.llm import OLLAMA_BACKEND, ollama_base_url
from tests.llm.openai_protocol import (
    SDK_ENVIRONMENT,
    chat_responder,
    invalid_key_responder,
    sent_json,
)
from tests.llm.recording_server import RecordingServer, Responder

DECOY_OPENAI_KEY = "sk-openai-must-not-leak"
DECOY_OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: a request here fails

Serve = Callable[..., RecordingServer]
"""The ``serve`` fixture: ``serve(target, responder)`` returns the configured server."""

CONVERSATION = (
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a durable thing."},
    {"role": "assistant", "content": "A journal."},
    {"role": "user", "content": "Why?"},
)


@dataclass(frozen=True)
class Target:
    """How to point one backend at the recording server, and what it must send."""

    record: LlmBackendSpec
    model: str
    path: str
    auth_header: str
    auth_value: str
    token_limit: str
    reported_model: str
    configure: Callable[[pytest.MonkeyPatch, str], None]


def _openai_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")


def _openrouter_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"{url}/api/v1")
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", DECOY_OPENAI_BASE_URL)


def _ollama_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OLLAMA_HOST", url.removeprefix("http://"))  # host:port, no scheme
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", DECOY_OPENAI_BASE_URL)


def _azure_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_OPENAI_KEY)


TARGETS = {
    "openai": Target(
        OPENAI_BACKEND, "gpt-4o-mini", "/v1/chat/completions", "Authorization",
        "Bearer sk-test-openai", "max_completion_tokens", "gpt-4o-mini-2024-07-18", _openai_env,
    ),
    "openrouter": Target(
        OPENROUTER_BACKEND, "anthropic/claude-3.5-haiku", "/api/v1/chat/completions",
        "Authorization", "Bearer sk-or-test", "max_tokens", "anthropic/claude-3.5-haiku",
        _openrouter_env,
    ),
    "ollama": Target(
        OLLAMA_BACKEND, "llama3.2:3b", "/v1/chat/completions", "Authorization",
        "Bearer ollama", "max_tokens", "llama3.2:3b", _ollama_env,
    ),
    "azure": Target(
        AZURE_LLM_BACKEND, "prod-gpt4o",
        f"/openai/deployments/prod-gpt4o/chat/completions?api-version={DEFAULT_AZURE_API_VERSION}",
        "api-key", "azure-test-key", "max_completion_tokens", "prod-gpt4o", _azure_env,
    ),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    """One recording server for the module (stopping one takes half a second)."""
    with RecordingServer(chat_responder()) as running:
        yield running


@pytest.fixture
def serve(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Give the server a responder and forget earlier requests; configure a target."""

    def start(target: Target | None = None, responder: Responder | None = None) -> RecordingServer:
        server.responder = responder or chat_responder()
        server.requests.clear()
        if target is not None:
            target.configure(monkeypatch, server.url)
        return server

    return start


def _request(model: str, **options: Any) -> LlmRequest:
    return LlmRequest(model=model, messages=CONVERSATION, **options)


backends = pytest.mark.parametrize("target", list(TARGETS.values()), ids=list(TARGETS))


@backends
def test_sends_the_exact_chat_request(target: Target, serve: Serve) -> None:
    server = serve(target)

    result = target.record.call(_request(target.model, temperature=0.2, max_tokens=64))

    assert result == LlmResult(
        text="Durable agents never pay twice.",
        tokens_input=23,
        tokens_output=7,
        model=target.reported_model,
    )
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", target.path)
    assert sent.header(target.auth_header) == target.auth_value
    assert sent.header("Content-Type") == "application/json"
    assert sent_json(sent) == {
        "model": target.model,
        "messages": [dict(message) for message in CONVERSATION],
        "temperature": 0.2,
        target.token_limit: 64,
    }


@backends
def test_leaves_unset_temperature_and_limit_to_the_provider(target: Target, serve: Serve) -> None:
    server = serve(target)

    target.record.call(_request(target.model))

    [sent] = server.requests
    assert sent_json(sent) == {
        "model": target.model,
        "messages": [dict(message) for message in CONVERSATION],
    }


@backends
def test_an_answer_without_text_is_a_runtime_error(target: Target, serve: Serve) -> None:
    serve(target, chat_responder(text=None, finish_reason="length"))

    with pytest.raises(KitaruRuntimeError, match=r"returned no text .*finish_reason: length.*raise max_tokens"):
        target.record.call(_request(target.model, max_tokens=5))


@pytest.mark.parametrize(
    ("responder", "message"),
    [
        (chat_responder(text=""), r"returned no text for model 'gpt-4o-mini' \(finish_reason: stop\)"),
        (chat_responder(text="  \n"), r"returned no text"),
        (chat_responder(text=None, finish_reason="content_filter"), r"content filter withheld"),
        (
            chat_responder(body={"id": "x", "object": "chat.completion", "created": 0,
                                 "model": "gpt-4o-mini", "choices": []}),
            r"response without choices",
        ),
    ],
    ids=["empty", "blank", "filtered", "no-choices"],
)
def test_empty_answers_say_why(responder: Responder, message: str, serve: Serve) -> None:
    serve(TARGETS["openai"], responder)

    with pytest.raises(KitaruRuntimeError, match=message):
        OPENAI_BACKEND.call(_request("gpt-4o-mini"))


@backends
def test_an_invalid_key_propagates_as_the_sdk_error(target: Target, serve: Serve) -> None:
    server = serve(target, invalid_key_responder())

    with pytest.raises(openai.AuthenticationError) as raised:
        target.record.call(_request(target.model))

    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    assert len(server.requests) == 1  # the SDK does not retry a 401


@backends
def test_a_missing_sdk_names_the_extra(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)

    with pytest.raises(KitaruUsageError) as raised:
        target.record.call(_request(target.model))

    assert str(raised.value) == (
        f"The '{target.record.name}' LLM backend requires the openai package. "
        f"Install with: pip install kitaru[{target.record.extra}]"
    )


def test_openai_lets_the_sdk_read_its_environment(
    monkeypatch: pytest.MonkeyPatch, serve: Serve
) -> None:
    server = serve(TARGETS["openai"])
    monkeypatch.setenv("OPENAI_ORG_ID", "org-kitaru")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_kitaru")

    OPENAI_BACKEND.call(_request("gpt-4o-mini"))

    [sent] = server.requests
    assert sent.header("OpenAI-Organization") == "org-kitaru"
    assert sent.header("OpenAI-Project") == "proj_kitaru"


def test_openrouter_defaults_to_its_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OPENROUTER_DEFAULT_BASE_URL == "https://openrouter.ai/api/v1"
    assert openrouter_base_url() == OPENROUTER_DEFAULT_BASE_URL
    monkeypatch.setenv("OPENROUTER_BASE_URL", "https://gateway.example.com/openrouter/v1/")
    assert openrouter_base_url() == "https://gateway.example.com/openrouter/v1"


def test_openrouter_without_a_key_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, serve: Serve
) -> None:
    server = serve(TARGETS["openrouter"])
    monkeypatch.delenv("OPENROUTER_API_KEY")

    with pytest.raises(KitaruUsageError, match="needs an OpenRouter key in OPENROUTER_API_KEY"):
        OPENROUTER_BACKEND.call(_request("openai/gpt-4o-mini"))

    assert server.requests == []


def test_ollama_accepts_a_url_and_an_api_key(monkeypatch: pytest.MonkeyPatch, serve: Serve) -> None:
    server = serve(TARGETS["ollama"])
    monkeypatch.setenv("OLLAMA_HOST", f"{server.url}/")
    monkeypatch.setenv("OLLAMA_API_KEY", "proxy-token")

    OLLAMA_BACKEND.call(_request("qwen2.5:7b"))

    [sent] = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.header("Authorization") == "Bearer proxy-token"


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        (None, "http://localhost:11434/v1"),
        ("", "http://localhost:11434/v1"),
        ("gpu-box", "http://gpu-box:11434/v1"),
        ("gpu-box:8080", "http://gpu-box:8080/v1"),
        (":8080", "http://localhost:8080/v1"),
        ("0.0.0.0", "http://0.0.0.0:11434/v1"),
        ("[::1]:11434", "http://[::1]:11434/v1"),
        ("http://gpu-box", "http://gpu-box/v1"),
        ("https://ollama.example.com", "https://ollama.example.com/v1"),
        ("http://localhost:11434/", "http://localhost:11434/v1"),
        ("https://proxy.example.com/ollama", "https://proxy.example.com/ollama/v1"),
        ("http://localhost:11434/v1", "http://localhost:11434/v1"),
    ],
)
def test_ollama_host_forms(host: str | None, base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if host is not None:
        monkeypatch.setenv("OLLAMA_HOST", host)

    assert ollama_base_url() == base_url


@pytest.mark.parametrize("host", ["gpu-box:notaport", "ftp://gpu-box", "http://"])
def test_ollama_rejects_a_malformed_host(host: str) -> None:
    with pytest.raises(KitaruUsageError, match=re.escape(f"OLLAMA_HOST={host!r} is not an Ollama address")):
        ollama_base_url(host)


def test_azure_honours_openai_api_version(monkeypatch: pytest.MonkeyPatch, serve: Serve) -> None:
    server = serve(TARGETS["azure"])
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")

    AZURE_LLM_BACKEND.call(_request("eu-mini"))

    [sent] = server.requests
    assert sent.path == "/openai/deployments/eu-mini/chat/completions?api-version=2024-10-21"
    assert sent.header("Authorization") is None  # the key travels as api-key only


def test_azure_without_an_endpoint_says_what_to_set(monkeypatch: pytest.MonkeyPatch,) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")

    with pytest.raises(KitaruUsageError, match=r"needs AZURE_OPENAI_ENDPOINT.*openai\.azure\.com"):
        AZURE_LLM_BACKEND.call(_request("prod-gpt4o"))


def test_azure_without_credentials_raises_the_sdk_error(
    monkeypatch: pytest.MonkeyPatch, serve: Serve
) -> None:
    server = serve(TARGETS["azure"])
    monkeypatch.delenv("AZURE_OPENAI_API_KEY")

    with pytest.raises(openai.OpenAIError, match="AZURE_OPENAI_API_KEY"):
        AZURE_LLM_BACKEND.call(_request("prod-gpt4o"))

    assert server.requests == []


class _Backends:  # a plugin yielding the four records, so a manager stamps them
    @kitaru.hookimpl
    def kitaru_llm_backends(self) -> Iterator[LlmBackendSpec]:
        yield from (target.record for target in TARGETS.values())


_STAMPED = plugin_manager_with(_Backends(), name="openai-protocol").llm_backends()


class TestOpenAIProtocolRecords(LlmBackendContract):
    """The contract every installed backend must pass, run on these four now."""

    @pytest.fixture(params=sorted(_STAMPED))
    def llm_backend(self, request: pytest.FixtureRequest) -> LlmBackendSpec:
        return _STAMPED[request.param]


def test_records_declare_prefix_credentials_and_extra() -> None:
    declared = {
        target.record.name: (target.record.prefixes, target.record.credential_env, target.record.extra)
        for target in TARGETS.values()
    }
    assert declared == {
        "openai": (("openai/",), ("OPENAI_API_KEY",), "openai"),
        "openrouter": (("openrouter/",), ("OPENROUTER_API_KEY",), "openai"),
        "ollama": (("ollama/",), (), "openai"),
        "azure": (("azure/",), ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"), "azure"),
    }


def test_price_tables_are_dated_and_plausible() -> None:
    for record in (OPENAI_BACKEND, OPENROUTER_BACKEND):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record.prices_as_of)
        assert record.prices
        for model, price in record.prices.items():
            assert 0 < price.input_per_million <= price.output_per_million <= 200, model
    assert OPENAI_BACKEND.prices["gpt-4o-mini"].input_per_million == 0.15
    assert OPENAI_BACKEND.prices["gpt-4o-mini"].output_per_million == 0.60
    assert "anthropic/claude-3.5-haiku" in OPENROUTER_BACKEND.prices
    # Deployment names and local tags are the user's: no price is better than a wrong one.
    assert not OLLAMA_BACKEND.prices and not AZURE_LLM_BACKEND.prices


def test_importing_the_backends_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import kitaru.llm_backends.openai_backend, kitaru.llm_backends.openrouter_backend\n"
        "import kitaru_local.llm, kitaru_azure.llm\n"
        "assert 'openai' not in sys.modules, 'openai imported at module level'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

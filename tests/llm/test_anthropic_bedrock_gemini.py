"""The anthropic, bedrock and vertex (Gemini) backends on the wire.

Each backend's ``call`` runs its official SDK (``anthropic``, boto3,
``google-genai``) against a local :class:`RecordingServer` speaking the
provider's protocol (``anthropic_protocol.py``, ``bedrock_protocol.py``,
``gemini_protocol.py``). The SDK finds the server only through the
environment a user would set (``ANTHROPIC_BASE_URL``,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL``,
``GOOGLE_VERTEX_BASE_URL``). The tests assert the exact request that left the
process (path, auth header, body) and what the backend made of the answer.

Nothing may leave 127.0.0.1: the developer's cloud settings are cleared,
Google credentials come from a placeholder ``authorized_user`` file whose
token never expires (so google-auth never refreshes it), the GCE metadata
server is pointed at a closed loopback port, and a guard fails any socket
connection to another host.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from botocore.exceptions import ClientError
from google.genai import errors as genai_errors

import kitaru
from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.llm_backends.anthropic_backend import ANTHROPIC_BACKEND, split_system
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult
from kitaru.testing import plugin_manager_with
from kitaru.testing.contracts import LlmBackendContract
from kitaru_aws.llm import BEDROCK_BACKEND
from kitaru_gcp.llm import VERTEX_BACKEND
from tests.llm.anthropic_protocol import anthropic_failure, anthropic_responder
from tests.llm.bedrock_protocol import SIGV4, bedrock_failure, bedrock_responder
from tests.llm.gemini_protocol import gemini_failure, gemini_responder
from tests.llm.recording_server import RecordingServer, Responder

CONVERSATION = (
    {"role": "system", "content": "You are terse."},
    {"role": "system", "content": "Answer in English."},
    {"role": "user", "content": "Name a durable thing."},
    {"role": "assistant", "content": "A journal."},
    {"role": "user", "content": "Why?"},
)
JOINED_SYSTEM = "You are terse.\n\nAnswer in English."
ONLY_USER = ({"role": "user", "content": "Hi"},)

ANTHROPIC_KEY = "sk-ant-kitaru-test"
AWS_KEY_ID = "AKIAKITARUTEST"
GOOGLE_TOKEN = "ya29.kitaru-test-token"
PROJECT = "kitaru-test"

CLOUD_PREFIXES = ("ANTHROPIC_", "AWS_", "GOOGLE_", "GCLOUD_", "CLOUDSDK_", "GCE_")
PROXY_VARIABLES = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


# --- isolation -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Clear every cloud and proxy setting; leave no config file for the SDKs to find."""
    for name in list(os.environ):
        if name.startswith(CLOUD_PREFIXES) or name in PROXY_VARIABLES:
            monkeypatch.delenv(name)
    missing = tmp_path / "no-such-file"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    closed = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("GCE_METADATA_HOST", closed)
    monkeypatch.setenv("GCE_METADATA_IP", closed)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any name lookup or connection for a host other than 127.0.0.1.

    A safety net, not a mock: everything that should happen still goes
    through real sockets to the recording server.
    """
    original_connect = socket.socket.connect
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            assert address[0] in LOOPBACK, f"Test tried to connect to {address!r}"
        return original_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        assert host in LOOPBACK, f"Test tried to look up {host!r}"
        return original_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    """One recording server for the module (stopping one takes half a second)."""
    with RecordingServer(anthropic_responder()) as running:
        yield running


@pytest.fixture
def serve(server: RecordingServer) -> Callable[[Responder], RecordingServer]:
    """Give the server a responder and forget earlier requests."""

    def start(responder: Responder) -> RecordingServer:
        server.responder = responder
        server.requests.clear()
        return server

    return start


@pytest.fixture
def anthropic_env(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)


@pytest.fixture
def aws_env(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "kitaru-test-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)


@pytest.fixture(scope="module")
def adc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Placeholder Application Default Credentials: google-auth loads them without a request."""
    path = tmp_path_factory.mktemp("adc") / "adc.json"
    path.write_text(json.dumps({
        "type": "authorized_user",
        "client_id": "kitaru-test",
        "client_secret": "kitaru-test",
        "refresh_token": "kitaru-test",
        "token": GOOGLE_TOKEN,
        "expiry": "2999-01-01T00:00:00Z",
    }))
    return path


@pytest.fixture
def vertex_env(server: RecordingServer, adc_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_file))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", server.url)


def _request(
    model: str, messages: tuple[dict[str, str], ...] = CONVERSATION, **options: Any
) -> LlmRequest:
    return LlmRequest(model=model, messages=messages, **options)


# --- anthropic -------------------------------------------------------------------------------


@pytest.mark.usefixtures("anthropic_env")
def test_anthropic_sends_a_messages_request(serve: Callable[[Responder], RecordingServer]) -> None:
    server = serve(anthropic_responder("Because it remembers.", model="claude-haiku-4-5-20251001",
                                       input_tokens=31, output_tokens=4))

    result = ANTHROPIC_BACKEND.call(_request("claude-haiku-4-5", temperature=0.3, max_tokens=256))

    assert result == LlmResult(text="Because it remembers.", tokens_input=31, tokens_output=4,
                               model="claude-haiku-4-5-20251001")
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    # anthropic 2.x sends the API key as a bearer token (1.x used x-api-key).
    assert sent.header("authorization") == f"Bearer {ANTHROPIC_KEY}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sent.header("anthropic-version") or "")
    assert sent.json == {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "temperature": 0.3,
        "system": JOINED_SYSTEM,
        "messages": [
            {"role": "user", "content": "Name a durable thing."},
            {"role": "assistant", "content": "A journal."},
            {"role": "user", "content": "Why?"},
        ],
    }


@pytest.mark.usefixtures("anthropic_env")
def test_anthropic_defaults_max_tokens_and_omits_the_rest(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    server = serve(anthropic_responder("Hello"))

    result = ANTHROPIC_BACKEND.call(_request("claude-3-5-haiku-latest", ONLY_USER))

    assert result.text == "Hello" and result.model == "claude-3-5-haiku-latest"
    assert server.requests[0].json == {
        "model": "claude-3-5-haiku-latest",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Hi"}],
    }


@pytest.mark.usefixtures("anthropic_env")
def test_anthropic_answer_without_text_is_a_runtime_error(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    serve(anthropic_responder(None, stop_reason="max_tokens"))

    with pytest.raises(KitaruRuntimeError, match=r"returned no text \(stop_reason='max_tokens'\)"):
        ANTHROPIC_BACKEND.call(_request("claude-haiku-4-5"))


@pytest.mark.usefixtures("anthropic_env")
def test_anthropic_http_error_propagates(serve: Callable[[Responder], RecordingServer]) -> None:
    server = serve(anthropic_failure(403, "permission_error", "Your key cannot use this model."))

    with pytest.raises(anthropic.PermissionDeniedError, match="Your key cannot use this model"):
        ANTHROPIC_BACKEND.call(_request("claude-opus-4-1"))
    assert len(server.requests) == 1  # a 403 is not retried


# --- bedrock ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_bedrock_sends_a_signed_converse_request(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    server = serve(bedrock_responder("Because it remembers.", input_tokens=40, output_tokens=6))

    result = BEDROCK_BACKEND.call(
        _request("anthropic.claude-3-5-haiku-20241022-v1:0", temperature=0.2, max_tokens=300)
    )

    assert result == LlmResult(text="Because it remembers.", tokens_input=40, tokens_output=6,
                               model="anthropic.claude-3-5-haiku-20241022-v1:0")
    [sent] = server.requests
    assert sent.method == "POST"
    assert sent.path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    signature = SIGV4.match(sent.header("authorization") or "")
    assert signature is not None, sent.header("authorization")
    assert (signature["key"], signature["region"], signature["service"]) == (
        AWS_KEY_ID, "eu-west-1", "bedrock",
    )
    assert sent.json == {
        "system": [{"text": JOINED_SYSTEM}],
        "messages": [
            {"role": "user", "content": [{"text": "Name a durable thing."}]},
            {"role": "assistant", "content": [{"text": "A journal."}]},
            {"role": "user", "content": [{"text": "Why?"}]},
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.2},
    }


def test_bedrock_reads_the_generic_endpoint_and_default_region(
    serve: Callable[[Responder], RecordingServer], server: RecordingServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve(bedrock_responder("Hi there"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "kitaru-test-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "kitaru-session-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)

    result = BEDROCK_BACKEND.call(_request("amazon.nova-lite-v1:0", ONLY_USER))

    assert result.text == "Hi there"
    [sent] = server.requests
    assert sent.path == "/model/amazon.nova-lite-v1%3A0/converse"
    assert SIGV4.match(sent.header("authorization") or "")["region"] == "us-west-2"
    assert sent.header("x-amz-security-token") == "kitaru-session-token"
    # No system message, temperature or limit: nothing but the conversation is sent.
    assert sent.json == {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}


@pytest.mark.usefixtures("aws_env")
def test_bedrock_aws_region_wins_and_credentials_are_read_per_call(
    serve: Callable[[Responder], RecordingServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(bedrock_responder())
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    BEDROCK_BACKEND.call(_request("amazon.nova-micro-v1:0", ONLY_USER))
    # A secret overlaid on the environment for the next call must be the one used.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASECONDKEY")
    BEDROCK_BACKEND.call(_request("amazon.nova-micro-v1:0", ONLY_USER))

    signed = [SIGV4.match(sent.header("authorization") or "") for sent in server.requests]
    assert [(s["key"], s["region"]) for s in signed] == [
        (AWS_KEY_ID, "eu-west-1"), ("AKIASECONDKEY", "eu-west-1"),
    ]


@pytest.mark.usefixtures("aws_env")
def test_bedrock_reports_the_model_a_prompt_router_picked(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    picked = "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    serve(bedrock_responder(invoked_model_id=picked))
    router = "arn:aws:bedrock:eu-west-1:123456789012:default-prompt-router/anthropic.claude:1"

    assert BEDROCK_BACKEND.call(_request(router, ONLY_USER)).model == picked


def test_bedrock_without_a_region_says_what_to_set(
    serve: Callable[[Responder], RecordingServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(bedrock_responder())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "kitaru-test-secret")

    with pytest.raises(KitaruUsageError, match="needs an AWS region: set AWS_REGION"):
        BEDROCK_BACKEND.call(_request("amazon.nova-lite-v1:0", ONLY_USER))
    assert server.requests == []


@pytest.mark.usefixtures("aws_env")
def test_bedrock_answer_without_text_is_a_runtime_error(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    serve(bedrock_responder(None, stop_reason="max_tokens"))

    with pytest.raises(KitaruRuntimeError, match=r"returned no text \(stopReason='max_tokens'\)"):
        BEDROCK_BACKEND.call(_request("amazon.nova-lite-v1:0"))


@pytest.mark.usefixtures("aws_env")
def test_bedrock_http_error_propagates(serve: Callable[[Responder], RecordingServer]) -> None:
    server = serve(
        bedrock_failure(400, "ValidationException", "The provided model identifier is invalid.")
    )

    with pytest.raises(ClientError, match="model identifier is invalid") as raised:
        BEDROCK_BACKEND.call(_request("amazon.nova-nonexistent-v1:0"))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert len(server.requests) == 1  # a validation error is not retried


# --- vertex (Gemini) -------------------------------------------------------------------------


VERTEX_PATH = (
    "/v1beta1/projects/{project}/locations/{location}"
    "/publishers/google/models/{model}:generateContent"
)


@pytest.mark.usefixtures("vertex_env")
def test_vertex_sends_a_generate_content_request(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    server = serve(gemini_responder("Because it remembers.", model_version="gemini-2.5-flash-001",
                                    prompt_tokens=27, candidates_tokens=4))

    result = VERTEX_BACKEND.call(_request("gemini-2.5-flash", temperature=0.4, max_tokens=128))

    assert result == LlmResult(text="Because it remembers.", tokens_input=27, tokens_output=4,
                               model="gemini-2.5-flash-001")
    [sent] = server.requests
    assert sent.method == "POST"
    assert sent.path == VERTEX_PATH.format(project=PROJECT, location="europe-west4",
                                           model="gemini-2.5-flash")
    assert sent.header("authorization") == f"Bearer {GOOGLE_TOKEN}"
    body = sent.json
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Name a durable thing."}]},
        {"role": "model", "parts": [{"text": "A journal."}]},
        {"role": "user", "parts": [{"text": "Why?"}]},
    ]
    assert body["systemInstruction"]["parts"] == [{"text": JOINED_SYSTEM}]
    assert body["generationConfig"] == {"temperature": 0.4, "maxOutputTokens": 128}
    assert set(body) == {"contents", "systemInstruction", "generationConfig"}


@pytest.mark.usefixtures("vertex_env")
def test_vertex_defaults_to_the_global_location_and_sends_no_options(
    serve: Callable[[Responder], RecordingServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(gemini_responder("Hello"))
    monkeypatch.delenv("GOOGLE_CLOUD_LOCATION")

    assert VERTEX_BACKEND.call(_request("gemini-2.0-flash", ONLY_USER)).text == "Hello"

    [sent] = server.requests
    assert sent.path == VERTEX_PATH.format(
        project=PROJECT, location="global", model="gemini-2.0-flash"
    )
    assert sent.json == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


@pytest.mark.usefixtures("vertex_env")
def test_vertex_counts_thinking_tokens_as_output(
    serve: Callable[[Responder], RecordingServer],
) -> None:
    serve(gemini_responder("42", candidates_tokens=2, thoughts_tokens=150))

    result = VERTEX_BACKEND.call(_request("gemini-2.5-pro", ONLY_USER))

    assert (result.tokens_input, result.tokens_output) == (11, 152)


@pytest.mark.usefixtures("vertex_env")
@pytest.mark.parametrize(
    ("responder", "reason"),
    [
        (
            gemini_responder(None, finish_reason="MAX_TOKENS"),
            "finish_reason=MAX_TOKENS",
        ),
        (gemini_responder(block_reason="SAFETY"), "the prompt was blocked: SAFETY"),
    ],
    ids=["max-tokens", "blocked"],
)
def test_vertex_answer_without_text_is_a_runtime_error(
    responder: Responder, reason: str, serve: Callable[[Responder], RecordingServer],
) -> None:
    serve(responder)

    with pytest.raises(KitaruRuntimeError, match=re.escape(f"returned no text ({reason})")):
        VERTEX_BACKEND.call(_request("gemini-2.5-flash"))


@pytest.mark.usefixtures("vertex_env")
def test_vertex_http_error_propagates(serve: Callable[[Responder], RecordingServer]) -> None:
    server = serve(gemini_failure(403, "PERMISSION_DENIED", "Vertex AI API has not been used."))

    with pytest.raises(genai_errors.ClientError, match="Vertex AI API has not been used") as raised:
        VERTEX_BACKEND.call(_request("gemini-2.5-flash"))
    assert raised.value.code == 403
    assert len(server.requests) == 1


# --- shared behaviour ------------------------------------------------------------------------


RECORDS = {"anthropic": ANTHROPIC_BACKEND, "bedrock": BEDROCK_BACKEND, "vertex": VERTEX_BACKEND}


@pytest.mark.parametrize(
    ("record", "module", "package", "extra"),
    [
        (ANTHROPIC_BACKEND, "anthropic", "anthropic", "anthropic"),
        (BEDROCK_BACKEND, "boto3", "boto3", "aws"),
        (VERTEX_BACKEND, "google.genai", "google-genai", "gcp"),
    ],
    ids=list(RECORDS),
)
def test_a_missing_sdk_names_the_extra(
    record: LlmBackendSpec, module: str, package: str, extra: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(KitaruUsageError) as raised:
        record.call(_request("some-model"))
    assert str(raised.value) == (
        f"The '{record.name}' LLM backend requires the {package} package. "
        f"Install with: pip install kitaru[{extra}]"
    )


@pytest.mark.parametrize("record", list(RECORDS.values()), ids=list(RECORDS))
def test_a_late_system_message_is_rejected_before_sending(
    record: LlmBackendSpec, serve: Callable[[Responder], RecordingServer],
) -> None:
    server = serve(anthropic_responder())
    late = ({"role": "user", "content": "Hi"}, {"role": "system", "content": "Be terse."})

    with pytest.raises(KitaruUsageError, match="system message follows a user message"):
        record.call(_request("some-model", late))
    assert server.requests == []


def test_split_system_keeps_the_conversation_order() -> None:
    assert split_system(CONVERSATION, provider="X") == (JOINED_SYSTEM, list(CONVERSATION[2:]))
    assert split_system(ONLY_USER, provider="X") == (None, list(ONLY_USER))


class _Backends:
    """A plugin yielding the three records, so a manager stamps them."""

    @kitaru.hookimpl
    def kitaru_llm_backends(self) -> Iterator[LlmBackendSpec]:
        yield from RECORDS.values()


_STAMPED = plugin_manager_with(_Backends(), name="cloud-llms").llm_backends()


class TestCloudBackendRecords(LlmBackendContract):
    """The contract every installed backend must pass, run on these three now."""

    @pytest.fixture(params=sorted(_STAMPED))
    def llm_backend(self, request: pytest.FixtureRequest) -> LlmBackendSpec:
        return _STAMPED[request.param]


def test_records_declare_prefix_credentials_and_extra() -> None:
    declared = {name: (r.prefixes, r.credential_env, r.extra) for name, r in RECORDS.items()}
    assert declared == {
        "anthropic": (("anthropic/",), ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"), "anthropic"),
        "bedrock": (
            ("bedrock/",),
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
            "aws",
        ),
        "vertex": (("vertex/",), ("GOOGLE_APPLICATION_CREDENTIALS",), "gcp"),
    }


def test_price_tables_are_dated_and_plausible() -> None:
    for record in RECORDS.values():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record.prices_as_of)
        assert record.prices
        for model, price in record.prices.items():
            assert 0 < price.input_per_million <= price.output_per_million <= 200, model
    haiku = ANTHROPIC_BACKEND.prices["claude-3-5-haiku-20241022"]
    assert (haiku.input_per_million, haiku.output_per_million) == (0.8, 4.0)
    # Aliases and the dated snapshot the API answers with cost the same.
    assert ANTHROPIC_BACKEND.prices["claude-haiku-4-5"] == ANTHROPIC_BACKEND.prices[
        "claude-haiku-4-5-20251001"
    ]
    nova = BEDROCK_BACKEND.prices["amazon.nova-lite-v1:0"]
    assert (nova.input_per_million, nova.output_per_million) == (0.06, 0.24)
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in BEDROCK_BACKEND.prices
    assert "meta.llama3-3-70b-instruct-v1:0" in BEDROCK_BACKEND.prices
    for model in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash"):
        assert model in VERTEX_BACKEND.prices


def test_importing_the_backends_does_not_import_the_sdks() -> None:
    code = (
        "import sys, kitaru.llm_backends.anthropic_backend, kitaru_aws.llm, kitaru_gcp.llm\n"
        "loaded = {'anthropic', 'boto3', 'botocore', 'google.genai'} & set(sys.modules)\n"
        "assert not loaded, f'imported at module level: {loaded}'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

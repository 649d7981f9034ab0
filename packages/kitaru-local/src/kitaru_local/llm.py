"""The ``ollama`` LLM backend: local models through Ollama's OpenAI-compatible API.

``kitaru.llm("ollama/llama3.2", ...)`` sends ``POST <host>/v1/chat/completions``
with the official ``openai`` SDK, where ``<host>`` comes from ``OLLAMA_HOST``
read the way Ollama's own clients read it:

* unset or blank: ``http://localhost:11434``;
* ``host``, ``host:port`` or ``:port`` (no scheme): ``http://``, port 11434
  unless given, host ``localhost`` unless given;
* ``http(s)://host[:port][/path]``: used as written (a reverse proxy path
  is kept).

Ollama needs no key, but the SDK insists on one, so a placeholder is sent;
``OLLAMA_API_KEY`` replaces it for an Ollama behind an authenticating proxy or
Ollama's cloud. Base URL and key are passed explicitly, so ``OPENAI_API_KEY``
and ``OPENAI_BASE_URL`` meant for OpenAI are never used. The output limit is
sent as ``max_tokens``, the parameter Ollama's compatibility layer documents.

Local models cost nothing per token, but model names are free-form
(``llama3.2:3b``, ``hf.co/org/model``), so no price table can list them: the
backend's ``default_price`` is $0 for every model. A model served from
Ollama's paid cloud can be priced in ``kitaru.yaml`` (``llm_prices:
ollama/NAME: {input_per_million: ..., output_per_million: ...}``).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from kitaru.errors import KitaruUsageError
from kitaru.llm_backends.openai_compatible import complete, import_openai
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, ModelPrice

OLLAMA_HOST_ENV = "OLLAMA_HOST"
"""Where the Ollama server listens (``http://localhost:11434``, ``gpu-box:11434``)."""

OLLAMA_API_KEY_ENV = "OLLAMA_API_KEY"
"""Optional bearer token for an Ollama behind an authenticating proxy."""

OLLAMA_DEFAULT_PORT = 11434
"""The port ``ollama serve`` listens on."""

OLLAMA_PLACEHOLDER_KEY = "ollama"
"""Sent as the key when none is configured: Ollama ignores it, the SDK needs one."""


def ollama_base_url(host: str | None = None) -> str:
    """The OpenAI-compatible base URL (``.../v1``) for an ``OLLAMA_HOST`` value.

    Args:
        host: An ``OLLAMA_HOST`` value; None reads the environment.

    Returns:
        ``scheme://host:port[/path]/v1``, e.g. ``http://localhost:11434/v1``.

    Raises:
        KitaruUsageError: When the value is not a host, ``host:port`` or URL.
    """
    raw = os.environ.get(OLLAMA_HOST_ENV) if host is None else host
    value = (raw or "").strip()
    if not value:
        return f"http://localhost:{OLLAMA_DEFAULT_PORT}/v1"
    has_scheme = "://" in value
    try:
        parts = urlsplit(value if has_scheme else f"http://{value}")
        port = parts.port
    except ValueError as error:
        raise _bad_host(value) from error
    if parts.scheme not in ("http", "https") or (has_scheme and not parts.hostname):
        raise _bad_host(value)
    hostname = parts.hostname or "localhost"
    if ":" in hostname:  # an IPv6 address needs its brackets back
        hostname = f"[{hostname}]"
    if port is None and not has_scheme:
        port = OLLAMA_DEFAULT_PORT
    authority = hostname if port is None else f"{hostname}:{port}"
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path = f"{path}/v1"
    return f"{parts.scheme}://{authority}{path}"


def _bad_host(value: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"{OLLAMA_HOST_ENV}={value!r} is not an Ollama address. Use host:port "
        f"(localhost:{OLLAMA_DEFAULT_PORT}) or a URL (http://gpu-box:{OLLAMA_DEFAULT_PORT})."
    )


def call_ollama(request: LlmRequest) -> LlmResult:
    """Send ``request`` to the Ollama server at ``OLLAMA_HOST``.

    Args:
        request: The call; ``request.model`` is the Ollama model tag
            (``llama3.2``, ``qwen2.5:7b``).

    Returns:
        The answer text, token usage and the model Ollama says answered.

    Raises:
        KitaruUsageError: When the ``openai`` package is not installed or
            ``OLLAMA_HOST`` is malformed.
        KitaruRuntimeError: When the answer holds no text.
        openai.OpenAIError: Provider errors as the SDK raises them
            (``APIConnectionError`` when Ollama is not running,
            ``NotFoundError`` when the model is not pulled).
    """
    openai = import_openai("ollama", "openai")
    base_url = ollama_base_url()
    api_key = os.environ.get(OLLAMA_API_KEY_ENV, "").strip() or OLLAMA_PLACEHOLDER_KEY
    with openai.OpenAI(api_key=api_key, base_url=base_url) as client:
        return complete(client, request, backend="ollama", token_limit="max_tokens")


OLLAMA_BACKEND = LlmBackendSpec(
    name="ollama",
    prefixes=("ollama/",),
    credential_env=(),
    extra="openai",
    call=call_ollama,
    # Local models cost nothing per token, whatever their (free-form) name.
    default_price=ModelPrice(input_per_million=0.0, output_per_million=0.0),
    supports_tools=True,
    native_structured_output=True,
)
"""The record ``kitaru_llm_backends`` yields for ``ollama/*`` models."""

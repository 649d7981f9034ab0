"""The ``vertex`` LLM backend: Gemini on Vertex AI through Google's Gen AI SDK.

``kitaru.llm("vertex/gemini-2.5-flash", ...)`` lands here with
``request.model == "gemini-2.5-flash"``. The call is
``google.genai.Client(vertexai=True).models.generate_content(...)``; the SDK
resolves the rest the standard Google Cloud way:

* **Credentials**: Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``
  pointing at a key or login file, ``gcloud auth application-default login``,
  or the attached service account on GCE, GKE, Cloud Run and Vertex), sent as
  ``Authorization: Bearer <token>``. With no project configured, a Vertex
  express-mode ``GOOGLE_API_KEY`` works too.
* **Project and location**: ``GOOGLE_CLOUD_PROJECT`` (else the ADC's project)
  and ``GOOGLE_CLOUD_LOCATION`` (default ``global``).
* **Endpoint**: ``GOOGLE_VERTEX_BASE_URL``, the SDK's own override for a proxy,
  a Private Service Connect endpoint or a test server. Kitaru keeps the
  standard Vertex path below it (``/v1beta1/projects/P/locations/L/publishers/
  google/models/M:generateContent``) and still sends the ADC token, because
  it hands the project and location from the environment to the client
  explicitly. (Given only through the environment, the SDK would treat a
  custom base URL as an auth-less API gateway and post to the bare URL; that
  is still what happens when ``GOOGLE_CLOUD_PROJECT`` is unset, so set it
  together with a base URL.)

``credential_env`` is ``GOOGLE_APPLICATION_CREDENTIALS``: when it is set Kitaru
leaves the environment alone, otherwise it overlays the model alias's secret
(which may carry ``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``,
``GOOGLE_CLOUD_LOCATION`` or ``GOOGLE_API_KEY``) for the call. gcloud logins
and attached service accounts need no secret.

How a Kitaru request maps onto ``generateContent``: system messages become
``systemInstruction``; user messages become ``user`` contents and assistant
messages ``model`` contents; ``temperature`` and ``max_tokens`` go into
``generationConfig`` as ``temperature`` and ``maxOutputTokens`` when given.
Usage comes from ``usageMetadata``: ``promptTokenCount`` in, and
``candidatesTokenCount`` plus ``thoughtsTokenCount`` out (Gemini 2.5 bills its
thinking tokens as output).
"""

from __future__ import annotations

import os
from typing import Any

from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.llm_backends.anthropic_backend import split_system
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, ModelPrice

PRICES_AS_OF = "2026-11-26"
"""When :data:`VERTEX_PRICES` was written.

The figures are Vertex AI's published standard (pay-as-you-go, text, prompts
up to 200K tokens) list prices as known when the table was written; the build
machine had no internet access to re-read
https://cloud.google.com/vertex-ai/generative-ai/pricing that day. Longer
prompts to the Pro models cost more; override or extend the table in
``kitaru.yaml``.
"""


def _price(input_per_million: float, output_per_million: float) -> ModelPrice:
    return ModelPrice(input_per_million=input_per_million, output_per_million=output_per_million)


_GEMINI_PRICES: dict[tuple[str, ...], ModelPrice] = {
    ("gemini-3-pro-preview",): _price(2.0, 12.0),
    ("gemini-2.5-pro",): _price(1.25, 10.0),
    ("gemini-2.5-flash",): _price(0.30, 2.50),
    ("gemini-2.5-flash-lite",): _price(0.10, 0.40),
    ("gemini-2.0-flash", "gemini-2.0-flash-001"): _price(0.15, 0.60),
    ("gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"): _price(0.075, 0.30),
}

VERTEX_PRICES: dict[str, ModelPrice] = {
    name: price for names, price in _GEMINI_PRICES.items() for name in names
}
"""US dollars per million tokens, by model name after ``vertex/``."""

_ROLES = {"user": "user", "assistant": "model"}
"""Kitaru's roles and Gemini's names for them."""


def _import_genai() -> tuple[Any, Any]:
    """``google.genai`` and its ``types`` module."""
    try:
        import google.genai as genai
        from google.genai import types
    except ImportError as error:
        raise KitaruUsageError(
            "The 'vertex' LLM backend requires the google-genai package. "
            "Install with: pip install kitaru[gcp]"
        ) from error
    return genai, types


def _client(genai: Any) -> Any:
    """A Vertex client configured from the environment (see the module docs)."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    location = os.environ.get("GOOGLE_CLOUD_LOCATION") or ("global" if project else None)
    return genai.Client(vertexai=True, project=project, location=location)


def _answer_text(response: Any) -> str:
    """The first candidate's text parts, without thought summaries."""
    candidates = response.candidates or []
    if not candidates or candidates[0].content is None:
        return ""
    parts = candidates[0].content.parts or []
    return "".join(part.text for part in parts if isinstance(part.text, str) and not part.thought)


def _why_empty(response: Any) -> str:
    """Why a response has no text, in Gemini's words (``finish_reason=MAX_TOKENS``)."""
    feedback = getattr(response, "prompt_feedback", None)
    if feedback is not None and feedback.block_reason is not None:
        reason = feedback.block_reason
        return f"the prompt was blocked: {getattr(reason, 'value', reason)}"
    candidates = response.candidates or []
    if candidates and candidates[0].finish_reason is not None:
        reason = candidates[0].finish_reason
        return f"finish_reason={getattr(reason, 'value', reason)}"
    return "no candidates"


def call_vertex(request: LlmRequest) -> LlmResult:
    """Send one request through ``google.genai`` ``models.generate_content`` on Vertex AI.

    Args:
        request: The Gemini model (after ``vertex/``), messages, temperature
            and output limit.

    Returns:
        The first candidate's text, prompt and output (answer plus thinking)
        token counts, and the ``modelVersion`` that answered.

    Raises:
        KitaruUsageError: google-genai is missing, or a system message is not
            at the start.
        KitaruRuntimeError: The answer holds no text (blocked by safety
            filters, or stopped before writing anything).
        google.genai.errors.APIError: Whatever Vertex answered with; Kitaru
            reports it as a backend error. Missing credentials surface as
            google-auth's ``DefaultCredentialsError``.
    """
    genai, types = _import_genai()

    system, conversation = split_system(request.messages, provider="Gemini")
    contents = [
        types.Content(
            role=_ROLES.get(message["role"], message["role"]),
            parts=[types.Part(text=message["content"])],
        )
        for message in conversation
    ]
    options = {
        "system_instruction": system,
        "temperature": request.temperature,
        "max_output_tokens": request.max_tokens,
    }
    chosen = {key: value for key, value in options.items() if value is not None}
    config = types.GenerateContentConfig(**chosen) if chosen else None

    with _client(genai) as client:
        response = client.models.generate_content(
            model=request.model, contents=contents, config=config
        )

    text = _answer_text(response)
    if not text:
        raise KitaruRuntimeError(
            f"Gemini model {request.model!r} returned no text ({_why_empty(response)}). "
            "Raise max_tokens or rephrase the prompt."
        )
    usage = response.usage_metadata
    tokens_input = usage.prompt_token_count if usage is not None else None
    tokens_output = None
    answered = usage is not None and usage.candidates_token_count is not None
    if usage is not None and (answered or usage.thoughts_token_count):
        tokens_output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return LlmResult(
        text=text,
        tokens_input=tokens_input,
        tokens_output=tokens_output,
        model=response.model_version or None,
    )


VERTEX_BACKEND = LlmBackendSpec(
    name="vertex",
    prefixes=("vertex/",),
    credential_env=("GOOGLE_APPLICATION_CREDENTIALS",),
    # Roles, profiles and default credentials need no secret: the SDK finds them.
    ambient_credentials=True,
    extra="gcp",
    call=call_vertex,
    prices=VERTEX_PRICES,
    prices_as_of=PRICES_AS_OF,
)
"""The ``vertex`` backend record; yield it from the GCP plugin's ``kitaru_llm_backends``."""

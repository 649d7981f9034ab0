"""The ``azure`` LLM backend: Azure OpenAI deployments through the official SDK.

``kitaru.llm("azure/my-gpt4o", ...)`` calls the *deployment* ``my-gpt4o``:
on Azure the name after the prefix is the deployment you created in your
resource, not a model name. The request is
``POST {AZURE_OPENAI_ENDPOINT}/openai/deployments/my-gpt4o/chat/completions?api-version=...``
sent with ``openai.AzureOpenAI()``, which reads its standard environment:

* ``AZURE_OPENAI_ENDPOINT``: the resource, ``https://<resource>.openai.azure.com``;
* ``AZURE_OPENAI_API_KEY`` (sent as the ``api-key`` header), or
  ``AZURE_OPENAI_AD_TOKEN`` for a Microsoft Entra ID token;
* ``OPENAI_API_VERSION``: the API version; :data:`DEFAULT_AZURE_API_VERSION`
  when unset.

The output limit is sent as ``max_completion_tokens``, which reasoning
deployments (o-series, gpt-5) require and the default API version accepts for
every model.

No prices ship: the deployment name is yours to choose, and one model costs
different amounts as a Global, Data Zone or Regional deployment. Name your
deployments' prices in ``kitaru.yaml`` (``llm_prices: azure/my-gpt4o:
{input_per_million: 2.5, output_per_million: 10}``); otherwise costs are unknown.
"""

from __future__ import annotations

import os

from kitaru.errors import KitaruUsageError
from kitaru.llm_backends.openai_compatible import complete, import_openai
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult

AZURE_OPENAI_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
"""The Azure OpenAI resource URL."""

AZURE_OPENAI_API_KEY_ENV = "AZURE_OPENAI_API_KEY"
"""The resource key, sent as the ``api-key`` header."""

AZURE_API_VERSION_ENV = "OPENAI_API_VERSION"
"""The Azure OpenAI API version the SDK sends as ``?api-version=``."""

DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"
"""The API version used when ``OPENAI_API_VERSION`` is unset.

It serves every current chat model, including the reasoning models (o3,
o4-mini, gpt-5) that older versions such as the ``2024-10-21`` GA refuse, and
it accepts ``max_completion_tokens``.
"""


def azure_api_version() -> str:
    """``$OPENAI_API_VERSION`` when set, else :data:`DEFAULT_AZURE_API_VERSION`."""
    return os.environ.get(AZURE_API_VERSION_ENV, "").strip() or DEFAULT_AZURE_API_VERSION


def call_azure(request: LlmRequest) -> LlmResult:
    """Send ``request`` to an Azure OpenAI deployment.

    Args:
        request: The call; ``request.model`` is the deployment name.

    Returns:
        The answer text, token usage and the model Azure says the
        deployment runs (``gpt-4o-2024-11-20``).

    Raises:
        KitaruUsageError: When the ``openai`` package is not installed or
            ``AZURE_OPENAI_ENDPOINT`` is not set.
        KitaruRuntimeError: When the answer holds no text (also when Azure's
            content filter withheld it).
        openai.OpenAIError: Provider errors as the SDK raises them (missing
            key, 401, ``NotFoundError`` for an unknown deployment ...).
    """
    openai = import_openai("azure", "azure")
    if not os.environ.get(AZURE_OPENAI_ENDPOINT_ENV, "").strip():
        raise KitaruUsageError(
            f"The 'azure' LLM backend needs {AZURE_OPENAI_ENDPOINT_ENV}, your Azure OpenAI "
            "resource URL (https://<resource>.openai.azure.com). Export it, or add it to the "
            "secret linked to the model alias next to "
            f"{AZURE_OPENAI_API_KEY_ENV}."
        )
    with openai.AzureOpenAI(api_version=azure_api_version()) as client:
        return complete(client, request, backend="azure", token_limit="max_completion_tokens")


AZURE_LLM_BACKEND = LlmBackendSpec(
    name="azure",
    prefixes=("azure/",),
    credential_env=(AZURE_OPENAI_API_KEY_ENV, "AZURE_OPENAI_AD_TOKEN"),
    extra="azure",
    call=call_azure,
    supports_tools=True,
    native_structured_output=True,
)
"""The record ``kitaru_llm_backends`` yields for ``azure/*`` deployments."""

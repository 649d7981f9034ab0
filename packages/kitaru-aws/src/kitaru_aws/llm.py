"""The ``bedrock`` LLM backend: models on Amazon Bedrock through the Converse API.

``kitaru.llm("bedrock/amazon.nova-lite-v1:0", ...)`` lands here with
``request.model == "amazon.nova-lite-v1:0"``: the text after ``bedrock/`` is a
Bedrock model id or inference-profile id (``us.anthropic.claude-haiku-4-5-20251001-v1:0``)
or ARN, exactly as the Bedrock console shows it.

The call is boto3's ``bedrock-runtime`` ``converse()``, on a client created
with no arguments, so boto3 resolves everything the standard AWS way:

* **Credentials** from the default chain: ``AWS_ACCESS_KEY_ID`` /
  ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, then ``AWS_PROFILE`` and
  ``~/.aws``, then a container or instance role (ECS, EKS, EC2, SageMaker).
* **Region** from ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile.
* **Endpoint** from ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` or ``AWS_ENDPOINT_URL``
  (a VPC endpoint, a gateway, a test server).

``credential_env`` names the access-key variables: when
``AWS_ACCESS_KEY_ID`` is set, Kitaru leaves the environment alone; otherwise
it overlays the model alias's secret, which may hold ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` (and ``AWS_REGION`` or
``AWS_PROFILE``) for the call. Profiles and roles need no secret at all.

How a Kitaru request maps onto Converse: system messages become
``system=[{"text": ...}]``; user and assistant messages become
``messages=[{"role", "content": [{"text": ...}]}]``; ``max_tokens`` and
``temperature`` go into ``inferenceConfig`` as ``maxTokens`` and
``temperature`` when given. Usage comes back as ``inputTokens`` /
``outputTokens``.

Tools (``kitaru.llm(tools=[...])``) map onto Converse's tool use:

* The tools go into ``toolConfig={"tools": [{"toolSpec": {"name",
  "description", "inputSchema": {"json": schema}}}]}`` (the description only
  when the function has one: Converse refuses an empty one).
* An assistant message that asked for tools becomes an assistant turn whose
  content is its text (when any) followed by one
  ``{"toolUse": {"toolUseId", "name", "input"}}`` block per call, the
  arguments parsed back into the object the model wrote.
* Tool messages become ``{"toolResult": {"toolUseId", "content": [{"text":
  result}]}}`` blocks in a ``user`` turn, consecutive ones (one round's
  results) sharing that turn. The result travels as text, the block every
  model on Bedrock accepts (``json`` blocks are model-specific).
* In the answer, ``toolUse`` blocks become
  :class:`~kitaru.plugins.records.LlmToolCall` records (``input`` dumped back
  to JSON text). Such an answer (``stopReason="tool_use"``) may hold no text,
  which is not an error.

Structured output (``response_format``) is not sent: the spec leaves
``native_structured_output`` off, so Kitaru asks for the JSON in a system
message and validates the text answer itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.llm_backends.anthropic_backend import split_system, tool_call_arguments
from kitaru.plugins.records import (
    LlmBackendSpec,
    LlmRequest,
    LlmResult,
    LlmTool,
    LlmToolCall,
    ModelPrice,
)

PRICES_AS_OF = "2026-11-26"
"""When :data:`BEDROCK_PRICES` was written.

The figures are Amazon Bedrock's published on-demand list prices in
us-east-1 as known when the table was written (the build machine had no
internet access to re-read https://aws.amazon.com/bedrock/pricing/ that day).
Other regions and some geographic inference profiles cost a little more;
override or extend the table in ``kitaru.yaml``.
"""


def _price(input_per_million: float, output_per_million: float) -> ModelPrice:
    return ModelPrice(input_per_million=input_per_million, output_per_million=output_per_million)


_MODEL_PRICES: dict[str, ModelPrice] = {
    # Anthropic Claude
    "anthropic.claude-opus-4-5-20251101-v1:0": _price(5.0, 25.0),
    "anthropic.claude-opus-4-1-20250805-v1:0": _price(15.0, 75.0),
    "anthropic.claude-opus-4-20250514-v1:0": _price(15.0, 75.0),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": _price(3.0, 15.0),
    "anthropic.claude-sonnet-4-20250514-v1:0": _price(3.0, 15.0),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": _price(3.0, 15.0),
    "anthropic.claude-haiku-4-5-20251001-v1:0": _price(1.0, 5.0),
    "anthropic.claude-3-5-haiku-20241022-v1:0": _price(0.8, 4.0),
    "anthropic.claude-3-haiku-20240307-v1:0": _price(0.25, 1.25),
    # Amazon Nova
    "amazon.nova-premier-v1:0": _price(2.5, 12.5),
    "amazon.nova-pro-v1:0": _price(0.8, 3.2),
    "amazon.nova-lite-v1:0": _price(0.06, 0.24),
    "amazon.nova-micro-v1:0": _price(0.035, 0.14),
    # Meta Llama
    "meta.llama4-maverick-17b-instruct-v1:0": _price(0.24, 0.97),
    "meta.llama4-scout-17b-instruct-v1:0": _price(0.17, 0.66),
    "meta.llama3-3-70b-instruct-v1:0": _price(0.72, 0.72),
    "meta.llama3-1-70b-instruct-v1:0": _price(0.72, 0.72),
    "meta.llama3-1-8b-instruct-v1:0": _price(0.22, 0.22),
    "meta.llama3-2-3b-instruct-v1:0": _price(0.15, 0.15),
    "meta.llama3-2-1b-instruct-v1:0": _price(0.1, 0.1),
}

_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")
"""Cross-region inference profiles: newer models are only callable through one
(``us.anthropic.claude-sonnet-4-5-20250929-v1:0``). Listed at the base price."""

BEDROCK_PRICES: dict[str, ModelPrice] = {
    **_MODEL_PRICES,
    **{
        prefix + model: price
        for model, price in _MODEL_PRICES.items()
        for prefix in _PROFILE_PREFIXES
    },
}
"""US dollars per million tokens, by model or inference-profile id after ``bedrock/``."""


def _import_boto3() -> Any:
    try:
        import boto3
        import boto3.session
    except ImportError as error:
        raise KitaruUsageError(
            "The 'bedrock' LLM backend requires the boto3 package. "
            "Install with: pip install kitaru[aws]"
        ) from error
    return boto3


def _bedrock_client(boto3: Any) -> Any:
    """A ``bedrock-runtime`` client configured from the environment as it is now.

    A fresh session per call, not boto3's process-wide default session: that
    one caches the first credentials it finds, and Kitaru may overlay a model
    alias's secret on the environment for just this call.

    botocore itself reads only ``AWS_DEFAULT_REGION`` (and the profile), while
    Lambda, ECS and the other AWS SDKs use ``AWS_REGION``, which the AWS CLI
    documents as taking precedence. Kitaru passes ``AWS_REGION`` on when it is
    set, so both work the way AWS users expect.
    """
    from botocore.exceptions import NoRegionError

    session = boto3.session.Session()
    try:
        return session.client("bedrock-runtime", region_name=os.environ.get("AWS_REGION") or None)
    except NoRegionError as error:
        raise KitaruUsageError(
            "The 'bedrock' LLM backend needs an AWS region: set AWS_REGION (for example "
            "AWS_REGION=us-east-1), or use an AWS profile that has one."
        ) from error


def converse_tool_config(tools: Sequence[LlmTool]) -> dict[str, Any]:
    """Converse's ``toolConfig``: one ``toolSpec`` per tool, its schema under ``inputSchema.json``.

    The description is left out when the function has none: Converse
    rejects an empty one.
    """
    specs = []
    for tool in tools:
        spec: dict[str, Any] = {"name": tool.name}
        if tool.description:
            spec["description"] = tool.description
        spec["inputSchema"] = {"json": dict(tool.parameters)}
        specs.append({"toolSpec": spec})
    return {"tools": specs}


def converse_messages(conversation: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Kitaru's user, assistant and tool messages as Converse turns.

    Every turn's content is a list of blocks: ``text`` for plain messages;
    text (if any) then ``toolUse`` blocks for an assistant message with
    ``tool_calls``; a ``toolResult`` block per tool message, consecutive ones
    sharing one ``user`` turn (Converse wants a round's results together,
    right after the turn that asked for them).

    Args:
        conversation: The messages after :func:`split_system`.

    Returns:
        The ``messages`` argument of ``converse()``.

    Raises:
        KitaruUsageError: A tool call's arguments are not a JSON object.
    """
    turns: list[dict[str, Any]] = []
    previous_role = None
    for message in conversation:
        role = message["role"]
        if role == "tool":
            block = {
                "toolResult": {
                    "toolUseId": message["tool_call_id"],
                    "content": [{"text": message["content"]}],
                }
            }
            if previous_role == "tool":
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
        elif role == "assistant" and message.get("tool_calls"):
            turns.append({"role": "assistant", "content": _assistant_blocks(message)})
        else:
            turns.append({"role": role, "content": [{"text": message["content"]}]})
        previous_role = role
    return turns


def _assistant_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An assistant turn that asked for tools: its text (if any), then a ``toolUse`` per call."""
    blocks: list[dict[str, Any]] = []
    if message.get("content"):  # Converse refuses blank text blocks
        blocks.append({"text": message["content"]})
    for call in message["tool_calls"]:
        arguments = tool_call_arguments(call, provider="Bedrock's Converse API")
        blocks.append({"toolUse": {"toolUseId": call["id"], "name": call["name"], "input": arguments}})
    return blocks


def _answer_content(response: dict[str, Any]) -> list[dict[str, Any]]:
    return response.get("output", {}).get("message", {}).get("content") or []


def _answer_text(response: dict[str, Any]) -> str:
    content = _answer_content(response)
    return "".join(block["text"] for block in content if isinstance(block.get("text"), str))


def _answer_tool_calls(response: dict[str, Any]) -> tuple[LlmToolCall, ...]:
    """The ``toolUse`` blocks of an answer, with their input (parsed by boto3) as JSON text."""
    return tuple(
        LlmToolCall(
            id=block["toolUse"]["toolUseId"],
            name=block["toolUse"]["name"],
            arguments=json.dumps(block["toolUse"].get("input", {})),
        )
        for block in _answer_content(response)
        if isinstance(block.get("toolUse"), dict)
    )


def call_bedrock(request: LlmRequest) -> LlmResult:
    """Send one request through boto3's ``bedrock-runtime`` ``converse()``.

    Args:
        request: The model id (after ``bedrock/``), messages, temperature,
            output limit and tools.

    Returns:
        The answer's text blocks joined together, its ``toolUse`` blocks as
        tool calls, ``inputTokens`` and ``outputTokens`` from ``usage``, and
        the model that answered: the one a prompt router picked when the
        trace names it, else the requested id (Converse does not echo it).

    Raises:
        KitaruUsageError: boto3 is missing, no region is configured, a
            system message is not at the start, or a tool call's arguments in
            the conversation are not a JSON object.
        KitaruRuntimeError: The answer holds neither text nor tool calls.
        botocore.exceptions.ClientError: Whatever Bedrock answered with
            (``AccessDeniedException``, ``ValidationException`` ...); Kitaru
            reports it as a backend error.
    """
    boto3 = _import_boto3()
    system, conversation = split_system(request.messages, provider="Bedrock's Converse API")
    arguments: dict[str, Any] = {
        "modelId": request.model,
        "messages": converse_messages(conversation),
    }
    if system is not None:
        arguments["system"] = [{"text": system}]
    if request.tools:
        arguments["toolConfig"] = converse_tool_config(request.tools)
    inference_config: dict[str, Any] = {}
    if request.max_tokens is not None:
        inference_config["maxTokens"] = request.max_tokens
    if request.temperature is not None:
        inference_config["temperature"] = request.temperature
    if inference_config:
        arguments["inferenceConfig"] = inference_config

    response = _bedrock_client(boto3).converse(**arguments)

    text = _answer_text(response)
    tool_calls = _answer_tool_calls(response)
    if not text and not tool_calls:
        raise KitaruRuntimeError(
            f"Bedrock model {request.model!r} returned no text "
            f"(stopReason={response.get('stopReason')!r}). Raise max_tokens or rephrase the prompt."
        )
    usage = response.get("usage") or {}
    router = (response.get("trace") or {}).get("promptRouter") or {}
    return LlmResult(
        text=text,
        tokens_input=usage.get("inputTokens"),
        tokens_output=usage.get("outputTokens"),
        model=router.get("invokedModelId") or request.model,
        tool_calls=tool_calls,
    )


BEDROCK_BACKEND = LlmBackendSpec(
    name="bedrock",
    prefixes=("bedrock/",),
    credential_env=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
    # Roles, profiles and default credentials need no secret: the SDK finds them.
    ambient_credentials=True,
    extra="aws",
    call=call_bedrock,
    prices=BEDROCK_PRICES,
    prices_as_of=PRICES_AS_OF,
    supports_tools=True,
)
"""The ``bedrock`` backend record; yield it from the AWS plugin's ``kitaru_llm_backends``."""

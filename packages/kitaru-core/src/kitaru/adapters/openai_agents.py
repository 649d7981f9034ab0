"""Durable OpenAI Agents SDK runs: ``KitaruRunner`` (``pip install 'kitaru[openai-agents]'``).

::

    from agents import Agent, function_tool
    from kitaru.adapters.openai_agents import KitaruRunner

    researcher = Agent(name="researcher", model="gpt-4o-mini", tools=[function_tool(search_web)])

    @kitaru.flow
    def research(topic: str) -> str:
        return KitaruRunner.run_sync(researcher, f"Research {topic}").final_output

``KitaruRunner.run_sync`` and ``await KitaruRunner.run`` take what the SDK's
``Runner.run_sync`` and ``Runner.run`` take and return the same ``RunResult``.
Inside a flow, every model request an agent makes is an ``llm_call``
checkpoint (``researcher_request``, ``researcher_request_2`` ...) and every
function tool call a ``tool_call`` checkpoint (``researcher_search_web``
...), named after the agent that makes it (an agent reached through a
handoff has its own names): a retry after a failure or a crash asks the model
nothing and runs no tool it already answered or ran
(:mod:`kitaru.adapters.journal`). Tokens are recorded like
``kitaru.llm()``'s, priced when Kitaru's backend for the provider has the
model in its table.

How, through the SDK's public interface only: the run gets copies of the
agents (``Agent.clone``), the starting agent and every agent reachable
through its handoffs, whose ``model`` is a :class:`JournaledModel` (the
agent's own ``Model``, or the one the run's ``model_provider`` gives for its
model name, resolved when first asked) and whose ``FunctionTool`` s invoke
through the journal. The agents you pass are not changed.

What is journaled and what is not:

* Model requests (``Model.get_response``), hosted tools included (web or
  file search run on the provider's side; their results are part of the
  response).
* Function tools (``@function_tool``, ``FunctionTool``, ``Agent.as_tool``: a
  nested agent run is one tool call).
* Not journaled, so run again on a retry: tools from MCP servers (the SDK
  lists and calls them inside the agent, with no public place to wrap the
  call), local computer, shell, apply-patch and custom tools, handoff
  callbacks (``on_handoff``), guardrails and lifecycle hooks. Keep them
  idempotent or call them from a function tool.
* Streaming is not journaled: inside a flow ``KitaruRunner.run_streamed``
  raises; use ``run``.
* With ``RunConfig(model=...)``, which overrides every agent's model, all
  requests of the run are named after the starting agent.

Tracing is the SDK's own, unchanged: by default the SDK exports traces to
OpenAI; turn it off with ``RunConfig(tracing_disabled=True)``,
``agents.set_tracing_disabled(True)`` or ``OPENAI_AGENTS_DISABLE_TRACING=1``.
A request answered from the journal has no generation span.

Outside a flow (and outside a checkpoint) ``KitaruRunner`` is ``Runner``:
nothing is journaled. Inside a ``@checkpoint`` the agent runs inline and that
checkpoint is the journaled unit, with the requests' usage recorded on it.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from kitaru.adapters.journal import AgentJournal, ModelOutcome, fingerprint
from kitaru.errors import KitaruUsageError
from kitaru.execution.loop_calls import running_loop
from kitaru.execution.scope import current_checkpoint, current_flow

try:
    from agents import (
        Agent,
        FunctionTool,
        Handoff,
        Model,
        ModelProvider,
        ModelResponse,
        OpenAIChatCompletionsModel,
        OpenAIResponsesModel,
        RunConfig,
        Runner,
        RunResult,
    )
    from agents.models import get_default_model
except ImportError as error:  # the adapter is imported on purpose: say which extra it needs
    raise KitaruUsageError(
        "kitaru.adapters.openai_agents needs the OpenAI Agents SDK. Install with: pip install 'kitaru[openai-agents]'"
    ) from error

RESPONSES: TypeAdapter[ModelResponse] = TypeAdapter(ModelResponse)
"""Turns a ``ModelResponse`` into JSON and back, exactly (fields the provider left unset stay unset)."""

OPENAI_MODELS = (OpenAIChatCompletionsModel, OpenAIResponsesModel)
"""The SDK's models that talk to OpenAI's API (provider ``openai`` in Kitaru's backends)."""

NON_WORD = re.compile(r"\W+")


def word(text: str, default: str) -> str:
    """``text`` made a word (runs of other characters become ``_``), for checkpoint names."""
    return NON_WORD.sub("_", text).strip("_") or default


def usage_names(model: Model, label: str) -> tuple[str | None, str]:
    """The provider and model a request is recorded (and priced) under.

    The SDK's OpenAI models are ``openai``; another model whose ``model``
    attribute reads ``provider/name`` (LiteLLM's) is that provider;
    otherwise the provider is unknown and the model is ``label``.
    """
    name = getattr(model, "model", None)
    if isinstance(model, OPENAI_MODELS) and isinstance(name, str):
        return "openai", name
    if isinstance(name, str) and "/" in name:
        provider, _, rest = name.partition("/")
        return provider, rest
    return None, name if isinstance(name, str) else label


def model_label(model: Model) -> str:
    """How a ``Model`` instance is named in a request's identity: ``openai/gpt-4o-mini``, else its name (or class)."""
    provider, name = usage_names(model, type(model).__name__)
    return f"{provider}/{name}" if provider else name


class JournaledModel(Model):
    """An agent's model whose every request goes through the agent's journal.

    Args:
        resolve: Gives the model to send requests to; called once, at the
            first request that is not answered from the journal (so a run
            answered from the journal creates no client).
        label: The model's name in the requests' identity (``gpt-4o-mini``).
        journal: The agent's journal.
    """

    def __init__(self, resolve: Callable[[], Model], label: str, journal: AgentJournal) -> None:
        self._resolve = resolve
        self._model: Model | None = None
        self.label = label
        self.journal = journal

    @classmethod
    def around(cls, model: Model, journal: AgentJournal) -> JournaledModel:
        """Journal requests to ``model`` (a model already journaled is unwrapped first)."""
        inner = model.wrapped if isinstance(model, JournaledModel) else model
        return cls(lambda: inner, model_label(inner), journal)

    @property
    def wrapped(self) -> Model:
        """The model the requests go to."""
        if self._model is None:
            self._model = self._resolve()
        return self._model

    async def get_response(
        self,
        system_instructions: str | None,
        input: Any,
        model_settings: Any,
        tools: Any,
        output_schema: Any,
        handoffs: Any,
        tracing: Any,
        **options: Any,
    ) -> ModelResponse:
        """Send the request (or take its answer from the journal).

        The request's identity is the model and a fingerprint of the
        instructions and input items; the response is journaled as JSON and
        rebuilt into the ``ModelResponse`` the SDK expects.
        """
        prompt = {"instructions": system_instructions, "input": to_jsonable_python(input, fallback=str)}

        async def send() -> ModelOutcome:
            model = self.wrapped
            response = await model.get_response(
                system_instructions, input, model_settings, tools, output_schema, handoffs, tracing, **options
            )
            provider, name = usage_names(model, self.label)
            counted = bool(response.usage.input_tokens or response.usage.output_tokens)
            return ModelOutcome(
                response=RESPONSES.dump_python(response, mode="json", by_alias=True, exclude_unset=True),
                prompt=prompt,
                usage={
                    "provider": provider,
                    "model": name,
                    "reported_model": None,  # a ModelResponse does not say which snapshot answered
                    "tokens_input": response.usage.input_tokens if counted else None,
                    "tokens_output": response.usage.output_tokens if counted else None,
                },
            )

        identity = {"model": self.label, "conversation": fingerprint(prompt)}
        answer = await self.journal.model_request(identity, send)
        return RESPONSES.validate_python(answer)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Not journaled: refused (``KitaruRunner.run_streamed`` refuses a streamed run in a flow before it gets here).

        Raises:
            KitaruUsageError: Always.
        """
        raise KitaruUsageError(STREAMING_REFUSED)
        yield  # an async generator, as the interface wants

    def get_retry_advice(self, request: Any) -> Any:
        return self.wrapped.get_retry_advice(request)

    async def close(self) -> None:
        if self._model is not None:
            await self._model.close()


STREAMING_REFUSED = (
    "Streamed agent runs are not journaled by Kitaru; inside a flow use `await KitaruRunner.run(...)` "
    "(or `KitaruRunner.run_sync`), which journal every model request and tool call."
)


class JournaledProvider(ModelProvider):
    """The run's model provider, its models journaled: for ``RunConfig(model="name")`` only.

    Args:
        wrapped: The provider the run was given (or the SDK's default).
        journal: The journal every request of the run goes to (the starting agent's).
    """

    def __init__(self, wrapped: ModelProvider, journal: AgentJournal) -> None:
        self.wrapped = wrapped
        self.journal = journal

    def get_model(self, model_name: str | None) -> Model:
        return JournaledModel(
            lambda: self.wrapped.get_model(model_name), model_name or get_default_model(), self.journal
        )

    async def aclose(self) -> None:
        await self.wrapped.aclose()


class JournaledInvoke:
    """A function tool's ``on_invoke_tool`` that goes through the agent's journal.

    The SDK picks the context it hands a tool from the annotation of
    ``on_invoke_tool``'s first parameter, so this wrapper shows the wrapped
    invoker's signature. The arguments arrive as JSON text and are journaled
    parsed (the text itself when it is not JSON).

    Args:
        original: The tool's own ``on_invoke_tool``.
        tool: The tool's name.
        journal: The journal of the agent the tool belongs to.
    """

    def __init__(self, original: Callable[..., Any], tool: str, journal: AgentJournal) -> None:
        self.original = original
        self.tool = tool
        self.journal = journal
        try:
            self.__signature__ = inspect.signature(original)
        except (TypeError, ValueError):  # no signature to show: the SDK hands the full ToolContext
            pass

    async def __call__(self, context: Any, arguments: str) -> Any:
        try:
            parsed: Any = json.loads(arguments) if arguments else {}
        except json.JSONDecodeError:
            parsed = arguments

        async def run() -> Any:
            return await self.original(context, arguments)

        return await self.journal.tool_call(self.tool, parsed, run)


class JournaledRun:
    """The journaled copies of the agents of one run, and the run config that goes with them.

    Args:
        run_config: The run's ``RunConfig`` (or a dict of its fields, or None).
    """

    def __init__(self, run_config: RunConfig | dict[str, Any] | None) -> None:
        self.owns_provider = run_config is None or (isinstance(run_config, dict) and "model_provider" not in run_config)
        given = RunConfig(**run_config) if isinstance(run_config, dict) else run_config
        self.config = given if given is not None else RunConfig()
        self.journals: dict[str, AgentJournal] = {}
        self.copies: dict[int, Agent[Any]] = {}

    def prepare(self, starting_agent: Agent[Any]) -> Agent[Any]:
        """Journal the run: returns the starting agent's copy; :attr:`config` is the run config to pass."""
        journal = self.journal_of(starting_agent)
        if isinstance(self.config.model, Model):
            self.config = replace(self.config, model=JournaledModel.around(self.config.model, journal))
        elif isinstance(self.config.model, str):
            self.config = replace(self.config, model_provider=JournaledProvider(self.config.model_provider, journal))
        return self.agent(starting_agent)

    def journal_of(self, agent: Agent[Any]) -> AgentJournal:
        name = word(str(agent.name or ""), "agent")
        journal = self.journals.get(name)
        if journal is None:
            journal = self.journals[name] = AgentJournal(name)
        return journal

    def agent(self, agent: Agent[Any]) -> Agent[Any]:
        """The journaled copy of ``agent`` (one per agent: handoff cycles end at the copy already made)."""
        made = self.copies.get(id(agent))
        if made is not None:
            return made
        journal = self.journal_of(agent)
        made = agent.clone(
            model=self.model_of(agent, journal), tools=[self.tool(tool, journal) for tool in agent.tools]
        )
        # The original's settings, as the SDK derived them from its model name: a clone with a Model
        # instance would otherwise fall back to the settings of an unnamed model.
        made.model_settings = agent.model_settings
        self.copies[id(agent)] = made
        made.handoffs = [self.handoff(target) for target in agent.handoffs]
        return made

    def model_of(self, agent: Agent[Any], journal: AgentJournal) -> Any:
        """The agent's model, journaled; a run-wide ``RunConfig.model`` wins over it, as in the SDK."""
        if self.config.model is not None:
            return agent.model
        if isinstance(agent.model, Model):
            return JournaledModel.around(agent.model, journal)
        name, provider = agent.model, self.config.model_provider
        return JournaledModel(lambda: provider.get_model(name), name or get_default_model(), journal)

    def tool(self, tool: Any, journal: AgentJournal) -> Any:
        """A ``FunctionTool`` whose invocations are journaled; any other tool as it is."""
        if not isinstance(tool, FunctionTool):
            return tool
        journaled = copy.copy(tool)
        invoke = journaled.on_invoke_tool
        original = invoke.original if isinstance(invoke, JournaledInvoke) else invoke
        journaled.on_invoke_tool = JournaledInvoke(original, word(tool.name, "tool"), journal)
        return journaled

    def handoff(self, target: Any) -> Any:
        """A handoff to the journaled copy of its agent."""
        if isinstance(target, Agent):
            return self.agent(target)
        if not isinstance(target, Handoff):
            return target
        journaled = copy.copy(target)  # keeps the SDK's reference to the target agent
        invoke = target.on_invoke_handoff

        async def hand_off(context: Any, arguments: str) -> Any:
            chosen = await invoke(context, arguments)
            return self.agent(chosen) if isinstance(chosen, Agent) else chosen

        journaled.on_invoke_handoff = hand_off
        return journaled

    async def close(self) -> None:
        """Release the provider Kitaru created for the run (the SDK's ``Runner`` does so for the one it creates)."""
        if self.owns_provider:
            await self.config.model_provider.aclose()

    def close_sync(self) -> None:
        if self.owns_provider and running_loop() is None:
            asyncio.run(self.close())


def in_kitaru() -> bool:
    """Whether a run here is journaled: inside a flow or a checkpoint."""
    return current_flow() is not None or current_checkpoint() is not None


class KitaruRunner:
    """The SDK's ``Runner``, journaled by Kitaru inside a flow (see the module docstring).

    ``run`` and ``run_sync`` take the arguments of ``Runner.run`` and
    ``Runner.run_sync`` (``context``, ``max_turns``, ``hooks``,
    ``run_config``, ``session`` ...) and return their ``RunResult``.
    """

    @classmethod
    async def run(cls, starting_agent: Agent[Any], input: Any, **options: Any) -> RunResult:
        """Run the agent as ``Runner.run`` does, journaled when inside a flow."""
        if not in_kitaru():
            return await Runner.run(starting_agent, input, **options)
        run = JournaledRun(options.pop("run_config", None))
        agent = run.prepare(starting_agent)
        try:
            return await Runner.run(agent, input, run_config=run.config, **options)
        finally:
            await run.close()

    @classmethod
    def run_sync(cls, starting_agent: Agent[Any], input: Any, **options: Any) -> RunResult:
        """Run the agent as ``Runner.run_sync`` does (from synchronous code), journaled when inside a flow."""
        if not in_kitaru():
            return Runner.run_sync(starting_agent, input, **options)
        run = JournaledRun(options.pop("run_config", None))
        agent = run.prepare(starting_agent)
        try:
            return Runner.run_sync(agent, input, run_config=run.config, **options)
        finally:
            run.close_sync()

    @classmethod
    def run_streamed(cls, starting_agent: Agent[Any], input: Any, **options: Any) -> Any:
        """``Runner.run_streamed`` outside a flow; refused inside one, where streamed runs are not journaled.

        Raises:
            KitaruUsageError: Inside a flow or a checkpoint.
        """
        if in_kitaru():
            raise KitaruUsageError(STREAMING_REFUSED)
        return Runner.run_streamed(starting_agent, input, **options)

"""Durable Pydantic AI agents: ``KitaruAgent(agent)`` (``pip install 'kitaru[pydantic-ai]'``).

::

    from pydantic_ai import Agent
    from kitaru.adapters.pydantic_ai import KitaruAgent

    researcher = KitaruAgent(Agent("openai:gpt-4o-mini", tools=[search_web], name="researcher"))

    @kitaru.flow
    def research(topic: str) -> str:
        return researcher.run_sync(f"Research {topic}").output

Inside a flow, every model request the agent makes is an ``llm_call``
checkpoint (``researcher_request``, ``researcher_request_2`` ...) and every
tool call a ``tool_call`` checkpoint (``researcher_search_web`` ...), tools
from MCP servers included: a retry after a failure or a crash asks the model
nothing and runs no tool it already answered or ran
(:mod:`kitaru.adapters.journal`). Tokens are recorded like ``kitaru.llm()``'s,
priced when the provider's backend has the model in its table. ``await
researcher.run(...)`` works the same in async code (an ``async def`` flow).

Outside a flow, ``run_sync`` runs the agent as a flow execution of its own
(``pydantic_ai_agent``), durable on its own.

It uses Pydantic AI's public interface only, as its own durable integrations
do: the agent runs under ``Agent.override`` with its model wrapped in a
``WrapperModel`` and each toolset in a ``WrapperToolset``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from kitaru.adapters.journal import AgentJournal, ModelOutcome, fingerprint
from kitaru.adapters.registry import find, home_of, register
from kitaru.errors import KitaruUsageError
from kitaru.execution.scope import current_checkpoint, current_flow
from kitaru.flows import flow

try:
    from pydantic_ai.agent import AbstractAgent
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models import Model, infer_model
    from pydantic_ai.models.wrapper import WrapperModel
    from pydantic_ai.toolsets import AbstractToolset
    from pydantic_ai.toolsets.wrapper import WrapperToolset
except ImportError as error:  # the adapter is imported on purpose: say which extra it needs
    raise KitaruUsageError(
        "kitaru.adapters.pydantic_ai needs Pydantic AI. Install with: pip install 'kitaru[pydantic-ai]'"
    ) from error

_NON_WORD = re.compile(r"\W+")


class JournaledModel(WrapperModel):
    """An agent's model whose every request goes through the agent's journal."""

    def __init__(self, model: Model, journal: AgentJournal) -> None:
        super().__init__(model)
        self.journal = journal

    async def request(self, messages: Any, model_settings: Any, model_request_parameters: Any) -> Any:
        """Send the request (or take its answer from the journal)."""

        prompt = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")

        async def send() -> ModelOutcome:
            response = await self.wrapped.request(messages, model_settings, model_request_parameters)
            counted = bool(response.usage.input_tokens or response.usage.output_tokens)
            return ModelOutcome(
                response=ModelMessagesTypeAdapter.dump_python([response], mode="json")[0],
                prompt=prompt,
                usage={
                    "provider": self.wrapped.system,
                    "model": self.wrapped.model_name,
                    "reported_model": response.model_name,
                    "tokens_input": response.usage.input_tokens if counted else None,
                    "tokens_output": response.usage.output_tokens if counted else None,
                },
            )

        identity = {"model": f"{self.wrapped.system}:{self.wrapped.model_name}", "conversation": fingerprint(prompt)}
        answer = await self.journal.model_request(identity, send)
        return ModelMessagesTypeAdapter.validate_python([answer])[0]


class JournaledToolset(WrapperToolset[Any]):
    """One of an agent's toolsets (function tools, MCP servers ...) whose every call goes through the journal."""

    def __init__(self, wrapped: AbstractToolset[Any], journal: AgentJournal) -> None:
        super().__init__(wrapped)
        self.journal = journal

    async def call_tool(self, name: str, tool_args: dict[str, Any], ctx: Any, tool: Any) -> Any:
        """Run the tool (or take its result from the journal)."""

        async def run() -> Any:
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)

        return await self.journal.tool_call(name, tool_args, run)

    def visit_and_replace(
        self, visitor: Callable[[AbstractToolset[Any]], AbstractToolset[Any]]
    ) -> AbstractToolset[Any]:
        return self  # already journaled: never wrapped twice


class KitaruAgent:
    """A Pydantic AI agent whose model requests and tool calls are journaled by Kitaru.

    Args:
        agent: Any Pydantic AI agent.
        name: The prefix of its checkpoint calls' names; default the agent's
            ``name``, else ``agent``.

    Everything but ``run`` and ``run_sync`` is the wrapped agent's (``.wrapped``).
    """

    def __init__(self, agent: AbstractAgent[Any, Any], *, name: str | None = None) -> None:
        self.wrapped = agent
        chosen = name or agent.name or "agent"
        self.name = _NON_WORD.sub("_", str(chosen)).strip("_") or "agent"
        self.home = home_of(str(sys._getframe(1).f_globals.get("__name__", "")))  # the module that creates it
        register(self.name, self, self.home["module"])

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.wrapped, attribute)

    def run_sync(self, user_prompt: Any = None, **options: Any) -> Any:
        """Run the agent, as ``Agent.run_sync`` does; journaled in a flow, a flow of its own outside one.

        Returns:
            The agent's ``AgentRunResult``; outside a flow, the run's output.

        Raises:
            KitaruUsageError: Outside a flow with options other than the prompt.
        """
        if current_flow() is None and current_checkpoint() is None:
            if options:
                raise KitaruUsageError(
                    "Outside a flow, KitaruAgent.run_sync takes the prompt only (it runs as its own "
                    "flow execution); call it inside a @kitaru.flow to pass other options."
                )
            return pydantic_ai_agent.run(self.name, self.home, user_prompt).wait()
        with self._journaled(options):
            return self.wrapped.run_sync(user_prompt, **options)

    async def run(self, user_prompt: Any = None, **options: Any) -> Any:
        """Run the agent, as ``Agent.run`` does, journaled when inside a flow."""
        with self._journaled(options):
            return await self.wrapped.run(user_prompt, **options)

    def _journaled(self, options: dict[str, Any]) -> Any:
        """``Agent.override`` with the model and every toolset wrapped (the run's own too, taken from ``options``).

        Raises:
            KitaruUsageError: When neither the agent nor the run has a model.
        """
        model = options.pop("model", None) or self.wrapped.model
        if model is None:
            raise KitaruUsageError(f"Agent {self.name!r} has no model; give one to the Agent or to run(model=...).")
        journal = AgentJournal(self.name)  # per run: what one run leaves never reaches another
        toolsets = [
            toolset.visit_and_replace(lambda inner: JournaledToolset(inner, journal))
            for toolset in [*self.wrapped.toolsets, *(options.pop("toolsets", None) or ())]
        ]
        return self.wrapped.override(model=JournaledModel(infer_model(model), journal), toolsets=toolsets, tools=[])


@flow
def pydantic_ai_agent(agent: str, home: dict[str, str], user_prompt: Any) -> Any:
    """The flow a ``KitaruAgent.run_sync`` outside a flow runs as: the agent's output is its result.

    Args:
        agent: The agent's name.
        home: The module that created it and its folder (imported on a retry in another process).
        user_prompt: The prompt.
    """
    found: KitaruAgent = find(agent, home)
    return found.run_sync(user_prompt).output

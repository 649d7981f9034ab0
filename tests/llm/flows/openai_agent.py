"""An OpenAI Agents SDK research agent with one tool, durable through ``KitaruRunner``.

``TOOL_AGENT_LOG`` names the file ``search_web`` appends a line to on every
run; ``TOOL_AGENT_FAIL`` names a file: while it exists, ``publish`` fails;
``RESEARCH_INSTRUCTIONS``, if set, replaces the researcher's instructions.
The model is OpenAI's Chat Completions, reached through ``OPENAI_BASE_URL``
(the client is made when the agent is, inside the flow, so it reads the
variables the test set). The SDK's trace export is off: there is nowhere to
send traces. Run as a script (``python -m tests.llm.flows.openai_agent
TOPIC``) it runs the flow once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    RunConfig,
    function_tool,
    handoff,
    set_default_openai_api,
    set_tracing_disabled,
)
from openai import AsyncOpenAI

import kitaru
from kitaru.adapters.openai_agents import KitaruRunner

set_tracing_disabled(True)
set_default_openai_api("chat_completions")  # for agents whose model is a name: the test server speaks Chat Completions


@function_tool
def search_web(query: str, limit: int = 2) -> list[str]:
    """Search the web and return the top result titles.

    Args:
        query: What to search for.
        limit: How many titles to return.
    """
    with open(os.environ["TOOL_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(query + "\n")
    return [f"{query} result {number}" for number in range(1, limit + 1)]


def researcher() -> Agent:
    """The agent, its model an OpenAI Chat Completions client made now (from the environment)."""
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=AsyncOpenAI())
    instructions = os.environ.get("RESEARCH_INSTRUCTIONS", "Research with the tool.")
    return Agent(name="researcher", instructions=instructions, model=model, tools=[search_web])


def named_researcher() -> Agent:
    """The same agent with a model name, resolved by the SDK's default provider (Chat Completions)."""
    return Agent(
        name="Named researcher", instructions="Research with the tool.", model="gpt-4o-mini", tools=[search_web]
    )


def triage_desk() -> Agent:
    """A triage agent that hands off to the researcher (a ``Handoff``), who can hand back (a cycle)."""
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=AsyncOpenAI())
    research_desk = researcher()
    desk = Agent(name="triage", instructions="Route the request.", model=model, handoffs=[handoff(research_desk)])
    research_desk.handoffs = [desk]
    return desk


@kitaru.checkpoint
def publish(text: str) -> str:
    flag = os.environ.get("TOOL_AGENT_FAIL")
    if flag and Path(flag).exists():
        raise RuntimeError("the publisher is down")
    return f"PUBLISHED: {text}"


@kitaru.flow(cache=False)
def research(topic: str) -> str:
    return publish(KitaruRunner.run_sync(researcher(), f"Research {topic}").final_output)


@kitaru.flow(cache=False)
async def research_async(topic: str) -> str:
    result = await KitaruRunner.run(named_researcher(), f"Research {topic}")
    return str(result.final_output)


@kitaru.checkpoint
def research_step(topic: str) -> str:
    return str(KitaruRunner.run_sync(researcher(), f"Research {topic}").final_output)


@kitaru.flow(cache=False)
def research_in_a_checkpoint(topic: str) -> str:
    return research_step(topic)


@kitaru.flow(cache=False)
def triage(topic: str) -> str:
    result = KitaruRunner.run_sync(triage_desk(), f"Research {topic}")
    return f"{result.last_agent.name}: {result.final_output}"


@kitaru.flow(cache=False)
def research_with_a_run_model(topic: str) -> str:
    config = RunConfig(model="gpt-4o-mini", tracing_disabled=True)
    return str(KitaruRunner.run_sync(triage_desk(), f"Research {topic}", run_config=config).final_output)


@kitaru.flow(cache=False)
def streamed(topic: str) -> str:
    KitaruRunner.run_streamed(researcher(), f"Research {topic}")
    return "streamed"


if __name__ == "__main__":
    print("RESULT", research.run(sys.argv[1]).wait(), flush=True)

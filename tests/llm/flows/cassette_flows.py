"""Flows for tests/llm/test_cassettes.py: model calls to record into a cassette and run offline.

Run in its own process: ``python -m tests.llm.flows.cassette_flows FLOW TOPIC OUT_FILE``
runs ``writer``, ``researcher`` (tests/llm/flows/tool_agent.py: a tool and a
structured answer) or ``agent`` (tests/llm/flows/pydantic_agent.py: a Pydantic AI
agent with a tool, through Kitaru's adapter) on TOPIC and writes ``{"exec_id", "result"}`` to OUT_FILE,
or ``{"exec_id", "error_type", "error"}`` when the execution fails. The model
calls go to the OpenAI-protocol server at ``OPENAI_BASE_URL``, or to the
cassette named by ``KITARU_CASSETTE``.

``writer`` makes three calls: ``style`` (the same prompt whatever the topic),
``draft`` and ``summary`` (both about the topic), around a checkpoint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import kitaru
from kitaru.errors import KitaruExecutionError

MODEL = "openai/gpt-4o-mini"


@kitaru.checkpoint
def outline(topic: str) -> list[str]:
    return [f"why {topic}", f"how {topic}"]


@kitaru.flow(cache=False)
def writer(topic: str) -> dict[str, object]:
    style = kitaru.llm("Name the house style in one word", model=MODEL, name="style")
    points = outline(topic)
    draft = kitaru.llm(f"Draft a post about {topic} covering {len(points)} points", model=MODEL, name="draft")
    summary = kitaru.llm(f"Summarise the post about {topic}", model=MODEL, name="summary")
    return {"style": style, "draft": draft, "summary": summary}


def main(flow: str, topic: str, out_file: str) -> None:
    if flow == "writer":
        handle = writer.run(topic)
    elif flow == "researcher":
        from tests.llm.flows import tool_agent

        handle = tool_agent.researcher.run(topic)
    else:  # "agent": a Pydantic AI agent through Kitaru's adapter
        # Imported by the name the engine gives it (its source root is this folder), so the agent is created once.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import pydantic_agent  # type: ignore[import-not-found]

        handle = pydantic_agent.research.run(topic)
    try:
        outcome: dict[str, object] = {"exec_id": handle.exec_id, "result": handle.wait()}
    except KitaruExecutionError as error:
        outcome = {"exec_id": handle.exec_id, "error_type": type(error).__name__, "error": str(error)}
    Path(out_file).write_text(json.dumps(outcome))


if __name__ == "__main__":
    main(*sys.argv[1:4])

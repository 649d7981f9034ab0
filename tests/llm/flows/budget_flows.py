"""Flows for tests/llm/test_budgets.py: executions that spend against a ``kitaru.Budget``.

Run as a script, in its own process, with the LLM calls going to the
OpenAI-protocol server at ``OPENAI_BASE_URL`` (25 tokens per request):

* ``python budget_flows.py runs IDS_FILE`` runs, one after another,

  - ``tokens``: ``budget_agent("tokens", 5)`` under its ``@flow`` budget of 60 tokens;
  - ``calls``: ``budget_agent("calls", 5)`` run with ``budget=Budget(llm_calls=2)``;
  - ``usd``: ``budget_agent("usd", 5)`` run with ``budget=Budget(usd=BUDGET_USD)``;
  - ``source``: ``budget_agent("replay", 5)`` with ``budget=Budget(tokens=1000)`` (completes),
    then ``replay``: its replay from ``ask_4`` (under the flow's own 60 tokens);
  - ``agent``: ``budget_agent_run("agent")``, a Pydantic AI agent (``KitaruAgent``) run
    twice under ``Budget(llm_calls=1)``;
  - ``child``: ``budget_parent()``, whose body tries ``budget_agent.run(..., budget=...)``
    (refused: a child flow has its decorator's budget) and returns the message;

  and writes ``{scenario: {"id", "error", "origin", "message"}}`` to IDS_FILE as JSON.
* ``python budget_flows.py crash`` runs ``budget_crash_agent("crash", 5)``, whose body
  kills its own process (SIGKILL) right after its second call while the file
  ``BUDGET_CRASH_FLAG`` exists (it is removed first, so a retry goes on).

Every call of ``budget_agent`` is named ``ask_<n>`` and asks ``"<tag> question <n>"``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic_ai import Agent

import kitaru
from kitaru.adapters.pydantic_ai import KitaruAgent
from kitaru.errors import KitaruExecutionError

MODEL = "openai/gpt-4o-mini"


def ask(tag: str, number: int) -> str:
    return kitaru.llm(f"{tag} question {number}", model=MODEL, name=f"ask_{number}")


@kitaru.flow(budget=kitaru.Budget(tokens=60), cache=False)
def budget_agent(tag: str, calls: int) -> list[str]:
    return [ask(tag, number) for number in range(1, calls + 1)]


@kitaru.flow(budget=kitaru.Budget(tokens=60), cache=False)
def budget_crash_agent(tag: str, calls: int) -> list[str]:
    answers = []
    for number in range(1, calls + 1):
        answers.append(ask(tag, number))
        flag = Path(os.environ["BUDGET_CRASH_FLAG"])
        if number == 2 and flag.exists():
            flag.unlink()
            os.kill(os.getpid(), signal.SIGKILL)
    return answers


writer = KitaruAgent(Agent("openai-chat:gpt-4o-mini", name="budget_writer", defer_model_check=True))


@kitaru.flow(budget=kitaru.Budget(llm_calls=1), cache=False)
def budget_agent_run(tag: str) -> list[str]:
    return [str(writer.run_sync(f"{tag} question {number}").output) for number in (1, 2)]


@kitaru.flow(cache=False)
def budget_parent() -> str:
    try:
        budget_agent.run("child", 1, budget=kitaru.Budget(tokens=5))
    except kitaru.KitaruUsageError as exc:
        return str(exc)
    return "accepted"


def outcome(handle: kitaru.FlowHandle) -> dict[str, Any]:
    """How an execution ended: its id, and the error ``wait()`` raised (class, origin, message)."""
    try:
        handle.wait()
    except KitaruExecutionError as exc:
        return {
            "id": handle.exec_id,
            "error": type(exc).__name__,
            "origin": str(exc.failure_origin),
            "message": str(exc),
        }
    return {"id": handle.exec_id, "error": None, "origin": None, "message": None}


def runs(ids_file: str) -> None:
    usd = float(os.environ["BUDGET_USD"])
    done = {
        "tokens": outcome(budget_agent.run("tokens", 5)),
        "calls": outcome(budget_agent.run("calls", 5, budget=kitaru.Budget(llm_calls=2))),
        "usd": outcome(budget_agent.run("usd", 5, budget=kitaru.Budget(usd=usd))),
        "source": outcome(budget_agent.run("replay", 5, budget=kitaru.Budget(tokens=1000))),
    }
    done["replay"] = outcome(budget_agent.replay(done["source"]["id"], from_="ask_4"))
    done["agent"] = outcome(budget_agent_run.run("agent"))
    done["child"] = {"result": budget_parent.run().wait()}
    Path(ids_file).write_text(json.dumps(done))


if __name__ == "__main__":
    if sys.argv[1] == "runs":
        runs(sys.argv[2])
    else:
        budget_crash_agent.run("crash", 5).wait()

"""Flows for tests/llm/test_diff.py: two executions of one flow that differ in every way a call can.

Run as a script, in its own process: ``python diff_flows.py IDS_FILE`` runs

* A: ``diff_agent("durable agents", style="brief")``;
* B: ``diff_agent("agent memory and replay", style="long")``, with ``flaky`` failing its
  first attempt (so it takes two), and another branch at the end;
* C: ``diff_agent("durable agents", style="brief")`` like A, but ``flaky``
  fails both its attempts, so C fails there with no result;
* ``diff_other_flow()``: an execution of another flow;

and writes their ids to IDS_FILE as JSON (``{"a", "b", "c", "other"}``). The LLM
calls go to the OpenAI-protocol server at ``OPENAI_BASE_URL``.

What differs between A and B, call by call:

======== ======================================================================
research inputs (topic, style) and output (a dict: a key only B has)
fixed    nothing (same)
draft    inputs (the prompt), output (the answer), model (gpt-4o-mini -> gpt-4o),
         tokens (the server counts the prompt's words)
flaky    attempts (1 -> 2)
summary  only in A (removed)
expand   only in B (added)
======== ======================================================================
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import kitaru
from kitaru.errors import KitaruExecutionError

SMALL, LARGE = "openai/gpt-4o-mini", "openai/gpt-4o"


@kitaru.checkpoint
def research(topic: str, style: str) -> dict:
    notes = {"topic": topic, "sources": ["journal", "docs"], "depth": len(topic.split())}
    if style == "long":
        notes["followups"] = ["memory", "replay"]
    return notes


@kitaru.checkpoint
def fixed() -> str:
    return "the same every time"


@kitaru.checkpoint(retries=1)
def flaky(label: str) -> str:
    flag = Path(os.environ["DIFF_FLAKY_FLAG"])  # holds how many more attempts fail
    if flag.exists():
        left = int(flag.read_text()) - 1
        flag.write_text(str(left)) if left else flag.unlink()
        raise RuntimeError("flaky: this attempt fails")
    return f"steady {label}"


@kitaru.flow(cache=False)
def diff_agent(topic: str, style: str = "brief") -> dict:
    research(topic, style)
    constant = fixed()
    model = SMALL if style == "brief" else LARGE
    draft = kitaru.llm(f"Draft a post about {topic} in a {style} style", model=model, name="draft")
    flaky("post")
    if style == "brief":
        tail = kitaru.llm(f"Summarise {topic}", model=SMALL, name="summary")
    else:
        tail = kitaru.llm(f"Expand the post about {topic}", model=SMALL, name="expand")
    return {"topic": topic, "draft": draft, "tail": tail, "constant": constant}


@kitaru.flow(cache=False)
def diff_other_flow() -> str:
    return fixed()


def main(ids_file: str) -> None:
    flag = Path(os.environ["DIFF_FLAKY_FLAG"])
    a = diff_agent.run("durable agents", style="brief")
    a.wait()
    flag.write_text("1")
    b = diff_agent.run("agent memory and replay", style="long")
    b.wait()
    flag.write_text("2")
    c = diff_agent.run("durable agents", style="brief")
    try:
        c.wait()
    except KitaruExecutionError:
        pass  # C fails at flaky, as it should
    other = diff_other_flow.run()
    other.wait()
    ids = {"a": a.exec_id, "b": b.exec_id, "c": c.exec_id, "other": other.exec_id}
    Path(ids_file).write_text(json.dumps(ids))


if __name__ == "__main__":
    main(sys.argv[1])

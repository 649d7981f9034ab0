"""Kitaru quickstart: a small research agent that survives crashes.

Run it with ``python3 tools/bootstrap.py quickstart`` (sets everything up) or,
once set up, ``.venv/bin/python examples/quickstart.py [topic]``.

Each ``@kitaru.checkpoint`` is a durable step: its output is persisted and
journaled, so a failed or crashed execution can continue without redoing
finished work. The "tools" here are deterministic stand-ins for web search
and an LLM, so the example runs offline.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel

import kitaru


class Finding(BaseModel):
    """What one research question turned up."""

    question: str
    answer: str


@kitaru.checkpoint(type="llm_call")
def plan(topic: str) -> list[str]:
    """Break the topic into research questions (an LLM call in a real agent)."""
    questions = [f"What is {topic}?", f"Why does {topic} matter?", f"How do teams adopt {topic}?"]
    kitaru.log(questions=len(questions))
    return questions


@kitaru.checkpoint(type="tool_call", retries=2)
def search(question: str) -> Finding:
    """Look one question up (a web-search tool call in a real agent)."""
    return Finding(question=question, answer=f"{len(question.split())} key facts about '{question}'")


@kitaru.checkpoint(type="llm_call")
def write_report(topic: str, findings: list[Finding]) -> str:
    """Turn the findings into a short report (an LLM call in a real agent)."""
    lines = [f"Report on {topic}"] + [f"- {f.question} {f.answer}" for f in findings]
    return "\n".join(lines)


@kitaru.flow
def research_agent(topic: str) -> str:
    """Plan, research each question, then write the report."""
    questions = plan(topic)
    findings = [search(question) for question in questions]
    return write_report(topic, findings)


def main() -> None:
    topic = " ".join(sys.argv[1:]) or "durable execution"
    handle = research_agent.run(topic)
    report = handle.wait()
    print()
    print(report)
    print()
    print(f"Execution id: {handle.exec_id}")


if __name__ == "__main__":
    main()

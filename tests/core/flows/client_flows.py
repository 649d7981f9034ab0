"""Real flows exercised by tests/core/test_client.py and test_cli_executions_inspect.py.

Flow names start with ``client_`` so filters in the shared session store
never pick up executions of other test modules.
"""

from __future__ import annotations

import kitaru

_failed_once: set[str] = set()


@kitaru.checkpoint(type="tool_call")
def fetch_notes(topic: str) -> str:
    kitaru.log(source="web", pages=3)
    kitaru.save("search_prompt", f"find {topic}", type="prompt")
    kitaru.save("raw_context", {"topic": topic, "hits": 2}, type="context")
    return f"notes on {topic}"


@kitaru.checkpoint(type="llm_call")
def summarize(notes: str) -> str:
    return f"Summary: {notes}"


@kitaru.checkpoint(type="review")
def review(summary: str, notes: str) -> dict:
    return {"summary": summary, "words": len(notes.split())}


@kitaru.flow(cache=False)
def client_report(topic: str) -> dict:
    kitaru.log(team="research", priority=1)
    notes = fetch_notes(topic)
    summary = summarize(notes)
    return review(summary, notes)


@kitaru.checkpoint
def prepare(value: str) -> str:
    return value.strip()


@kitaru.checkpoint
def explode(value: str) -> str:
    raise ValueError(f"cannot handle {value!r}")


@kitaru.flow(cache=False)
def client_failing(value: str) -> str:
    return explode(prepare(value))


@kitaru.checkpoint(retries=1)
def flaky_step(token: str) -> str:
    if token not in _failed_once:
        _failed_once.add(token)
        raise ConnectionError(f"transient outage for {token}")
    return token.upper()


@kitaru.flow(cache=False)
def client_retrying(token: str) -> str:
    return flaky_step(token)


@kitaru.checkpoint
def square(value: int) -> int:
    return value * value


@kitaru.flow(cache=False)
def client_numbers(value: int) -> int:
    return square(value)


@kitaru.flow(cache=False)
def client_many(count: int) -> list:
    return [square(value) for value in range(count)]


@kitaru.flow(cache=False)
def client_gate(value: int) -> int:
    return square(value)

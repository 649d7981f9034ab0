"""Real flows exercised by tests/core/test_sdk.py."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from pydantic import BaseModel

import kitaru


class Note(BaseModel):
    topic: str
    text: str


@dataclasses.dataclass
class Score:
    label: str
    value: float


def _bump(counter: str) -> int:
    """Count executions of a checkpoint body in a file (survives processes)."""
    path = Path(os.environ["KITARU_TEST_COUNTER_DIR"]) / counter
    count = int(path.read_text()) if path.exists() else 0
    path.write_text(str(count + 1))
    return count + 1


@kitaru.checkpoint
def research(topic: str) -> Note:
    _bump("research")
    kitaru.log(source="unit-test", depth=2)
    return Note(topic=topic, text=f"notes on {topic}")


@kitaru.checkpoint
def draft(note: Note) -> str:
    return f"Draft: {note.text}"


@kitaru.checkpoint
def score(text: str) -> Score:
    return Score(label=text[:5], value=float(len(text)))


@kitaru.checkpoint(retries=1)
def flaky(text: str) -> str:
    if _bump("flaky") == 1:
        raise RuntimeError("transient failure on first attempt")
    return text.upper()


@kitaru.checkpoint
def double(i: int) -> int:
    return i * 2


@kitaru.checkpoint
def save_things(payload: dict) -> int:
    kitaru.save("context_blob", payload, type="context")
    return len(payload)


@kitaru.checkpoint
def load_things(exec_id: str) -> dict:
    return kitaru.load(exec_id, "context_blob")


class Opaque:
    def __repr__(self) -> str:
        return "Opaque(42)"


@kitaru.checkpoint
def opaque() -> object:
    return Opaque()


@kitaru.flow(cache=False)
def writer(topic: str) -> str:
    note = research(topic)
    return draft(note)


@kitaru.flow(cache=False)
def retrying(topic: str) -> str:
    return flaky(draft(research(topic)))


@kitaru.flow(cache=False)
def shapes(mode: str):
    if mode == "tuple":
        text = draft(research("a"))
        return (text, len(text), None)
    if mode == "none":
        research("b")
        return None
    if mode == "computed":
        return draft(research("c")).upper() + "!"
    if mode == "parallel":
        _first = double.submit(1)  # started and never awaited: the flow still finishes it
        second = double.submit(2)
        double.submit(3).result()
        return second.result()
    if mode == "map":
        return double.map([1, 2, 3]).result()
    if mode == "product":
        return double.product([1, 2]).result()
    if mode == "dataclass":
        return score(draft(research("d")))
    raise ValueError(f"unknown mode {mode}")


@kitaru.flow(cache=False)
def failing(message: str) -> str:
    research("doomed")
    raise ValueError(message)


@kitaru.flow(cache=False)
def saver(payload: dict) -> int:
    return save_things(payload)


@kitaru.flow(cache=False)
def loader(exec_id: str) -> dict:
    return load_things(exec_id)


@kitaru.flow(cache=False)
def opaque_flow() -> str:
    value = opaque()
    return repr(value)


@kitaru.flow
def cached_writer(topic: str) -> str:
    return draft(research(topic))


@kitaru.flow(cache=False)
def logging_flow() -> str:
    kitaru.log(stage="start", tags={"a": 1})
    return draft(research("logs"))


@kitaru.checkpoint
def tag(label: str) -> str:
    return label


@kitaru.flow(cache=False)
def ordered() -> list:
    first = tag.submit("first", id="tag_first")
    second = tag("second", id="custom_second", after=first)
    return [first.result(), second]


@kitaru.flow(cache=False)
def save_in_body() -> None:
    kitaru.save("nope", 1)

"""Real ``async def`` flows and checkpoints exercised by tests/core/test_async_flows.py.

Checkpoint bodies record every execution as a file under
``KITARU_TEST_ASYNC_DIR`` (``<checkpoint>-<random>``), so a test can tell the
checkpoints a retry or replay reused from the ones it ran again. A checkpoint
fails while ``fail-<checkpoint>`` exists in that directory. Flows have the
cache off, so every ``.run()`` really runs. Flow names start with ``async_``.

:data:`LOOPS` keeps, per flow and checkpoint, the event loop and thread its
code ran on (the tests run the flows in their own process).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import kitaru

COUNTER_ENV = "KITARU_TEST_ASYNC_DIR"
MODEL = "openai/gpt-4o-mini"

LOOPS: dict[str, tuple[asyncio.AbstractEventLoop, int]] = {}
"""``name -> (the running loop, the thread id)`` as the flow body or checkpoint last saw them."""

_ARRIVED: dict[str, set[str]] = {}


def _ran(name: str) -> None:
    directory = os.environ.get(COUNTER_ENV)
    if directory:
        Path(directory, f"{name}-{uuid.uuid4().hex}").touch()


def _failing(name: str) -> bool:
    directory = os.environ.get(COUNTER_ENV)
    return bool(directory) and Path(directory, f"fail-{name}").exists()


def executions_of(directory: Path, name: str) -> int:
    """How many times checkpoint ``name`` ran with ``directory`` as counter dir."""
    return len(list(directory.glob(f"{name}-*")))


def _note_loop(name: str) -> None:
    LOOPS[name] = (asyncio.get_running_loop(), threading.get_ident())


# -- two async checkpoints in an async flow ------------------------------------------------


@kitaru.checkpoint
async def gather_notes(topic: str) -> str:
    _ran("gather_notes")
    _note_loop("gather_notes")
    await asyncio.sleep(0.05)
    return f"notes on {topic}"


@kitaru.checkpoint
async def write_summary(notes: str) -> str:
    _ran("write_summary")
    _note_loop("write_summary")
    await asyncio.sleep(0)
    if _failing("write_summary"):
        raise RuntimeError("the summary service is down")
    return f"Summary of {notes}"


@kitaru.flow(cache=False)
async def async_writer(topic: str) -> str:
    _note_loop("async_writer")
    notes = await gather_notes(topic)
    return await write_summary(notes)


# -- automatic retries and the cache ---------------------------------------------------------------


@kitaru.checkpoint(retries=1)
async def flaky_fetch(topic: str) -> str:
    """Fails its first attempt in a counter directory, then succeeds."""
    _ran("flaky_fetch")
    _note_loop(f"flaky_fetch-{executions_of(Path(os.environ[COUNTER_ENV]), 'flaky_fetch')}")
    await asyncio.sleep(0)
    if executions_of(Path(os.environ[COUNTER_ENV]), "flaky_fetch") == 1:
        raise RuntimeError("transient failure on the first attempt")
    return f"fetched {topic}"


@kitaru.flow(cache=False)
async def async_flaky(topic: str) -> str:
    _note_loop("async_flaky")
    return await flaky_fetch(topic)


@kitaru.flow
async def async_cached(topic: str) -> str:
    return await gather_notes(topic)


# -- sync and async mixed ------------------------------------------------------------------------


@kitaru.checkpoint
def shout(text: str) -> str:
    _ran("shout")
    return text.upper() + "!"


@kitaru.flow(cache=False)
async def async_with_sync_checkpoint(topic: str) -> str:
    notes = await gather_notes(topic)
    return shout(notes)


@kitaru.checkpoint
async def double(value: int) -> int:
    _ran("double")
    await asyncio.sleep(0)
    return value * 2


@kitaru.flow(cache=False)
def async_in_sync_flow(topic: str) -> dict[str, Any]:
    """A sync body: async checkpoints hand it values, called, submitted or mapped."""
    notes = gather_notes(topic)
    future = double.submit(21)
    return {
        "notes": notes,
        "summary": write_summary(notes),
        "submitted": future.result(),
        "mapped": double.map([1, 2, 3]).result(),
    }


# -- concurrency -----------------------------------------------------------------------------------


@kitaru.checkpoint
async def meet(group: str, name: str, expected: int) -> str:
    """Return only once ``expected`` calls of ``group`` are running at the same time (or fail after 30 s)."""
    _ran("meet")
    arrived = _ARRIVED.setdefault(group, set())
    arrived.add(name)
    deadline = time.monotonic() + 30
    while len(arrived) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sorted(arrived)} of {expected} calls ran together")
        await asyncio.sleep(0.01)
    return f"{name} met"


@kitaru.flow(cache=False)
async def async_gathered(group: str) -> str:
    met = await asyncio.gather(*(meet(group, name, 3) for name in ("a", "b", "c")))
    return await write_summary(", ".join(met))


# -- misuse ------------------------------------------------------------------------------------------


@kitaru.checkpoint
async def calls_another(topic: str) -> str:
    return await gather_notes(topic)


@kitaru.flow(cache=False)
async def async_nested(topic: str) -> str:
    return await calls_another(topic)


# -- kitaru.llm ------------------------------------------------------------------------------------


@kitaru.checkpoint
async def summarise_with_llm(text: str) -> str:
    await asyncio.sleep(0)
    return kitaru.llm(f"Summarise: {text}", model=MODEL, name="summary")


@kitaru.flow(cache=False)
async def async_llm(topic: str) -> str:
    notes = kitaru.llm(f"Research {topic}", model=MODEL, name="research")
    return await summarise_with_llm(notes)


@kitaru.flow(cache=False)
async def async_llm_named_like_a_checkpoint(topic: str) -> str:
    """A ``kitaru.llm()`` call takes the name ``write_summary`` first: the checkpoint becomes ``write_summary_2``."""
    notes = kitaru.llm(f"Research {topic}", model=MODEL, name="write_summary")
    return await write_summary(notes)


@kitaru.checkpoint
async def look_up(number: int) -> int:
    """Awaits work of the loop's default executor, as resolving a host name does."""
    await asyncio.to_thread(time.sleep, 0.01)
    return number * 2


@kitaru.flow(cache=False)
async def many_at_once(count: int) -> int:
    """More concurrent checkpoint calls than the loop's default executor has threads."""
    doubled = await asyncio.gather(*(look_up(number, id=f"look_up_{number}") for number in range(count)))
    return sum(doubled)

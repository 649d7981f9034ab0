"""Flows whose first checkpoint returns a value no serializer can store (tests/core/test_unstorable_outputs.py).

``make`` returns a :class:`Weird` (it holds a ``threading.Lock``); ``use``
returns the type name of what it received; ``later`` fails on its first
attempt unless the file named by :data:`MARKER_ENV` exists (it creates it),
so a retry has something to continue. The storable twin returns a pydantic
model instead.

Run as a user's script from a project directory (``python run.py <args>``,
where ``run.py`` calls :func:`main`); it prints ``EXEC <id>``, then one
``RESULT <json>`` or ``ERROR <type>: <message>`` line per outcome.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import kitaru
from kitaru import KitaruClient

MARKER_ENV = "KITARU_TEST_UNSTORABLE_MARKER"


class Weird:
    """Holds a lock: no Kitaru serializer can store it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


class Note(BaseModel):
    text: str


@kitaru.checkpoint
def make() -> object:
    return Weird()


@kitaru.checkpoint
def make_note() -> Note:
    return Note(text="storable")


@kitaru.checkpoint
def use(value: Any) -> str:
    return type(value).__name__


@kitaru.checkpoint
def later(text: str) -> str:
    marker = Path(os.environ[MARKER_ENV])
    if not marker.exists():
        marker.write_text("first attempt failed")
        raise RuntimeError("first attempt fails")
    return text + "!"


@kitaru.flow
def unstorable_flow() -> str:
    value = make()
    body_sees = type(value).__name__
    return f"body={body_sees} use={later(use(value))}"


@kitaru.flow
def storable_flow() -> str:
    value = make_note()
    body_sees = type(value).__name__
    return f"body={body_sees} use={later(use(value))}"


FLOWS = {"unstorable": unstorable_flow, "storable": storable_flow}


def _report(action: Any) -> None:
    try:
        print("RESULT " + json.dumps(action()), flush=True)
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)


def _retried(exec_id: str) -> str:
    """Retry in this process; ``<status>`` or ``<status>: <failure message>``."""
    execution = KitaruClient().executions.retry(exec_id)
    failure = f": {execution.failure.message}" if execution.failure is not None else ""
    return f"{execution.status}{failure}"


def main() -> None:
    """``<flow> [again | retry | replay:<checkpoint> | load:<checkpoint>]...``: run, then act in this process.

    Acting in the same process proves the value kept in memory for the run
    that produced it does not leak into a retry or replay run here.
    """
    flow_name, *actions = sys.argv[1:]
    flow = FLOWS[flow_name]
    handle = flow.run()
    print(f"EXEC {handle.exec_id}", flush=True)
    _report(handle.wait)
    for action in actions:
        verb, _, checkpoint = action.partition(":")
        if verb == "again":
            _report(flow.run().wait)
        elif verb == "retry":
            _report(lambda: _retried(handle.exec_id))
        elif verb == "replay":
            _report(flow.replay(handle.exec_id, from_=checkpoint).wait)
        elif verb == "load":
            [artifact] = KitaruClient().artifacts.list(handle.exec_id, producing_call=checkpoint)
            _report(lambda artifact=artifact: repr(artifact.load()))

"""Real flows exercised by tests/core/test_replay.py.

Checkpoint bodies record every execution as a file under
``KITARU_TEST_REPLAY_DIR`` (``<checkpoint>-<random>``), so tests can tell
checkpoints a replay reused from ones it ran again. Flows have the cache off,
so a second ``.run()`` really runs. Flow names start with ``replay_`` so other
test modules never pick them up.

``python -c "from tests.core.flows.replay_flows import main; main()" blocking``
runs :func:`replay_blocking` in its own process: its first checkpoint writes the
execution id to ``<release file>.exec`` and waits until the release file
(``KITARU_TEST_REPLAY_RELEASE``) exists.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import kitaru

COUNTER_ENV = "KITARU_TEST_REPLAY_DIR"
RELEASE_ENV = "KITARU_TEST_REPLAY_RELEASE"


def _ran(name: str) -> None:
    directory = os.environ.get(COUNTER_ENV)
    if directory:
        Path(directory, f"{name}-{uuid.uuid4().hex}").touch()


def executions_of(directory: Path, name: str) -> int:
    """How many times checkpoint ``name`` ran with ``directory`` as counter dir."""
    return len(list(directory.glob(f"{name}-*")))


# -- the canonical example: research -> write_draft -> publish ------------------------------


@kitaru.checkpoint
def research(topic: str) -> str:
    _ran("research")
    return f"notes for {topic}"


@kitaru.checkpoint
def write_draft(notes: str) -> str:
    _ran("write_draft")
    return f"Draft from {notes}"


@kitaru.checkpoint
def publish(draft: str) -> str:
    _ran("publish")
    return f"PUBLISHED: {draft}"


@kitaru.flow(cache=False)
def replay_writer(topic: str) -> str:
    notes = research(topic)
    draft = write_draft(notes)
    return publish(draft)


# -- the body computes with a checkpoint output --------------------------------------------


@kitaru.checkpoint
def shout(text: str) -> str:
    _ran("shout")
    return f"{text}!"


@kitaru.flow(cache=False)
def replay_derived(topic: str) -> dict:
    notes = research(topic)
    draft = write_draft(notes)
    # A plain value computed in the body from the output of `research`.
    title = shout(notes.upper())
    return {"draft": draft, "title": title, "notes_length": len(notes)}


@kitaru.flow(cache=False)
def replay_passthrough(topic: str) -> str:
    notes = research(topic)
    write_draft(notes)
    return notes  # the flow's result is a checkpoint output as is


FAIL_ENV = "KITARU_TEST_REPLAY_FAIL"


@kitaru.checkpoint
def fragile_publish(draft: str) -> str:
    _ran("fragile_publish")
    if os.environ.get(FAIL_ENV):
        raise RuntimeError("publishing is down")
    return f"PUBLISHED: {draft}"


@kitaru.flow(cache=False)
def replay_fragile(topic: str) -> str:
    return fragile_publish(write_draft(research(topic)))


# -- hidden dependency whose names sort against execution order -------------------------------


@kitaru.checkpoint
def zeta_fetch(topic: str) -> str:
    _ran("zeta_fetch")
    return f"fetched {topic}"


@kitaru.checkpoint
def alpha_use(text: str) -> str:
    _ran("alpha_use")
    return f"used {text}"


@kitaru.flow(cache=False)
def replay_hidden(topic: str) -> str:
    fetched = zeta_fetch(topic)
    return alpha_use(fetched + " (checked)")


# -- one checkpoint, several invocations ----------------------------------------------------------


@kitaru.flow(cache=False)
def replay_twice(topic: str) -> str:
    first = research(topic, id="first_pass")
    second = research(f"{first} again", id="second_pass")
    return publish(write_draft(second))


@kitaru.flow(cache=False)
def replay_repeated(topic: str) -> str:
    first = research(topic)
    second = research(f"{topic} again")
    return publish(write_draft(first + " / " + second))


# -- no checkpoints at all ---------------------------------------------------------------------


@kitaru.flow(cache=False)
def replay_empty(value: int) -> int:
    return value + 1


# -- a source that is still running ------------------------------------------------------------


@kitaru.checkpoint
def hold(topic: str) -> str:
    """Announce the execution id next to the release file, then wait for the file."""
    from kitaru.execution.scope import current_checkpoint

    release = Path(os.environ[RELEASE_ENV])
    scope = current_checkpoint()
    release.with_suffix(".exec").write_text(scope.execution_id if scope else "")
    deadline = time.monotonic() + 120
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return topic


@kitaru.flow(cache=False)
def replay_blocking(topic: str) -> str:
    held = hold(topic)
    return publish(held)


def main() -> None:
    """Run the flow named on the command line (``blocking``) and print ``EXEC <id>``."""
    if sys.argv[1:] != ["blocking"]:
        raise SystemExit(f"usage: main blocking (got {sys.argv[1:]})")
    handle = replay_blocking.run("held")
    print(f"EXEC {handle.exec_id}", flush=True)

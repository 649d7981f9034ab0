"""Real flows that print and log, exercised by tests/core/test_logs.py.

``chatty`` writes to stdout, stderr and ``logging`` from its checkpoints and
its body, so each channel can be found again in the stored logs. ``gated``
runs in its own process for ``--follow`` tests (from the repository root)::

    python -c "from tests.core.flows.log_flows import main; main()" gated <dir>

It writes ``<dir>/exec_id`` once its first checkpoint ran, then its second
checkpoint waits until ``<dir>/go`` exists, so a test controls when the
execution can finish. ``waiting`` stops on ``kitaru.wait(name="go_ahead")``.
Flow names start with ``logs_`` so other test modules never pick them up.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import kitaru
from kitaru.execution.scope import current_checkpoint

LONG_LINE_LENGTH = 12_000  # over the engine's ~5 KB chunk size
logger = logging.getLogger("log_flows")


@kitaru.checkpoint
def logs_shout(word: str) -> str:
    print(f"shout: {word}")
    return word.upper()


@kitaru.checkpoint
def logs_grumble(word: str) -> str:
    print(f"grumble on stderr: {word}", file=sys.stderr)
    return word[::-1]


@kitaru.checkpoint
def logs_note(word: str) -> int:
    logger.warning("note via logging: %s", word)
    print("L" * LONG_LINE_LENGTH)
    return len(word)


@kitaru.checkpoint
def logs_silent(word: str) -> str:
    return word


@kitaru.flow
def logs_chatty(word: str) -> int:
    print(f"body: start {word}")
    loud = logs_shout(word)
    logs_grumble(loud)
    size = logs_note(word)
    logs_shout(loud)
    logger.warning("body warning: size=%d", size)
    print(f"body: done {word}", file=sys.stderr)
    return size


@kitaru.flow
def logs_quiet(word: str) -> str:
    return logs_silent(word)


@kitaru.checkpoint
def logs_explode(word: str) -> str:
    print(f"explode: about to fail on {word}")
    raise ValueError(f"exploded on {word}")


@kitaru.flow
def logs_failing(word: str) -> str:
    print("failing body: start")
    return logs_explode(word)


@kitaru.checkpoint
def logs_first(directory: str) -> str:
    print("first: hello")
    scope = current_checkpoint()
    assert scope is not None and scope.execution_id
    (Path(directory) / "exec_id").write_text(scope.execution_id)
    return "one"


@kitaru.checkpoint
def logs_second(directory: str) -> str:
    go = Path(directory) / "go"
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    print("second: got go" if go.exists() else "second: gave up")
    return "two"


@kitaru.flow
def logs_gated(directory: str) -> str:
    print("gated body: start")
    first = logs_first(directory)
    second = logs_second(directory)
    print("gated body: done")
    return first + second


@kitaru.checkpoint
def logs_linger(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@kitaru.flow
def logs_waiting(directory: str) -> str:
    first = logs_first(directory)
    kitaru.wait(name="go_ahead", question="Go on?", timeout=120)
    print("waiting body: resumed")
    # Finish well after the answering process has read the execution back:
    # a read in the instant an execution completes can race with dead-owner
    # detection (kitaru.execution.runs.reconcile_crashed).
    logs_linger(1.5)
    return first


FLOWS = {"gated": logs_gated, "waiting": logs_waiting}


def main() -> None:
    """Run ``FLOWS[argv[1]](argv[2])`` and print ``EXEC <id>`` and ``RESULT <value>``."""
    handle = FLOWS[sys.argv[1]].run(sys.argv[2])
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"RESULT {handle.wait()}", flush=True)

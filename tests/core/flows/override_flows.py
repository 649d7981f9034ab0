"""Real flows exercised by tests/core/test_replay_overrides.py (issue 12, item 4).

``override_demo``: ``flaky`` returns 6, ``summarize`` consumes it and
``report`` consumes both, so a replay that overrides ``flaky`` has a consumer
that runs again and, replayed once more from ``report``, one that reads the
overridden value without its producer running. Every checkpoint run leaves a
file under ``KITARU_TEST_OVERRIDE_DIR`` so tests can count runs.

``override_echo`` returns what its body saw of ``flaky``'s output, so a retry
of its replay shows whether the body got the edited value again.

``python run.py [echo]`` (this module copied into a project dir as
``override_flows``) runs the flow and prints ``EXEC <id>``.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import kitaru

COUNTER_ENV = "KITARU_TEST_OVERRIDE_DIR"


def _ran(name: str) -> None:
    directory = os.environ.get(COUNTER_ENV)
    if directory:
        Path(directory, f"{name}-{uuid.uuid4().hex}").touch()


def executions_of(directory: Path, name: str) -> int:
    """How many times checkpoint ``name`` ran with ``directory`` as counter dir."""
    return len(list(directory.glob(f"{name}-*")))


@kitaru.checkpoint
def flaky() -> int:
    _ran("flaky")
    return 6


@kitaru.checkpoint
def summarize(n: int) -> str:
    _ran("summarize")
    return f"sum={n}"


FAIL_REPORT = "fail-report"
"""A file of this name in the counter dir makes ``report`` fail (a replay that fails midway)."""
HOLD_REPORT = "hold-report"
"""While a file of this name is in the counter dir, ``report`` waits (a replay to kill midway)."""


@kitaru.checkpoint
def report(summary: str, n: int) -> str:
    _ran("report")
    directory = os.environ.get(COUNTER_ENV)
    if directory and Path(directory, FAIL_REPORT).exists():
        raise RuntimeError("report failed on purpose")
    while directory and Path(directory, HOLD_REPORT).exists():
        time.sleep(0.05)
    return f"{summary}; n={n}"


@kitaru.flow(cache=False)
def override_demo() -> str:
    n = flaky()
    summary = summarize(n)
    return report(summary, n)


@kitaru.flow(cache=False)
def override_echo() -> str:
    n = flaky()
    summary = summarize(n)
    return f"{report(summary, n)}; body saw {n}"


def main() -> None:
    """Run ``override_demo`` and print ``EXEC <id>``."""
    import sys

    handle = (override_echo if sys.argv[1:] == ["echo"] else override_demo).run()
    print(f"RESULT {handle.wait()}", flush=True)
    print(f"EXEC {handle.exec_id}", flush=True)

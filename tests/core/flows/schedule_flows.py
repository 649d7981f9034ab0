"""Real flows started by schedules in tests/core/test_schedules.py.

``kitaru schedule create NAME <this file>:scheduled_report --cron ... --args
'{"topic": ..., "out_dir": ...}'`` schedules :func:`scheduled_report`; when
``kitaru schedule run-due`` starts it, its checkpoint writes
``<out_dir>/<topic>-<pid>-<n>`` holding the topic, so the test sees that the
body ran, with the schedule's arguments, and how many times.

:func:`store_witness` copies ``schedules.json`` (the store of the config dir
in ``KITARU_CONFIG_PATH``) as its body sees it, to show what ``run-due``
recorded before it started the execution.
"""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path

import kitaru

_calls = count()


@kitaru.checkpoint
def write_report(topic: str, out_dir: str) -> str:
    Path(out_dir, f"{topic}-{os.getpid()}-{next(_calls)}").write_text(topic)
    return f"report on {topic}"


@kitaru.flow(cache=False)
def scheduled_report(topic: str, out_dir: str) -> str:
    return write_report(topic, out_dir)


@kitaru.checkpoint
def copy_store(out_dir: str) -> str:
    seen = Path(os.environ["KITARU_CONFIG_PATH"], "schedules.json").read_text()
    Path(out_dir, "seen-store.json").write_text(seen)
    return seen


@kitaru.flow(cache=False)
def store_witness(out_dir: str) -> str:
    return copy_store(out_dir)


not_a_flow = "a plain value"

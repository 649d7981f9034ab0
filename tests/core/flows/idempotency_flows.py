"""Real flows exercised by tests/core/test_idempotency.py.

Start a flow with an idempotency key in its own process (from the directory
holding this file)::

    python idempotency_flows.py FLOW KEY BODY_DIR [BARRIER]

With ``BARRIER`` the process first loads the engine (reads the store), writes
``<BARRIER>.ready-<pid>``, then waits for ``BARRIER`` to appear, so the test
can release several processes at the same moment. It prints ``EXEC <id>``,
``STATUS <status>`` and ``RESULT <value>``. Every time a flow body runs, its
checkpoint writes a file ``<BODY_DIR>/<flow>-<pid>-<n>``, so the test counts
how many bodies ran.
"""

from __future__ import annotations

import os
import sys
import time
from itertools import count
from pathlib import Path

import kitaru
from kitaru.client import KitaruClient

BARRIER_TIMEOUT = 120.0
"""Seconds a process waits for the barrier file before giving up."""

_calls = count()


def _mark(body_dir: str, flow: str) -> None:
    Path(body_dir, f"{flow}-{os.getpid()}-{next(_calls)}").write_text("ran")


@kitaru.checkpoint
def idem_record(body_dir: str, flow: str) -> str:
    _mark(body_dir, flow)
    return f"{flow} done"


@kitaru.flow(cache=False)
def idem_order(body_dir: str) -> str:
    """One checkpoint that records that the body ran."""
    return idem_record(body_dir, "idem_order")


@kitaru.flow(cache=False)
def idem_invoice(body_dir: str) -> str:
    """Another flow, to show a key is per flow."""
    return idem_record(body_dir, "idem_invoice")


@kitaru.flow(cache=False)
def idem_parent(body_dir: str) -> str:
    """Starts a child flow with a key in its body, which is refused."""
    return idem_order.run(body_dir, idempotency_key="child-key").wait()


def wait_for_barrier(barrier: Path) -> None:
    KitaruClient().executions.list(limit=1)  # load the engine and the store before the race
    Path(f"{barrier}.ready-{os.getpid()}").write_text("ready")
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while not barrier.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{barrier} was not created within {BARRIER_TIMEOUT:g}s")
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> None:
    """Run ``FLOW`` with ``KEY`` (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    flow, key, body_dir = args[:3]
    if len(args) > 3:
        wait_for_barrier(Path(args[3]))
    handle = globals()[flow].run(body_dir, idempotency_key=key)
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"RESULT {handle.wait(timeout=120)}", flush=True)
    print(f"STATUS {handle.status}", flush=True)


if __name__ == "__main__":
    main()

"""Real flows with timeouts, run as scripts by tests/core/test_timeouts.py (each in its own process).

``python timeout_flows.py <scenario>`` runs one flow, then writes what its
launcher saw to ``$TIMEOUT_STATE/outcome.json``: the result, or the
exception's class, message and origin, and the execution id. Every
checkpoint body appends its name to ``$TIMEOUT_STATE/ran`` when it starts, so
a test can count attempts. A hang is a real blocking system call
(``time.sleep(3600)`` or a socket read), released by the file ``release``
in the state directory, which a flow checks before it blocks.

Scenarios:

* ``hung``: ``fetch`` (``timeout=1, retries=1``) blocks in ``time.sleep``.
* ``hung_socket``: ``read_socket`` (``timeout=1``) blocks in a socket read.
* ``quick``: ``fetch_fast`` (``timeout=30``) returns at once.
* ``flow_timeout``: ``@flow(timeout=3)``: ``first`` returns, then ``stall``
  (``retries=2``) blocks until ``release`` exists.
* ``configured``: no decorator timeout; the checkpoint timeout comes from
  ``kitaru.yaml`` (``execution.checkpoint_timeout``) or from
  ``kitaru.configure(checkpoint_timeout=...)`` when ``CONFIGURE_TIMEOUT`` is set.
* ``configured_flow``: ``kitaru.configure(timeout=...)`` from ``CONFIGURE_TIMEOUT``
  bounds the flow body, which blocks itself (no checkpoint).
* ``submitted``: a checkpoint with ``timeout=1`` started with ``.submit()``
  (so it runs in a thread) loops in Python code.
* ``async_hung``: an ``async def`` checkpoint (``timeout=1``) awaits a long
  ``asyncio.sleep``, awaited from an ``async def`` flow.
* ``interruptible``: ``fetch_patiently`` (``timeout=60, retries=2``) blocks;
  a test interrupts the process (Ctrl-C) or cancels the execution.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import kitaru

STATE = Path(os.environ.get("TIMEOUT_STATE", "."))


def _ran(name: str) -> None:
    with open(STATE / "ran", "a") as journal:
        journal.write(name + "\n")
    (STATE / f"started_{name}").touch()


def _released() -> bool:
    return (STATE / "release").exists()


def _block() -> None:
    if not _released():
        time.sleep(3600)


@kitaru.checkpoint(timeout=1, retries=1)
def fetch() -> str:
    _ran("fetch")
    _block()
    return "fetched"


@kitaru.checkpoint(timeout=1)
def read_socket() -> bytes:
    _ran("read_socket")
    left, right = socket.socketpair()
    try:
        return left.recv(10)  # nobody writes: blocks in recv(2)
    finally:
        left.close()
        right.close()


@kitaru.checkpoint(timeout=30)
def fetch_fast() -> str:
    _ran("fetch_fast")
    return "fast"


@kitaru.checkpoint
def first() -> str:
    _ran("first")
    return "first"


@kitaru.checkpoint(retries=2)
def stall(text: str) -> str:
    _ran("stall")
    _block()
    return text + "+stall"


@kitaru.checkpoint
def unbounded() -> str:
    _ran("unbounded")
    _block()
    return "unbounded"


@kitaru.checkpoint(timeout=1)
def spin() -> int:
    _ran("spin")
    count = 0
    while not _released():
        count += 1  # pure Python: a thread is interrupted at its next instruction
    return count


@kitaru.checkpoint(timeout=1)
async def await_forever() -> str:
    _ran("await_forever")
    await asyncio.sleep(3600)
    return "awaited"


@kitaru.checkpoint(timeout=60, retries=2)
def fetch_patiently() -> str:
    _ran("fetch_patiently")
    _block()
    return "patient"


@kitaru.flow(cache=False)
def hung_flow() -> str:
    return fetch()


@kitaru.flow(cache=False)
def socket_flow() -> bytes:
    return read_socket()


@kitaru.flow(cache=False)
def quick_flow() -> str:
    return fetch_fast()


@kitaru.flow(cache=False, timeout=20)  # room for `first` on a loaded machine; `stall` blocks until released
def slow_agent() -> str:
    return stall(first())


@kitaru.flow(cache=False)
def configured_flow() -> str:
    return unbounded()


@kitaru.flow(cache=False)
def blocking_body() -> str:
    _ran("blocking_body")
    _block()
    return "body done"


@kitaru.flow(cache=False)
def submitted_flow() -> int:
    return spin.submit().result()


@kitaru.flow(cache=False)
async def async_flow() -> str:
    return await await_forever()


@kitaru.flow(cache=False)
def interruptible_flow() -> str:
    return fetch_patiently()


SCENARIOS: dict[str, Any] = {
    "hung": hung_flow,
    "hung_socket": socket_flow,
    "quick": quick_flow,
    "flow_timeout": slow_agent,
    "configured": configured_flow,
    "configured_flow": blocking_body,
    "submitted": submitted_flow,
    "async_hung": async_flow,
    "interruptible": interruptible_flow,
}


def _write(outcome: dict[str, Any]) -> None:
    path = STATE / "outcome.json"
    path.with_suffix(".tmp").write_text(json.dumps(outcome))
    path.with_suffix(".tmp").replace(path)


def main(scenario: str) -> None:
    configured = os.environ.get("CONFIGURE_TIMEOUT")
    if configured and scenario == "configured":
        kitaru.configure(checkpoint_timeout=float(configured))
    if configured and scenario == "configured_flow":
        kitaru.configure(timeout=float(configured))
    handle = None
    try:
        handle = SCENARIOS[scenario].run()
        _write({"result": handle.wait(), "exec_id": handle.exec_id})
    except BaseException as exc:  # noqa: BLE001 - the launcher's view is the point
        _write(
            {
                "error": type(exc).__name__,
                "message": str(exc),
                "origin": str(getattr(exc, "failure_origin", None)),
                "exec_id": getattr(exc, "exec_id", None) or (handle.exec_id if handle else None),
                "traceback": traceback.format_exc(),
            }
        )
        if isinstance(exc, KeyboardInterrupt):
            raise


if __name__ == "__main__":
    main(sys.argv[1])

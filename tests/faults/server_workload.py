"""One client of the server-concurrency test: start a few executions, one after another.

Run as a script from the scratch project directory, with the config dir that
is logged in to the local server::

    python server_workload.py CLIENT COUNT

``$SERVER_FAULT_STATE`` is the test's state directory. The client appends one
line per event to ``<state>/client-<CLIENT>.log`` (``<event> <seq> <detail>``):

* ``submit <seq> <attempt>``: about to call ``flow.run()``;
* ``started <seq> <exec_id>``: the flow body began (written by the body, so
  the id is known even when ``run()`` later fails);
* ``ended <seq> <exec_id> <status>``: ``run()`` returned;
* ``raised <seq> <exec_id or -> <ExceptionType>``: ``run()`` raised (the
  message follows on the next lines, indented);
* ``done``: the client went through all its executions.

Checkpoint bodies append ``<exec_id> <name>`` to ``<state>/ran`` when they
finish (to count checkpoints that ran twice), and ``slow`` writes
``<state>/slow-<exec_id>`` when it starts, so the test can restart the server
while some executions are inside it. A submission that fails before any body
started (the server is down) is tried again after a pause, as a user would;
one that started is left to ``kitaru executions retry``.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import kitaru
from kitaru.errors import KitaruError
from kitaru.execution.scope import current_flow

STATE = Path(os.environ.get("SERVER_FAULT_STATE", "."))
SLOW_SECONDS = float(os.environ.get("SERVER_FAULT_SLOW_SECONDS", "4"))
SUBMIT_DEADLINE = float(os.environ.get("SERVER_FAULT_SUBMIT_DEADLINE", "180"))


def _append(name: str, line: str) -> None:
    with open(STATE / name, "a") as handle:
        handle.write(line + "\n")


def _exec_id() -> str:
    scope = current_flow()
    return (scope.execution_id if scope else None) or "-"


def _ran(name: str) -> None:
    from kitaru.execution.scope import current_checkpoint

    scope = current_checkpoint()
    _append("ran", f"{scope.execution_id if scope else '-'} {name}")


@kitaru.checkpoint
def server_prepare(client: int, seq: int) -> str:
    _ran("server_prepare")
    return f"c{client}-s{seq}"


@kitaru.checkpoint
def server_slow(tag: str) -> str:
    from kitaru.execution.scope import current_checkpoint

    scope = current_checkpoint()
    (STATE / f"slow-{scope.execution_id if scope else tag}").touch()
    time.sleep(SLOW_SECONDS)
    _ran("server_slow")
    return tag.upper()


@kitaru.checkpoint
def server_finish(tag: str, loud: str) -> str:
    _ran("server_finish")
    return f"{tag}:{loud}"


@kitaru.flow(cache=False)
def server_concurrent(client: int, seq: int) -> str:
    """prepare, then slow (every other execution), then finish."""
    _append(f"client-{client}.log", f"started {seq} {_exec_id()}")
    tag = server_prepare(client, seq)
    loud = server_slow(tag) if seq % 2 == 0 else tag.upper()
    return server_finish(tag, loud)


def expected(client: int, seq: int) -> str:
    """The flow's result for ``(client, seq)``."""
    tag = f"c{client}-s{seq}"
    return f"{tag}:{tag.upper()}"


def _started(client: int, seq: int) -> bool:
    log = STATE / f"client-{client}.log"
    return log.exists() and any(line.startswith(f"started {seq} ") for line in log.read_text().splitlines())


def main(client: int, count: int) -> None:
    log = f"client-{client}.log"
    for seq in range(count):
        deadline = time.monotonic() + SUBMIT_DEADLINE
        attempt = 0
        while True:
            attempt += 1
            _append(log, f"submit {seq} {attempt}")
            try:
                handle = server_concurrent.run(client, seq)
                _append(log, f"ended {seq} {handle.exec_id} {handle.status}")
                break
            except KitaruError as exc:
                exec_id = getattr(exc, "exec_id", None) or "-"
                detail = "\n".join("    " + line for line in str(exc).splitlines())
                _append(log, f"raised {seq} {exec_id} {type(exc).__name__}\n{detail}")
            except Exception as exc:  # noqa: BLE001 - reported, the client goes on
                _append(log, f"raised {seq} - {type(exc).__name__}")
                _append(log, "\n".join("    " + line for line in traceback.format_exc().splitlines()))
            if _started(client, seq) or time.monotonic() > deadline:
                break  # started: `kitaru executions retry` finishes it
            time.sleep(2)
    _append(log, "done")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

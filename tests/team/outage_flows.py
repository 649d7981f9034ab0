"""A flow the outage tests run from a client's project directory, while the server or its database restarts.

``python outage_flows.py HOLD_DIR`` runs ``held``: ``begin``, then ``hold``,
which writes ``HOLD_DIR/<pid>`` and waits until ``HOLD_DIR/release`` exists,
then ``end``. The test stops the server (or its database), releases the
holds, so every flow's next requests meet the outage, and starts it again.
Prints ``EXEC <id>`` once the execution exists and ends with one JSON line
``{"exec_id", "status", "result", "error"}``; a failed flow still exits 0.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import kitaru


@kitaru.checkpoint
def begin(text: str) -> str:
    return f"{text}:begun"


@kitaru.checkpoint
def hold(text: str, hold_dir: str) -> str:
    directory = Path(hold_dir)
    (directory / str(os.getpid())).write_text("holding\n")
    deadline = time.monotonic() + 300
    while not (directory / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return f"{text}:held"


@kitaru.checkpoint
def end(text: str) -> str:
    return f"{text}:ended"


@kitaru.flow(cache=False)
def held(hold_dir: str) -> str:
    return end(hold(begin("x"), hold_dir))


def main() -> None:
    handle = held.run(sys.argv[1])
    print(f"EXEC {handle.exec_id}", flush=True)
    outcome: dict[str, Any] = {"exec_id": handle.exec_id, "status": str(handle.status), "result": None, "error": None}
    if outcome["status"] in ("completed", "failed"):
        try:
            outcome["result"] = handle.wait()
        except kitaru.KitaruError as exc:
            outcome["error"] = str(exc)
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main()

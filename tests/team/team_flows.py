"""Flows the team tests run from each client's project directory.

``python team_flows.py FLOW [ARGS...]`` runs one flow, prints ``EXEC <id>``
as soon as the execution exists, lets Kitaru print its checkpoint lines, and
ends with one JSON line ``{"exec_id", "status", "result", "error"}``. A
failed flow still exits 0 (the JSON says ``failed``), so a test can look at
its output.

* ``steps N``: N quick checkpoints ``step_0`` ... ``step_{N-1}``, each adding
  its index to a running total; called in that order.
* ``fanout N``: N ``step`` checkpoints submitted at once (``step_0`` first),
  so several start within the same second.
* ``flaky``: ``prepare`` then ``finish``, which fails while the file named by
  ``KITARU_TEAM_FAIL_FILE`` exists (another client removes it, then retries).
* ``gate``: ``prepare``, a boolean ``wait()`` named ``approve`` (answered by
  another client), then ``finish``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import kitaru


@kitaru.checkpoint
def step(total: int, index: int) -> int:
    return total + index


@kitaru.checkpoint
def prepare(topic: str) -> str:
    print(f"preparing a draft about {topic}")
    return f"draft about {topic}"


@kitaru.checkpoint
def finish(draft: str, verdict: str) -> str:
    fail_file = os.environ.get("KITARU_TEAM_FAIL_FILE")
    if fail_file and Path(fail_file).exists():
        raise RuntimeError(f"{fail_file} exists")
    return f"{draft} -> {verdict}"


@kitaru.flow(cache=False)
def steps(count: int) -> int:
    total = 0
    for index in range(count):
        total = step(total, index, id=f"step_{index}")
    return total


@kitaru.flow(cache=False)
def fanout(count: int) -> int:
    futures = [step.submit(0, index, id=f"step_{index}") for index in range(count)]
    return sum(future.result() for future in futures)


@kitaru.flow(cache=False)
def flaky(topic: str) -> str:
    return finish(prepare(topic), "done")


@kitaru.flow(cache=False)
def gate(topic: str) -> str:
    draft = prepare(topic)
    approved = kitaru.wait(schema=bool, name="approve", question=f"Publish {draft!r}?", timeout=2)
    return finish(draft, str(approved))


FLOWS = {"steps": (steps, int), "fanout": (fanout, int), "flaky": (flaky, str), "gate": (gate, str)}


def main() -> None:
    flow, convert = FLOWS[sys.argv[1]]
    handle = flow.run(convert(sys.argv[2]))
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

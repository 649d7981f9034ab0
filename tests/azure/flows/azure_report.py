"""A two-checkpoint flow for the Azure end-to-end test; prints its execution as JSON.

Run as a script: ``python azure_report.py TOPIC``. The stack comes from
``KITARU_STACK`` and the Azurite connection from ``AZURE_STORAGE_CONNECTION_STRING``.
"""

from __future__ import annotations

import json
import sys

import kitaru


@kitaru.checkpoint
def gather(topic: str) -> dict:
    return {"topic": topic, "notes": [f"{topic} note {i}" for i in range(3)]}


@kitaru.checkpoint
def summarize(data: dict) -> str:
    return f"{data['topic']}: {len(data['notes'])} notes"


@kitaru.flow(cache=False)
def azure_report(topic: str) -> str:
    return summarize(gather(topic))


if __name__ == "__main__":
    handle = azure_report.run(sys.argv[1])
    result = handle.wait()
    print("EXECUTION", json.dumps({"exec_id": handle.exec_id, "result": result}))

"""A two-checkpoint flow run on a local stack whose artifacts live in an S3 bucket.

Run as a script by ``tests/aws/test_stack_cli.py``::

    python bucket_flow.py TOPIC STACK

It runs the flow on STACK, loads every checkpoint output back through
``KitaruClient`` and prints one JSON line: the execution id, the flow's
result, the stack name and each loaded artifact by producing checkpoint.
"""

from __future__ import annotations

import json
import sys

import kitaru


@kitaru.checkpoint
def gather(topic: str) -> str:
    return f"notes on {topic}"


@kitaru.checkpoint
def condense(notes: str) -> dict:
    return {"summary": notes.upper(), "words": len(notes.split())}


@kitaru.flow(cache=False)
def aws_bucket_flow(topic: str) -> dict:
    return condense(gather(topic))


if __name__ == "__main__":
    handle = aws_bucket_flow.run(sys.argv[1], stack=sys.argv[2])
    result = handle.wait()
    execution = kitaru.KitaruClient().executions.get(handle.exec_id)
    loaded = {artifact.producing_call: artifact.load() for artifact in execution.artifacts}
    print(json.dumps({
        "exec_id": handle.exec_id,
        "result": result,
        "stack": execution.stack_name,
        "loaded": loaded,
    }))

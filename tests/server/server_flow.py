"""A two-checkpoint flow the server tests run while connected to a server.

``python server_flow.py NAME`` runs it and prints, as its last line, the JSON
``{"exec_id": ..., "flow_name": ..., "result": ...}``.
"""

from __future__ import annotations

import json
import sys

import kitaru


@kitaru.checkpoint
def greet(name: str) -> str:
    return f"hello {name}"


@kitaru.checkpoint
def shout(text: str) -> str:
    return text.upper()


@kitaru.flow
def server_hello(name: str) -> str:
    return shout(greet(name))


if __name__ == "__main__":
    handle = server_hello.run(sys.argv[1])
    result = handle.wait()
    print(json.dumps({"exec_id": handle.exec_id, "flow_name": "server_hello", "result": result}))

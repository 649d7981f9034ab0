"""A flow whose checkpoints take a plain value and another checkpoint's output (tests/core/test_client_inputs_usage.py).

``research`` gets the flow's ``topic`` (a small string: recorded as a plain
value) and a ``depth`` keyword; ``write_up`` gets ``research``'s output (recorded
as an artifact input) and a ``style`` string. Run as a script, it prints the
execution id on its last line.

Run it from the repository root as ``python -m tests.core.flows.input_flows``
so the recorded flow source is importable there (replay imports it).
"""

from __future__ import annotations

import kitaru


@kitaru.checkpoint
def research(topic: str, depth: int) -> str:
    return f"notes on {topic} (depth {depth})"


@kitaru.checkpoint
def write_up(notes: str, style: str) -> str:
    return f"[{style}] {notes}"


@kitaru.flow(cache=False)
def inputs_report(topic: str) -> str:
    notes = research(topic, depth=2)
    return write_up(notes, style="brief")


def main() -> None:
    """Run :func:`inputs_report` once and print its execution id."""
    handle = inputs_report.run("durable")
    handle.wait()
    print(handle.exec_id)


if __name__ == "__main__":
    main()

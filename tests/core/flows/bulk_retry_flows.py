"""Real flows exercised by tests/core/test_bulk_retry.py.

Run a flow in its own process (from the directory holding this file, so a
retry in another process can import it again)::

    python bulk_retry_flows.py FLOW FLAG_DIR LABEL

which prints ``EXEC <id>`` and ``STATUS <status>``. A flow's checkpoint fails
while ``<FLAG_DIR>/<LABEL>.broken`` exists, so the test breaks an execution
and later lets its retry succeed by removing the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import kitaru


@kitaru.checkpoint
def bulk_work(flag_dir: str, label: str) -> str:
    if Path(flag_dir, f"{label}.broken").exists():
        raise ConnectionError(f"{label}: the service is down")
    return f"{label} done"


@kitaru.flow(cache=False)
def bulk_alpha(flag_dir: str, label: str) -> str:
    """The flow a bulk retry selects."""
    return bulk_work(flag_dir, label)


@kitaru.flow(cache=False)
def bulk_beta(flag_dir: str, label: str) -> str:
    """Another flow: its failures are left alone by ``--flow bulk_alpha``."""
    return bulk_work(flag_dir, label)


@kitaru.flow(cache=False)
def bulk_parent(flag_dir: str, label: str) -> str:
    """Calls ``bulk_alpha`` as a child flow: when the child fails, so does this one."""
    return str(bulk_alpha(flag_dir, label))


def main(argv: list[str] | None = None) -> None:
    """Run the flow named by ``argv[0]`` with the remaining arguments; print its id and status."""
    args = list(sys.argv[1:] if argv is None else argv)
    handle = globals()[args[0]].run(*args[1:])
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"STATUS {handle.status}", flush=True)


if __name__ == "__main__":
    main()

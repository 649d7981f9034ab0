"""Real flows exercised by tests/core/test_delete_prune.py and tests/core/test_short_ids.py.

Run a flow in its own process (from the directory holding this file, so a
retrying process can import it again)::

    python housekeeping_flows.py housekeeping_report topic

which prints ``EXEC <id>`` and ``STATUS <status>``. Flow names start with
``housekeeping_`` so filters in a shared store never pick up other modules'
executions.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import kitaru

RELEASE_TIMEOUT = 120.0
"""Seconds :func:`housekeeping_hold` waits for its release file before failing."""


@kitaru.checkpoint
def housekeeping_draft(topic: str) -> str:
    kitaru.save("housekeeping_notes", {"topic": topic, "words": 3}, type="context")
    return f"draft about {topic}"


@kitaru.checkpoint
def housekeeping_polish(draft: str) -> str:
    return draft.upper()


@kitaru.flow
def housekeeping_report(topic: str) -> str:
    """Two checkpoints and a saved artifact; cached, so a rerun with the same topic reuses every artifact."""
    return housekeeping_polish(housekeeping_draft(topic))


@kitaru.checkpoint
def housekeeping_explode(draft: str) -> str:
    raise ValueError(f"cannot polish {draft!r}")


@kitaru.flow(cache=False)
def housekeeping_failing(topic: str) -> str:
    """Fails in its second checkpoint, after the first stored an output and a saved artifact."""
    return housekeeping_explode(housekeeping_draft(topic))


@kitaru.checkpoint
def housekeeping_hold(release_file: str) -> str:
    """Run until ``release_file`` exists; ``<release_file>.started`` says it is running."""
    release = Path(release_file)
    Path(f"{release_file}.started").write_text("running")
    deadline = time.monotonic() + RELEASE_TIMEOUT
    while not release.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{release_file} was not created within {RELEASE_TIMEOUT:g}s")
        time.sleep(0.1)
    return "released"


@kitaru.flow(cache=False)
def housekeeping_blocking(release_file: str) -> str:
    """Stays running (with a live process) until ``release_file`` exists."""
    return housekeeping_hold(release_file)


@kitaru.checkpoint
def housekeeping_flaky(marker_file: str) -> str:
    """Fails the first time (it creates ``marker_file``), succeeds when run again."""
    marker = Path(marker_file)
    if not marker.exists():
        marker.write_text("failed once")
        raise ConnectionError("transient outage")
    return "recovered"


@kitaru.flow(cache=False)
def housekeeping_retryable(marker_file: str) -> str:
    """Fails on its first run; ``kitaru executions retry`` completes it."""
    return housekeeping_flaky(marker_file)


def main(argv: list[str] | None = None) -> None:
    """Run the flow named by ``argv[0]`` with the remaining arguments; print its id and status."""
    args = list(sys.argv[1:] if argv is None else argv)
    handle = globals()[args[0]].run(*args[1:])
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"STATUS {handle.status}", flush=True)


if __name__ == "__main__":
    main()

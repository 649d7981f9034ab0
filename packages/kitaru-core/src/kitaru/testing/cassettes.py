"""``kitaru.testing.cassette``: run flows against a cassette in a test (see ``docs/testing.md``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kitaru._llm.cassette_file import CassetteFile
from kitaru._llm.cassettes import CASSETTE_ENV, MODE_ENV, check_mode


@contextmanager
def cassette(path: str | Path, mode: str = "offline") -> Iterator[Path]:
    """Answer the model requests of the flows run in this block from a cassette file.

    Sets ``KITARU_CASSETTE`` and ``KITARU_CASSETTE_MODE`` for the block (they
    are process-wide, and child processes inherit them), then puts back what
    was there.

    Args:
        path: The cassette (``kitaru executions export ID --cassette PATH``).
        mode: ``offline``: a request not in the cassette fails with
            :class:`~kitaru.errors.KitaruCassetteMiss`; ``record``: it goes to
            the provider and is added to the file (created if missing).

    Yields:
        The cassette's absolute path.

    Raises:
        KitaruUsageError: For an unknown mode, or (``offline``) a cassette
            that is missing or unreadable.
    """
    checked = check_mode(mode)
    resolved = Path(path).expanduser().resolve()
    if checked == "offline":
        CassetteFile(resolved)  # a missing or unreadable cassette fails here, not in the middle of a flow
    saved = {name: os.environ.get(name) for name in (CASSETTE_ENV, MODE_ENV)}
    os.environ[CASSETTE_ENV] = str(resolved)
    os.environ[MODE_ENV] = checked
    try:
        yield resolved
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


__all__ = ["cassette"]

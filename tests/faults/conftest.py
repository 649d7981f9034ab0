"""Fixtures for the fault-injection matrix: an S3 server (moto) and the CI size.

``KITARU_FAULT_TRIALS`` sets the number of kill trials per store (default
:data:`DEFAULT_TRIALS`, sized so the matrix fits a loaded 2-core CI machine);
``KITARU_FAULT_SEED`` changes the seeded plan of kill moments and delays.
``bench/faults.py`` runs the same trials at a larger size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.faults.harness import MotoServer

DEFAULT_TRIALS = 4
"""Kill trials per store in CI: about 25-40 s each on a loaded 2-core machine."""


def fault_trials() -> int:
    """Kill trials per store: ``$KITARU_FAULT_TRIALS`` or :data:`DEFAULT_TRIALS`."""
    return int(os.environ.get("KITARU_FAULT_TRIALS", str(DEFAULT_TRIALS)))


def fault_seed() -> int:
    """Seed of the trial plan: ``$KITARU_FAULT_SEED`` or a fixed default."""
    return int(os.environ.get("KITARU_FAULT_SEED", "12"))


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's S3 server in a child process, for this module's tests."""
    with MotoServer(tmp_path_factory.mktemp("moto")) as server:
        yield server

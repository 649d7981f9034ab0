"""The ZenML adapter: implements :mod:`kitaru.engine` and nothing else.

This is the only package that imports ZenML (or touches its private API,
each use commented). It holds no Kitaru rules and no user-facing messages:
it translates port calls into ZenML calls and ZenML models into the port's
plain records. :func:`kitaru.engine.get_engine` loads it by name and calls
:func:`create_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kitaru._engine.connection import ZenMLConnection
from kitaru._engine.images import ZenMLImages
from kitaru._engine.log_stores import ZenMLLogStores
from kitaru._engine.run_store import ZenMLRunStore
from kitaru._engine.secrets import ZenMLSecrets
from kitaru._engine.stacks import ZenMLStacks


@dataclass
class ZenMLEngine:
    """Kitaru's engine port, implemented on ZenML (one attribute per concern)."""

    runs: ZenMLRunStore
    images: ZenMLImages
    stacks: ZenMLStacks
    secrets: ZenMLSecrets
    connection: ZenMLConnection
    log_stores: ZenMLLogStores


def create_engine() -> ZenMLEngine:
    """Build the adapter (called once per process by :func:`kitaru.engine.get_engine`)."""
    return ZenMLEngine(
        runs=ZenMLRunStore(),
        images=ZenMLImages(),
        stacks=ZenMLStacks(),
        secrets=ZenMLSecrets(),
        connection=ZenMLConnection(),
        log_stores=ZenMLLogStores(),
    )


__all__ = ["ZenMLEngine", "create_engine"]

"""The ZenML adapter: implements :mod:`kitaru.engine` and nothing else.

This is the only package that imports ZenML (or touches its private API,
each use commented). It holds no Kitaru rules and no user-facing messages:
it translates port calls into ZenML calls and ZenML models into the port's
plain records. :func:`kitaru.engine.get_engine` loads it by name and calls
:func:`create_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kitaru._engine import codec as materializer_codec
from kitaru._engine.connection import ZenMLConnection
from kitaru._engine.images import ZenMLImages
from kitaru._engine.log_stores import ZenMLLogStores
from kitaru._engine.logs import ZenMLLogs
from kitaru._engine.run_store import ZenMLRunStore
from kitaru._engine.runtime import ZenMLRuntime
from kitaru._engine.schedules import ZenMLSchedules
from kitaru._engine.secrets import ZenMLSecrets
from kitaru._engine.stacks import ZenMLStacks
from kitaru._engine.wait_answers import ZenMLWaitAnswers
from kitaru.engine.codec import ValueCodec


@dataclass
class ZenMLEngine:
    """Kitaru's engine port, implemented on ZenML (one attribute per concern)."""

    runs: ZenMLRunStore
    runtime: ZenMLRuntime
    images: ZenMLImages
    stacks: ZenMLStacks
    secrets: ZenMLSecrets
    connection: ZenMLConnection
    log_stores: ZenMLLogStores
    logs: ZenMLLogs
    waits: ZenMLWaitAnswers
    schedules: ZenMLSchedules


def create_engine(*, codec: ValueCodec) -> ZenMLEngine:
    """Build the adapter (called once per process by :func:`kitaru.engine.get_engine`).

    Args:
        codec: How Kitaru encodes stored values; the materializer uses it.
    """
    materializer_codec.use_codec(codec)
    return ZenMLEngine(
        runs=ZenMLRunStore(),
        runtime=ZenMLRuntime(),
        images=ZenMLImages(),
        stacks=ZenMLStacks(),
        secrets=ZenMLSecrets(),
        connection=ZenMLConnection(),
        log_stores=ZenMLLogStores(),
        logs=ZenMLLogs(),
        waits=ZenMLWaitAnswers(),
        schedules=ZenMLSchedules(),
    )


__all__ = ["ZenMLEngine", "create_engine"]

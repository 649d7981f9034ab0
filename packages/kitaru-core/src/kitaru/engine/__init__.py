"""The engine port: what Kitaru needs from an execution engine, as protocols and plain records.

Kitaru's rules (journal, divergence, replay, retry/resume/cancel, crash
detection, waits, stacks, secrets, connection) live in its domain packages
and speak to the engine only through this port. One module per concern
defines a :class:`typing.Protocol` and the frozen records it takes and
returns; no engine type crosses it. The ZenML adapter in ``kitaru._engine``
implements every protocol, and :func:`get_engine` is the one place that
loads it::

    from kitaru.engine import get_engine

    run = get_engine().runs.get_run(exec_id)   # a RunRecord
    if run.active_wait is not None: ...

Loading the adapter imports the engine (ZenML), so nothing calls
:func:`get_engine` at import time: ``import kitaru`` stays cheap.

The adapter stores values, but how a value is encoded is Kitaru's rule:
:func:`get_engine` hands the adapter Kitaru's codec
(:class:`~kitaru.engine.codec.ValueCodec`, from :data:`CODEC_MODULE`) when it
creates it. Both ends are named here, by module name, because this port sits
below both the domain and the adapter and imports neither.
"""

from __future__ import annotations

import importlib
import threading
from typing import Protocol

from kitaru.engine.connection import Connection
from kitaru.engine.images import ImageTranslator
from kitaru.engine.log_stores import LogStoreComponents
from kitaru.engine.logs import StoredLogs
from kitaru.engine.runs import RunStore
from kitaru.engine.runtime import FlowRuntime
from kitaru.engine.schedules import EngineSchedules
from kitaru.engine.secrets import SecretStore
from kitaru.engine.stacks import StackStore
from kitaru.engine.waits import WaitAnswers

ADAPTER_MODULE = "kitaru._engine"
"""The module that provides the engine: its ``create_engine(codec=...)`` builds the adapter."""

CODEC_MODULE = "kitaru.serializers.codec"
"""The module whose ``codec()`` encodes stored values (given to the adapter)."""


class Engine(Protocol):
    """Every capability Kitaru uses, one attribute per concern."""

    runs: RunStore
    runtime: FlowRuntime
    images: ImageTranslator
    stacks: StackStore
    secrets: SecretStore
    connection: Connection
    log_stores: LogStoreComponents
    logs: StoredLogs
    waits: WaitAnswers
    schedules: EngineSchedules


_engine: Engine | None = None
_lock = threading.Lock()


def get_engine() -> Engine:
    """Return the process's engine adapter, loading the engine on first use.

    Returns:
        The adapter (ZenML).
    """
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                # The one import of the adapter; by name, so that importing
                # Kitaru's domain never imports the engine.
                adapter = importlib.import_module(ADAPTER_MODULE)
                codec = importlib.import_module(CODEC_MODULE).codec()
                _engine = adapter.create_engine(codec=codec)
    assert _engine is not None
    return _engine


__all__ = ["ADAPTER_MODULE", "CODEC_MODULE", "Engine", "get_engine"]

"""Ctrl-C for commands that poll: a request checked at safe points, never lost.

Python raises :class:`KeyboardInterrupt` wherever the main thread happens to
be when SIGINT arrives. When that is inside a finalizer (``__del__``, a
weakref callback, garbage collection in a database driver), the interpreter
prints "Exception ignored" and the interrupt is gone: a follower that should
stop keeps polling. :func:`deferred_interrupt` records the first Ctrl-C
instead, and the command checks the request between two polls. A second
Ctrl-C raises at once, for a poll that hangs.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """Record Ctrl-C in the yielded event instead of raising; a second Ctrl-C raises.

    Outside the main thread (where Python cannot install signal handlers) the
    event is never set and Ctrl-C behaves as usual.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = ["deferred_interrupt"]

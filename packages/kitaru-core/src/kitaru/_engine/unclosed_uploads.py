"""A process never hangs at exit on an upload to an unreachable object store.

Object-store artifact stores (``s3://``, ``gs://``, ``az://``) write through
fsspec. An fsspec file opened for writing uploads when it is closed, and
closes itself when it is garbage collected. When a store becomes unreachable
while a file is being opened, the half-opened file is never closed: the
failing ``open`` raised, and the traceback that keeps its frame alive is only
freed when the interpreter shuts down. By then fsspec's event-loop thread no
longer runs (daemon threads stop at finalization), so the file's final upload
waits for it forever, and ``python flow.py`` never exits after printing its
failure (issue 12, item 7: the store-outage trial hung 1 run in 5).

:func:`install` registers an exit handler. Exit handlers run while daemon
threads still run, so the handler closes every fsspec file still open for
writing there: the upload completes if the store is reachable, and a file
whose upload fails is marked closed and abandoned (it was never complete; no
reader ever sees it, as an artifact is recorded only after its write
returned). Processes that never touched an object store skip the scan.

Engine API touched: none of ZenML's; fsspec's ``AbstractBufferedFile`` and
its IO thread (``fsspec.asyn.iothread``), read only.
"""

from __future__ import annotations

import atexit
import gc
import logging
import sys

logger = logging.getLogger("kitaru")

_installed = False


def close_unclosed_uploads() -> int:
    """Close every fsspec file still open for writing; return how many were found.

    A file whose upload fails is marked closed, so its finalizer does not try
    again at shutdown.
    """
    asyn = sys.modules.get("fsspec.asyn")
    spec = sys.modules.get("fsspec.spec")
    if asyn is None or spec is None or getattr(asyn, "iothread", [None])[0] is None:
        return 0
    buffered = spec.AbstractBufferedFile
    pending = [
        item
        for item in gc.get_objects()
        if isinstance(item, buffered) and "r" not in str(getattr(item, "mode", "r")) and not item.closed
    ]
    for item in pending:
        try:
            item.close()
        except Exception as exc:  # noqa: BLE001 - the store is unreachable: the partial upload is abandoned
            logger.debug("Abandoned an unfinished upload to %s: %s", getattr(item, "path", "?"), exc)
            item.closed = True
    return len(pending)


def install() -> None:
    """Close unfinished object-store uploads at exit, before the IO thread stops (idempotent)."""
    global _installed
    if _installed:
        return
    atexit.register(close_unclosed_uploads)
    _installed = True

"""The values the fault workload produces, as pure functions of its seed (no Kitaru import).

``workload.py`` computes its outputs with these functions and the trial's
checker (``kill_aftermath.py``) uses :func:`expected` to check that every
stored output and the flow's result load back exactly, so a half-written
artifact read back as a value would show up as a mismatch.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

BIG = int(os.environ.get("FAULT_BIG_BYTES", str(6 * 1024 * 1024)))
"""Size of ``fetch``'s output in bytes; ``expand``'s is two thirds of it."""


def blob(seed: int, label: str, size: int) -> bytes:
    """``size`` deterministic bytes: a digest of seed and label, repeated."""
    unit = hashlib.sha256(f"{seed}:{label}".encode()).digest() * 2048  # 64 KiB
    return (unit * (size // len(unit) + 1))[:size]


def digest_of(data: bytes) -> dict[str, Any]:
    """The SHA-256 and size of ``data``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def summary_of(more: bytes, checked: dict[str, Any]) -> dict[str, Any]:
    """What ``summarize`` returns for ``expand``'s output and ``flaky``'s."""
    return {"first": checked["sha256"], "second": digest_of(more)["sha256"], "total": checked["size"] + len(more)}


def expected(seed: int) -> dict[str, Any]:
    """Every checkpoint's output, by checkpoint name, and the flow's result (``flow``)."""
    data = blob(seed, "fetch", BIG)
    summary = digest_of(data)
    checked = {**summary, "checked": True}
    more = blob(seed, summary["sha256"], BIG * 2 // 3)
    result = summary_of(more, checked)
    return {
        "fetch": data,
        "digest": summary,
        "flaky": checked,
        "expand": more,
        "summarize": result,
        "flow": {"seed": seed, **result},
    }

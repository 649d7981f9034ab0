"""Turn function names into valid flow and checkpoint names (``2nd-pass`` -> ``flow_2nd_pass``)."""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"\W+")


def sanitize_name(raw: str, *, fallback: str) -> str:
    """Return ``raw`` as an identifier-like name.

    Non-word characters become ``_``; a leading digit gets a ``<fallback>_``
    prefix; an empty result becomes ``fallback``.

    Example:
        >>> sanitize_name("2nd-pass", fallback="flow")
        'flow_2nd_pass'
    """
    name = _NON_WORD.sub("_", raw).strip("_")
    if not name:
        return fallback
    if name[0].isdigit():
        return f"{fallback}_{name}"
    return name

__all__ = ["sanitize_name"]

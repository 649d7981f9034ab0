"""Why an execution or a checkpoint attempt failed: :class:`FailureInfo`, from what the engine recorded.

For a failed run or attempt the engine keeps a *status reason* (runs only)
and an :class:`~kitaru.engine.runs.ExceptionRecord`: the traceback text and
the import path of the exception class (``builtins.ValueError``). From those:

* the message is the status reason, else the traceback's final
  ``Type: message`` (every line of a multi-line message), else a fallback;
* the exception type is the class named on that line, confirmed against the
  recorded import path (the path's last part when the traceback has no such
  line);
* the origin (user code, runtime, backend, divergence, timeout ...) comes
  from :func:`kitaru.errors.classify_failure_origin`; a checkpoint attempt or
  flow body stopped at its timeout recorded ``KitaruTimeoutError`` (or, for an
  attempt a flow's timeout stopped, the deadline's interrupt), origin ``timeout``;
  a model request refused by the execution's budget recorded
  ``KitaruBudgetExceededError``, origin ``budget`` (:mod:`kitaru.execution.budgets`).

Only parsing happens here; :mod:`kitaru.client.reading` reads the records.
``FailureInfo`` is also importable from :mod:`kitaru.client.models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from kitaru.errors import FailureOrigin, classify_failure_origin

_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s|:$|$)")


@dataclass(frozen=True)
class FailureInfo:
    """Why an execution or checkpoint failed.

    Attributes:
        message: The status reason, else the last traceback line.
        exception_type: The exception class name parsed from the traceback.
        traceback: The recorded traceback, if any.
        origin: Where the failure came from.
    """

    message: str
    exception_type: str | None = None
    traceback: str | None = None
    origin: FailureOrigin = FailureOrigin.UNKNOWN


def _lines(text: str | None) -> list[str]:
    return [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()]


def _exception_line(traceback: str | None, source: str | None) -> tuple[int, str] | None:
    """Find the ``Type: message`` line that ends a traceback.

    Scans from the end (back to the last ``Traceback`` header) so multi-line
    messages are handled: the line must be unindented, start with a dotted
    identifier followed by ``:`` (or be only the identifier), and name the
    class the engine recorded (``source``) or, without one, a CapWords class
    name.

    Returns:
        The line's index and the exception class name, or None.
    """
    expected = source.rsplit(".", 1)[-1] if source else None
    lines = _lines(traceback)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.startswith("Traceback (most recent call last)"):
            break
        if line[:1].isspace():
            continue  # a stack frame or an indented message line
        match = _EXCEPTION_LINE.match(line)
        if not match:
            continue
        name = match.group(1).removeprefix("builtins.")
        short = name.rsplit(".", 1)[-1]
        if (expected is not None and short == expected) or (expected is None and short[:1].isupper()):
            return index, name
    return None


def parse_exception_type(traceback: str | None, source: str | None = None) -> str | None:
    """Return the exception class named by a traceback's tail (``Type: message``).

    Args:
        traceback: The recorded traceback.
        source: The engine's import path of the exception class
            (``builtins.ValueError``); used to confirm the traceback line and
            as the answer when the traceback has no such line.
    """
    found = _exception_line(traceback, source)
    if found is not None:
        return found[1]
    if source:
        return source.rsplit(".", 1)[-1]
    return None


def failure_message(status_reason: str | None, traceback: str | None, source: str | None, fallback: str) -> str:
    """The status reason, else the traceback's final ``Type: message`` (all its lines), else ``fallback``."""
    if status_reason:
        return status_reason
    lines = _lines(traceback)
    found = _exception_line(traceback, source)
    if found is not None:
        return "\n".join(line.strip() for line in lines[found[0] :])
    return lines[-1].strip() if lines else fallback


def build_failure(*, status_reason: str | None, exception_info: Any, fallback: str) -> FailureInfo:
    """Describe a failure from the engine's status reason and recorded exception.

    Args:
        status_reason: The run's status reason (attempts have none).
        exception_info: What the engine recorded about the exception: an
            :class:`~kitaru.engine.runs.ExceptionRecord` or anything with
            ``traceback`` and ``source`` attributes; None if nothing was.
        fallback: The message when there is neither a reason nor a traceback.
    """
    traceback = getattr(exception_info, "traceback", None) or None
    source = getattr(exception_info, "source", None)
    exception_type = parse_exception_type(traceback, source)
    return FailureInfo(
        message=failure_message(status_reason, traceback, source, fallback),
        exception_type=exception_type,
        traceback=traceback,
        origin=classify_failure_origin(status_reason, traceback, exception_type),
    )


ENGINE_PACKAGES = ("zenml", "kitaru", "kitaru_local", "kitaru_aws", "kitaru_gcp", "kitaru_azure")
"""Packages whose frames are machinery, not the user's code (Kitaru itself and its engine)."""

_FRAME_LINE = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+')


@cache
def _machinery_roots() -> tuple[str, ...]:
    """The installed directories of :data:`ENGINE_PACKAGES` (found without importing them)."""
    roots = []
    for name in ENGINE_PACKAGES:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            roots.append(str(Path(location).resolve()) + "/")
    return tuple(roots)


def is_machinery_frame(path: str) -> bool:
    """Whether a traceback frame's file belongs to Kitaru or its engine rather than to the user."""
    try:
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):
        resolved = path
    return resolved.startswith(_machinery_roots())


def user_traceback(traceback: str | None) -> str | None:
    """A traceback with Kitaru's and the engine's frames folded away, so the user's code stands out.

    Each frame is a ``File "...", line N, in f`` line and the indented source
    and caret lines under it. Frames of :data:`ENGINE_PACKAGES` are dropped;
    each run of dropped frames leaves one line saying how many, so nothing is
    silently missing. Headers, chained-exception lines and the final
    ``Type: message`` lines are kept as they are.

    Args:
        traceback: The recorded traceback text.

    Returns:
        The folded traceback, or None when there is none.
    """
    if not traceback:
        return None
    kept: list[str] = []
    hidden = 0
    dropping = False
    for line in traceback.rstrip().splitlines():
        frame = _FRAME_LINE.match(line)
        if frame is not None:
            dropping = is_machinery_frame(frame.group("path"))
            if dropping:
                hidden += 1
                continue
        elif dropping and line.startswith((" ", "\t")):
            continue  # the source and caret lines of a dropped frame
        else:
            dropping = False
        if hidden:
            kept.append(f"  [{hidden} Kitaru/engine frame{'s' if hidden != 1 else ''} hidden]")
            hidden = 0
        kept.append(line)
    if hidden:
        kept.append(f"  [{hidden} Kitaru/engine frame{'s' if hidden != 1 else ''} hidden]")
    return "\n".join(kept)


__all__ = [
    "ENGINE_PACKAGES",
    "FailureInfo",
    "build_failure",
    "failure_message",
    "is_machinery_frame",
    "parse_exception_type",
    "user_traceback",
]

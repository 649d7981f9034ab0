"""Tracebacks in an execution's logs, with Kitaru's and the engine's frames folded away.

A traceback reaches the stored logs in one of two shapes:

* one entry holding all of it: a ``logging`` record with ``exc_info`` (the
  engine's "An exception has occurred." for a failed checkpoint or flow
  body, or a user's ``logger.exception``);
* one entry per write: ``traceback.print_exc()`` (or an uncaught exception
  in a thread) writes the header, each frame and the final ``Type: message``
  line separately, and the engine stores each write as an entry.

:func:`fold_tracebacks` finds both and passes each traceback's text through
:func:`kitaru.execution.failures.user_traceback`, the one helper that tells
the user's frames from the machinery's: the default ``kitaru executions
logs`` view shows the user's code, with a line saying how many frames were
hidden; ``-vv`` shows the entries as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kitaru.execution.failures import user_traceback
from kitaru.logs.entries import LogEntry

TRACEBACK_HEADER = "Traceback (most recent call last):"
CHAIN_SEPARATORS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
"""The lines Python writes between the tracebacks of chained exceptions."""
FRAME_MARKER = 'File "'


def is_chain_separator(message: str) -> bool:
    """Whether ``message`` is the line that links two chained tracebacks."""
    return message.strip().startswith(CHAIN_SEPARATORS)


def continues_traceback(message: str) -> bool:
    """Whether an entry written after a traceback's header is still part of its frames.

    Frames, their source and caret lines are indented; blank lines, a
    chained traceback's header and the separator line also belong to it.
    """
    return (
        not message.strip()
        or message[:1] in (" ", "\t")
        or message.startswith(TRACEBACK_HEADER)
        or is_chain_separator(message)
    )


def traceback_end(entries: Sequence[LogEntry], start: int) -> int:
    """Where a traceback written one entry per line, starting at ``start``, ends (exclusive).

    After the header come entries that :func:`continues_traceback`; the first
    other entry of the same stream is the exception line (``Type: message``),
    which ends the traceback unless a chained one follows it.
    """
    stream = (entries[start].source, entries[start].checkpoint_name)
    end = start + 1
    while end < len(entries) and (entries[end].source, entries[end].checkpoint_name) == stream:
        if continues_traceback(entries[end].message):
            end += 1
            continue
        end += 1  # the exception line
        if not (end < len(entries) and is_chain_separator(entries[end].message)):
            break
    return end


def fold_message(message: str) -> str:
    """One message with the machinery's frames folded (unchanged when it holds no frame)."""
    if FRAME_MARKER not in message:
        return message
    return user_traceback(message) or message


def fold_tracebacks(entries: Sequence[LogEntry]) -> list[LogEntry]:
    """Fold Kitaru's and the engine's frames out of every traceback in ``entries``.

    A traceback written one entry per line becomes one entry (the first
    one's time, level and checkpoint) holding the folded text; a traceback
    inside one entry is folded in place. Other entries are returned as they are.

    Args:
        entries: Log entries in the order they are shown.

    Returns:
        The entries to show.
    """
    shown: list[LogEntry] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        if entry.message.strip() == TRACEBACK_HEADER:
            end = traceback_end(entries, index)
            text = "\n".join(part.message.rstrip("\n") for part in entries[index:end])
            shown.append(replace(entry, message=fold_message(text)))
            index = end
            continue
        shown.append(replace(entry, message=fold_message(entry.message)) if FRAME_MARKER in entry.message else entry)
        index += 1
    return shown


__all__ = ["fold_tracebacks", "traceback_end"]

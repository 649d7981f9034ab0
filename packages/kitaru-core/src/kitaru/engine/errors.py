"""Errors the engine port raises in place of the engine's own exceptions."""

from __future__ import annotations


class RecordNotFound(LookupError):
    """The engine has no record with the id or name asked for.

    The domain turns it into a :class:`~kitaru.errors.KitaruStateError` whose
    message says what to list or create instead.
    """


class RecordConflict(RuntimeError):
    """The engine refused a change because the record changed meanwhile.

    For example: continuing an execution that another process is continuing
    already, or updating a run that finished between a read and a write.
    """


__all__ = ["RecordConflict", "RecordNotFound"]

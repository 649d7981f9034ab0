"""Replace one engine function or method with Kitaru's wrapper of it, once per process.

Several adapter modules change how an engine call behaves by wrapping it
(:mod:`~kitaru._engine.interrupted_steps`, :mod:`~kitaru._engine.launch_logs`,
:mod:`~kitaru._engine.output_storage`,
:mod:`~kitaru._engine.unreachable_store`, :mod:`~kitaru._engine.stack_integrations`).
Each gives :func:`replace_once` a factory that builds the wrapper from the
original::

    def skip_when_down(export):
        def export_unless_unreachable(self, batch):
            ...
            return export(self, batch)
        return export_unless_unreachable

    replace_once(ArtifactLogExporter, "export", skip_when_down)

The wrapper takes the original's name and docstring (``functools.wraps``)
and remembers which factories built the wrappers it stacks on, so each
factory applies once however often it is installed, and two adapter modules
can each wrap the same engine call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

MARKER = "kitaru_wrapped_by"
"""Attribute of a Kitaru wrapper: the factories (``module.qualname``) applied to the call so far."""


def replace_once(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Set ``owner.name`` to ``make(original)`` unless ``make`` already wrapped it.

    Args:
        owner: A module or class of the engine.
        name: The function or method to replace.
        make: Builds the wrapper from the original callable.
    """
    original = getattr(owner, name)
    applied: frozenset[str] = getattr(original, MARKER, frozenset())
    factory = f"{make.__module__}.{make.__qualname__}"
    if factory in applied:
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, MARKER, applied | {factory})
    setattr(owner, name, wrapper)

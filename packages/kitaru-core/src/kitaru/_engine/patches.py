"""Replace one engine function or method with Kitaru's wrapper of it, once per process.

Several adapter modules change how an engine call behaves by wrapping it
(:mod:`~kitaru._engine.interrupted_steps`, :mod:`~kitaru._engine.output_storage`,
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
and a marker, so replacing twice is a no-op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

MARKER = "kitaru_wrapped"


def replace_once(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Set ``owner.name`` to ``make(original)`` unless it already is a Kitaru wrapper.

    Args:
        owner: A module or class of the engine.
        name: The function or method to replace.
        make: Builds the wrapper from the original callable.
    """
    original = getattr(owner, name)
    if getattr(original, MARKER, False):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, MARKER, True)
    setattr(owner, name, wrapper)

"""Tell the engine where the source code of the flow about to run lives.

The engine records a *source root* with every execution and imports the
flow's module relative to it when the execution is retried, resumed or
replayed, possibly in another process. It guesses the root from the main
script, which is wrong when a flow is loaded from a target string by a
console script (``kitaru run flows.py:my_flow``, ``kitaru-mcp``): the main
script then lives in the virtualenv's ``bin`` directory. :mod:`kitaru.targets`
calls :func:`use_source_root` with the flow file's real root before running it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kitaru._engine.bootstrap import load_engine


def use_source_root(root: str | Path) -> None:
    """Make ``root`` the source root for the executions this process submits next.

    Also puts ``root`` first on ``sys.path`` so modules named relative to it
    import. The setting is process-wide and stays until changed again (a
    retry, resume or replay sets the root recorded by its execution).

    Args:
        root: The directory module names are relative to.
    """
    load_engine()
    from zenml.utils import source_utils

    entry = str(Path(root).resolve())
    if sys.path[:1] != [entry]:
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    source_utils.set_custom_source_root(entry)


__all__ = ["use_source_root"]

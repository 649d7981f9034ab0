"""Where the flow's source code lives, so any process can import it again.

The engine records a *source root* with every execution and imports the
flow's module relative to it when the execution is retried, resumed or
replayed, possibly in another process. It guesses the root from the main
script, which is wrong when a flow is loaded from a target string by a
console script (``kitaru run flows.py:my_flow``, ``kitaru-mcp``): the main
script then lives in the virtualenv's ``bin`` directory. So :mod:`kitaru.targets`
calls :func:`use_source_root` with the flow file's real root before running
it, every flow body records the root as run metadata
(:data:`~kitaru.execution.keys.SOURCE_ROOT_KEY`), and
:func:`make_flow_importable` uses it when the execution continues elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.runs import RunRecord
from kitaru.execution.keys import SOURCE_ROOT_KEY


def use_source_root(root: str | Path) -> None:
    """Make ``root`` the source root for the executions this process submits next.

    Also puts ``root`` first on ``sys.path`` so modules named relative to it
    import. The setting is process-wide and stays until changed again (a
    retry, resume or replay sets the root recorded by its execution).

    Args:
        root: The directory module names are relative to.
    """
    entry = str(Path(root).resolve())
    if sys.path[:1] != [entry]:
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    get_engine().runtime.set_source_root(entry)


def module_root(func: Callable[..., Any]) -> Path | None:
    """The directory ``func``'s module is imported relative to, or None if it has no file.

    ``/repo/agents/support.py`` imported as ``agents.support`` has the root
    ``/repo``; a package's ``__init__.py`` counts as one more part.
    """
    name = getattr(func, "__module__", None)
    file = getattr(sys.modules.get(name or ""), "__file__", None)
    if not name or name == "__main__" or not file:
        return None
    parts = name.split(".")
    path = Path(file).resolve()
    if path.stem == "__init__":
        parts.append("__init__")
    root = path.with_suffix("")
    for _ in parts:
        root = root.parent
    return root


def ensure_source_root(func: Callable[..., Any]) -> None:
    """Give the engine a source root when it cannot guess one: the root of ``func``'s module.

    The engine guesses from the main script, and there is none when a flow is
    started from ``python -c``, a REPL or a test runner's worker process;
    without a root it cannot record where the flow's code lives and refuses
    to start the execution.
    """
    if get_engine().runtime.source_root() is not None:
        return
    root = module_root(func)
    if root is not None:
        use_source_root(root)


def make_flow_importable(run: RunRecord) -> None:
    """Let this process import the flow of ``run``, wherever the user ran it from."""
    root = run.metadata.get(SOURCE_ROOT_KEY)
    if isinstance(root, str) and root:
        use_source_root(root)


__all__ = ["ensure_source_root", "make_flow_importable", "module_root", "use_source_root"]

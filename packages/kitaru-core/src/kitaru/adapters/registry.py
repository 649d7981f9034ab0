"""Wrapped agents by name, for the flow an agent run outside a flow runs as.

``KitaruAgent(agent).run_sync(prompt)`` outside a flow starts a flow execution
whose body finds the agent again by name (a flow's inputs are data). The
registry lives in this module, not in the adapter's: the engine may load a
flow's entrypoint through a second copy of the adapter's module, and both
copies import this one from ``sys.modules``.

A retry in another process (``kitaru executions retry``) imports the module
that created the agent to register it again: :func:`home_of` records the
module's name and the folder it is imported from, since the retry may run
from a console script whose ``sys.path`` does not have that folder.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError

AGENTS: dict[str, Any] = {}
"""Wrapped agents by name."""

HOMES: dict[str, str] = {}
"""The module that created each registered agent, by name."""


def register(name: str, agent: Any, home: str) -> None:
    """Keep ``agent`` under ``name``.

    The module that created the agent may create it again (a notebook cell
    run twice, a module reloaded): the new one replaces the old.

    Raises:
        KitaruUsageError: When an agent of another module has that name: a
            run outside a flow would otherwise find the wrong agent.
    """
    if name in AGENTS and AGENTS[name] is not agent and HOMES.get(name) != home:
        raise KitaruUsageError(
            f"Two agents are named {name!r}: one created in module {HOMES.get(name)!r}, one in {home!r}. "
            "Give each its own name (Agent(name=...) or KitaruAgent(agent, name=...))."
        )
    AGENTS[name] = agent
    HOMES[name] = home


def home_of(module_name: str) -> dict[str, str]:
    """``{"module", "root"}``: a module and the ``sys.path`` folder it was imported from ("" when unknown)."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if not path or module_name == "__main__":
        return {"module": module_name, "root": ""}
    file = Path(path).resolve()
    depth = module_name.count(".") + (1 if file.name == "__init__.py" else 0)  # /x/a/b/c.py is a.b.c below /x
    return {"module": module_name, "root": str(file.parents[depth])}


def find(name: str, home: dict[str, str]) -> Any:
    """The agent registered as ``name``, importing its home module first when this process has not created it.

    Args:
        name: The agent's name.
        home: Where it was created (:func:`home_of`).

    Raises:
        KitaruUsageError: When neither this process nor its home module creates it.
    """
    module, root = home.get("module", ""), home.get("root", "")
    if name not in AGENTS and module and module != "__main__" and module not in sys.modules:
        if root and root not in sys.path:
            sys.path.insert(0, root)  # as when the agent ran: its project before site-packages
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise KitaruUsageError(
                f"The agent {name!r} is created in module {module!r}, which cannot be imported here "
                f"({error}); run the retry from the directory the agent ran in."
            ) from error
    if name not in AGENTS:
        where = "a script run as __main__" if module == "__main__" else f"module {module!r}"
        raise KitaruUsageError(
            f"No agent named {name!r} exists in this process (it was created in {where}). Create it "
            "before running or retrying its executions, or wrap the agent run in a @kitaru.flow of "
            "your own module."
        )
    return AGENTS[name]

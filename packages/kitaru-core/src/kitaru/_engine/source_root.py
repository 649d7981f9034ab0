"""The engine's source root in a process with no main script.

The engine records with every run the directory the flow's code is imported
relative to (its *source root*). It takes one set explicitly, else the
directory of a ``zenml init`` repository, else the directory of the main
script, and without any of them it refuses to work at all: registering a
stack or starting a flow from ``python -c``, a REPL or a test runner's worker
process fails with "Unable to determine source root".

:func:`fall_back_to_cwd` gives such a process the working directory as a
stand-in root, as the engine's server does, and remembers that it is only a
stand-in: :func:`current` then answers None, so Kitaru replaces it with the
root of the flow's own module when it submits a flow
(:func:`kitaru.execution.sources.ensure_source_root`).
"""

from __future__ import annotations

import os
import sys

_stand_in: str | None = None
"""The working directory set as the root because there was none, until a real root is set."""


def _has_main_script() -> bool:
    return bool(getattr(sys.modules.get("__main__"), "__file__", None))


def fall_back_to_cwd() -> None:
    """Set the working directory as a stand-in root when the engine has no way to find one."""
    global _stand_in
    if _has_main_script():
        return
    from zenml.utils import source_utils

    try:
        source_utils.get_source_root()
    except RuntimeError:
        _stand_in = os.getcwd()
        source_utils.set_custom_source_root(_stand_in)


def current() -> str | None:
    """The engine's source root, or None while it is only the stand-in (or there is none)."""
    from zenml.utils import source_utils

    if _stand_in is not None:
        return None
    try:
        return str(source_utils.get_source_root())
    except RuntimeError:
        return None


def set_root(root: str) -> None:
    """Make ``root`` the source root of the runs this process submits next."""
    global _stand_in
    from zenml.utils import source_utils

    source_utils.set_custom_source_root(root)
    _stand_in = None


__all__ = ["current", "fall_back_to_cwd", "set_root"]

"""Public names that a package imports on first use (PEP 562), so importing the package stays cheap.

A package lists each public name with the module defining it and forwards
its module-level ``__getattr__`` here::

    _LAZY = {"KitaruClient": "kitaru.client"}

    def __getattr__(name: str) -> Any:
        return load_export(__name__, _LAZY, name, globals())

The value is cached in the package's namespace, so the import happens once.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from typing import Any


def load_export(package: str, exports: Mapping[str, str], name: str, namespace: MutableMapping[str, Any]) -> Any:
    """Import ``name`` from the module ``exports`` names for it, and keep it in ``namespace``.

    Raises:
        AttributeError: If ``name`` is not one of the package's exports.
    """
    module_name = exports.get(name)
    if module_name is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    namespace[name] = value
    return value

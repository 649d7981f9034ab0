"""Swap in a plugin manager that sees only the plugins a test names.

Code that asks :func:`kitaru.plugins.get_plugin_manager` behaves as if only
core and the given plugins were installed, so a test can show what a user
without an extra sees::

    import kitaru_local.plugin
    from kitaru.testing.managers import only_plugins

    with only_plugins(local=kitaru_local.plugin):
        kitaru.stacks.create_stack(...)   # no cloud plugin is visible here

The previous manager comes back when the block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from kitaru.plugins import manager as manager_module
from kitaru.plugins.records import PluginSource


@contextlib.contextmanager
def only_plugins(**plugins: Any) -> Iterator[manager_module.KitaruPluginManager]:
    """Make the process-wide manager one with core's built-ins plus ``plugins``.

    Args:
        **plugins: Plugin name → the module (or object) holding its hookimpls,
            registered in the order given, like entry points.

    Yields:
        The manager in use inside the block (register more plugins on it if
        a test needs them).
    """
    manager = manager_module.KitaruPluginManager()
    manager.load_builtins()
    for name, plugin in plugins.items():
        manager.register(plugin, PluginSource(name, f"kitaru-{name}", "test"))
    with manager_module._lock:
        saved = manager_module._manager
        manager_module._manager = manager
    try:
        yield manager
    finally:
        with manager_module._lock:
            manager_module._manager = saved

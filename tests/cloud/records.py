"""What every cloud plugin's records and plugin info must say about where they come from.

The plugin manager finds ``kitaru-aws``, ``kitaru-azure`` and ``kitaru-gcp``
through their ``kitaru`` entry points, so these checks also cover the
packaging: the entry point, the distribution and version stamped on each
record, the hooks the plugin implements, and that importing the plugin loads
neither the engine nor a cloud SDK (both are imported lazily).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata

from kitaru.plugins import StackProviderSpec, get_plugin_manager

CLOUD_PLUGIN_HOOKS: tuple[str, ...] = ("kitaru_llm_backends", "kitaru_stack_providers")
"""The hooks each cloud plugin implements: its stack types and its LLM backend."""


def assert_entry_point(plugin: str) -> None:
    """``kitaru-PLUGIN`` declares the ``kitaru`` entry point ``PLUGIN = kitaru_PLUGIN.plugin``."""
    [entry_point] = [ep for ep in metadata.entry_points(group="kitaru") if ep.name == plugin]
    assert entry_point.value == f"kitaru_{plugin}.plugin"
    assert entry_point.dist is not None and entry_point.dist.name == f"kitaru-{plugin}"


def assert_from_cloud_plugin(plugin: str, *records: StackProviderSpec) -> None:
    """``records`` come from the installed ``kitaru-PLUGIN`` distribution, which loaded cleanly.

    Args:
        plugin: The plugin (and provider) name: ``aws``, ``azure`` or ``gcp``.
        *records: Stack provider records the plugin contributes.
    """
    distribution = f"kitaru-{plugin}"
    version = metadata.version(distribution)
    assert_entry_point(plugin)
    for record in records:
        assert record.provider == plugin, record.key
        assert record.source is not None, record.key
        assert (record.source.plugin, record.source.distribution, record.source.version) == (
            plugin, distribution, version,
        )
    manager = get_plugin_manager()
    [info] = [info for info in manager.plugins() if info.name == plugin]
    assert (info.distribution, info.version, info.hooks) == (
        distribution, version, CLOUD_PLUGIN_HOOKS,
    )
    assert not [problem for problem in manager.problems if plugin in problem]


def modules_loaded_by(statement: str, prefixes: Iterable[str]) -> list[str]:
    """The modules named ``PREFIX...`` that a fresh interpreter holds after ``statement``.

    Runs in a subprocess so nothing this test session imported counts.
    """
    code = (
        f"import sys\n{statement}\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({tuple(prefixes)!r}))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.split()

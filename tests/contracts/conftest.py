"""Parametrize the contract suites over every record of every installed plugin.

The fixtures the suites need (``stack_provider``, ``serializer``,
``log_store``, ``llm_backend``) are filled in here from
``kitaru.plugins.get_plugin_manager()``, so core's built-ins, kitaru-local and
any other installed plugin are all checked. A family nobody provides (LLM
backends, until a plugin ships one) has nothing to check: its contract items
are deselected rather than reported as skips.
"""

from __future__ import annotations

from typing import Any

import pytest

from kitaru.plugins import KitaruPluginManager, get_plugin_manager

FAMILIES: dict[str, str] = {
    "kitaru_stack_providers": "stack_provider",
    "kitaru_artifact_serializers": "serializer",
    "kitaru_log_stores": "log_store",
    "kitaru_llm_backends": "llm_backend",
}
"""Hook name -> the contract fixture its records fill."""


def records_by_hook(manager: KitaruPluginManager) -> dict[str, list[Any]]:
    """Every record the manager's typed facade returns, by hook name."""
    return {
        "kitaru_stack_providers": list(manager.stack_providers().values()),
        "kitaru_artifact_serializers": list(manager.artifact_serializers()),
        "kitaru_log_stores": list(manager.log_stores().values()),
        "kitaru_llm_backends": list(manager.llm_backends().values()),
    }


def record_id(record: Any) -> str:
    """A readable test id: ``plugin:name``."""
    plugin = record.source.plugin if record.source else "unstamped"
    return f"{plugin}:{record.name}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    records = records_by_hook(get_plugin_manager())
    for hook_name, fixture in FAMILIES.items():
        if fixture in metafunc.fixturenames:
            family = records[hook_name]
            metafunc.parametrize(fixture, family, ids=[record_id(r) for r in family])


@pytest.fixture
def contract_families() -> dict[str, str]:
    """Hook name -> contract fixture, for the checks in ``test_contracts.py``."""
    return dict(FAMILIES)


@pytest.fixture
def installed_records() -> dict[str, list[Any]]:
    """Every record of every installed plugin, by hook name (re-read for each test)."""
    return records_by_hook(get_plugin_manager())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect contract items of families that no installed plugin provides."""
    records = records_by_hook(get_plugin_manager())
    empty = {fixture for hook, fixture in FAMILIES.items() if not records[hook]}
    unused = [
        item
        for item in items
        if any(fixture in getattr(item, "fixturenames", ()) for fixture in empty)
    ]
    if unused:
        items[:] = [item for item in items if item not in unused]
        config.hook.pytest_deselected(items=unused)

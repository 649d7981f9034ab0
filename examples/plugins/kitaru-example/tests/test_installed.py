"""The installed distribution is found through its entry point, as users get it.

Run after installing the plugin (``pip install -e './kitaru-example[test]'``):
this is the one test that checks ``pyproject.toml`` rather than the modules.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from kitaru.plugins import KitaruPluginManager


def test_kitaru_finds_the_plugin_through_its_entry_point() -> None:
    try:
        metadata.distribution("kitaru-example")
    except metadata.PackageNotFoundError:
        pytest.fail("kitaru-example is not installed here; run pip install -e '.[test]' first.")
    manager = KitaruPluginManager()  # a fresh manager, loading what is installed
    manager.load_builtins()
    manager.load_entry_points()
    assert manager.problems == []
    sources = [
        manager.stack_providers()["shelf"].source,
        next(spec for spec in manager.artifact_serializers() if spec.name == "note").source,
        manager.llm_backends()["echo"].source,
        manager.log_stores()["example-jsonl"].source,
    ]
    for source in sources:
        assert source is not None
        assert (source.plugin, source.distribution, source.version) == ("example", "kitaru-example", "0.1.0")

"""Shared fixtures: the plugin's records, stamped by a plugin manager holding only this plugin."""

from __future__ import annotations

import pytest
from kitaru.plugins import KitaruPluginManager
from kitaru.testing import plugin_manager_with

import kitaru_example.plugin


@pytest.fixture
def manager() -> KitaruPluginManager:
    """A fresh manager with just this plugin, stamped as if installed under its entry point."""
    return plugin_manager_with(kitaru_example.plugin, name="example", distribution="kitaru-example", version="0.1.0")

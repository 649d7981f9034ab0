"""Helpers for testing Kitaru plugins the way Kitaru tests its own.

* :mod:`kitaru.testing.contracts`: one pytest contract suite per hook family
  (``StackProviderContract``, ``ArtifactSerializerContract``,
  ``LogStoreContract``, ``LlmBackendContract``). Subclass one in a ``Test``
  class and give it the record to check through a fixture. Needs ``pytest``.
* :func:`make_distribution`: write a throwaway installed distribution with a
  real ``kitaru`` entry point, to test discovery without ``pip install``.
* :func:`plugin_manager_with`: a fresh plugin manager holding just the
  plugins you give it, so a test never depends on what else is installed.
* :func:`cassette`: run flows with their model requests answered from a
  cassette file, offline and without credentials (``docs/testing.md``).

Cassettes in pytest: record once (run the flow against the provider, then
``kitaru executions export ID --cassette tests/cassettes/agent.json``), commit
the file, and run the flow inside ``cassette()`` in your tests::

    import kitaru
    from kitaru.testing import cassette

    from my_agent import research

    def test_research_offline():
        with cassette("tests/cassettes/agent.json"):
            assert research.run("durable agents").wait() == "..."

A request that is not in the cassette fails the execution at once with
``KitaruCassetteMiss`` (naming the call and how its request differs from the
closest recorded one); ``cassette(path, mode="record")`` sends such requests
to the provider instead and adds them to the file.

Example, in your plugin's test suite::

    import pytest
    from kitaru.testing import plugin_manager_with
    from kitaru.testing.contracts import LogStoreContract

    import kitaru_hello.plugin

    class TestHelloLogStore(LogStoreContract):
        @pytest.fixture
        def log_store(self):
            manager = plugin_manager_with(kitaru_hello.plugin, name="hello")
            return manager.log_stores()["hello"]

Importing this package does not import pytest or the engine.
"""

from __future__ import annotations

from types import ModuleType

from kitaru.plugins.manager import KitaruPluginManager
from kitaru.plugins.records import PluginSource
from kitaru.testing.cassettes import cassette
from kitaru.testing.distributions import ThrowawayDistribution, make_distribution

__all__ = [
    "ThrowawayDistribution",
    "cassette",
    "make_distribution",
    "plugin_manager_with",
]


def plugin_manager_with(
    plugin: ModuleType | object,
    *,
    name: str = "test",
    distribution: str = "test-plugin",
    version: str = "0.0.0",
    builtins: bool = False,
) -> KitaruPluginManager:
    """Return a new plugin manager with ``plugin`` registered, and nothing installed.

    Records come back stamped with a :class:`~kitaru.plugins.PluginSource`
    built from ``name``, ``distribution`` and ``version``, exactly as if the
    plugin had been installed under that entry point.

    Args:
        plugin: A module (or any object) with ``@kitaru.hookimpl`` functions.
        name: The plugin name (the entry-point name in ``pyproject.toml``).
        distribution: The distribution name to stamp on its records.
        version: The version to stamp on its records.
        builtins: Also register core's built-in plugins first, as the real
            manager does (useful to test priorities and name conflicts).

    Returns:
        The manager; ask it through its typed facade
        (``manager.artifact_serializers()`` ...) and check ``manager.problems``.
    """
    manager = KitaruPluginManager()
    if builtins:
        manager.load_builtins()
    manager.register(plugin, PluginSource(plugin=name, distribution=distribution, version=version))
    return manager

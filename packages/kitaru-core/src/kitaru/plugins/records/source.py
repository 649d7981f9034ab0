"""Where a plugin record came from: :class:`PluginSource`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PluginSource:
    """Where a record came from; the plugin manager stamps it on every record.

    Attributes:
        plugin: The plugin name (the entry-point name, or ``core`` for built-ins).
        distribution: The distribution that installed the plugin.
        version: That distribution's version, or ``unknown``.
    """

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"plugin '{self.plugin}' ({self.distribution} {self.version})"


__all__ = ["PluginSource"]

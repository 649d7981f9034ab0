"""Kitaru's plugin system.

A plugin is a module with hook implementations, announced through the
``kitaru`` entry-point group in its ``pyproject.toml``::

    [project.entry-points.kitaru]
    numpy = "kitaru_numpy.plugin"

and the plugin module itself::

    import kitaru
    from kitaru.plugins.records import ArtifactSerializerSpec

    @kitaru.hookimpl
    def kitaru_artifact_serializers():
        yield ArtifactSerializerSpec(name="numpy", content_type="application/x-npy", ...)

``kitaru.hookimpl`` is the only import a plugin author needs beyond the
records. See ``docs/plugins/hooks.md`` for every hook.
"""

from kitaru.plugins.catalog import artifact_store_backend
from kitaru.plugins.hookspecs import hookimpl, hookspec
from kitaru.plugins.manager import (
    KitaruPluginManager,
    PluginInfo,
    PluginLoadError,
    get_plugin_manager,
    reset_plugin_manager,
)
from kitaru.plugins.records import (
    ArtifactSerializerSpec,
    ArtifactStoreBackend,
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    LlmBackendSpec,
    LlmRequest,
    LlmResponseFormat,
    LlmResult,
    LlmTool,
    LlmToolCall,
    LogRow,
    LogStoreSpec,
    ModelPrice,
    PluginRecordError,
    PluginSource,
    ReadLogs,
    StackComponents,
    StackField,
    StackProviderSpec,
    StackSpec,
)

__all__ = [
    "ArtifactSerializerSpec",
    "ArtifactStoreBackend",
    "ArtifactStoreComponents",
    "ComponentSpec",
    "ConnectorSpec",
    "KitaruPluginManager",
    "LlmBackendSpec",
    "LlmRequest",
    "LlmResponseFormat",
    "LlmResult",
    "LlmTool",
    "LlmToolCall",
    "LogRow",
    "LogStoreSpec",
    "ModelPrice",
    "PluginInfo",
    "PluginLoadError",
    "PluginRecordError",
    "PluginSource",
    "StackField",
    "ReadLogs",
    "StackComponents",
    "StackProviderSpec",
    "StackSpec",
    "artifact_store_backend",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "reset_plugin_manager",
]

"""Typed, frozen records that plugins return from Kitaru's registration hooks.

A plugin never subclasses anything from Kitaru: it returns these records from a
hook. The plugin manager stamps each record with a :class:`PluginSource` saying
which plugin and distribution provided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PluginSource:
    """Where a record came from.

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


@dataclass(frozen=True)
class StackField:
    """One field a stack type accepts (``--cluster``, ``--region`` ...).

    Attributes:
        name: The field name as used in Python and YAML (``execution_role``).
        description: One line for help texts.
        required: Whether creating a stack of this type needs it.
    """

    name: str
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class StackProviderSpec:
    """A stack type and the cloud provider behind it.

    Attributes:
        name: The stack type (``local``, ``sagemaker``, ...).
        provider: The cloud provider (``aws``, ``gcp``, ``azure``) or None.
        description: One line shown by ``kitaru plugins`` and help texts.
        fields: The fields the type requires and accepts.
        artifact_store_schemes: URI schemes its artifact store accepts
            (``s3``); empty means a local path.
        credential_formats: Accepted ``--credentials`` string formats.
        build_components: Turns a validated spec (a mapping of field values)
            into the engine components to register. Called lazily.
        verify: Checks access with the provider's own SDK; raises with a clear
            message when the bucket is missing or not writable. Called lazily.
        source: Filled in by the plugin manager.
    """

    name: str
    provider: str | None = None
    description: str = ""
    fields: tuple[StackField, ...] = ()
    artifact_store_schemes: tuple[str, ...] = ()
    credential_formats: tuple[str, ...] = ()
    build_components: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    verify: Callable[[Mapping[str, Any]], None] | None = None
    source: PluginSource | None = field(default=None, compare=False)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Names of the fields this stack type requires."""
        return tuple(f.name for f in self.fields if f.required)


@dataclass(frozen=True)
class ArtifactSerializerSpec:
    """A way to write Python values to bytes and read them back.

    Kitaru asks serializers in descending ``priority`` whether they can write a
    value; the first that can, writes it. The serializer's ``name`` is stored
    next to the bytes, so the same serializer reads them back.

    Attributes:
        name: Unique serializer name, stored with every artifact it writes.
        content_type: MIME type of the bytes (``application/json``).
        python_types: The types this serializer is meant for (for listings
            and fast matching; ``can_write`` has the final word).
        can_write: Whether this serializer can write the given value.
        write: Turns the value into bytes.
        read: Turns bytes back into a value; gets the recorded Python type
            (or None when it cannot be imported).
        priority: Higher runs first. Built-ins use 0..100.
        source: Filled in by the plugin manager.
    """

    name: str
    content_type: str
    can_write: Callable[[Any], bool]
    write: Callable[[Any], bytes]
    read: Callable[[bytes, type | None], Any]
    python_types: tuple[type, ...] = ()
    priority: int = 0
    source: PluginSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LogStoreSpec:
    """A runtime-log backend.

    Attributes:
        name: Backend name (``artifact-store``, ``otel``, ``datadog``).
        description: One line for listings.
        requires_endpoint: Whether ``kitaru log-store set`` needs ``--endpoint``.
        read_logs: Reads stored log entries back for ``executions logs``.
            Called with the execution id and keyword filters; returns a list of
            mappings with ``message``, ``level``, ``timestamp`` ... keys.
        source: Filled in by the plugin manager.
    """

    name: str
    description: str = ""
    requires_endpoint: bool = True
    read_logs: Callable[..., list[Mapping[str, Any]]] | None = None
    source: PluginSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LlmBackendSpec:
    """An LLM provider that ``kitaru.llm()`` can call.

    Attributes:
        name: Backend name (``openai``).
        prefixes: Model prefixes it serves (``openai/``).
        credential_env: Environment variables that hold its credentials.
        extra: The pip extra that installs it (``openai`` for ``kitaru[openai]``).
        call: Sends messages to a model and returns a mapping with ``text``
            and token counts. Called lazily.
        source: Filled in by the plugin manager.
    """

    name: str
    prefixes: tuple[str, ...]
    credential_env: tuple[str, ...] = ()
    extra: str | None = None
    call: Callable[..., Mapping[str, Any]] | None = None
    source: PluginSource | None = field(default=None, compare=False)


HOOK_RECORD_TYPES: dict[str, type] = {
    "kitaru_stack_providers": StackProviderSpec,
    "kitaru_artifact_serializers": ArtifactSerializerSpec,
    "kitaru_log_stores": LogStoreSpec,
    "kitaru_llm_backends": LlmBackendSpec,
}
"""Which record type each registration hook returns."""

"""Typed, frozen records that plugins return from Kitaru's registration hooks.

A plugin never subclasses anything from Kitaru: it returns these records from a
hook, and they check themselves when built (a missing ``build_components`` or a
malformed name raises :class:`PluginRecordError` where the record is written).
The plugin manager stamps each record with a :class:`PluginSource` saying which
plugin and distribution provided it.

One module per hook family:

* :mod:`~kitaru.plugins.records.stacks`: :class:`StackProviderSpec`,
  :class:`StackField`, :class:`ArtifactStoreBackend`, and what
  ``build_components`` reads and returns: :class:`StackSpec`,
  :class:`StackComponents`, :class:`ComponentSpec`, :class:`ConnectorSpec`;
* :mod:`~kitaru.plugins.records.serializers`: :class:`ArtifactSerializerSpec`;
* :mod:`~kitaru.plugins.records.logs`: :class:`LogStoreSpec`, :class:`ReadLogs`;
* :mod:`~kitaru.plugins.records.llm`: :class:`LlmBackendSpec`,
  :class:`LlmRequest`, :class:`LlmResult`, :class:`ModelPrice`, and the tool
  records :class:`LlmTool`, :class:`LlmToolCall`, :class:`LlmResponseFormat`.
"""

from kitaru.plugins.records.llm import (
    LlmBackendSpec,
    LlmRequest,
    LlmResponseFormat,
    LlmResult,
    LlmTool,
    LlmToolCall,
    ModelPrice,
)
from kitaru.plugins.records.logs import LogRow, LogStoreSpec, ReadLogs
from kitaru.plugins.records.serializers import ArtifactSerializerSpec
from kitaru.plugins.records.source import PluginSource
from kitaru.plugins.records.stacks import (
    COMPONENT_TARGETS,
    RESERVED_FIELD_NAMES,
    ArtifactStoreBackend,
    ArtifactStoreComponents,
    BuildComponents,
    ComponentSpec,
    ConnectorSpec,
    StackComponents,
    StackField,
    StackProviderSpec,
    StackSpec,
    VerifyAccess,
)
from kitaru.plugins.records.validation import PluginRecordError

STACK_SPEC_DOC = """\
``build_components`` (and ``verify``, and an :class:`ArtifactStoreBackend`'s
``build``) get a read-only :class:`StackSpec`. Kitaru has validated it against
the type's declared fields before the call. Read it typed or as a mapping::

    spec.name                       # "team": name components after it (the default)
    spec.artifact_store             # "s3://bucket/kit", or None: the type's default
    spec.credentials                # "aws-profile:dev" (raw --credentials), or None
    spec.value("region")            # "eu-west-1": one value per declared field,
    spec.value("cluster")           #   None when not given
    spec.require("cluster")         # the value, or a usage error naming --cluster
    spec.extra_for("orchestrator")  # {"synchronous": False}: --extra TARGET.FIELD=VALUE,
                                    #   one (maybe empty) entry per target the type has
    spec["region"], dict(spec)      # the plain mapping older plugins read

``build_components`` returns :class:`StackComponents`::

    StackComponents(
        service_connector=ConnectorSpec(          # optional; registered first
            connector_type="aws", auth_method="implicit",
            configuration={"region": "eu-west-1"},
        ),
        orchestrator=ComponentSpec(
            flavor="sagemaker",
            configuration={"execution_role": "arn:..."},
            connector=True,                       # link it to the connector above
            connector_resource_id="eu-west-1",    # the resource it reaches
        ),
        artifact_store=ComponentSpec(flavor="s3", configuration={"path": "s3://bucket/kit"}),
        container_registry=ComponentSpec(flavor="aws", configuration={"uri": "..."}),
    )

Components and the connector are named like the stack unless given a ``name``.
"""
"""What a stack provider's functions read and return (quoted in the plugin docs)."""

HOOK_RECORD_TYPES: dict[str, type] = {
    "kitaru_stack_providers": StackProviderSpec,
    "kitaru_artifact_serializers": ArtifactSerializerSpec,
    "kitaru_log_stores": LogStoreSpec,
    "kitaru_llm_backends": LlmBackendSpec,
}
"""Which record type each registration hook returns."""

__all__ = [
    "COMPONENT_TARGETS",
    "HOOK_RECORD_TYPES",
    "RESERVED_FIELD_NAMES",
    "STACK_SPEC_DOC",
    "ArtifactSerializerSpec",
    "ArtifactStoreBackend",
    "ArtifactStoreComponents",
    "BuildComponents",
    "ComponentSpec",
    "ConnectorSpec",
    "LlmBackendSpec",
    "LlmRequest",
    "LlmResponseFormat",
    "LlmResult",
    "LlmTool",
    "LlmToolCall",
    "LogRow",
    "LogStoreSpec",
    "ModelPrice",
    "PluginRecordError",
    "PluginSource",
    "ReadLogs",
    "StackComponents",
    "StackField",
    "StackProviderSpec",
    "StackSpec",
    "VerifyAccess",
]

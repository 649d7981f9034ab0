"""Small helpers for stack-provider plugins, so each cloud does not rewrite them.

A plugin's ``build_components`` usually computes a configuration per component
and then lays the user's ``--extra`` overrides over it::

    from kitaru.plugins.stack_helpers import component_spec

    def build_components(spec: StackSpec) -> StackComponents:
        return StackComponents(
            orchestrator=component_spec(spec, "orchestrator", "sagemaker",
                                        {"execution_role": spec.require("execution_role")},
                                        connector=True),
            ...
        )

Nothing here imports a cloud SDK or the engine.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from kitaru.plugins.records.stacks import ComponentSpec, ConnectorSpec, StackSpec, thaw

VERIFY_OBJECT_PREFIX = ".kitaru-verify-"
"""Name prefix of the probe object a ``verify`` function writes and deletes."""


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``overrides`` laid over it; nested mappings merge, later wins.

    Neither argument is modified and the result shares no mutable value with them.
    """
    result: dict[str, Any] = thaw(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = thaw(value)
    return result


def extra_for(spec: Mapping[str, Any], target: str) -> dict[str, Any]:
    """The user's ``--extra TARGET.*`` overrides for one component (a fresh dict)."""
    if isinstance(spec, StackSpec):
        return spec.extra_for(target)
    extra = spec.get("extra") or {}
    return copy.deepcopy(dict(extra.get(target) or {}))


def component_spec(
    spec: Mapping[str, Any],
    target: str,
    flavor: str,
    configuration: Mapping[str, Any] | None = None,
    *,
    connector: bool = False,
    connector_resource_id: str | None = None,
) -> ComponentSpec:
    """Describe one engine component named like the stack, with the user's ``--extra`` laid over it.

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec`.
        target: ``orchestrator``, ``artifact_store`` or ``container_registry``.
        flavor: The engine flavor (``sagemaker``, ``s3`` ...).
        configuration: What the plugin computed from the fields; the user's
            ``--extra`` overrides for ``target`` win over it.
        connector: Link the component to the stack's service connector.
        connector_resource_id: The resource the connector gives it (a bucket
            URI, a cluster name, a registry URI).
    """
    return ComponentSpec(
        flavor=flavor,
        configuration=deep_merge(configuration or {}, extra_for(spec, target)),
        name=str(spec["name"]),
        connector=connector,
        connector_resource_id=connector_resource_id if connector else None,
    )


def connector_spec(
    spec: Mapping[str, Any], connector_type: str, auth_method: str, configuration: Mapping[str, Any]
) -> ConnectorSpec:
    """Describe the stack's service connector (named like the stack)."""
    return ConnectorSpec(
        connector_type=connector_type,
        auth_method=auth_method,
        configuration=copy.deepcopy(dict(configuration)),
        name=str(spec["name"]),
    )


def component(
    spec: Mapping[str, Any],
    target: str,
    flavor: str,
    configuration: Mapping[str, Any],
    *,
    connector: bool = False,
    connector_resource_id: str | None = None,
) -> dict[str, Any]:
    """:func:`component_spec` as the plain mapping older plugins return."""
    return component_spec(
        spec, target, flavor, configuration, connector=connector, connector_resource_id=connector_resource_id
    ).as_mapping()


def connector(
    spec: Mapping[str, Any], connector_type: str, auth_method: str, configuration: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`connector_spec` as the plain mapping older plugins return."""
    described = connector_spec(spec, connector_type, auth_method, configuration)
    return {
        "name": described.name,
        "connector_type": described.connector_type,
        "auth_method": described.auth_method,
        "configuration": thaw(described.configuration),
    }


def verify_object_name() -> str:
    """A unique probe object name for checking that a bucket is writable."""
    return f"{VERIFY_OBJECT_PREFIX}{uuid.uuid4().hex}"


def bucket_and_prefix(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into ``("bucket", "some/prefix")``."""
    _, _, rest = uri.strip().partition("://")
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")

"""Stack specs built the one way core builds them: :meth:`StackSpec.for_provider`.

Core hands ``build_components``, ``verify`` and an artifact-store backend's
``build`` a :class:`~kitaru.plugins.records.StackSpec`: one value per field
the stack type declares (None when not given) plus ``artifact_store`` and
``credentials``, and one (maybe empty) ``extra`` mapping per component the
type may override: ``orchestrator``, ``artifact_store`` and
``container_registry`` for a remote type, only the first two for a ``local``
stack (which is also the spec a borrowed backend receives). Tests build their
specs here, with the stack type's own record, so they never hand a plugin
something core would not: a field the type does not declare, or an override
of a component it cannot have, fails here already.

Example::

    stack_spec(SAGEMAKER_STACK_PROVIDER, "ml", artifact_store="s3://b", region="eu-west-1",
               extra={"orchestrator": {"synchronous": False}})
    local_spec("gs://b/kitaru", "gcp-service-account:/key.json")
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kitaru.plugins.records import StackProviderSpec, StackSpec
from kitaru_local.stacks import LOCAL_STACK_PROVIDER


def stack_spec(
    provider: StackProviderSpec,
    name: str = "team",
    *,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    **values: Any,
) -> StackSpec:
    """The spec of a ``provider`` stack called ``name``.

    Args:
        provider: The stack type's record (its fields and ``extra`` targets).
        name: The stack's name (every built component is named after it).
        extra: Overrides by target; targets not given are empty.
        **values: Field values (``artifact_store``, ``region`` ...); fields
            not given are None.

    Raises:
        PluginRecordError: When ``values`` names a field the type does not
            declare, or ``extra`` a component it cannot have.
    """
    return StackSpec.for_provider(provider, name, values, extra)


def local_spec(
    uri: Any, credentials: str | None = None, *, name: str = "shared", **store_extra: Any
) -> StackSpec:
    """The spec of a ``local`` stack: what it hands to the backend serving ``uri``'s scheme.

    Args:
        uri: ``--artifact-store``.
        credentials: ``--credentials``.
        name: The stack's name.
        **store_extra: ``--extra artifact_store.KEY=VALUE`` settings.
    """
    return stack_spec(
        LOCAL_STACK_PROVIDER, name, artifact_store=uri, credentials=credentials,
        extra={"artifact_store": store_extra},
    )


def unique_name(prefix: str) -> str:
    """``prefix`` plus a random suffix: for engine objects in the session's shared store."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"

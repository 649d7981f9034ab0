"""The ``local`` stack type: run flows in this process, keep artifacts on disk or in a bucket.

A local stack is the engine's ``local`` orchestrator plus an artifact store,
both named like the stack. The record declares two optional fields,
``artifact_store`` and ``credentials``; settings beyond them come as
``--extra orchestrator.FIELD=VALUE`` and ``--extra artifact_store.FIELD=VALUE``
(a local stack has no container registry to override)::

    kitaru stack create dev --extra artifact_store.path=/data/kitaru-artifacts

reaches :func:`build_local_components` as the
:class:`~kitaru.plugins.records.StackSpec` ``{"name": "dev", "artifact_store":
None, "credentials": None, "extra": {"orchestrator": {}, "artifact_store":
{"path": "/data/kitaru-artifacts"}}}`` and becomes::

    StackComponents(
        orchestrator=ComponentSpec(flavor="local", name="dev"),
        artifact_store=ComponentSpec(flavor="local", name="dev",
                                     configuration={"path": "/data/kitaru-artifacts"}),
    )

Where the artifacts go, and the access check (``verify``), are
:mod:`kitaru_local.artifact_store`'s: a directory, or a bucket whose store is
borrowed from the cloud plugin serving its scheme. Nothing here imports the
engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru.plugins.records import StackComponents, StackField, StackProviderSpec, StackSpec
from kitaru.plugins.stack_helpers import component_spec
from kitaru_local.artifact_store import LOCAL_FLAVOR, build_local_artifact_store, verify_local

LOCAL_STACK_TYPE = "local"
"""The stack type name (``--type local``, the default)."""


def build_local_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe the components of a local stack.

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted): ``name``; optionally
            ``artifact_store`` (a local directory, or a bucket URI served by an
            installed cloud plugin), ``credentials`` (for a bucket) and the
            ``orchestrator`` and ``artifact_store`` overrides.

    Returns:
        The ``local`` orchestrator and the artifact store (plus the cloud
        plugin's service connector when a bucket's credentials need one). A
        local ``path`` is made absolute; when none is given the engine picks
        its default under the config dir.

    Raises:
        KitaruUsageError: When credentials come without a bucket, or a path
            is not a directory path.
        KitaruFeatureNotAvailableError: When no installed plugin serves the
            bucket's scheme (the message names the extra to install).
    """
    spec = StackSpec.coerce(spec)
    return StackComponents.with_artifact_store(
        orchestrator=component_spec(spec, "orchestrator", LOCAL_FLAVOR),
        store=build_local_artifact_store(spec),
    )


LOCAL_STACK_PROVIDER = StackProviderSpec(
    name=LOCAL_STACK_TYPE,
    provider=None,
    description="Runs flows in this process; artifacts in a local directory or a bucket.",
    display_name="Local",
    fields=(
        StackField(
            name="artifact_store",
            description=(
                "A local directory, or a bucket URI (s3://, gs://, az://) served by an "
                "installed cloud plugin; default: under the Kitaru config dir."
            ),
            label="Artifacts",
        ),
        StackField(
            name="credentials",
            description="Credentials for a bucket artifact store, in its cloud plugin's format.",
        ),
    ),
    build_components=build_local_components,
    verify=verify_local,
)
"""The ``local`` stack type. It has no ``artifact_store_backend`` of its own (a
directory has no URI scheme), so its ``verify`` is its own: the directory check,
or the borrowed bucket backend's."""

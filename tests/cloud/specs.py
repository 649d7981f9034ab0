"""Stack specs shaped exactly like the ones core builds (see ``kitaru.stacks.request``).

Core hands a plugin ``{name, artifact_store, credentials, <each declared
field>, extra}``. ``extra`` always holds every target the stack type may
override, each a dict: ``orchestrator``, ``artifact_store`` and
``container_registry`` for a remote type, only the first two for a ``local``
stack (which is what an artifact-store backend receives). Tests build their
specs here so they never hand a plugin something core would not.

Example::

    stack_spec("ml", artifact_store="s3://b", region="eu-west-1",
               extra={"orchestrator": {"synchronous": False}})
    local_spec("gs://b/kitaru", "gcp-service-account:/key.json")
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

REMOTE_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store", "container_registry")
"""The ``extra`` targets of a remote stack type (SageMaker, Vertex, AzureML, Kubernetes)."""

LOCAL_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store")
"""The ``extra`` targets of a ``local`` stack, and so of an artifact-store backend's spec."""


def stack_spec(
    name: str = "team",
    *,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    targets: Sequence[str] = REMOTE_TARGETS,
    **fields: Any,
) -> dict[str, Any]:
    """A stack spec: ``name``, ``artifact_store`` and ``credentials`` (None unless given).

    Args:
        name: The stack's name (every built component is named after it).
        extra: Overrides by target; targets not given get an empty dict.
        targets: The targets ``extra`` has (:data:`REMOTE_TARGETS` or
            :data:`LOCAL_TARGETS`).
        **fields: The stack's options (``artifact_store``, ``region`` ...).

    Returns:
        A fresh dict; ``extra`` is a deep copy, so the caller's dicts stay untouched.

    Raises:
        ValueError: When ``extra`` names a target this kind of stack does not have.
    """
    extra = extra or {}
    unknown = sorted(set(extra) - set(targets))
    if unknown:
        raise ValueError(f"extra targets {unknown} are not among {list(targets)}")
    spec: dict[str, Any] = {"name": name, "artifact_store": None, "credentials": None}
    spec.update(fields)
    spec["extra"] = {target: copy.deepcopy(dict(extra.get(target, {}))) for target in targets}
    return spec


def local_spec(
    uri: str | None, credentials: str | None = None, *, name: str = "shared", **store_extra: Any
) -> dict[str, Any]:
    """The spec a ``local`` stack hands to the backend serving ``uri``'s scheme.

    Args:
        uri: ``--artifact-store``.
        credentials: ``--credentials``.
        name: The stack's name.
        **store_extra: ``--extra artifact_store.KEY=VALUE`` settings.
    """
    return stack_spec(
        name, artifact_store=uri, credentials=credentials,
        extra={"artifact_store": store_extra}, targets=LOCAL_TARGETS,
    )


def unique_name(prefix: str) -> str:
    """``prefix`` plus a random suffix: for engine objects in the session's shared store."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"

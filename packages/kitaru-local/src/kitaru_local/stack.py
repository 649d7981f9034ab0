"""The ``local`` stack type: run flows on this machine, keep artifacts on disk.

A local stack is a ZenML local orchestrator plus a local artifact store, both
named like the stack. It needs no field; two optional fields carry the
component overrides of ``kitaru stack create --extra TARGET.FIELD=VALUE``
(SPEC §5.4)::

    kitaru stack create dev --extra artifact_store.path=/data/kitaru-artifacts

reaches :func:`build_local_components` as::

    {"name": "dev", "artifact_store": {"path": "/data/kitaru-artifacts"}}

and becomes the component description the engine adapter registers::

    {
        "orchestrator": {"name": "dev", "flavor": "local", "configuration": {}},
        "artifact_store": {
            "name": "dev",
            "flavor": "local",
            "configuration": {"path": "/data/kitaru-artifacts"},
        },
    }

Nothing here imports the engine: the description is plain data.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import StackField, StackProviderSpec

LOCAL_STACK_TYPE = "local"
"""The stack type name (``--type local``)."""

LOCAL_FLAVOR = "local"
"""The engine flavor of both components."""

COMPONENT_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store")
"""The components a local stack has; each is also an optional field for its overrides."""


def build_local_components(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Describe the components of a local stack.

    Args:
        spec: The validated stack spec: ``name`` (the stack name, required),
            and optionally ``orchestrator`` and ``artifact_store``, each a
            mapping of component settings. ``artifact_store`` may also be a
            plain directory path, short for ``{"path": ...}``. ``None`` or a
            blank string counts as omitted.

    Returns:
        ``{"orchestrator": {...}, "artifact_store": {...}}``, each with the
        component ``name`` (the stack's), its ``flavor`` (``local``) and its
        ``configuration``. The artifact store's ``path`` is made absolute; when
        it is not given the engine picks its default under the config dir.
        The result shares no mutable object with ``spec``.

    Raises:
        KitaruUsageError: When the name is missing, a key is not a local-stack
            field, an override is not a mapping, or the path is a remote URI.
    """
    name = _stack_name(spec)
    unknown = sorted(str(key) for key in spec if key != "name" and key not in COMPONENT_TARGETS)
    if unknown:
        raise KitaruUsageError(
            f"Local stacks do not accept: {', '.join(unknown)}. "
            f"Accepted: {', '.join(COMPONENT_TARGETS)} (as --extra TARGET.FIELD=VALUE)."
        )
    components: dict[str, dict[str, Any]] = {}
    for target in COMPONENT_TARGETS:
        configuration = _overrides(spec, target)
        if target == "artifact_store" and "path" in configuration:
            configuration["path"] = str(_local_path(configuration["path"]))
        components[target] = {"name": name, "flavor": LOCAL_FLAVOR, "configuration": configuration}
    return components


def verify_local(spec: Mapping[str, Any]) -> None:
    """Check that a local stack's artifact store directory can be written.

    Nothing is created: the check walks up to the closest existing directory
    and asks the OS whether this user may write there. Without an explicit
    path there is nothing to check (the engine's default lives in the config
    dir, which Kitaru creates itself).

    Args:
        spec: The same mapping :func:`build_local_components` takes.

    Raises:
        KitaruUsageError: When the path or one of its parents is a file, or the
            closest existing directory is not writable.
    """
    path_value = _overrides(spec, "artifact_store").get("path")
    if path_value is None:
        return
    path = _local_path(path_value)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    fix = "Pass a directory you can write to with --extra artifact_store.path=DIR."
    if not existing.is_dir():
        where = "is a file" if existing == path else f"cannot be created: '{existing}' is a file"
        raise KitaruUsageError(f"Artifact store path '{path}' {where}, not a directory. {fix}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise KitaruUsageError(
            f"Artifact store path '{path}' is not writable: this user may not write to "
            f"'{existing}'. {fix} Or change the directory's permissions."
        )


def _stack_name(spec: Mapping[str, Any]) -> str:
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError(
            f"A local stack needs a name to name its components after; got {name!r}. "
            "Pass the stack name under 'name'."
        )
    return name.strip()


def _overrides(spec: Mapping[str, Any], target: str) -> dict[str, Any]:
    value = spec.get(target)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if target == "artifact_store" and isinstance(value, (str, os.PathLike)):
        return {"path": value}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise KitaruUsageError(
            f"The '{target}' field of a local stack takes a mapping of settings "
            f"(--extra {target}.FIELD=VALUE); got {type(value).__name__}."
        )
    return copy.deepcopy(dict(value))


def _local_path(value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise KitaruUsageError(
            f"artifact_store.path must be a directory path; got {value!r}. "
            "Pass one with --extra artifact_store.path=DIR."
        )
    text = str(value).strip()
    if "://" in text:
        raise KitaruUsageError(
            f"Local stacks keep artifacts in a local directory; got the URI '{text}'. "
            "Pass a directory path, or create a remote stack type for an object store "
            "(kitaru stack create --type kubernetes --artifact-store URI ...)."
        )
    return Path(text).expanduser().absolute()


LOCAL_STACK_PROVIDER = StackProviderSpec(
    name=LOCAL_STACK_TYPE,
    provider=None,
    description="Runs flows on this machine and keeps artifacts in a local directory.",
    fields=(
        StackField(
            name="orchestrator",
            description="Settings for the local orchestrator (--extra orchestrator.FIELD=VALUE).",
        ),
        StackField(
            name="artifact_store",
            description=(
                "Settings for the local artifact store (--extra artifact_store.FIELD=VALUE); "
                "artifact_store.path sets its directory."
            ),
        ),
    ),
    artifact_store_schemes=(),
    credential_formats=(),
    build_components=build_local_components,
    verify=verify_local,
)
"""The stack provider record that :mod:`kitaru_local.plugin` registers."""

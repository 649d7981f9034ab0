"""The ``local`` stack type: run flows on this machine, keep artifacts on disk or in a bucket.

A local stack is a ZenML local orchestrator plus an artifact store, both named
like the stack. By default the artifact store is a local directory; the
component overrides of ``kitaru stack create --extra TARGET.FIELD=VALUE``
(SPEC §5.4) reach :func:`build_local_components` under ``extra``::

    kitaru stack create dev --extra artifact_store.path=/data/kitaru-artifacts

gives the stack spec::

    {"name": "dev", "artifact_store": None, "credentials": None,
     "extra": {"orchestrator": {}, "artifact_store": {"path": "/data/kitaru-artifacts"}}}

and the component description the engine adapter registers::

    {
        "orchestrator": {"name": "dev", "flavor": "local", "configuration": {}},
        "artifact_store": {
            "name": "dev",
            "flavor": "local",
            "configuration": {"path": "/data/kitaru-artifacts"},
        },
    }

With ``--artifact-store s3://bucket`` (or ``gs://``, ``az://``) flows still run
in this process, but every artifact goes to the bucket: the artifact store is
borrowed from the installed cloud plugin that serves the scheme (see
:func:`kitaru.plugins.artifact_store_backend`), which also verifies the bucket.

Nothing here imports the engine: the description is plain data.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.catalog import artifact_store_backend, uri_scheme
from kitaru.plugins.records import StackField, StackProviderSpec
from kitaru.plugins.stack_helpers import component

LOCAL_STACK_TYPE = "local"
"""The stack type name (``--type local``)."""

LOCAL_FLAVOR = "local"
"""The engine flavor of both components."""

COMPONENT_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store")
"""The components a local stack has, and the ``--extra`` targets it accepts."""

SPEC_KEYS: frozenset[str] = frozenset({"name", "artifact_store", "credentials", "extra"})
"""Keys a local stack spec may have."""


def build_local_components(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Describe the components of a local stack.

    Args:
        spec: The validated stack spec: ``name`` (required); optionally
            ``artifact_store`` (a local directory, or a bucket URI served by an
            installed cloud plugin), ``credentials`` (for a bucket) and
            ``extra`` (overrides per target). ``None`` or a blank string counts
            as omitted.

    Returns:
        ``{"orchestrator": {...}, "artifact_store": {...}}`` (plus the cloud
        plugin's ``service_connector`` when a bucket's credentials need one),
        each with the component ``name`` (the stack's), its ``flavor`` and its
        ``configuration``. A local ``path`` is made absolute; when none is
        given the engine picks its default under the config dir. The result
        shares no mutable object with ``spec``.

    Raises:
        KitaruUsageError: When the name is missing, a key is not a local-stack
            field, an override is not a mapping, or credentials come without
            a bucket.
        KitaruFeatureNotAvailableError: When no installed plugin serves the
            bucket's scheme (the message names the extra to install).
    """
    name = _stack_name(spec)
    unknown = sorted(str(key) for key in spec if key not in SPEC_KEYS)
    if unknown:
        raise KitaruUsageError(
            f"Local stacks do not accept: {', '.join(unknown)}. Accepted: artifact_store, "
            "credentials, and --extra orchestrator.FIELD=VALUE / artifact_store.FIELD=VALUE."
        )
    normalised = {**spec, "name": name, "extra": _extra(spec)}
    uri = _bucket_uri(spec)
    components: dict[str, dict[str, Any]] = {
        "orchestrator": component(normalised, "orchestrator", LOCAL_FLAVOR, {}),
    }
    if uri is not None:
        borrowed = artifact_store_backend(uri).build({**normalised, "artifact_store": uri})
        components.update(copy.deepcopy(dict(borrowed)))
        return components
    if not _blank(spec.get("credentials")):
        raise KitaruUsageError(
            "--credentials only applies to a bucket artifact store (--artifact-store s3://..., "
            "gs://... or az://...); a local directory needs none."
        )
    store = component(normalised, "artifact_store", LOCAL_FLAVOR, _path_setting(spec))
    if "path" in store["configuration"]:
        store["configuration"]["path"] = str(_local_path(store["configuration"]["path"]))
    components["artifact_store"] = store
    return components


def verify_local(spec: Mapping[str, Any]) -> None:
    """Check that a local stack's artifact store can be written.

    For a bucket, the cloud plugin serving its scheme checks it with the
    provider's own SDK. For a directory nothing is created: the check walks up
    to the closest existing directory and asks the OS whether this user may
    write there. Without an explicit path there is nothing to check (the
    engine's default lives in the config dir, which Kitaru creates itself).

    Args:
        spec: The same mapping :func:`build_local_components` takes.

    Raises:
        KitaruUsageError: When the bucket is missing or not writable, the path
            or one of its parents is a file, or the closest existing directory
            is not writable.
    """
    uri = _bucket_uri(spec)
    if uri is not None:
        backend = artifact_store_backend(uri)
        if backend.verify is not None:
            backend.verify({**spec, "extra": _extra(spec), "artifact_store": uri})
        return
    path_value = {**_path_setting(spec), **_extra(spec)["artifact_store"]}.get("path")
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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _bucket_uri(spec: Mapping[str, Any]) -> str | None:
    value = spec.get("artifact_store")
    if isinstance(value, str) and uri_scheme(value) is not None:
        return value.strip()
    return None


def _path_setting(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``{"path": ...}`` when ``artifact_store`` is a plain directory, else ``{}``."""
    value = spec.get("artifact_store")
    if _blank(value):
        return {}
    if isinstance(value, (str, os.PathLike)):
        return {"path": value}
    raise KitaruUsageError(
        f"A local stack's artifact_store is a directory path or a bucket URI; got "
        f"{type(value).__name__}. Pass settings with --extra artifact_store.FIELD=VALUE."
    )


def _extra(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    extra = spec.get("extra") or {}
    if not isinstance(extra, Mapping):
        raise KitaruUsageError("A stack spec's 'extra' must map targets to settings.")
    result: dict[str, dict[str, Any]] = {}
    for target in extra:
        if target not in COMPONENT_TARGETS:
            raise KitaruUsageError(
                f"--extra {target}.* is not allowed for local stacks. "
                f"Targets: {', '.join(COMPONENT_TARGETS)}."
            )
    for target in COMPONENT_TARGETS:
        result[target] = _overrides(extra, target)
    return result


def _stack_name(spec: Mapping[str, Any]) -> str:
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError(
            f"A local stack needs a name to name its components after; got {name!r}. "
            "Pass the stack name under 'name'."
        )
    return name.strip()


def _overrides(extra: Mapping[str, Any], target: str) -> dict[str, Any]:
    value = extra.get(target)
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise KitaruUsageError(
            f"The '{target}' overrides of a local stack take a mapping of settings "
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
            f"artifact_store.path is a local directory; got the URI '{text}'. "
            "Put a bucket in the artifact store itself: --artifact-store s3://bucket."
        )
    return Path(text).expanduser().absolute()


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
        ),
        StackField(
            name="credentials",
            description="Credentials for a bucket artifact store, in its cloud plugin's format.",
        ),
    ),
    artifact_store_schemes=(),
    credential_formats=(),
    build_components=build_local_components,
    verify=verify_local,
)
"""The stack provider record that :mod:`kitaru_local.plugin` registers."""

"""Where a ``local`` stack keeps artifacts: a directory on this machine, or a borrowed bucket.

By default the artifact store is the engine's ``local`` flavor in a directory
(``--artifact-store DIR`` or ``--extra artifact_store.path=DIR``; without
either, the engine picks one under the Kitaru config dir). The path is made
absolute when the stack is created, so the stack means the same directory
whatever the working directory of a later run::

    kitaru stack create dev --extra artifact_store.path=data/kitaru

    ArtifactStoreComponents(
        artifact_store=ComponentSpec(flavor="local", name="dev",
                                     configuration={"path": "/home/me/project/data/kitaru"}),
    )

With a bucket URI (``--artifact-store s3://bucket``, ``gs://``, ``az://``)
flows still run in this process, but the artifact store is *borrowed* from
the installed cloud plugin that serves the scheme (see
:func:`kitaru.plugins.artifact_store_backend`): that plugin's
:class:`~kitaru.plugins.records.ArtifactStoreBackend` builds it (with a
service connector if the ``--credentials`` need one) and checks the bucket.

:func:`verify_local` is the ``local`` stack type's access check: it asks the
borrowed backend to check a bucket, and for a directory asks the OS whether
this user may create and write it, without creating anything. Nothing here
imports the engine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.catalog import artifact_store_backend, uri_scheme
from kitaru.plugins.records import ArtifactStoreComponents, ComponentSpec, StackSpec
from kitaru.plugins.stack_helpers import deep_merge

LOCAL_FLAVOR = "local"
"""The engine flavor of a directory artifact store (and of the local orchestrator)."""

FIX_PATH = "Pass a directory you can write to with --extra artifact_store.path=DIR."


def bucket_uri(spec: StackSpec) -> str | None:
    """The stack's ``--artifact-store`` when it is a bucket URI (``s3://...``), else None."""
    value = spec.artifact_store
    if isinstance(value, str) and uri_scheme(value) is not None:
        return value
    return None


def build_local_artifact_store(spec: StackSpec) -> ArtifactStoreComponents:
    """Describe a local stack's artifact store: a directory, or the bucket backend's store.

    Args:
        spec: The stack spec: ``artifact_store`` (a directory, a bucket URI,
            or None for the engine's default), ``credentials`` (for a bucket
            only) and the ``artifact_store`` overrides.

    Returns:
        For a directory, the ``local`` artifact store, its ``path`` (if any)
        made absolute; for a bucket, what the cloud plugin's backend built
        (maybe with a service connector).

    Raises:
        KitaruUsageError: When credentials come without a bucket, or the
            path is not a directory path.
        KitaruFeatureNotAvailableError: When no installed plugin serves the
            bucket's scheme (the message names the extra to install).
    """
    uri = bucket_uri(spec)
    if uri is not None:
        return ArtifactStoreComponents.coerce(artifact_store_backend(uri).build(spec.replace(artifact_store=uri)))
    if spec.credentials is not None:
        raise KitaruUsageError(
            "--credentials only applies to a bucket artifact store (--artifact-store s3://..., "
            "gs://... or az://...); a local directory needs none."
        )
    configuration = deep_merge(_path_setting(spec), spec.extra_for("artifact_store"))
    if "path" in configuration:
        configuration["path"] = str(_local_path(configuration["path"]))
    return ArtifactStoreComponents(
        ComponentSpec(flavor=LOCAL_FLAVOR, configuration=configuration, name=spec.name)
    )


def verify_local(spec: Mapping[str, Any]) -> None:
    """Check that a local stack's artifact store can be written.

    For a bucket, the cloud plugin serving its scheme checks it with the
    provider's own SDK. For a directory nothing is created: the check walks up
    to the closest existing directory and asks the OS whether this user may
    write there. Without an explicit path there is nothing to check (the
    engine's default lives in the config dir, which Kitaru creates itself).

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec` (a plain mapping
            is converted).

    Raises:
        KitaruUsageError: When the bucket is missing or not writable, the path
            or one of its parents is a file, or the closest existing directory
            is not writable.
    """
    spec = StackSpec.coerce(spec)
    uri = bucket_uri(spec)
    if uri is not None:
        backend = artifact_store_backend(uri)
        if backend.verify is not None:
            backend.verify(spec.replace(artifact_store=uri))
        return
    path_value = {**_path_setting(spec), **spec.extra_for("artifact_store")}.get("path")
    if path_value is not None:
        _check_writable(_local_path(path_value))


def _check_writable(path: Path) -> None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"cannot be created: '{existing}' is a file"
        raise KitaruUsageError(f"Artifact store path '{path}' {where}, not a directory. {FIX_PATH}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise KitaruUsageError(
            f"Artifact store path '{path}' is not writable: this user may not write to "
            f"'{existing}'. {FIX_PATH} Or change the directory's permissions."
        )


def _path_setting(spec: StackSpec) -> dict[str, Any]:
    """``{"path": ...}`` when ``artifact_store`` is a plain directory, else ``{}``."""
    value = spec.artifact_store
    if value is None:
        return {}
    if isinstance(value, (str, os.PathLike)):
        return {"path": value}
    raise KitaruUsageError(
        f"A local stack's artifact_store is a directory path or a bucket URI; got "
        f"{type(value).__name__}. Pass settings with --extra artifact_store.FIELD=VALUE."
    )


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

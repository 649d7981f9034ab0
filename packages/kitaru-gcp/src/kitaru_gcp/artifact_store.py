"""Artifacts in Google Cloud Storage: the ``gs://`` artifact-store backend.

Every GCP stack type keeps its artifacts in a GCS bucket, and a ``local``
stack may too (flows run on this machine, artifacts go to the bucket, so a
team can share them)::

    kitaru stack create shared --artifact-store gs://team-bucket/kitaru

:data:`GCS_BACKEND` is the :class:`~kitaru.plugins.records.ArtifactStoreBackend`
record both GCP stack types name, and that ``local`` stacks borrow for
``gs://`` URIs. Its :func:`build_gcs_store` describes the engine's ``gcp``
artifact store for such a stack; its :func:`verify_gcs_store` checks, with
google-cloud-storage, that the bucket exists and that these credentials may
write to it (Kitaru runs it before registering anything, unless ``--no-verify``).

Credentials, and what happens at run time:

* ``implicit`` (default): no service connector. At run time the engine opens
  the bucket with gcsfs, which uses Application Default Credentials.
* ``gcp-service-account:/path/key.json``: a ``gcp`` service connector holds
  the key; the artifact store is linked to it with the bucket URI
  (``gs://bucket``) as resource id.

Emulators: when ``STORAGE_EMULATOR_HOST`` is set (``http://127.0.0.1:9023``),
google-cloud-storage and gcsfs both send every request there. ``verify`` then
uses anonymous credentials (an emulator checks none). At run time the engine's
``gcp`` artifact store always hands gcsfs an explicit ``token=None``, so gcsfs
walks its credential chain (Application Default Credentials, its token cache,
the GCE metadata server, then anonymous); without Application Default
Credentials the metadata-server probes cost about 15 s per process and try to
reach ``169.254.169.254``. Give the process Application Default Credentials
(your own, or for an emulator only a placeholder ``authorized_user`` file whose
access token never expires, see ``docs/gcp.md``) and gcsfs uses them at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import (
    ArtifactStoreBackend,
    ArtifactStoreComponents,
    ComponentSpec,
    StackSpec,
)
from kitaru.plugins.stack_helpers import (
    bucket_and_prefix,
    component_spec,
    connector_spec,
    verify_object_name,
)
from kitaru_gcp.credentials import GcpCredentials, parse_credentials

GCS_SCHEME = "gs"
"""The URI scheme this backend serves."""

GCP_ARTIFACT_STORE_FLAVOR = "gcp"
"""The engine's artifact store flavor for GCS."""

GCP_CONNECTOR_TYPE = "gcp"
"""The engine's service connector type for GCP."""

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
"""Environment variable that points google-cloud-storage and gcsfs at an emulator."""

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
"""GCS bucket names: lowercase letters, digits, ``-``, ``_`` and ``.``, 3 to 222 characters."""

VERIFY_TIMEOUT_SECONDS = 30.0
"""How long one request of the verification may take."""

VERIFY_RETRY_SECONDS = 4.0
"""How long the verification retries transient failures (an unreachable endpoint) in total."""

NO_VERIFY = "pass --no-verify to skip this check"


def gcs_uri(spec: Mapping[str, Any]) -> str:
    """The stack's artifact store URI, checked and normalised (``gs://bucket/prefix``).

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec` (or a plain mapping).

    Raises:
        KitaruUsageError: When it is missing, not a ``gs://`` URI, or the
            bucket name is not a valid GCS bucket name.
    """
    raw = StackSpec.coerce(spec).artifact_store
    text = raw.strip() if isinstance(raw, str) else ""
    scheme, separator, rest = text.partition("://")
    if not separator or scheme.lower() != GCS_SCHEME:
        raise KitaruUsageError(
            f"GCS artifact stores need a gs:// URI such as gs://my-bucket/kitaru; got {raw!r}."
        )
    bucket, prefix = bucket_and_prefix(f"{GCS_SCHEME}://{rest}")
    if not BUCKET_NAME.match(bucket) or ".." in bucket:
        raise KitaruUsageError(
            f"'{text}' does not name a valid GCS bucket: bucket names are 3-63 characters "
            "(up to 222 with dots) of lowercase letters, digits, '-', '_' and '.', starting "
            "and ending with a letter or digit. Example: gs://my-bucket/kitaru."
        )
    return f"{GCS_SCHEME}://{bucket}" + (f"/{prefix}" if prefix else "")


def bucket_uri(uri: str) -> str:
    """``gs://bucket`` for ``gs://bucket/some/prefix``: the connector's resource id."""
    bucket, _ = bucket_and_prefix(uri)
    return f"{GCS_SCHEME}://{bucket}"


def artifact_store_component(spec: StackSpec, *, connected: bool) -> ComponentSpec:
    """The engine's ``gcp`` artifact store for the stack, with ``--extra artifact_store.*`` applied.

    Args:
        spec: The stack spec.
        connected: Link it to the stack's service connector (resource id:
            the bucket URI).
    """
    uri = gcs_uri(spec)
    return component_spec(
        spec,
        "artifact_store",
        GCP_ARTIFACT_STORE_FLAVOR,
        {"path": uri},
        connector=connected,
        connector_resource_id=bucket_uri(uri),
    )


def build_gcs_store(spec: Mapping[str, Any]) -> ArtifactStoreComponents:
    """Describe a GCS artifact store for a stack of another type (a ``local`` stack).

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec` (a plain mapping
            is converted): ``artifact_store`` (``gs://...``), ``credentials``
            and the ``artifact_store`` overrides.

    Returns:
        Only the artifact store for implicit credentials; with a
        service-account key also a ``gcp`` service connector (the key's own
        project, since a local stack names no registry) that the artifact
        store is linked to.

    Raises:
        KitaruUsageError: For a bad URI or bad credentials.
    """
    spec = StackSpec.coerce(spec)
    gcs_uri(spec)
    credentials = parse_credentials(spec.credentials)
    if credentials.is_implicit:
        return ArtifactStoreComponents(artifact_store_component(spec, connected=False))
    return ArtifactStoreComponents(
        artifact_store=artifact_store_component(spec, connected=True),
        service_connector=connector_spec(
            spec,
            GCP_CONNECTOR_TYPE,
            credentials.auth_method,
            credentials.connector_configuration(None),
        ),
    )


def emulator_host() -> str | None:
    """The GCS emulator URL from ``STORAGE_EMULATOR_HOST``, or None for real GCS.

    Like gcsfs, a value without a scheme (``localhost:9023``) means ``http://``.
    """
    value = os.environ.get(EMULATOR_ENV, "").strip().rstrip("/")
    if not value or value == "default":
        return None
    return value if value.startswith(("http://", "https://")) else f"http://{value}"


def verify_gcs_store(spec: Mapping[str, Any]) -> None:
    """Check that the stack's bucket exists and these credentials may write to it.

    Uploads a small probe object named by
    :func:`~kitaru.plugins.stack_helpers.verify_object_name` under the URI's
    prefix and deletes it again, with google-cloud-storage. Honours
    ``STORAGE_EMULATOR_HOST`` (then with anonymous credentials).

    Raises:
        KitaruUsageError: When the bucket does not exist, access is denied,
            GCS (or the emulator) cannot be reached, or no credentials are
            found. Messages say what to do and never include a secret.
    """
    spec = StackSpec.coerce(spec)
    uri = gcs_uri(spec)
    bucket_name, prefix = bucket_and_prefix(uri)
    credentials = parse_credentials(spec.credentials)
    emulator = emulator_host()
    object_name = f"{prefix}/{verify_object_name()}" if prefix else verify_object_name()
    from google.cloud.storage.retry import DEFAULT_RETRY

    retry = DEFAULT_RETRY.with_timeout(VERIFY_RETRY_SECONDS)
    try:
        client = _storage_client(credentials, emulator)
        blob = client.bucket(bucket_name).blob(object_name)
        blob.upload_from_string(
            b"Kitaru checks that it may write here; this object is deleted right away.\n",
            content_type="text/plain",
            if_generation_match=0,
            timeout=VERIFY_TIMEOUT_SECONDS,
            retry=retry,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a usage error below
        raise _explain(exc, uri, credentials, emulator, "write to") from None
    try:
        blob.delete(timeout=VERIFY_TIMEOUT_SECONDS, retry=retry)
    except Exception as exc:  # noqa: BLE001
        error = _explain(exc, uri, credentials, emulator, "delete from")
        raise KitaruUsageError(
            f"{error} (The probe object gs://{bucket_name}/{object_name} was written and could "
            "not be removed; delete it by hand.)"
        ) from None


def _storage_client(credentials: GcpCredentials, emulator: str | None) -> Any:
    """A google-cloud-storage client for these credentials (anonymous for an emulator)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage  # type: ignore[attr-defined]  # a namespace package mypy cannot see into

    if emulator is not None:
        return storage.Client(
            project=None,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    if credentials.key_info is None:
        return storage.Client(project=None)
    from google.oauth2 import service_account

    try:
        login = service_account.Credentials.from_service_account_info(
            credentials.key_info,
            scopes=["https://www.googleapis.com/auth/devstorage.read_write"],
        )
    except (ValueError, KeyError):
        raise KitaruUsageError(
            f"The GCP service-account key file '{credentials.key_path}' holds no usable "
            "private key. Download a new key for the service account and pass its path."
        ) from None
    return storage.Client(project=None, credentials=login)


def _principal(credentials: GcpCredentials) -> str:
    if credentials.key_info is not None:
        return f"service account {credentials.key_info.get('client_email')}"
    return "your Application Default Credentials"


def _explain(
    exc: BaseException,
    uri: str,
    credentials: GcpCredentials,
    emulator: str | None,
    action: str,
) -> KitaruUsageError:
    """Turn a google-cloud-storage / google-auth failure into a usage error saying what to do."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, KitaruUsageError):
        return exc
    bucket = bucket_uri(uri)
    endpoint = f"the GCS emulator at {emulator}" if emulator else "Google Cloud Storage"
    if isinstance(exc, api.NotFound):
        return KitaruUsageError(
            f"GCS bucket '{bucket}' does not exist on {endpoint}. Create it, or {NO_VERIFY}."
        )
    if isinstance(exc, (api.Forbidden, api.Unauthorized)):
        return KitaruUsageError(
            f"Permission denied: {_principal(credentials)} may not {action} GCS bucket "
            f"'{bucket}' ({exc.code} {_reason(exc)}). Kitaru needs storage.objects.create, "
            "storage.objects.get, storage.objects.list and storage.objects.delete on it "
            "(for example the Storage Object User role). Grant them, use other --credentials, "
            f"or {NO_VERIFY}."
        )
    if isinstance(exc, auth.DefaultCredentialsError):
        pointed = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        detail = (
            f" GOOGLE_APPLICATION_CREDENTIALS points to '{pointed}', which could not be loaded."
            if pointed
            else ""
        )
        return KitaruUsageError(
            f"No GCP credentials found to check GCS bucket '{bucket}'.{detail} Run "
            "`gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a "
            "key file, or pass --credentials gcp-service-account:/path/key.json; "
            f"or {NO_VERIFY}."
        )
    if isinstance(exc, auth.RefreshError):
        return KitaruUsageError(
            f"GCP rejected {_principal(credentials)} while checking GCS bucket '{bucket}' "
            f"({_reason(exc)}). Renew the credentials (a deleted or disabled key fails "
            f"like this), or {NO_VERIFY}."
        )
    if isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            auth.TransportError,
            api.RetryError,
            api.ServiceUnavailable,
            ConnectionError,
            TimeoutError,
        ),
    ):
        fix = (
            f"Start the emulator or fix {EMULATOR_ENV}"
            if emulator
            else "Check your network connection and proxy settings"
        )
        return KitaruUsageError(
            f"Cannot reach {endpoint} to check GCS bucket '{bucket}' "
            f"({_connection_reason(exc)}). {fix}, or {NO_VERIFY}."
        )
    if isinstance(exc, api.GoogleAPICallError):
        return KitaruUsageError(
            f"GCS refused to let Kitaru {action} bucket '{bucket}' ({exc.code} {_reason(exc)}). "
            f"Fix the bucket or the credentials, or {NO_VERIFY}."
        )
    return KitaruUsageError(
        f"Could not check GCS bucket '{bucket}': {type(exc).__name__}: {_reason(exc)}. "
        f"Fix the problem, or {NO_VERIFY}."
    )


def _connection_reason(exc: BaseException) -> str:
    """``[Errno 111] Connection refused`` or the like, from a (wrapped) connection error."""
    seen: BaseException | None = exc
    while seen is not None:
        match = re.search(r"\[Errno -?\d+\] [^'\")\]]+", str(seen))
        if match:
            return match.group(0).strip()
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return "timed out" if "timeout" in type(exc).__name__.lower() else type(exc).__name__


def _reason(exc: BaseException) -> str:
    """A short, one-line reason from an exception (no response bodies, no credentials)."""
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "") or str(exc)
    line = str(message).strip().splitlines()[0] if str(message).strip() else type(exc).__name__
    return line[:200]


GCS_BACKEND = ArtifactStoreBackend(
    schemes=(GCS_SCHEME,),
    provider="gcp",
    build=build_gcs_store,
    verify=verify_gcs_store,
    description="Google Cloud Storage buckets (gs://), checked with google-cloud-storage.",
)
"""The ``gs://`` backend of both GCP stack types; ``local`` stacks borrow it for ``--artifact-store gs://...``."""

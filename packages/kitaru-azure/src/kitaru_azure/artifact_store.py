"""Artifact stores in Azure Blob Storage: ``az://`` and ``abfs://`` URIs, and their check.

:data:`AZURE_BLOB_BACKEND` is the Azure plugin's
:class:`~kitaru.plugins.records.ArtifactStoreBackend`: every ``azureml`` stack
uses it, and so does a ``local`` stack created with an Azure URI, which runs
flows on this machine but keeps artifacts in a blob container
(``kitaru stack create dev --artifact-store az://kitaru``).

URIs name a container and an optional prefix. ``abfss://`` (the TLS spelling
of ``abfs://``) is accepted and written as ``abfs://``, because the engine's
Azure artifact store knows only ``az://`` and ``abfs://`` (SPEC §5.4)::

    >>> normalize_artifact_store_uri("abfss://kitaru/runs/")
    'abfs://kitaru/runs'

The storage account is *not* part of the URI. At run time the engine's store
(adlfs underneath) finds it the standard Azure way:

- with implicit credentials, from the environment: ``AZURE_STORAGE_CONNECTION_STRING``
  (an Azurite connection string works), or ``AZURE_STORAGE_ACCOUNT_NAME`` plus
  ``AZURE_STORAGE_ACCOUNT_KEY`` / ``AZURE_STORAGE_SAS_TOKEN`` / ``az login``;
- with a service principal, through the stack's service connector, which
  searches the accounts the principal can see (restricted to
  ``AZURE_STORAGE_ACCOUNT_NAME`` when that is set at creation).

**Verification** (:func:`verify_azure_artifact_store`, which ``kitaru stack
create`` runs unless ``--no-verify``) checks with ``azure-storage-blob`` that
the container exists and is writable. It picks credentials the way the
artifact store will at run time:

1. a service principal from ``--credentials`` (the account comes from
   ``AZURE_STORAGE_ACCOUNT_NAME``);
2. otherwise the environment, in adlfs's order: ``AZURE_STORAGE_CONNECTION_STRING``,
   else ``AZURE_STORAGE_ACCOUNT_NAME`` with ``AZURE_STORAGE_ACCOUNT_KEY``,
   ``AZURE_STORAGE_SAS_TOKEN``, ``AZURE_STORAGE_CLIENT_ID``/``_SECRET``/``TENANT_ID``,
   or finally ``DefaultAzureCredential`` (``az login``, managed identity).

It then uploads a probe blob and deletes it. Every failure becomes a
:class:`~kitaru.errors.KitaruUsageError` that says what is wrong and what to do.
Messages name *where* credentials came from (a variable name), never their
values: connection strings and SAS tokens carry account secrets.

Nothing here imports the engine or an Azure SDK at module level.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
from kitaru_azure.credentials import (
    ACCESS_TOKEN,
    SERVICE_PRINCIPAL,
    AzureCredentials,
    parse_credentials,
)

AZURE_SCHEMES: tuple[str, ...] = ("az", "abfs", "abfss")
"""URI schemes of Azure Blob artifact stores (``abfss`` is stored as ``abfs``)."""

ARTIFACT_STORE_FLAVOR = "azure"
"""The engine's Azure Blob artifact store flavor."""

CONNECTOR_TYPE = "azure"
"""The engine's Azure service connector type."""

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
"""The standard variable holding a storage account's connection string (Azurite's too)."""

ACCOUNT_NAME_ENV = "AZURE_STORAGE_ACCOUNT_NAME"
"""The standard variable naming the storage account (read by adlfs and the Azure CLI)."""

ACCOUNT_KEY_ENV = "AZURE_STORAGE_ACCOUNT_KEY"
SAS_TOKEN_ENV = "AZURE_STORAGE_SAS_TOKEN"
CLIENT_ENV = ("AZURE_STORAGE_CLIENT_ID", "AZURE_STORAGE_CLIENT_SECRET", "AZURE_STORAGE_TENANT_ID")

SKIP_HINT = "or pass --no-verify to skip this check."
PROBE_CONTENT = b"Kitaru checks that it can write here; this blob is deleted right away.\n"

_CONTAINER = re.compile(r"^(?=.{3,63}$)(?!.*--)[a-z0-9][a-z0-9-]*[a-z0-9]$")


def normalize_artifact_store_uri(uri: Any) -> str:
    """Check an Azure artifact-store URI and return its canonical spelling.

    The scheme is lower-cased, ``abfss`` becomes ``abfs``, and empty path
    segments and trailing slashes are dropped.

    Raises:
        KitaruUsageError: When the URI is missing, has another scheme, names
            the account inside the URI (``container@account...``), or its
            container name breaks Azure's naming rules.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise KitaruUsageError(
            "An Azure artifact store needs a URI like az://CONTAINER/PREFIX. "
            "Pass one with --artifact-store."
        )
    text = uri.strip()
    scheme, separator, rest = text.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in AZURE_SCHEMES:
        raise KitaruUsageError(
            f"Azure artifact stores need an az://, abfs:// or abfss:// URI. Received: '{text}'"
        )
    scheme = "abfs" if scheme == "abfss" else scheme
    container, _, prefix = rest.partition("/")
    if "@" in container:
        raise KitaruUsageError(
            f"Write the artifact store as {scheme}://CONTAINER/PREFIX, without '@ACCOUNT': the "
            f"storage account comes from AZURE_STORAGE_CONNECTION_STRING or {ACCOUNT_NAME_ENV} "
            f"(or the service principal's access). Received: '{text}'"
        )
    if not _CONTAINER.match(container):
        raise KitaruUsageError(
            f"'{container}' is not a valid Azure Blob container name: use 3-63 lowercase "
            "letters, digits and single hyphens, starting and ending with a letter or digit. "
            f"Received: '{text}'"
        )
    prefix = "/".join(part for part in prefix.split("/") if part)
    return f"{scheme}://{container}/{prefix}" if prefix else f"{scheme}://{container}"


def blob_resource_id(uri: str) -> str:
    """The connector resource ID of the container behind ``uri`` (``az://CONTAINER``)."""
    container, _ = bucket_and_prefix(normalize_artifact_store_uri(uri))
    return f"az://{container}"


def storage_account_from_environment() -> str | None:
    """The storage account named by ``AZURE_STORAGE_ACCOUNT_NAME``, or None."""
    value = os.environ.get(ACCOUNT_NAME_ENV, "").strip()
    return value or None


def artifact_store_component(spec: StackSpec, *, linked: bool) -> ComponentSpec:
    """Describe the ``azure`` artifact store of a stack, ``--extra artifact_store.*`` applied.

    Args:
        spec: The stack spec; ``artifact_store`` holds the URI.
        linked: Link the store to the stack's service connector, which then
            hands it the container (resource ID ``az://CONTAINER``).
    """
    uri = normalize_artifact_store_uri(spec.artifact_store)
    return component_spec(
        spec,
        "artifact_store",
        ARTIFACT_STORE_FLAVOR,
        {"path": uri},
        connector=linked,
        connector_resource_id=blob_resource_id(uri),
    )


def build_azure_artifact_store(spec: Mapping[str, Any]) -> ArtifactStoreComponents:
    """Describe an Azure Blob artifact store for a stack of another type (``local``).

    With implicit credentials (no ``--credentials``) the result is only the
    artifact store, ``{"path": URI}`` plus the user's ``--extra``: at run time
    it authenticates from the environment, so an Azurite connection string in
    ``AZURE_STORAGE_CONNECTION_STRING`` just works. A service principal adds an
    ``azure`` service connector that the store is linked to.

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec` (a plain mapping
            is converted).

    Raises:
        KitaruUsageError: For a bad URI or credentials string, and for
            ``azure-access-token``, which the engine's Azure artifact store
            cannot use.
    """
    spec = StackSpec.coerce(spec)
    credentials = parse_credentials(spec.credentials)
    if credentials.auth_method == ACCESS_TOKEN:
        raise KitaruUsageError(
            "Azure access tokens cannot authenticate an artifact store: the engine's Azure "
            "artifact store only takes a service principal or implicit credentials. Use "
            "--credentials azure-service-principal:TENANT:CLIENT:SECRET, or leave --credentials "
            "out and set AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_NAME with "
            "`az login`)."
        )
    if credentials.is_implicit:
        return ArtifactStoreComponents(artifact_store_component(spec, linked=False))
    configuration = credentials.connector_configuration(
        storage_account=storage_account_from_environment()
    )
    return ArtifactStoreComponents(
        artifact_store=artifact_store_component(spec, linked=True),
        service_connector=connector_spec(spec, CONNECTOR_TYPE, credentials.auth_method, configuration),
    )


def verify_azure_artifact_store(spec: Mapping[str, Any]) -> None:
    """Check that the container exists and this machine can write to it.

    Writes a probe blob (``.kitaru-verify-<hex>``) under the URI's prefix and
    deletes it again, with ``azure-storage-blob`` and the credentials the
    store will use: the service principal from ``--credentials``, else the
    standard ``AZURE_STORAGE_*`` environment variables (see
    :func:`check_container_writable`).

    Raises:
        KitaruUsageError: When the container is missing, the credentials are
            rejected or missing, or the endpoint cannot be reached; the
            message says what to do (or to pass ``--no-verify``).
    """
    spec = StackSpec.coerce(spec)
    credentials = parse_credentials(spec.credentials)
    container, prefix = bucket_and_prefix(normalize_artifact_store_uri(spec.artifact_store))
    secret_name = spec.extra_for("artifact_store").get("authentication_secret")
    check_container_writable(
        credentials, container, prefix, secret_name=str(secret_name) if secret_name else None
    )


_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 1,
    "initial_backoff": 1,
    "random_jitter_range": 1,
    "connection_timeout": 10,
    "read_timeout": 30,
}
"""Fail fast: verification is interactive, the SDK's default retries take minutes."""


@dataclass(frozen=True)
class _Access:
    client: Any  # azure.storage.blob.BlobServiceClient
    source: str  # where the credentials came from, for messages (never the values)


def check_container_writable(
    credentials: AzureCredentials, container: str, prefix: str, *, secret_name: str | None = None
) -> None:
    """Upload and delete a probe blob under ``prefix`` in ``container``.

    Args:
        credentials: The parsed ``--credentials``; only a service principal
            is used directly, anything else means "from the environment".
        container: The blob container name.
        prefix: The path inside the container ("" for its root).
        secret_name: The engine secret the store authenticates with
            (``--extra artifact_store.authentication_secret=NAME``), if any;
            verification cannot read it, so it is only named in the message
            when no other credentials are found.

    Raises:
        KitaruUsageError: When the container is missing, the credentials are
            missing or rejected, or the endpoint cannot be reached.
    """
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
    )

    if credentials.auth_method == SERVICE_PRINCIPAL:
        access = _service_principal_access(credentials)
    else:
        access = _environment_access(secret_name)
    endpoint = _public_url(access.client.url)
    where = f"container '{container}' at {endpoint}"
    probe_name = f"{prefix}/{verify_object_name()}" if prefix else verify_object_name()
    blob = access.client.get_blob_client(container, probe_name)
    uploaded = False
    try:
        blob.upload_blob(PROBE_CONTENT, overwrite=True)
        uploaded = True
        blob.delete_blob()
    except ServiceRequestError:
        raise KitaruUsageError(
            f"Cannot reach the Azure Blob endpoint {endpoint} (from {access.source}). Check the "
            f"account name or the endpoint in {CONNECTION_STRING_ENV}, that the service (or "
            f"Azurite) is running, and your network; {SKIP_HINT}"
        ) from None
    except (HttpResponseError, AzureError) as error:
        code = _error_code(error)
        if uploaded:
            raise _cannot_delete(where, access, code, probe_name) from None
        if isinstance(error, ResourceNotFoundError) and code == "ContainerNotFound":
            raise KitaruUsageError(
                f"Azure Blob container '{container}' does not exist at {endpoint} (checked "
                f"with {access.source}; `az storage container create --name {container}` "
                f"creates it). Create it, {SKIP_HINT}"
            ) from None
        status = getattr(error, "status_code", None)
        if isinstance(error, ClientAuthenticationError) or status in (401, 403):
            raise KitaruUsageError(
                f"Azure rejected the credentials from {access.source} for {where} ({code}). "
                "Check that the key, token or service principal is valid and may write and "
                f"delete blobs (for example the 'Storage Blob Data Contributor' role), "
                f"{SKIP_HINT}"
            ) from None
        raise KitaruUsageError(
            f"Cannot write to {where} with credentials from {access.source} ({code}). Check "
            f"the container and your permissions, {SKIP_HINT}"
        ) from None
    finally:
        access.client.close()


def _error_code(error: Exception) -> str:
    """The service's error code (``ContainerNotFound``), else the status or exception type."""
    code = getattr(error, "error_code", None)
    code = getattr(code, "value", code)  # the SDK may give a StorageErrorCode enum
    return str(code or getattr(error, "status_code", None) or type(error).__name__)


def _cannot_delete(where: str, access: _Access, code: str, probe_name: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"Wrote a probe blob to {where} with credentials from {access.source} but could not "
        f"delete it ({code}). The artifact store needs delete permission too: grant it, delete "
        f"'{probe_name}' yourself, {SKIP_HINT}"
    )


def _service_principal_access(credentials: AzureCredentials) -> _Access:
    from azure.identity import ClientSecretCredential
    from azure.storage.blob import BlobServiceClient

    account = os.environ.get(ACCOUNT_NAME_ENV, "").strip()
    if not account:
        raise KitaruUsageError(
            f"Set {ACCOUNT_NAME_ENV} to the storage account that holds the container, so Kitaru "
            f"can check it with the service principal, {SKIP_HINT}"
        )
    configuration = credentials.configuration
    credential = ClientSecretCredential(
        tenant_id=configuration["tenant_id"],
        client_id=configuration["client_id"],
        client_secret=configuration["client_secret"],
    )
    client = BlobServiceClient(_account_url(account), credential=credential, **_CLIENT_OPTIONS)
    return _Access(client, "the service principal in --credentials")


def _environment_access(secret_name: str | None) -> _Access:
    from azure.storage.blob import BlobServiceClient

    connection_string = os.environ.get(CONNECTION_STRING_ENV, "").strip()
    if connection_string:
        try:
            client = BlobServiceClient.from_connection_string(connection_string, **_CLIENT_OPTIONS)
        except ValueError:
            raise KitaruUsageError(
                f"{CONNECTION_STRING_ENV} is not a valid Azure Storage connection string (its "
                "value is not shown because it holds the account key). Copy it again from the "
                f"portal or `az storage account show-connection-string`, {SKIP_HINT}"
            ) from None
        return _Access(client, CONNECTION_STRING_ENV)
    account = os.environ.get(ACCOUNT_NAME_ENV, "").strip()
    if not account and secret_name:
        raise KitaruUsageError(
            f"The artifact store authenticates with the secret '{secret_name}' "
            "(artifact_store.authentication_secret), which verification cannot read. Export the "
            f"same connection string as {CONNECTION_STRING_ENV} for this check, {SKIP_HINT}"
        )
    if not account:
        raise KitaruUsageError(
            "No Azure Storage credentials found. Set AZURE_STORAGE_CONNECTION_STRING (for "
            f"Azurite, its connection string), or {ACCOUNT_NAME_ENV} with "
            f"{ACCOUNT_KEY_ENV}, {SAS_TOKEN_ENV} or `az login`; or pass --credentials "
            f"azure-service-principal:TENANT:CLIENT:SECRET; {SKIP_HINT}"
        )
    key = os.environ.get(ACCOUNT_KEY_ENV, "").strip()
    sas = os.environ.get(SAS_TOKEN_ENV, "").strip()
    client_id, client_secret, tenant_id = (os.environ.get(name, "").strip() for name in CLIENT_ENV)
    credential: Any
    if key:
        credential, source = {"account_name": account, "account_key": key}, ACCOUNT_KEY_ENV
    elif sas:
        credential, source = sas.lstrip("?"), SAS_TOKEN_ENV
    elif client_id and client_secret and tenant_id:
        from azure.identity import ClientSecretCredential

        credential = ClientSecretCredential(tenant_id, client_id, client_secret)
        source = "/".join(CLIENT_ENV)
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        source = "DefaultAzureCredential (az login, managed identity)"
    client = BlobServiceClient(_account_url(account), credential=credential, **_CLIENT_OPTIONS)
    return _Access(client, f"{ACCOUNT_NAME_ENV} + {source}")


def _account_url(account: str) -> str:
    return f"https://{account}.blob.core.windows.net"


def _public_url(url: str) -> str:
    """``url`` without its query string, where a SAS token would be."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


AZURE_BLOB_BACKEND = ArtifactStoreBackend(
    schemes=AZURE_SCHEMES,
    provider="azure",
    build=build_azure_artifact_store,
    verify=verify_azure_artifact_store,
    description="Azure Blob containers (az://, abfs://; abfss:// is stored as abfs://).",
)
"""The backend of the ``azureml`` stack type; ``local`` stacks borrow it for Azure URIs."""

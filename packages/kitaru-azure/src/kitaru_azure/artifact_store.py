"""Artifact stores in Azure Blob Storage: ``az://`` and ``abfs://`` URIs.

This module is the Azure plugin's :class:`~kitaru.plugins.ArtifactStoreBackend`:
every ``azureml`` stack uses it, and so does a ``local`` stack created with an
Azure URI, which runs flows on this machine but keeps artifacts in a blob
container (``kitaru stack create dev --artifact-store az://kitaru``).

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

Nothing here imports the engine or an Azure SDK at module level.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.stack_helpers import bucket_and_prefix, component, connector, extra_for
from kitaru_azure.credentials import ACCESS_TOKEN, AzureCredentials, parse_credentials
from kitaru_azure.verification import check_container_writable

AZURE_SCHEMES: tuple[str, ...] = ("az", "abfs", "abfss")
"""URI schemes of Azure Blob artifact stores (``abfss`` is stored as ``abfs``)."""

ARTIFACT_STORE_FLAVOR = "azure"
"""The engine's Azure Blob artifact store flavor."""

CONNECTOR_TYPE = "azure"
"""The engine's Azure service connector type."""

ACCOUNT_NAME_ENV = "AZURE_STORAGE_ACCOUNT_NAME"
"""The standard variable naming the storage account (read by adlfs and the Azure CLI)."""

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


def artifact_store_component(
    spec: Mapping[str, Any], credentials: AzureCredentials, *, linked: bool
) -> dict[str, Any]:
    """Describe the ``azure`` artifact store of a stack, ``--extra artifact_store.*`` applied.

    Args:
        spec: The stack spec; ``artifact_store`` holds the URI.
        credentials: The parsed ``--credentials``.
        linked: Link the store to the stack's service connector, which then
            hands it the container (resource ID ``az://CONTAINER``).
    """
    uri = normalize_artifact_store_uri(spec.get("artifact_store"))
    if not linked:
        return component(spec, "artifact_store", ARTIFACT_STORE_FLAVOR, {"path": uri})
    return component(
        spec,
        "artifact_store",
        ARTIFACT_STORE_FLAVOR,
        {"path": uri},
        connector=True,
        connector_resource_id=blob_resource_id(uri),
    )


def build_azure_artifact_store(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Describe an Azure Blob artifact store for a stack of another type (``local``).

    With implicit credentials (no ``--credentials``) the result is only the
    artifact store, ``{"path": URI}`` plus the user's ``--extra``: at run time
    it authenticates from the environment, so an Azurite connection string in
    ``AZURE_STORAGE_CONNECTION_STRING`` just works. A service principal adds an
    ``azure`` service connector that the store is linked to.

    Raises:
        KitaruUsageError: For a bad URI or credentials string, and for
            ``azure-access-token``, which the engine's Azure artifact store
            cannot use.
    """
    credentials = parse_credentials(spec.get("credentials"))
    if credentials.auth_method == ACCESS_TOKEN:
        raise KitaruUsageError(
            "Azure access tokens cannot authenticate an artifact store: the engine's Azure "
            "artifact store only takes a service principal or implicit credentials. Use "
            "--credentials azure-service-principal:TENANT:CLIENT:SECRET, or leave --credentials "
            "out and set AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_NAME with "
            "`az login`)."
        )
    if credentials.is_implicit:
        return {"artifact_store": artifact_store_component(spec, credentials, linked=False)}
    configuration = credentials.connector_configuration(
        storage_account=storage_account_from_environment()
    )
    return {
        "service_connector": connector(
            spec, CONNECTOR_TYPE, credentials.auth_method, configuration
        ),
        "artifact_store": artifact_store_component(spec, credentials, linked=True),
    }


def verify_azure_artifact_store(spec: Mapping[str, Any]) -> None:
    """Check that the container exists and this machine can write to it.

    Writes a probe blob (``.kitaru-verify-<hex>``) under the URI's prefix and
    deletes it again, with ``azure-storage-blob`` and the credentials the
    store will use: the service principal from ``--credentials``, else the
    standard ``AZURE_STORAGE_*`` environment variables.

    Raises:
        KitaruUsageError: When the container is missing, the credentials are
            rejected or missing, or the endpoint cannot be reached; the
            message says what to do (or to pass ``--no-verify``).
    """
    credentials = parse_credentials(spec.get("credentials"))
    container, prefix = bucket_and_prefix(normalize_artifact_store_uri(spec.get("artifact_store")))
    secret_name = extra_for(spec, "artifact_store").get("authentication_secret")
    check_container_writable(
        credentials, container, prefix, secret_name=str(secret_name) if secret_name else None
    )

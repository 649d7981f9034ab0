"""The ``azureml`` stack type: run flows as AzureML jobs, keep artifacts in Azure Blob.

:data:`AZUREML_STACK_PROVIDER` declares the type's fields; ``kitaru stack
create`` checks the user's options against them and hands
:func:`build_azureml_components` the validated
:class:`~kitaru.plugins.records.StackSpec`::

    kitaru stack create team --type azureml \\
        --artifact-store az://kitaru/artifacts \\
        --container-registry teamregistry.azurecr.io \\
        --subscription-id 00000000-0000-0000-0000-000000000000 \\
        --resource-group ml --workspace ml-ws

which becomes :class:`~kitaru.plugins.records.StackComponents`, all named like
the stack:

- an ``azure`` service connector holding the credentials (and the
  subscription, which the engine's connector stores as a GUID);
- an ``azureml`` orchestrator (``subscription_id``, ``resource_group``,
  ``workspace``). Jobs run on serverless compute in the workspace's region
  unless ``--extra orchestrator.mode=compute-cluster`` (or ``compute-instance``)
  and ``orchestrator.compute_name=NAME`` pick other compute; ``--region``
  becomes the ``location`` of a compute cluster AzureML creates, the only
  mode where the engine accepts a location (elsewhere it would warn and
  ignore it);
- an ``azure`` artifact store (``path`` = the URI) reaching its container
  through the connector (resource ID ``az://CONTAINER``);
- an ``azure`` container registry (``uri``) reaching ACR through the connector.

``--extra TARGET.FIELD=VALUE`` overrides win over every computed value.
One exception to the linking: with ``azure-access-token`` credentials the
artifact store is *not* linked, because the engine's Azure artifact store
only accepts service-principal or implicit connectors; it then authenticates
from its environment (``AZURE_STORAGE_*`` variables or a managed identity).

AzureML itself is not contacted before the stack is registered (submitting a
job is what proves the workspace, and that needs a real subscription): the
record's check is its backend's, which writes a probe blob to the container
(:func:`kitaru_azure.artifact_store.verify_azure_artifact_store`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import StackComponents, StackField, StackProviderSpec, StackSpec
from kitaru.plugins.stack_helpers import component_spec, connector_spec
from kitaru_azure.artifact_store import (
    AZURE_BLOB_BACKEND,
    CONNECTOR_TYPE,
    artifact_store_component,
    storage_account_from_environment,
)
from kitaru_azure.credentials import ACCESS_TOKEN, CREDENTIAL_FORMATS, is_guid, parse_credentials

PROVIDER = "azure"
"""The cloud provider name, which is also the pip extra (``kitaru[azure]``)."""

AZUREML_STACK_TYPE = "azureml"
"""The stack type name (``--type azureml``)."""

ORCHESTRATOR_FLAVOR = "azureml"
"""The engine's orchestrator flavor for AzureML jobs."""

CONTAINER_REGISTRY_FLAVOR = "azure"
"""The engine's container-registry flavor for Azure Container Registry."""

COMPUTE_CLUSTER = "compute-cluster"
"""The AzureML compute mode whose cluster gets the ``--region`` as its ``location``."""

_ACR = re.compile(r"^[a-zA-Z0-9]+\.azurecr\.io(/[^/\s]+)*$")

AZUREML_FIELDS: tuple[StackField, ...] = (
    StackField(
        "artifact_store", "Blob container URI (az://CONTAINER/PREFIX).", True,
        example="az://kitaru/artifacts", label="Artifacts",
    ),
    StackField(
        "container_registry", "Azure Container Registry (NAME.azurecr.io).", True,
        example="teamregistry.azurecr.io", label="Registry",
    ),
    StackField(
        "subscription_id", "Azure subscription ID (a GUID).", True,
        example="00000000-0000-0000-0000-000000000000", label="Subscription",
    ),
    StackField("resource_group", "Resource group of the AzureML workspace.", True, example="ml"),
    StackField("workspace", "AzureML workspace name.", True, example="ml-workspace"),
    StackField(
        "region", "Location of a compute cluster AzureML creates (mode compute-cluster).",
        example="westeurope",
    ),
    StackField(
        "credentials", "implicit (default) or azure-service-principal / azure-access-token.",
        example="implicit",
    ),
)
"""The options ``--type azureml`` requires and accepts (SPEC §5.4)."""


def build_azureml_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe the connector and components of an ``azureml`` stack.

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted; see the module docstring).

    Returns:
        The ``azure`` service connector, the ``azureml`` orchestrator, the
        ``azure`` artifact store and container registry. Only the connector
        configuration holds secrets.

    Raises:
        KitaruUsageError: When a required value is missing, the subscription
            ID is not a GUID, the registry is not an ACR URI, or the
            artifact-store URI or credentials string is malformed.
    """
    spec = StackSpec.coerce(spec)
    credentials = parse_credentials(spec.credentials)
    subscription_id = str(spec.require("subscription_id"))
    if not is_guid(subscription_id):
        raise KitaruUsageError(
            f"--subscription-id must be an Azure subscription ID, a GUID like "
            f"00000000-0000-0000-0000-000000000000. Received: '{subscription_id}' "
            "(find yours with `az account show --query id`)."
        )
    orchestrator_configuration = {
        "subscription_id": subscription_id,
        "resource_group": spec.require("resource_group"),
        "workspace": spec.require("workspace"),
    }
    region = spec.value("region")
    if region and spec.extra_for("orchestrator").get("mode") == COMPUTE_CLUSTER:
        orchestrator_configuration["location"] = region
    registry = _registry_uri(spec.require("container_registry"))
    connector_configuration = credentials.connector_configuration(
        subscription_id=subscription_id, storage_account=storage_account_from_environment()
    )
    return StackComponents(
        service_connector=connector_spec(
            spec, CONNECTOR_TYPE, credentials.auth_method, connector_configuration
        ),
        orchestrator=component_spec(
            spec, "orchestrator", ORCHESTRATOR_FLAVOR, orchestrator_configuration, connector=True
        ),
        artifact_store=artifact_store_component(
            spec, linked=credentials.auth_method != ACCESS_TOKEN
        ),
        container_registry=component_spec(
            spec,
            "container_registry",
            CONTAINER_REGISTRY_FLAVOR,
            {"uri": registry},
            connector=True,
            connector_resource_id=registry,
        ),
    )


def _registry_uri(value: str) -> str:
    uri = value.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _ACR.match(uri):
        raise KitaruUsageError(
            "AzureML stacks push images to an Azure Container Registry: --container-registry "
            f"must look like NAME.azurecr.io. Received: '{value}'"
        )
    return uri


AZUREML_STACK_PROVIDER = StackProviderSpec(
    name=AZUREML_STACK_TYPE,
    provider=PROVIDER,
    display_name="AzureML",
    description="Runs flows as AzureML jobs and keeps artifacts in Azure Blob Storage.",
    fields=AZUREML_FIELDS,
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_azureml_components,
    artifact_store_backend=AZURE_BLOB_BACKEND,
)
"""``--type azureml``; verified by its backend (the blob container check)."""

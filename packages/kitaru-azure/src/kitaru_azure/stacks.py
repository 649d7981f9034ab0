"""The ``azureml`` stack type: run flows as AzureML jobs, keep artifacts in Azure Blob.

``kitaru stack create`` validates the fields the record declares and hands
:func:`build_azureml_components` a spec such as::

    {
        "name": "team",
        "artifact_store": "az://kitaru/artifacts",
        "container_registry": "teamregistry.azurecr.io",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "ml",
        "workspace": "ml-ws",
        "region": "westeurope",            # optional
        "credentials": None,               # optional; None means implicit
        "extra": {"orchestrator": {}, "artifact_store": {}, "container_registry": {}},
    }

which becomes four engine components, all named like the stack:

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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import StackField
from kitaru.plugins.stack_helpers import component, connector, extra_for
from kitaru_azure.artifact_store import (
    CONNECTOR_TYPE,
    artifact_store_component,
    storage_account_from_environment,
    verify_azure_artifact_store,
)
from kitaru_azure.credentials import ACCESS_TOKEN, is_guid, parse_credentials

AZUREML_STACK_TYPE = "azureml"
ORCHESTRATOR_FLAVOR = "azureml"
CONTAINER_REGISTRY_FLAVOR = "azure"
COMPUTE_CLUSTER = "compute-cluster"
"""The AzureML compute mode whose cluster gets the ``--region`` as its ``location``."""

AZUREML_FIELDS: tuple[StackField, ...] = (
    StackField(
        "artifact_store", "Blob container URI (az://CONTAINER/PREFIX).", True,
        example="az://kitaru/artifacts",
    ),
    StackField(
        "container_registry", "Azure Container Registry (NAME.azurecr.io).", True,
        example="teamregistry.azurecr.io",
    ),
    StackField(
        "subscription_id", "Azure subscription ID (a GUID).", True,
        example="00000000-0000-0000-0000-000000000000",
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

_ACR = re.compile(r"^[a-zA-Z0-9]+\.azurecr\.io(/[^/\s]+)*$")


def build_azureml_components(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Describe the connector and components of an ``azureml`` stack.

    Args:
        spec: The validated stack spec (see the module docstring).

    Returns:
        ``service_connector``, ``orchestrator``, ``artifact_store`` and
        ``container_registry`` descriptions (see
        :data:`kitaru.plugins.records.STACK_SPEC_DOC`). Only the connector
        configuration holds secrets.

    Raises:
        KitaruUsageError: When a required value is missing, the subscription
            ID is not a GUID, the registry is not an ACR URI, or the
            artifact-store URI or credentials string is malformed.
    """
    credentials = parse_credentials(spec.get("credentials"))
    subscription_id = _text(spec, "subscription_id")
    if not is_guid(subscription_id):
        raise KitaruUsageError(
            f"--subscription-id must be an Azure subscription ID, a GUID like "
            f"00000000-0000-0000-0000-000000000000. Received: '{subscription_id}' "
            "(find yours with `az account show --query id`)."
        )
    orchestrator_configuration = {
        "subscription_id": subscription_id,
        "resource_group": _text(spec, "resource_group"),
        "workspace": _text(spec, "workspace"),
    }
    region = spec.get("region")
    mode = extra_for(spec, "orchestrator").get("mode")
    if isinstance(region, str) and region.strip() and mode == COMPUTE_CLUSTER:
        orchestrator_configuration["location"] = region.strip()
    registry = _registry_uri(_text(spec, "container_registry"))
    connector_configuration = credentials.connector_configuration(
        subscription_id=subscription_id, storage_account=storage_account_from_environment()
    )
    return {
        "service_connector": connector(
            spec, CONNECTOR_TYPE, credentials.auth_method, connector_configuration
        ),
        "orchestrator": component(
            spec, "orchestrator", ORCHESTRATOR_FLAVOR, orchestrator_configuration, connector=True
        ),
        "artifact_store": artifact_store_component(
            spec, credentials, linked=credentials.auth_method != ACCESS_TOKEN
        ),
        "container_registry": component(
            spec,
            "container_registry",
            CONTAINER_REGISTRY_FLAVOR,
            {"uri": registry},
            connector=True,
            connector_resource_id=registry,
        ),
    }


def verify_azureml(spec: Mapping[str, Any]) -> None:
    """Check the stack's blob container is writable (see :func:`verify_azure_artifact_store`).

    AzureML itself is not contacted: submitting a job is what proves the
    workspace, and that needs a real Azure subscription.
    """
    verify_azure_artifact_store(spec)


def _text(spec: Mapping[str, Any], field: str) -> str:
    value = spec.get(field)
    if not isinstance(value, str) or not value.strip():
        raise KitaruUsageError(
            f"AzureML stacks require --{field.replace('_', '-')}; it is missing or blank."
        )
    return value.strip()


def _registry_uri(value: str) -> str:
    uri = value.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _ACR.match(uri):
        raise KitaruUsageError(
            "AzureML stacks push images to an Azure Container Registry: --container-registry "
            f"must look like NAME.azurecr.io. Received: '{value}'"
        )
    return uri

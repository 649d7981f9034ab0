"""Kitaru's ``azure`` plugin: AzureML stacks, Azure Blob artifact stores, Azure OpenAI.

Install it with ``pip install 'kitaru[azure]'``. It registers, through the
``kitaru`` entry point:

- the ``azureml`` stack type (``kitaru stack create NAME --type azureml ...``);
- the Azure Blob artifact-store backend for ``az://``, ``abfs://`` and
  ``abfss://`` URIs, which ``local`` stacks use too
  (``kitaru stack create dev --artifact-store az://kitaru``);
- the ``azure`` LLM backend (Azure OpenAI deployments).

See ``docs/azure.md``. Importing this package is cheap: neither the engine nor
an Azure SDK is imported until a stack is verified.

The layout every Kitaru plugin package follows: :mod:`~kitaru_azure.plugin`
(hook implementations only), :mod:`~kitaru_azure.stacks`,
:mod:`~kitaru_azure.artifact_store`, :mod:`~kitaru_azure.credentials` and
:mod:`~kitaru_azure.llm`.
"""

from kitaru_azure.artifact_store import (
    AZURE_BLOB_BACKEND,
    AZURE_SCHEMES,
    blob_resource_id,
    build_azure_artifact_store,
    normalize_artifact_store_uri,
    verify_azure_artifact_store,
)
from kitaru_azure.credentials import CREDENTIAL_FORMATS, AzureCredentials, parse_credentials
from kitaru_azure.stacks import AZUREML_STACK_PROVIDER, AZUREML_STACK_TYPE, build_azureml_components

__all__ = [
    "AZUREML_STACK_PROVIDER",
    "AZUREML_STACK_TYPE",
    "AZURE_BLOB_BACKEND",
    "AZURE_SCHEMES",
    "CREDENTIAL_FORMATS",
    "AzureCredentials",
    "blob_resource_id",
    "build_azure_artifact_store",
    "build_azureml_components",
    "normalize_artifact_store_uri",
    "parse_credentials",
    "verify_azure_artifact_store",
]

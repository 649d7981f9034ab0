"""Hook implementations of Kitaru's ``azure`` plugin (``pip install 'kitaru[azure]'``).

Registered through the ``kitaru`` entry-point group::

    [project.entry-points.kitaru]
    azure = "kitaru_azure.plugin"

This module only declares what the plugin provides: the ``azureml`` stack type
and the Azure Blob artifact-store backend (``az://``, ``abfs://``, ``abfss://``),
which ``local`` stacks borrow too. The logic lives in :mod:`kitaru_azure.stacks`,
:mod:`kitaru_azure.artifact_store` and :mod:`kitaru_azure.credentials`; Azure
SDKs are imported only when a stack is verified.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import ArtifactStoreBackend, LlmBackendSpec, StackProviderSpec
from kitaru_azure.artifact_store import (
    AZURE_SCHEMES,
    build_azure_artifact_store,
    verify_azure_artifact_store,
)
from kitaru_azure.credentials import CREDENTIAL_FORMATS
from kitaru_azure.llm import AZURE_LLM_BACKEND
from kitaru_azure.stacks import (
    AZUREML_FIELDS,
    AZUREML_STACK_TYPE,
    build_azureml_components,
    verify_azureml,
)


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``azureml`` stack type and the Azure Blob artifact-store backend."""
    yield StackProviderSpec(
        name=AZUREML_STACK_TYPE,
        provider="azure",
        display_name="AzureML",
        description="Runs flows as AzureML jobs and keeps artifacts in Azure Blob Storage.",
        fields=AZUREML_FIELDS,
        artifact_store_schemes=AZURE_SCHEMES,
        credential_formats=CREDENTIAL_FORMATS,
        build_components=build_azureml_components,
        verify=verify_azureml,
        artifact_store_backend=ArtifactStoreBackend(
            schemes=AZURE_SCHEMES,
            provider="azure",
            build=build_azure_artifact_store,
            verify=verify_azure_artifact_store,
            description="Azure Blob containers (az://, abfs://; abfss:// is stored as abfs://).",
        ),
    )


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``azure`` backend (Azure OpenAI deployments)."""
    yield AZURE_LLM_BACKEND

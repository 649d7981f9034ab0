"""Hook implementations of Kitaru's ``azure`` plugin (``pip install 'kitaru[azure]'``).

Registered through the ``kitaru`` entry-point group::

    [project.entry-points.kitaru]
    azure = "kitaru_azure.plugin"

This module only yields the records; each lives next to its logic:

* :mod:`kitaru_azure.stacks`: the ``azureml`` stack type, its fields and
  component builder;
* :mod:`kitaru_azure.artifact_store`: the Azure Blob artifact-store backend
  (``az://``, ``abfs://``, ``abfss://``) it uses, and ``local`` stacks borrow,
  with its container check;
* :mod:`kitaru_azure.credentials`: ``--credentials`` strings to connector auth;
* :mod:`kitaru_azure.llm`: the ``azure`` LLM backend (Azure OpenAI).

Importing it imports neither the engine nor an Azure SDK: those load when a
stack is verified or a model is called.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, StackProviderSpec
from kitaru_azure.llm import AZURE_LLM_BACKEND
from kitaru_azure.stacks import AZUREML_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``azureml`` stack type (and with it the Azure Blob artifact-store backend)."""
    yield AZUREML_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``azure`` backend (Azure OpenAI deployments)."""
    yield AZURE_LLM_BACKEND

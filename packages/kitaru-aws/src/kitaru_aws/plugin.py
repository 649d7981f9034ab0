"""Hook implementations of Kitaru's AWS plugin (``pip install 'kitaru[aws]'``).

Registered through the ``kitaru`` entry-point group::

    [project.entry-points.kitaru]
    aws = "kitaru_aws.plugin"

This module only yields the records; each lives next to its logic:

* :mod:`kitaru_aws.stacks`: the ``sagemaker`` and ``kubernetes`` (EKS) stack
  types, their fields and component builders;
* :mod:`kitaru_aws.artifact_store`: the ``s3://`` artifact-store backend both
  types use (and ``local`` stacks borrow), with its bucket check;
* :mod:`kitaru_aws.credentials`: ``--credentials`` strings to connector auth;
* :mod:`kitaru_aws.llm`: the ``bedrock`` LLM backend.

Importing it imports neither boto3 nor the engine: both load when a stack is
created or verified, or a model is called.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, StackProviderSpec
from kitaru_aws.llm import BEDROCK_BACKEND
from kitaru_aws.stacks import KUBERNETES_STACK_PROVIDER, SAGEMAKER_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``sagemaker`` and ``kubernetes`` (EKS, ``s3://``) stack types."""
    yield SAGEMAKER_STACK_PROVIDER
    yield KUBERNETES_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``bedrock`` backend (models on Amazon Bedrock, boto3 Converse)."""
    yield BEDROCK_BACKEND

"""Hook implementations of Kitaru's AWS plugin (``pip install 'kitaru[aws]'``).

Registered through the ``kitaru`` entry-point group::

    [project.entry-points.kitaru]
    aws = "kitaru_aws.plugin"

This module only declares what the plugin provides: the ``sagemaker`` and
``kubernetes`` (EKS) stack types, both keeping artifacts in S3 through the
``s3://`` artifact-store backend that ``local`` stacks may borrow too. The
records live in :mod:`kitaru_aws.providers`, the logic in
:mod:`kitaru_aws.stacks`, :mod:`kitaru_aws.artifact_store` and
:mod:`kitaru_aws.credentials`. Importing it imports neither boto3 nor the
engine: both load when a stack is created or verified.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import LlmBackendSpec, StackProviderSpec
from kitaru_aws.bedrock import BEDROCK_BACKEND
from kitaru_aws.providers import KUBERNETES_STACK_PROVIDER, SAGEMAKER_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``sagemaker`` and ``kubernetes`` (EKS, ``s3://``) stack types."""
    yield SAGEMAKER_STACK_PROVIDER
    yield KUBERNETES_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the ``bedrock`` backend (models on Amazon Bedrock, boto3 Converse)."""
    yield BEDROCK_BACKEND

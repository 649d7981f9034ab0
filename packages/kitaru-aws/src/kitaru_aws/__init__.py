"""Kitaru's AWS plugin: SageMaker and Kubernetes (EKS) stacks, ``s3://`` artifact stores, Bedrock.

Install it with ``pip install 'kitaru[aws]'``; Kitaru finds it through the
``kitaru`` entry point (see ``kitaru plugins``). Importing it is cheap: boto3
and the engine load only when a stack is created or verified. User docs:
``docs/aws.md``.

The layout every Kitaru plugin package follows: :mod:`~kitaru_aws.plugin`
(hook implementations only), :mod:`~kitaru_aws.stacks`,
:mod:`~kitaru_aws.artifact_store`, :mod:`~kitaru_aws.credentials` and
:mod:`~kitaru_aws.llm`.
"""

from kitaru_aws.artifact_store import (
    S3_ARTIFACT_STORE_BACKEND,
    build_s3_artifact_store,
    verify_s3_bucket,
)
from kitaru_aws.credentials import CREDENTIAL_FORMATS, AwsCredentials, parse_credentials
from kitaru_aws.stacks import (
    KUBERNETES_STACK_PROVIDER,
    SAGEMAKER_STACK_PROVIDER,
    build_kubernetes_components,
    build_sagemaker_components,
)

__all__ = [
    "CREDENTIAL_FORMATS",
    "KUBERNETES_STACK_PROVIDER",
    "S3_ARTIFACT_STORE_BACKEND",
    "SAGEMAKER_STACK_PROVIDER",
    "AwsCredentials",
    "build_kubernetes_components",
    "build_s3_artifact_store",
    "build_sagemaker_components",
    "parse_credentials",
    "verify_s3_bucket",
]

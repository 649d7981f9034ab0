"""Kitaru's AWS plugin: SageMaker and Kubernetes (EKS) stacks, ``s3://`` artifact stores.

Install it with ``pip install 'kitaru[aws]'``; Kitaru finds it through the
``kitaru`` entry point (see ``kitaru plugins``). Importing it is cheap: boto3
and the engine load only when a stack is created or verified. User docs:
``docs/aws.md``.
"""

from kitaru_aws.artifact_store import (
    S3_ARTIFACT_STORE_BACKEND,
    build_s3_artifact_store,
    verify_s3_bucket,
)
from kitaru_aws.credentials import CREDENTIAL_FORMATS, AwsCredentials, parse_credentials
from kitaru_aws.providers import KUBERNETES_STACK_PROVIDER, SAGEMAKER_STACK_PROVIDER
from kitaru_aws.stacks import build_kubernetes_components, build_sagemaker_components

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

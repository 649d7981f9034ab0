"""The stack provider records the AWS plugin registers (see :mod:`kitaru_aws.plugin`).

Each record declares every option its stack type accepts as a
:class:`~kitaru.plugins.records.StackField`, so ``kitaru stack create`` can
check required and misplaced options before calling
``build_components`` (:mod:`kitaru_aws.stacks`) or ``verify``
(:func:`kitaru_aws.artifact_store.verify_s3_bucket`).
"""

from __future__ import annotations

from kitaru.plugins.records import StackField, StackProviderSpec
from kitaru_aws.artifact_store import S3_ARTIFACT_STORE_BACKEND, verify_s3_bucket
from kitaru_aws.credentials import CREDENTIAL_FORMATS
from kitaru_aws.stacks import (
    DEFAULT_NAMESPACE,
    build_kubernetes_components,
    build_sagemaker_components,
)

PROVIDER = "aws"
"""The cloud provider name, which is also the pip extra (``kitaru[aws]``)."""

ARTIFACT_STORE_FIELD = StackField(
    "artifact_store",
    "S3 URI for artifacts: s3://BUCKET[/PREFIX].",
    required=True,
    example="s3://my-team-artifacts/kitaru",
)
CONTAINER_REGISTRY_FIELD = StackField(
    "container_registry",
    "Amazon ECR registry: ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com.",
    required=True,
    example="123456789012.dkr.ecr.eu-west-1.amazonaws.com",
)
REGION_FIELD = StackField(
    "region", "AWS region of the stack's resources.", required=True, example="eu-west-1"
)
CREDENTIALS_FIELD = StackField(
    "credentials", f"AWS credentials: {', '.join(CREDENTIAL_FORMATS)} (default implicit)."
)

SAGEMAKER_STACK_PROVIDER = StackProviderSpec(
    name="sagemaker",
    provider=PROVIDER,
    display_name="SageMaker",
    description="Runs flows as Amazon SageMaker pipelines, with artifacts in S3 and images in ECR.",
    fields=(
        ARTIFACT_STORE_FIELD,
        CONTAINER_REGISTRY_FIELD,
        REGION_FIELD,
        StackField(
            "execution_role",
            "IAM role ARN SageMaker jobs run as (arn:aws:iam::ACCOUNT_ID:role/NAME).",
            required=True,
            example="arn:aws:iam::123456789012:role/kitaru-sagemaker",
        ),
        CREDENTIALS_FIELD,
    ),
    artifact_store_schemes=("s3",),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_sagemaker_components,
    verify=verify_s3_bucket,
    artifact_store_backend=S3_ARTIFACT_STORE_BACKEND,
)
"""``--type sagemaker``."""

KUBERNETES_STACK_PROVIDER = StackProviderSpec(
    name="kubernetes",
    provider=PROVIDER,
    display_name="Kubernetes",
    description=(
        "Runs flows as pods on an Amazon EKS cluster, with artifacts in S3 and images in ECR."
    ),
    fields=(
        ARTIFACT_STORE_FIELD,
        CONTAINER_REGISTRY_FIELD,
        StackField("cluster", "EKS cluster name or ARN.", required=True, example="kitaru-eks"),
        REGION_FIELD,
        StackField(
            "namespace",
            f"Kubernetes namespace for the pods (default {DEFAULT_NAMESPACE}).",
            example="kitaru",
        ),
        CREDENTIALS_FIELD,
    ),
    artifact_store_schemes=("s3",),
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_kubernetes_components,
    verify=verify_s3_bucket,
    artifact_store_backend=S3_ARTIFACT_STORE_BACKEND,
)
"""``--type kubernetes`` with an ``s3://`` artifact store."""

"""Check and normalise the AWS names a user types into ``kitaru stack create``.

ZenML checks some of these only when a flow first runs (an ECR registry whose
region differs from the connector's region, a bucket name with capitals), far
from the command that caused the problem. Checking them here turns each into a
:class:`~kitaru.errors.KitaruUsageError` at creation time that says what form
is expected::

    >>> s3_bucket("s3://team-artifacts/kitaru")
    ('team-artifacts', 'kitaru')
    >>> ecr_registry("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/", "eu-west-1")
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com'

Nothing here talks to AWS: whether the bucket or cluster really exists is
:func:`kitaru_aws.artifact_store.verify_s3_bucket`'s job.
"""

from __future__ import annotations

import re

from kitaru.errors import KitaruUsageError
from kitaru.plugins.stack_helpers import bucket_and_prefix

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
"""An AWS region code such as ``eu-west-1`` or ``us-gov-west-1``."""

BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
"""An S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."""

ECR_PATTERN = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
"""An ECR registry host: ``<account-id>.dkr.ecr.<region>.amazonaws.com``."""

EKS_NAME_PATTERN = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*$")
"""An EKS cluster name."""

EKS_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster/([0-9A-Za-z][A-Za-z0-9_-]*)$"
)
"""An EKS cluster ARN; group 1 is its region, group 2 its name."""

ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
"""An IAM role ARN such as ``arn:aws:iam::123456789012:role/SageMakerRole``."""


def region(value: str) -> str:
    """Return the region code, or raise naming the expected form."""
    text = value.strip()
    if not REGION_PATTERN.match(text):
        raise KitaruUsageError(
            f"'{text}' is not an AWS region. Pass a region code such as --region eu-west-1."
        )
    return text


def s3_bucket(uri: str) -> tuple[str, str]:
    """Split an ``s3://bucket/prefix`` URI into bucket and prefix, checking the bucket name."""
    text = uri.strip()
    if not text.lower().startswith("s3://"):
        raise KitaruUsageError(
            f"AWS artifact stores live in S3; got '{text}'. "
            "Pass --artifact-store s3://BUCKET[/PREFIX]."
        )
    bucket, prefix = bucket_and_prefix(text)
    if not BUCKET_PATTERN.match(bucket) or ".." in bucket:
        raise KitaruUsageError(
            f"'{bucket}' in '{text}' is not a valid S3 bucket name: use 3-63 lowercase letters, "
            "digits, dots and hyphens, starting and ending with a letter or digit "
            "(for example s3://my-team-artifacts/kitaru)."
        )
    return bucket, prefix


def ecr_registry(value: str, stack_region: str) -> str:
    """Return the bare ECR registry host, checking it lies in ``stack_region``.

    A leading ``https://`` and trailing ``/`` are dropped. A repository path is
    refused: the engine's ``aws`` container registry is the registry host and
    names repositories itself.
    """
    host = re.sub(r"^https?://", "", value.strip()).rstrip("/")
    example = f"123456789012.dkr.ecr.{stack_region}.amazonaws.com"
    if "/" in host:
        raise KitaruUsageError(
            f"Pass the ECR registry without a repository path: '{host.split('/')[0]}' "
            f"instead of '{value.strip()}' (Kitaru names the repositories itself)."
        )
    match = ECR_PATTERN.match(host)
    if match is None:
        raise KitaruUsageError(
            f"'{value.strip()}' is not an Amazon ECR registry. Pass "
            f"--container-registry ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com (for example {example})."
        )
    if match.group(2) != stack_region:
        registry_region = match.group(2)
        raise KitaruUsageError(
            f"The ECR registry '{host}' is in region '{registry_region}' but the stack's region "
            f"is '{stack_region}'. Use a registry in {stack_region}, or pass --region "
            f"{registry_region}."
        )
    return host


def eks_cluster(value: str, stack_region: str) -> str:
    """Return the EKS cluster name (from a name or an ARN in ``stack_region``)."""
    text = value.strip()
    arn = EKS_ARN_PATTERN.match(text)
    if arn is not None:
        if arn.group(1) != stack_region:
            raise KitaruUsageError(
                f"The EKS cluster '{text}' is in region '{arn.group(1)}' but the stack's region is "
                f"'{stack_region}'. Pass --region {arn.group(1)}."
            )
        return arn.group(2)
    if not EKS_NAME_PATTERN.match(text):
        raise KitaruUsageError(
            f"'{text}' is not an EKS cluster name. Pass --cluster NAME (as listed by "
            "`aws eks list-clusters`) or the cluster ARN."
        )
    return text


def iam_role_arn(value: str) -> str:
    """Return the IAM role ARN, or raise naming the expected form."""
    text = value.strip()
    if not ROLE_ARN_PATTERN.match(text):
        raise KitaruUsageError(
            f"'{text}' is not an IAM role ARN. Pass --execution-role "
            "arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (a role SageMaker may assume)."
        )
    return text

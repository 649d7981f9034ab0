"""The ``sagemaker`` and ``kubernetes`` (EKS) stack types: their records, fields and components.

Each :class:`~kitaru.plugins.records.StackProviderSpec` below declares the
options its type accepts as :class:`~kitaru.plugins.records.StackField`
records; Kitaru turns each into a ``kitaru stack create`` flag, checks what
the user gave against them, and hands ``build_components`` the validated
:class:`~kitaru.plugins.records.StackSpec`.

Both types register one ``aws`` service connector named like the stack and
link every component to it, so one set of credentials reaches SageMaker or
EKS, S3 and ECR::

    kitaru stack create ml --type sagemaker \\
        --artifact-store s3://team-artifacts/kitaru \\
        --container-registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com \\
        --region eu-west-1 \\
        --execution-role arn:aws:iam::123456789012:role/SageMakerExecution

becomes (:func:`build_sagemaker_components`)::

    service_connector   aws, implicit, {"region": "eu-west-1"}
    orchestrator        sagemaker, {"execution_role": ..., "region": "eu-west-1",
                                    "bucket": "team-artifacts"}   -> connector, eu-west-1
    artifact_store      s3, {"path": "s3://team-artifacts/kitaru"} -> connector, s3://team-artifacts
    container_registry  aws, {"uri": "1234...amazonaws.com"}      -> connector, the registry

A ``kubernetes`` stack has a ``kubernetes`` orchestrator instead, with
``kubernetes_namespace`` (default ``default``), linked to the connector for
the EKS cluster. ``--extra TARGET.FIELD=VALUE`` overrides win over everything
computed here. The connector's endpoint is always AWS's own: an S3-compatible
endpoint override only makes sense for the artifact store of a local stack.

The engine checks some AWS names only when a flow first runs (an ECR registry
in another region than the connector, a malformed role ARN), far from the
command that caused the problem; the checks here (:func:`aws_region`,
:func:`ecr_registry`, :func:`eks_cluster`, :func:`iam_role_arn`) turn each
into a :class:`~kitaru.errors.KitaruUsageError` at creation time that names
the expected form. Nothing here talks to AWS: whether the bucket exists is
:func:`kitaru_aws.artifact_store.verify_s3_bucket`'s job, which both records
run through their ``artifact_store_backend``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import (
    ComponentSpec,
    StackComponents,
    StackField,
    StackProviderSpec,
    StackSpec,
)
from kitaru.plugins.stack_helpers import component_spec, connector_spec
from kitaru_aws.artifact_store import (
    S3_ARTIFACT_STORE_BACKEND,
    s3_artifact_store_component,
    s3_bucket,
)
from kitaru_aws.credentials import CONNECTOR_TYPE, CREDENTIAL_FORMATS, parse_credentials

PROVIDER = "aws"
"""The cloud provider name, which is also the pip extra (``kitaru[aws]``)."""

SAGEMAKER_FLAVOR = "sagemaker"
"""The engine's orchestrator flavor for SageMaker pipelines."""

KUBERNETES_FLAVOR = "kubernetes"
"""The engine's orchestrator flavor for Kubernetes (EKS here)."""

ECR_FLAVOR = "aws"
"""The engine's container-registry flavor for Amazon ECR."""

DEFAULT_NAMESPACE = "default"
"""The Kubernetes namespace used when ``--namespace`` is not given."""

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
"""An AWS region code such as ``eu-west-1`` or ``us-gov-west-1``."""

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


# -- the fields ---------------------------------------------------------------------

ARTIFACT_STORE_FIELD = StackField(
    "artifact_store",
    "S3 URI for artifacts: s3://BUCKET[/PREFIX].",
    required=True,
    example="s3://my-team-artifacts/kitaru",
    label="Artifacts",
)
CONTAINER_REGISTRY_FIELD = StackField(
    "container_registry",
    "Amazon ECR registry: ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com.",
    required=True,
    example="123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    label="Registry",
)
REGION_FIELD = StackField(
    "region", "AWS region of the stack's resources.", required=True, example="eu-west-1"
)
CREDENTIALS_FIELD = StackField(
    "credentials", f"AWS credentials: {', '.join(CREDENTIAL_FORMATS)} (default implicit)."
)


# -- the name checks ------------------------------------------------------------------


def aws_region(value: str) -> str:
    """Return the region code, or raise naming the expected form."""
    text = value.strip()
    if not REGION_PATTERN.match(text):
        raise KitaruUsageError(
            f"'{text}' is not an AWS region. Pass a region code such as --region eu-west-1."
        )
    return text


def ecr_registry(value: str, stack_region: str) -> str:
    """Return the bare ECR registry host, checking it lies in ``stack_region``.

    A leading ``https://`` and trailing ``/`` are dropped. A repository path is
    refused: the engine's ``aws`` container registry is the registry host and
    names repositories itself::

        >>> ecr_registry("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/", "eu-west-1")
        '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
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


# -- the component builders -------------------------------------------------------------


def build_sagemaker_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe the connector and components of a ``sagemaker`` stack.

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted) with ``artifact_store``,
            ``container_registry``, ``region``, ``execution_role`` and
            optional ``credentials``.

    Returns:
        An ``aws`` service connector, a ``sagemaker`` orchestrator, an ``s3``
        artifact store and an ``aws`` container registry, all linked to the
        connector. SageMaker's own job files go to the artifact store's bucket
        (the orchestrator's ``bucket``) instead of a ``sagemaker-REGION-ACCOUNT``
        bucket it would otherwise create.

    Raises:
        KitaruUsageError: When a value is missing or not in its AWS form.
    """
    spec = StackSpec.coerce(spec)
    region = aws_region(_text(spec, "region"))
    bucket, _ = s3_bucket(_text(spec, "artifact_store"))
    role = iam_role_arn(_text(spec, "execution_role"))
    orchestrator = component_spec(
        spec,
        "orchestrator",
        SAGEMAKER_FLAVOR,
        {"execution_role": role, "region": region, "bucket": bucket},
        connector=True,
        connector_resource_id=region,
    )
    return _remote_components(spec, region, orchestrator)


def build_kubernetes_components(spec: Mapping[str, Any]) -> StackComponents:
    """Describe the connector and components of a ``kubernetes`` stack on EKS.

    Args:
        spec: The validated :class:`~kitaru.plugins.records.StackSpec` (a
            plain mapping is converted) with ``artifact_store``,
            ``container_registry``, ``cluster``, ``region`` and optional
            ``namespace`` and ``credentials``.

    Returns:
        An ``aws`` service connector, a ``kubernetes`` orchestrator linked to
        it for the cluster, an ``s3`` artifact store and an ``aws`` container
        registry.

    Raises:
        KitaruUsageError: When a value is missing or not in its AWS form.
    """
    spec = StackSpec.coerce(spec)
    region = aws_region(_text(spec, "region"))
    s3_bucket(_text(spec, "artifact_store"))
    cluster = eks_cluster(_text(spec, "cluster"), region)
    namespace = _optional_text(spec, "namespace") or DEFAULT_NAMESPACE
    orchestrator = component_spec(
        spec,
        "orchestrator",
        KUBERNETES_FLAVOR,
        {"kubernetes_namespace": namespace},
        connector=True,
        connector_resource_id=cluster,
    )
    return _remote_components(spec, region, orchestrator)


def _remote_components(spec: StackSpec, region: str, orchestrator: ComponentSpec) -> StackComponents:
    """The connector, artifact store and registry every AWS stack type shares."""
    credentials = parse_credentials(spec.credentials)
    auth_method, configuration = credentials.connector_auth(region)
    registry = ecr_registry(_text(spec, "container_registry"), region)
    return StackComponents(
        service_connector=connector_spec(spec, CONNECTOR_TYPE, auth_method, configuration),
        orchestrator=orchestrator,
        artifact_store=s3_artifact_store_component(spec, connected=True),
        container_registry=component_spec(
            spec,
            "container_registry",
            ECR_FLAVOR,
            {"uri": registry},
            connector=True,
            connector_resource_id=registry,
        ),
    )


def _text(spec: StackSpec, field: str) -> str:
    """A required field's text (:meth:`~kitaru.plugins.records.StackSpec.require`)."""
    return _string(field, spec.require(field))


def _optional_text(spec: StackSpec, field: str) -> str | None:
    """An optional field's text, None when not given."""
    value = spec.value(field)
    return None if value is None else _string(field, value)


def _string(field: str, value: Any) -> str:
    """``value`` if it is a string; a YAML file or MCP call may hand over a number instead."""
    if not isinstance(value, str):
        raise KitaruUsageError(f"'{field}' must be a string; got {type(value).__name__}.")
    return value


# -- the records ------------------------------------------------------------------------

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
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_sagemaker_components,
    artifact_store_backend=S3_ARTIFACT_STORE_BACKEND,
)
"""``--type sagemaker``; verified by its backend (:func:`~kitaru_aws.artifact_store.verify_s3_bucket`)."""

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
    credential_formats=CREDENTIAL_FORMATS,
    build_components=build_kubernetes_components,
    artifact_store_backend=S3_ARTIFACT_STORE_BACKEND,
)
"""``--type kubernetes`` with an ``s3://`` artifact store (``kubernetes@aws``)."""

"""The ``sagemaker`` and ``kubernetes`` (EKS) stack types: their fields and components.

Both register one ``aws`` service connector named like the stack and link
every component to it, so one set of credentials reaches SageMaker or EKS,
S3 and ECR::

    kitaru stack create ml --type sagemaker \\
        --artifact-store s3://team-artifacts/kitaru \\
        --container-registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com \\
        --region eu-west-1 \\
        --execution-role arn:aws:iam::123456789012:role/SageMakerExecution

becomes (``build_sagemaker_components``)::

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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.stack_helpers import component, connector
from kitaru_aws import names
from kitaru_aws.artifact_store import s3_artifact_store_component
from kitaru_aws.credentials import CONNECTOR_TYPE, parse_credentials

SAGEMAKER_FLAVOR = "sagemaker"
"""The engine's orchestrator flavor for SageMaker pipelines."""

KUBERNETES_FLAVOR = "kubernetes"
"""The engine's orchestrator flavor for Kubernetes (EKS here)."""

ECR_FLAVOR = "aws"
"""The engine's container-registry flavor for Amazon ECR."""

DEFAULT_NAMESPACE = "default"
"""The Kubernetes namespace used when ``--namespace`` is not given."""


def build_sagemaker_components(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the connector and components of a ``sagemaker`` stack.

    Args:
        spec: The validated stack spec with ``name``, ``artifact_store``,
            ``container_registry``, ``region``, ``execution_role``, optional
            ``credentials`` and ``extra``.

    Returns:
        ``service_connector``, ``orchestrator`` (flavor ``sagemaker``),
        ``artifact_store`` (``s3``) and ``container_registry`` (``aws``).
        SageMaker's own job files go to the artifact store's bucket (the
        orchestrator's ``bucket``) instead of a ``sagemaker-REGION-ACCOUNT``
        bucket it would otherwise create.

    Raises:
        KitaruUsageError: When a value is missing or not in its AWS form.
    """
    region = names.region(_required(spec, "region"))
    bucket, _ = names.s3_bucket(_required(spec, "artifact_store"))
    role = names.iam_role_arn(_required(spec, "execution_role"))
    orchestrator = component(
        spec,
        "orchestrator",
        SAGEMAKER_FLAVOR,
        {"execution_role": role, "region": region, "bucket": bucket},
        connector=True,
        connector_resource_id=region,
    )
    return _remote_components(spec, region, orchestrator)


def build_kubernetes_components(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the connector and components of a ``kubernetes`` stack on EKS.

    Args:
        spec: The validated stack spec with ``name``, ``artifact_store``,
            ``container_registry``, ``cluster``, ``region``, optional
            ``namespace``, ``credentials`` and ``extra``.

    Returns:
        ``service_connector``, ``orchestrator`` (flavor ``kubernetes``, linked
        to the connector for the cluster), ``artifact_store`` (``s3``) and
        ``container_registry`` (``aws``).

    Raises:
        KitaruUsageError: When a value is missing or not in its AWS form.
    """
    region = names.region(_required(spec, "region"))
    names.s3_bucket(_required(spec, "artifact_store"))
    cluster = names.eks_cluster(_required(spec, "cluster"), region)
    namespace = _optional(spec, "namespace") or DEFAULT_NAMESPACE
    orchestrator = component(
        spec,
        "orchestrator",
        KUBERNETES_FLAVOR,
        {"kubernetes_namespace": namespace},
        connector=True,
        connector_resource_id=cluster,
    )
    return _remote_components(spec, region, orchestrator)


def _remote_components(
    spec: Mapping[str, Any], region: str, orchestrator: dict[str, Any]
) -> dict[str, Any]:
    """The connector, artifact store and registry every AWS stack type shares."""
    credentials = parse_credentials(_optional(spec, "credentials"))
    auth_method, configuration = credentials.connector_auth(region)
    registry = names.ecr_registry(_required(spec, "container_registry"), region)
    return {
        "service_connector": connector(spec, CONNECTOR_TYPE, auth_method, configuration),
        "orchestrator": orchestrator,
        "artifact_store": s3_artifact_store_component(spec, connected=True),
        "container_registry": component(
            spec,
            "container_registry",
            ECR_FLAVOR,
            {"uri": registry},
            connector=True,
            connector_resource_id=registry,
        ),
    }


def _optional(spec: Mapping[str, Any], field: str) -> str | None:
    value = spec.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise KitaruUsageError(f"'{field}' must be a string; got {type(value).__name__}.")
    return value.strip()


def _required(spec: Mapping[str, Any], field: str) -> str:
    value = _optional(spec, field)
    if value is None:
        option = "--" + field.replace("_", "-")
        raise KitaruUsageError(f"AWS stacks need {option}; it is missing or blank.")
    return value

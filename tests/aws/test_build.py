"""What ``build_components`` and the S3 backend's ``build`` describe, for every stack shape.

These are the exact descriptions the engine adapter registers; whether the
engine accepts them is checked in ``test_registration.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import (
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    StackComponents,
    StackSpec,
)
from kitaru_aws import (
    KUBERNETES_STACK_PROVIDER,
    S3_ARTIFACT_STORE_BACKEND,
    SAGEMAKER_STACK_PROVIDER,
    build_kubernetes_components,
    build_s3_artifact_store,
    build_sagemaker_components,
)
from tests.cloud.records import assert_from_cloud_plugin, modules_loaded_by
from tests.cloud.specs import local_spec, stack_spec

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
LOCAL_URI = "s3://team-artifacts/dev/"
LOCAL_ENDPOINT = {"endpoint_url": "http://127.0.0.1:9000"}
"""``--extra artifact_store.client_kwargs.endpoint_url=...`` of an S3-compatible server."""


def sagemaker_spec(**changes: Any) -> StackSpec:
    """A stack spec exactly as core builds it for ``--type sagemaker`` (``changes`` win)."""
    return stack_spec(SAGEMAKER_STACK_PROVIDER, **{
        "name": "ml",
        "artifact_store": "s3://team-artifacts/kitaru",
        "container_registry": REGISTRY,
        "region": "eu-west-1",
        "execution_role": ROLE,
        **changes,
    })


def kubernetes_spec(**changes: Any) -> StackSpec:
    """A stack spec exactly as core builds it for ``--type kubernetes`` with ``s3://``."""
    return stack_spec(KUBERNETES_STACK_PROVIDER, **{
        "name": "eks",
        "artifact_store": "s3://team-artifacts",
        "container_registry": REGISTRY,
        "cluster": "prod-cluster",
        "region": "eu-west-1",
        "namespace": None,
        **changes,
    })


def test_the_plugin_registers_both_stack_types() -> None:
    providers = get_plugin_manager().stack_providers()
    assert providers["sagemaker@aws"] == SAGEMAKER_STACK_PROVIDER
    assert providers["kubernetes@aws"] == KUBERNETES_STACK_PROVIDER
    sagemaker, kubernetes = SAGEMAKER_STACK_PROVIDER, KUBERNETES_STACK_PROVIDER
    assert_from_cloud_plugin("aws", providers["sagemaker@aws"], providers["kubernetes@aws"])
    assert (sagemaker.title, kubernetes.title) == ("SageMaker", "Kubernetes")
    assert sagemaker.required_fields == (
        "artifact_store", "container_registry", "region", "execution_role",
    )
    assert kubernetes.required_fields == (
        "artifact_store", "container_registry", "cluster", "region",
    )
    assert [f.name for f in sagemaker.fields if not f.required] == ["credentials"]
    assert [f.name for f in kubernetes.fields if not f.required] == ["namespace", "credentials"]
    for provider in (sagemaker, kubernetes):
        assert provider.schemes == ("s3",)
        assert provider.artifact_store_schemes == ()  # deprecated: the backend says it
        assert provider.credential_formats == (
            "implicit",
            "aws-profile:NAME",
            "aws-access-keys:KEY_ID:SECRET",
            "aws-session-token:KEY_ID:SECRET:TOKEN",
        )
        assert provider.artifact_store_backend is S3_ARTIFACT_STORE_BACKEND
        assert provider.verify is None  # the backend's bucket check is the type's
        assert provider.verifier() is S3_ARTIFACT_STORE_BACKEND.verify
        titles = {f.name: f.title for f in provider.fields}
        assert (titles["artifact_store"], titles["container_registry"]) == ("Artifacts", "Registry")
        assert titles["region"] == "Region"
    assert {f.name: f.title for f in sagemaker.fields}["execution_role"] == "Execution role"
    assert S3_ARTIFACT_STORE_BACKEND.schemes == ("s3",)
    assert S3_ARTIFACT_STORE_BACKEND.provider == "aws"


def test_importing_the_plugin_loads_no_engine_and_no_aws_sdk() -> None:
    prefixes = ("zenml", "boto3", "botocore", "s3fs", "aiobotocore")
    assert modules_loaded_by("import kitaru_aws.plugin, kitaru_aws", prefixes) == []


def test_sagemaker_components() -> None:
    assert build_sagemaker_components(sagemaker_spec()) == StackComponents(
        service_connector=ConnectorSpec(
            name="ml", connector_type="aws", auth_method="implicit",
            configuration={"region": "eu-west-1"},
        ),
        orchestrator=ComponentSpec(
            name="ml",
            flavor="sagemaker",
            configuration={"execution_role": ROLE, "region": "eu-west-1", "bucket": "team-artifacts"},
            connector=True,
            connector_resource_id="eu-west-1",
        ),
        artifact_store=ComponentSpec(
            name="ml",
            flavor="s3",
            configuration={"path": "s3://team-artifacts/kitaru"},
            connector=True,
            connector_resource_id="s3://team-artifacts",
        ),
        container_registry=ComponentSpec(
            name="ml",
            flavor="aws",
            configuration={"uri": REGISTRY},
            connector=True,
            connector_resource_id=REGISTRY,
        ),
    )


def test_a_plain_mapping_from_an_older_caller_builds_the_same_and_stays_untouched() -> None:
    spec = dict(sagemaker_spec())
    before = dict(spec)
    assert build_sagemaker_components(spec) == build_sagemaker_components(sagemaker_spec())
    assert spec == before


def test_kubernetes_components() -> None:
    components = build_kubernetes_components(kubernetes_spec())
    assert components.service_connector == ConnectorSpec(
        name="eks", connector_type="aws", auth_method="implicit",
        configuration={"region": "eu-west-1"},
    )
    assert components.orchestrator == ComponentSpec(
        name="eks",
        flavor="kubernetes",
        configuration={"kubernetes_namespace": "default"},
        connector=True,
        connector_resource_id="prod-cluster",
    )
    assert components.artifact_store.configuration == {"path": "s3://team-artifacts"}
    assert components.artifact_store.connector_resource_id == "s3://team-artifacts"
    assert components.container_registry is not None
    assert components.container_registry.flavor == "aws"


def test_kubernetes_namespace_and_cluster_arn() -> None:
    arn = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-cluster"
    components = build_kubernetes_components(kubernetes_spec(cluster=arn, namespace=" agents "))
    assert components.orchestrator.configuration == {"kubernetes_namespace": "agents"}
    assert components.orchestrator.connector_resource_id == "prod-cluster"


@pytest.mark.parametrize(
    ("credentials", "auth_method", "secret_fields"),
    [
        ("aws-profile:ml-team", "implicit", {"profile_name": "ml-team"}),
        (
            f"aws-access-keys:AKIAEXAMPLE:{SECRET}",
            "secret-key",
            {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": SECRET},
        ),
        (
            f"aws-session-token:ASIAEXAMPLE:{SECRET}:TOKEN",
            "sts-token",
            {
                "aws_access_key_id": "ASIAEXAMPLE",
                "aws_secret_access_key": SECRET,
                "aws_session_token": "TOKEN",
            },
        ),
    ],
)
def test_remote_connector_follows_the_credentials(
    credentials: str, auth_method: str, secret_fields: dict[str, str]
) -> None:
    for build, spec in (
        (build_sagemaker_components, sagemaker_spec(credentials=credentials)),
        (build_kubernetes_components, kubernetes_spec(credentials=credentials)),
    ):
        connector = build(spec).service_connector
        assert connector is not None and connector.auth_method == auth_method
        assert connector.configuration == {"region": "eu-west-1", **secret_fields}


def test_extra_overrides_win_and_merge_deeply() -> None:
    spec = sagemaker_spec(
        extra={
            "orchestrator": {
                "synchronous": False, "bucket": "sagemaker-jobs", "instance_type": "ml.m5.large",
            },
            "artifact_store": {"config_kwargs": {"s3": {"addressing_style": "path"}}},
            "container_registry": {"default_repository": "kitaru"},
        }
    )
    components = build_sagemaker_components(spec)
    assert components.orchestrator.configuration == {
        "execution_role": ROLE,
        "region": "eu-west-1",
        "bucket": "sagemaker-jobs",
        "synchronous": False,
        "instance_type": "ml.m5.large",
    }
    assert components.artifact_store.configuration == {
        "path": "s3://team-artifacts/kitaru",
        "config_kwargs": {"s3": {"addressing_style": "path"}},
    }
    assert components.container_registry is not None
    assert components.container_registry.configuration == {
        "uri": REGISTRY,
        "default_repository": "kitaru",
    }


def test_registry_accepts_https_and_trailing_slash() -> None:
    registry = build_sagemaker_components(sagemaker_spec(container_registry=f"https://{REGISTRY}/"))
    assert registry.container_registry is not None
    assert registry.container_registry.configuration == {"uri": REGISTRY}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"region": "Europe"}, "'Europe' is not an AWS region"),
        ({"region": "  "}, "--type sagemaker needs --region; it is missing or blank"),
        (
            {"artifact_store": "s3://Team_Bucket"},
            "'Team_Bucket' in 's3://Team_Bucket' is not a valid S3",
        ),
        ({"artifact_store": "s3://"}, "is not a valid S3 bucket name"),
        ({"artifact_store": "gs://bucket"}, "AWS artifact stores live in S3; got 'gs://bucket'"),
        ({"container_registry": "docker.io/me"}, "without a repository path: 'docker.io'"),
        ({"container_registry": "ghcr.io"}, "'ghcr.io' is not an Amazon ECR registry"),
        (
            {"container_registry": f"{REGISTRY}/kitaru"},
            f"without a repository path: '{REGISTRY}'",
        ),
        (
            {"container_registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
            "is in region 'us-east-1' but the stack's region is 'eu-west-1'",
        ),
        ({"execution_role": "SageMakerExecution"}, "'SageMakerExecution' is not an IAM role ARN"),
        ({"execution_role": None}, "--type sagemaker needs --execution-role"),
        ({"credentials": "aws-access-keys:AKIAEXAMPLE"}, "Use aws-access-keys:KEY_ID:SECRET."),
    ],
)
def test_sagemaker_refuses_bad_values(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        build_sagemaker_components(sagemaker_spec(**changes))
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cluster": "prod cluster"}, "'prod cluster' is not an EKS cluster name"),
        (
            {"cluster": "arn:aws:eks:us-west-2:123456789012:cluster/prod"},
            "is in region 'us-west-2' but the stack's region is 'eu-west-1'",
        ),
        ({"cluster": None}, "--type kubernetes needs --cluster"),
        ({"namespace": 3}, "'namespace' must be a string"),
    ],
)
def test_kubernetes_refuses_bad_values(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        build_kubernetes_components(kubernetes_spec(**changes))
    assert expected in str(caught.value)


# -- the S3 backend a local stack borrows ---------------------------------------


def test_local_backend_implicit_needs_no_connector(aws_env: dict[str, str]) -> None:
    assert build_s3_artifact_store(local_spec(LOCAL_URI)) == ArtifactStoreComponents(
        ComponentSpec(name="shared", flavor="s3", configuration={"path": "s3://team-artifacts/dev"})
    )


def test_local_backend_keeps_the_endpoint_override(aws_env: dict[str, str]) -> None:
    built = build_s3_artifact_store(local_spec(LOCAL_URI, client_kwargs=LOCAL_ENDPOINT))
    assert built.artifact_store.configuration == {
        "path": "s3://team-artifacts/dev",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"},
    }


def test_local_backend_does_not_bake_aws_endpoint_url_in(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    built = build_s3_artifact_store(local_spec(LOCAL_URI))
    assert built.artifact_store.configuration == {"path": "s3://team-artifacts/dev"}


def test_local_backend_access_keys_use_a_connector(aws_env: dict[str, str]) -> None:
    spec = local_spec(LOCAL_URI, f"aws-access-keys:AKIAEXAMPLE:{SECRET}")
    built = build_s3_artifact_store(spec)
    assert built.service_connector == ConnectorSpec(
        name="shared",
        connector_type="aws",
        auth_method="secret-key",
        configuration={
            "region": "us-east-1",
            "aws_access_key_id": "AKIAEXAMPLE",
            "aws_secret_access_key": SECRET,
        },
    )
    assert built.artifact_store == ComponentSpec(
        name="shared",
        flavor="s3",
        configuration={"path": "s3://team-artifacts/dev"},
        connector=True,
        connector_resource_id="s3://team-artifacts",
    )
    assert SECRET not in repr(built)


@pytest.mark.parametrize(
    "credentials", [f"aws-access-keys:AKIAEXAMPLE:{SECRET}", "aws-profile:team"]
)
def test_local_backend_refuses_credentials_with_a_custom_endpoint(credentials: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        build_s3_artifact_store(local_spec(LOCAL_URI, credentials, client_kwargs=LOCAL_ENDPOINT))
    message = str(caught.value)
    assert message.startswith("--credentials cannot be combined with a custom S3 endpoint")
    assert "AWS_ACCESS_KEY_ID" in message
    assert "--extra artifact_store.authentication_secret=NAME" in message
    assert SECRET not in message


def test_local_backend_profile_connector_takes_the_profile_region(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would win over the profile's region
    with open(aws_env["AWS_CONFIG_FILE"], "w") as config:
        config.write("[profile team]\nregion = eu-north-1\n")
    connector = build_s3_artifact_store(local_spec(LOCAL_URI, "aws-profile:team")).service_connector
    assert connector is not None and connector.auth_method == "implicit"
    assert connector.configuration == {
        "region": "eu-north-1",
        "profile_name": "team",
    }


def test_local_backend_refuses_a_missing_uri() -> None:
    with pytest.raises(KitaruUsageError, match="Pass --artifact-store s3://BUCKET"):
        build_s3_artifact_store(local_spec(None))

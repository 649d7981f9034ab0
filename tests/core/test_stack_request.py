"""Validation of stack requests (SPEC §5.4) against the installed first-party plugins.

These run in-process: :func:`resolve_stack_request` touches no engine, so
every message can be checked in milliseconds. The "plugin missing" cases swap
in a plugin manager that has only core and kitaru-local, as a user without the
cloud extras would have.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import kitaru_local.plugin
from kitaru.cli.stack_file import read_stack_file
from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError
from kitaru.plugins import manager as manager_module
from kitaru.plugins.records import PluginSource
from kitaru.stacks.request import resolve_stack_request
from kitaru.testing.managers import only_plugins

S3 = "s3://team-bucket/kitaru"
GS = "gs://team-bucket/kitaru"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kitaru"
GAR = "europe-west1-docker.pkg.dev/my-project/kitaru"
ACR = "teamregistry.azurecr.io"
ROLE = "arn:aws:iam::123456789012:role/kitaru"

SAGEMAKER = {"artifact_store": S3, "container_registry": ECR, "region": "eu-west-1", "execution_role": ROLE}
KUBERNETES = {"artifact_store": S3, "container_registry": ECR, "cluster": "team", "region": "eu-west-1"}
VERTEX = {"artifact_store": GS, "container_registry": GAR, "region": "europe-west1"}
AZUREML = {
    "artifact_store": "az://kitaru",
    "container_registry": ACR,
    "subscription_id": "00000000-0000-0000-0000-000000000000",
    "resource_group": "team",
    "workspace": "ml",
}


def message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return str(excinfo.value)


# -- provider choice ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack_type", "options", "key"),
    [
        ("sagemaker", SAGEMAKER, "sagemaker@aws"),
        ("kubernetes", KUBERNETES, "kubernetes@aws"),
        ("kubernetes", {**KUBERNETES, "artifact_store": GS, "container_registry": GAR}, "kubernetes@gcp"),
        ("vertex", VERTEX, "vertex@gcp"),
        ("azureml", AZUREML, "azureml@azure"),
        ("azureml", {**AZUREML, "artifact_store": "abfss://kitaru@acct.dfs.core.windows.net"}, "azureml@azure"),
        ("local", {}, "local"),
        ("local", {"artifact_store": "s3://bucket"}, "local"),
        (" SageMaker ", SAGEMAKER, "sagemaker@aws"),
    ],
)
def test_the_provider_is_picked_by_type_and_scheme(stack_type: str, options: dict, key: str) -> None:
    request = resolve_stack_request("team", stack_type, options)
    assert request.provider.key == key
    assert request.stack_type == stack_type.strip().lower()


def test_the_spec_has_every_declared_field_and_the_extra_targets() -> None:
    request = resolve_stack_request("  team ", "kubernetes", {**KUBERNETES, "namespace": " "})
    spec = dict(request.spec)
    assert spec.pop("extra") == {"orchestrator": {}, "artifact_store": {}, "container_registry": {}}
    assert spec == {
        "name": "team",
        **KUBERNETES,
        "namespace": None,  # blank counts as omitted
        "credentials": None,
    }
    assert request.resources() == {"provider": "aws", **KUBERNETES}


def test_a_local_stack_with_a_bucket_reports_the_bucket_cloud() -> None:
    request = resolve_stack_request("team", "local", {"artifact_store": GS})
    assert request.cloud == "gcp"
    assert request.spec["extra"] == {"orchestrator": {}, "artifact_store": {}}
    assert request.resources() == {"provider": "gcp", "artifact_store": GS}


# -- SPEC §5.4 messages -------------------------------------------------------------------


def test_unsupported_type() -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", "swarm", {})
    assert message(excinfo) == (
        "Unsupported stack type: swarm. Use 'local', 'kubernetes', 'vertex', 'sagemaker', or 'azureml'."
    )


@pytest.mark.parametrize(
    ("stack_type", "options", "expected"),
    [
        ("kubernetes", {"artifact_store": S3, "container_registry": ECR}, "--type kubernetes requires: --cluster, --region."),
        ("sagemaker", {"artifact_store": S3}, "--type sagemaker requires: --container-registry, --region, --execution-role."),
        ("vertex", {"artifact_store": " ", "container_registry": GAR, "region": "r"}, "--type vertex requires: --artifact-store."),
        ("azureml", {}, "--type azureml requires: --artifact-store, --container-registry, --subscription-id, --resource-group, --workspace."),
    ],
)
def test_missing_required_options_are_listed(stack_type: str, options: dict, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", stack_type, options)
    assert message(excinfo) == expected


def test_python_surface_names_options_without_dashes() -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", "sagemaker", {"artifact_store": S3}, surface="python")
    assert message(excinfo) == "stack_type='sagemaker' requires: container_registry, region, execution_role."


@pytest.mark.parametrize(
    ("stack_type", "options", "expected"),
    [
        ("local", {"cluster": "c"}, "Kubernetes-only options require --type kubernetes: --cluster"),
        ("vertex", {**VERTEX, "namespace": "ns"}, "Kubernetes-only options require --type kubernetes: --namespace"),
        ("kubernetes", {**KUBERNETES, "execution_role": ROLE}, "SageMaker-only options require --type sagemaker: --execution-role"),
        (
            "sagemaker",
            {**SAGEMAKER, "subscription_id": "s", "workspace": "w"},
            "AzureML-only options require --type azureml: --subscription-id, --workspace",
        ),
        (
            "local",
            {"container_registry": ECR, "region": "r"},
            "Remote stack options require --type kubernetes, --type vertex, --type sagemaker, or "
            "--type azureml: --container-registry, --region",
        ),
    ],
)
def test_options_of_another_type_are_grouped(stack_type: str, options: dict, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", stack_type, options)
    assert message(excinfo).startswith(expected)


@pytest.mark.parametrize(
    ("stack_type", "options", "expected"),
    [
        ("vertex", {**VERTEX, "artifact_store": S3}, f"Vertex stacks require a gs:// artifact store URI. Received: '{S3}'."),
        ("sagemaker", {**SAGEMAKER, "artifact_store": GS}, f"SageMaker stacks require an s3:// artifact store URI. Received: '{GS}'."),
        (
            "kubernetes",
            {**KUBERNETES, "artifact_store": "az://kitaru"},
            "Kubernetes stacks require an s3:// or gs:// artifact store URI. Received: 'az://kitaru'.",
        ),
        (
            "kubernetes",
            {**KUBERNETES, "artifact_store": "hdfs://kitaru"},
            "Cannot infer cloud provider from 'hdfs://kitaru'. Use an s3://, gs://, az://, abfs://, or abfss:// URI.",
        ),
        (
            "local",
            {"artifact_store": "ftp://host/dir"},
            "Cannot infer cloud provider from 'ftp://host/dir'. Use an s3://, gs://, az://, abfs://, or abfss:// URI.",
        ),
    ],
)
def test_artifact_store_scheme_must_fit_the_type(stack_type: str, options: dict, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", stack_type, options)
    assert message(excinfo) == expected


def test_async_sets_synchronous_false_unless_given() -> None:
    request = resolve_stack_request("team", "sagemaker", SAGEMAKER, async_mode=True)
    assert request.spec["extra"]["orchestrator"] == {"synchronous": False}
    explicit = resolve_stack_request(
        "team", "sagemaker", SAGEMAKER, async_mode=True, extra={"orchestrator": {"synchronous": True}}
    )
    assert explicit.spec["extra"]["orchestrator"] == {"synchronous": True}
    with pytest.raises(KitaruUsageError, match="--async only applies to remote stack types"):
        resolve_stack_request("team", "local", {}, async_mode=True)


def test_extra_targets_are_checked_per_type() -> None:
    with pytest.raises(KitaruUsageError, match=r"--extra container_registry\.\* is not allowed for local"):
        resolve_stack_request("team", "local", {}, extra={"container_registry": {"uri": "x"}})
    with pytest.raises(KitaruUsageError, match="Unknown --extra target 'step_operator'"):
        resolve_stack_request("team", "sagemaker", SAGEMAKER, extra={"step_operator": {}})
    request = resolve_stack_request(
        "team", "sagemaker", SAGEMAKER, extra={"container_registry": {"default_repository": "kitaru"}}
    )
    assert request.spec["extra"]["container_registry"] == {"default_repository": "kitaru"}


def test_a_blank_name_is_refused() -> None:
    with pytest.raises(KitaruUsageError, match="A stack needs a name"):
        resolve_stack_request("  ", "local", {})


# -- without the cloud plugins ------------------------------------------------------------


@pytest.fixture
def without_cloud_plugins() -> Iterator[None]:
    """The plugin manager a user has after a plain `pip install kitaru`."""
    with only_plugins(local=kitaru_local.plugin):
        yield


@pytest.mark.parametrize(
    ("stack_type", "options", "expected"),
    [
        ("sagemaker", SAGEMAKER, "Stack type 'sagemaker' needs the AWS plugin. Install it with: pip install 'kitaru[aws]'"),
        ("vertex", {}, "Stack type 'vertex' needs the GCP plugin. Install it with: pip install 'kitaru[gcp]'"),
        ("azureml", {}, "Stack type 'azureml' needs the Azure plugin. Install it with: pip install 'kitaru[azure]'"),
        (
            "kubernetes",
            KUBERNETES,
            "Stack type 'kubernetes' needs the AWS or GCP plugin. Install it with: "
            "pip install 'kitaru[aws]' or 'kitaru[gcp]'",
        ),
        ("local", {"artifact_store": "s3://b"}, "Artifact stores at s3:// need the AWS plugin. Install it with: pip install 'kitaru[aws]'"),
        ("local", {"artifact_store": "az://c"}, "Artifact stores at az:// need the Azure plugin. Install it with: pip install 'kitaru[azure]'"),
    ],
)
def test_missing_plugins_name_the_extra(
    without_cloud_plugins: None, stack_type: str, options: dict, expected: str
) -> None:
    with pytest.raises(KitaruFeatureNotAvailableError) as excinfo:
        resolve_stack_request("team", stack_type, options)
    assert message(excinfo) == expected


def test_misplaced_options_still_name_their_type_without_the_plugins(without_cloud_plugins: None) -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        resolve_stack_request("team", "local", {"execution_role": ROLE})
    assert message(excinfo).startswith("SageMaker-only options require --type sagemaker: --execution-role")


# -- --file YAML ------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return path


def test_stack_file_accepts_both_spellings_and_dotted_extra(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: team\ntype: sagemaker\nartifact-store: s3://b\ncontainer_registry: r\n"
        "execution-role: arn\nregion: eu\nverify: false\nasync: true\nactivate: false\n"
        "extra:\n  orchestrator: {instance_type: ml.m5.xlarge}\n"
        "  artifact_store.client_kwargs.endpoint_url: http://127.0.0.1:9000\n",
    )
    assert read_stack_file(path) == {
        "name": "team",
        "type": "sagemaker",
        "fields": {"artifact_store": "s3://b", "container_registry": "r", "execution_role": "arn", "region": "eu"},
        "verify": False,
        "async": True,
        "activate": False,
        "extra": {
            "orchestrator": {"instance_type": "ml.m5.xlarge"},
            "artifact_store": {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}},
        },
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zone: a\n", "unknown key 'zone'. Known keys: name, type,"),
        ("artifact_store: a\nartifact-store: b\n", "'artifact_store' and 'artifact-store' are the same setting"),
        ("region: 5\n", "'region' must be a string; got int 5"),
        ("verify: 'no'\n", "'verify' must be true or false; got 'no'"),
        ("extra: [a]\n", "'extra' must map targets to settings"),
        ("extra: {orchestrator: 3}\n", "'extra.orchestrator' must be a mapping of settings"),
        ("1: x\n", "keys must be strings; got 1"),
        ("- a\n", "must hold a mapping of settings"),
        ("name: [unclosed\n", "is not valid YAML"),
    ],
)
def test_stack_file_errors_name_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as excinfo:
        read_stack_file(write(tmp_path, text))
    assert expected in message(excinfo)


def test_a_missing_stack_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KitaruUsageError, match="does not exist"):
        read_stack_file(tmp_path / "nope.yaml")


@pytest.fixture
def only_aws_plugin(without_cloud_plugins: None) -> None:
    import kitaru_aws.plugin

    manager_module.get_plugin_manager().register(
        kitaru_aws.plugin, PluginSource("aws", "kitaru-aws", "0.1.0")
    )


def test_kubernetes_on_gcs_names_the_gcp_extra_when_only_aws_is_installed(only_aws_plugin: None) -> None:
    options = {**KUBERNETES, "artifact_store": GS, "container_registry": GAR}
    with pytest.raises(KitaruFeatureNotAvailableError) as excinfo:
        resolve_stack_request("team", "kubernetes", options)
    assert message(excinfo) == (
        "Kubernetes stacks on GCP need the GCP plugin. Install it with: pip install 'kitaru[gcp]'"
    )
    assert resolve_stack_request("team", "kubernetes", KUBERNETES).provider.key == "kubernetes@aws"


FOO_PLUGIN = """
import kitaru
from kitaru.plugins import (
    ArtifactStoreBackend, ArtifactStoreComponents, ComponentSpec, StackComponents, StackField, StackProviderSpec,
)

BACKEND = ArtifactStoreBackend(
    schemes=("foo",), provider="foo",
    build=lambda spec: ArtifactStoreComponents(ComponentSpec("local")),
)


@kitaru.hookimpl
def kitaru_stack_providers():
    yield StackProviderSpec(
        name="kubernetes", provider="foo", description="Kubernetes on Foo.",
        fields=(
            StackField("artifact_store", "foo:// URI.", required=True, example="foo://b"),
            StackField("zone", "Foo zone.", required=True, example="z1"),
        ),
        build_components=lambda spec: StackComponents(ComponentSpec("local"), ComponentSpec("local")),
        artifact_store_backend=BACKEND,
    )
"""


def test_a_field_only_the_chosen_provider_requires_is_checked_too(tmp_path: Path) -> None:
    """kubernetes on AWS needs --cluster; kubernetes on a third-party cloud may need something else."""
    import kitaru_aws.plugin

    module = types.ModuleType("kitaru_foo_plugin")
    exec(FOO_PLUGIN, module.__dict__)  # noqa: S102 - a plugin module written by the test
    with only_plugins(local=kitaru_local.plugin, aws=kitaru_aws.plugin, foo=module):
        with pytest.raises(KitaruUsageError) as excinfo:
            resolve_stack_request("team", "kubernetes", {"artifact_store": "foo://b"})
        assert message(excinfo) == "--type kubernetes on FOO requires: --zone."
        request = resolve_stack_request("team", "kubernetes", {"artifact_store": "foo://b", "zone": "z1"})
    assert request.provider.key == "kubernetes@foo"

"""What the Azure plugin registers and the components it builds (no emulator needed)."""

from __future__ import annotations

from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.catalog import artifact_store_backend
from kitaru.plugins.records import (
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    StackComponents,
    StackProviderSpec,
    StackSpec,
)
from kitaru.testing.contracts import StackProviderContract
from kitaru_azure import (
    AZURE_BLOB_BACKEND,
    AZUREML_STACK_PROVIDER,
    blob_resource_id,
    build_azureml_components,
    normalize_artifact_store_uri,
    verify_azure_artifact_store,
)
from tests.azure.conftest import Azurite
from tests.cloud.records import assert_from_cloud_plugin, modules_loaded_by
from tests.cloud.specs import local_spec, stack_spec

SUBSCRIPTION = "12345678-1234-1234-1234-123456789abc"
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "not-a-real-secret"


def azureml() -> StackProviderSpec:
    return get_plugin_manager().stack_providers()["azureml@azure"]


def azureml_spec(**changes: Any) -> StackSpec:
    """A stack spec exactly as core builds it for ``--type azureml`` (``changes`` win)."""
    return stack_spec(AZUREML_STACK_PROVIDER, **{
        "name": "team",
        "artifact_store": "az://kitaru/artifacts",
        "container_registry": "teamregistry.azurecr.io",
        "subscription_id": SUBSCRIPTION,
        "resource_group": "ml-rg",
        "workspace": "ml-ws",
        "region": None,
        **changes,
    })


class TestAzureStackProviderContract(StackProviderContract):
    """The contract suite, with a real spec so ``build_components`` is checked too."""

    @pytest.fixture
    def stack_provider(self) -> StackProviderSpec:
        return azureml()

    @pytest.fixture
    def stack_spec(self) -> StackSpec:
        return azureml_spec()

    def test_verify_accepts_the_sample_spec(  # type: ignore[override]
        self, stack_provider: StackProviderSpec, azurite_env: Azurite
    ) -> None:
        """The suite skips ``verify`` for cloud types; here it runs against Azurite."""
        spec = azureml_spec(artifact_store=f"az://{azurite_env.create_container()}/kitaru")
        verify = stack_provider.verifier()
        assert verify is not None
        assert verify(spec) is None


def test_the_record_declares_the_azureml_type() -> None:
    record = azureml()
    assert record == AZUREML_STACK_PROVIDER
    assert_from_cloud_plugin("azure", record)
    assert (record.name, record.provider, record.title) == ("azureml", "azure", "AzureML")
    assert record.required_fields == (
        "artifact_store", "container_registry", "subscription_id", "resource_group", "workspace"
    )
    assert [f.name for f in record.fields if not f.required] == ["region", "credentials"]
    assert [f.title for f in record.fields] == [
        "Artifacts", "Registry", "Subscription", "Resource group", "Workspace", "Region", "Credentials",
    ]
    assert record.schemes == ("az", "abfs", "abfss")
    assert record.artifact_store_schemes == ()  # deprecated: the backend says it
    assert record.credential_formats == (
        "implicit",
        "azure-service-principal:TENANT:CLIENT:SECRET",
        "azure-access-token:TOKEN",
    )
    backend = record.artifact_store_backend
    assert backend == AZURE_BLOB_BACKEND
    assert (backend.schemes, backend.provider) == (("az", "abfs", "abfss"), "azure")
    # The container check is the backend's; the record does not repeat it.
    assert record.verify is None
    assert record.verifier() is verify_azure_artifact_store


def test_importing_the_plugin_loads_no_engine_and_no_azure_sdk() -> None:
    prefixes = ("zenml", "azure.", "adlfs")
    assert modules_loaded_by("import kitaru_azure.plugin, kitaru_azure", prefixes) == []


@pytest.mark.parametrize("uri", ["az://kitaru/x", "abfs://kitaru", "ABFSS://kitaru/x"])
def test_core_finds_the_backend_by_scheme(uri: str) -> None:
    assert artifact_store_backend(uri) is azureml().artifact_store_backend


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("az://kitaru", "az://kitaru"),
        ("az://kitaru/", "az://kitaru"),
        (" az://kitaru//runs/2024/ ", "az://kitaru/runs/2024"),
        ("abfs://kitaru/runs", "abfs://kitaru/runs"),
        ("abfss://kitaru/runs", "abfs://kitaru/runs"),
        ("ABFSS://kitaru", "abfs://kitaru"),
        ("AZ://my-container-1/p", "az://my-container-1/p"),
    ],
)
def test_uris_are_normalised(uri: str, expected: str) -> None:
    assert normalize_artifact_store_uri(uri) == expected


def test_blob_resource_id_is_the_container() -> None:
    assert blob_resource_id("abfss://kitaru/runs/x") == "az://kitaru"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (None, "needs a URI like az://CONTAINER/PREFIX"),
        ("  ", "needs a URI like az://CONTAINER/PREFIX"),
        ("s3://bucket", "need an az://, abfs:// or abfss:// URI. Received: 's3://bucket'"),
        ("kitaru/runs", "need an az://, abfs:// or abfss:// URI"),
        ("abfss://kitaru@acct.dfs.core.windows.net/x", "without '@ACCOUNT'"),
        ("az://Kitaru", "'Kitaru' is not a valid Azure Blob container name"),
        ("az://ab", "'ab' is not a valid Azure Blob container name"),
        ("az://my--container", "is not a valid Azure Blob container name"),
        ("az://-kitaru", "is not a valid Azure Blob container name"),
        ("az:///runs", "'' is not a valid Azure Blob container name"),
    ],
)
def test_bad_uris_are_rejected(uri: Any, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        normalize_artifact_store_uri(uri)
    assert expected in str(caught.value)


def build(spec: Any) -> StackComponents:
    """What the registered record's ``build_components`` returns, checked to be typed."""
    built = azureml().build_components(spec)
    assert isinstance(built, StackComponents)
    return built


def test_azureml_components_with_implicit_credentials() -> None:
    assert build(azureml_spec(region="westeurope")) == StackComponents(
        service_connector=ConnectorSpec(
            name="team", connector_type="azure", auth_method="implicit",
            configuration={"subscription_id": SUBSCRIPTION},
        ),
        orchestrator=ComponentSpec(
            name="team",
            flavor="azureml",
            configuration={"subscription_id": SUBSCRIPTION, "resource_group": "ml-rg", "workspace": "ml-ws"},
            connector=True,
        ),
        artifact_store=ComponentSpec(
            name="team",
            flavor="azure",
            configuration={"path": "az://kitaru/artifacts"},
            connector=True,
            connector_resource_id="az://kitaru",
        ),
        container_registry=ComponentSpec(
            name="team",
            flavor="azure",
            configuration={"uri": "teamregistry.azurecr.io"},
            connector=True,
            connector_resource_id="teamregistry.azurecr.io",
        ),
    )


def test_a_plain_mapping_from_an_older_caller_builds_the_same() -> None:
    spec = dict(azureml_spec())
    before = dict(spec)
    assert build_azureml_components(spec) == build(azureml_spec())
    assert spec == before


def test_azureml_with_a_service_principal_and_storage_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "teamstorage")
    spec = azureml_spec(
        artifact_store="abfss://kitaru/",
        container_registry="https://teamregistry.azurecr.io/",
        credentials=f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}",
    )
    components = build(spec)
    assert components.service_connector == ConnectorSpec(
        name="team",
        connector_type="azure",
        auth_method="service-principal",
        configuration={
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret": SECRET,
            "subscription_id": SUBSCRIPTION,
            "storage_account": "teamstorage",
        },
    )
    assert "location" not in components.orchestrator.configuration
    assert components.artifact_store.configuration == {"path": "abfs://kitaru"}
    assert components.artifact_store.connector_resource_id == "az://kitaru"
    assert components.container_registry is not None
    assert components.container_registry.configuration == {"uri": "teamregistry.azurecr.io"}
    assert SECRET not in repr(components)


def test_azureml_with_an_access_token_leaves_the_artifact_store_unlinked() -> None:
    components = build(azureml_spec(credentials="azure-access-token:tok"))
    assert components.service_connector is not None
    assert components.service_connector.auth_method == "access-token"
    assert components.service_connector.configuration == {
        "token": "tok",
        "subscription_id": SUBSCRIPTION,
    }
    assert components.orchestrator.connector is True
    assert components.container_registry is not None and components.container_registry.connector
    assert components.artifact_store.connector is False
    assert components.artifact_store.connector_resource_id is None


def test_region_is_the_location_of_a_compute_cluster_only() -> None:
    cluster = {"mode": "compute-cluster", "compute_name": "kitaru-cpu"}
    spec = azureml_spec(region=" westeurope ", extra={"orchestrator": cluster})
    configuration = build(spec).orchestrator.configuration
    assert configuration == {
        "subscription_id": SUBSCRIPTION,
        "resource_group": "ml-rg",
        "workspace": "ml-ws",
        "location": "westeurope",
        **cluster,
    }
    instance = {"mode": "compute-instance", "compute_name": "kitaru-ci"}
    spec = azureml_spec(region="westeurope", extra={"orchestrator": instance})
    assert "location" not in build(spec).orchestrator.configuration


def test_extra_overrides_win() -> None:
    spec = azureml_spec(
        region="westeurope",
        subscription_id=SUBSCRIPTION.upper(),
        extra={
            "orchestrator": {"location": "northeurope", "synchronous": False,
                             "mode": "compute-cluster", "compute_name": "c",
                             "subscription_id": SUBSCRIPTION},
            "artifact_store": {"path": "az://other/p"},
            "container_registry": {"default_repository": "kitaru"},
        },
    )
    components = build(spec)
    assert components.orchestrator.configuration == {
        "subscription_id": SUBSCRIPTION,
        "resource_group": "ml-rg",
        "workspace": "ml-ws",
        "location": "northeurope",
        "synchronous": False,
        "mode": "compute-cluster",
        "compute_name": "c",
    }
    assert components.artifact_store.configuration == {"path": "az://other/p"}
    assert components.container_registry is not None
    assert components.container_registry.configuration == {
        "uri": "teamregistry.azurecr.io",
        "default_repository": "kitaru",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"subscription_id": "my-sub"}, "--subscription-id must be an Azure subscription ID"),
        ({"subscription_id": None}, "--type azureml needs --subscription-id; it is missing or blank"),
        ({"workspace": "  "}, "--type azureml needs --workspace"),
        ({"resource_group": None}, "--type azureml needs --resource-group"),
        ({"container_registry": "docker.io/team"}, "must look like NAME.azurecr.io"),
        ({"artifact_store": "gs://bucket"}, "need an az://, abfs:// or abfss:// URI"),
        ({"credentials": "aws-profile:dev"}, "are for AWS stacks"),
    ],
)
def test_bad_azureml_specs_are_usage_errors(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        build(azureml_spec(**changes))
    assert expected in str(caught.value)


def test_local_backend_with_implicit_credentials_has_no_connector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "ignored-without-a-connector")
    backend = artifact_store_backend("az://kitaru")
    built = backend.build(local_spec("abfss://kitaru/runs/", max_concurrency=4))
    assert built == ArtifactStoreComponents(
        ComponentSpec(
            name="shared", flavor="azure", configuration={"path": "abfs://kitaru/runs", "max_concurrency": 4}
        )
    )


def test_local_backend_with_a_service_principal_links_a_connector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    backend = artifact_store_backend("az://kitaru")
    built = backend.build(
        local_spec("az://kitaru", f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}")
    )
    assert built == ArtifactStoreComponents(
        service_connector=ConnectorSpec(
            name="shared",
            connector_type="azure",
            auth_method="service-principal",
            configuration={"tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET},
        ),
        artifact_store=ComponentSpec(
            name="shared",
            flavor="azure",
            configuration={"path": "az://kitaru"},
            connector=True,
            connector_resource_id="az://kitaru",
        ),
    )


def test_local_backend_rejects_access_tokens() -> None:
    backend = artifact_store_backend("az://kitaru")
    with pytest.raises(KitaruUsageError, match="access tokens cannot authenticate an artifact"):
        backend.build(local_spec("az://kitaru", "azure-access-token:tok"))

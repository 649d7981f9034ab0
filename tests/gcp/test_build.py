"""What the GCP plugin registers and the engine components it describes.

The records come from the process-wide plugin manager, which finds the plugin
through the real ``kitaru`` entry point of the installed ``kitaru-gcp``
distribution, so these tests also cover the packaging. ZenML is not involved
here; ``test_registration.py`` checks the descriptions against ZenML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins import StackProviderSpec, get_plugin_manager
from kitaru.plugins.catalog import artifact_store_backend
from kitaru.plugins.records import (
    ArtifactStoreComponents,
    ComponentSpec,
    ConnectorSpec,
    StackComponents,
    StackSpec,
)
from kitaru.testing.contracts import StackProviderContract
from kitaru_gcp import GCS_BACKEND, KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER
from tests.cloud.records import (
    assert_entry_point,
    assert_from_cloud_plugin,
    modules_loaded_by,
)
from tests.cloud.specs import local_spec, stack_spec

REGISTRY = "europe-west1-docker.pkg.dev/my-project/kitaru"

@pytest.fixture
def vertex(fresh_manager: None) -> StackProviderSpec:
    return get_plugin_manager().stack_providers()["vertex@gcp"]


@pytest.fixture
def gke(fresh_manager: None) -> StackProviderSpec:
    return get_plugin_manager().stack_providers()["kubernetes@gcp"]


def vertex_spec(**fields: Any) -> StackSpec:
    """A stack spec exactly as core builds it for ``--type vertex`` (``fields`` win)."""
    return stack_spec(VERTEX_STACK_PROVIDER, **{
        "name": "team",
        "artifact_store": "gs://team-bucket/kitaru",
        "container_registry": REGISTRY,
        "region": "europe-west1",
        **fields,
    })


def gke_spec(**fields: Any) -> StackSpec:
    """A stack spec exactly as core builds it for ``--type kubernetes`` with ``gs://``."""
    return stack_spec(KUBERNETES_STACK_PROVIDER, **{
        "name": "team",
        "artifact_store": "gs://team-bucket/kitaru",
        "container_registry": "gcr.io/my-project",
        "cluster": "kitaru-cluster",
        "region": "europe-west1",
        "namespace": None,
        **fields,
    })


def build(provider: StackProviderSpec, spec: Mapping[str, Any]) -> StackComponents:
    """What the record's ``build_components`` returns, checked to be typed."""
    assert provider.build_components is not None
    built = provider.build_components(spec)
    assert isinstance(built, StackComponents)
    return built


# -- discovery through the entry point ------------------------------------------


def test_gcp_entry_point_is_declared_by_kitaru_gcp() -> None:
    assert_entry_point("gcp")


def test_both_stack_types_come_from_the_gcp_plugin(
    vertex: StackProviderSpec, gke: StackProviderSpec
) -> None:
    manager = get_plugin_manager()
    assert_from_cloud_plugin("gcp", vertex, gke)
    for provider in (vertex, gke):
        assert provider.schemes == ("gs",)
        assert provider.artifact_store_schemes == ()  # deprecated: the backend says it
        assert provider.credential_formats == ("implicit", "gcp-service-account:/path/key.json")
        assert provider.artifact_store_backend == GCS_BACKEND
        assert provider.verify is None
        assert provider.verifier() is GCS_BACKEND.verify
    assert (vertex.title, gke.title) == ("Vertex", "Kubernetes")
    assert [provider.key for provider in manager.stack_type_providers("vertex")] == ["vertex@gcp"]
    assert "kubernetes@gcp" in [p.key for p in manager.stack_type_providers("kubernetes")]


def test_declared_fields_and_which_are_required(
    vertex: StackProviderSpec, gke: StackProviderSpec
) -> None:
    assert [(f.name, f.required) for f in vertex.fields] == [
        ("artifact_store", True),
        ("container_registry", True),
        ("region", True),
        ("credentials", False),
    ]
    assert [(f.name, f.required) for f in gke.fields] == [
        ("artifact_store", True),
        ("container_registry", True),
        ("cluster", True),
        ("region", True),
        ("namespace", False),
        ("credentials", False),
    ]
    assert [f.title for f in gke.fields] == [
        "Artifacts", "Registry", "Cluster", "Region", "Namespace", "Credentials",
    ]


def test_gs_uris_find_the_gcs_backend(fresh_manager: None) -> None:
    backend = artifact_store_backend("gs://any-bucket/prefix")
    assert backend == GCS_BACKEND
    assert (backend.schemes, backend.provider) == (("gs",), "gcp")


def test_importing_the_plugin_loads_no_engine_and_no_google_sdk() -> None:
    prefixes = ("zenml", "gcsfs", "google.cloud.", "google.auth", "google.api_core")
    assert modules_loaded_by("import kitaru_gcp.plugin, kitaru_gcp", prefixes) == []


# -- vertex ---------------------------------------------------------------------


def test_vertex_with_implicit_credentials(vertex: StackProviderSpec) -> None:
    assert build(vertex, vertex_spec()) == StackComponents(
        service_connector=ConnectorSpec(
            name="team", connector_type="gcp", auth_method="implicit",
            configuration={"project_id": "my-project"},
        ),
        orchestrator=ComponentSpec(
            name="team",
            flavor="vertex",
            configuration={"project": "my-project", "location": "europe-west1"},
            connector=True,
        ),
        artifact_store=ComponentSpec(
            name="team",
            flavor="gcp",
            configuration={"path": "gs://team-bucket/kitaru"},
            connector=True,
            connector_resource_id="gs://team-bucket",
        ),
        container_registry=ComponentSpec(
            name="team",
            flavor="gcp",
            configuration={"uri": REGISTRY},
            connector=True,
            connector_resource_id=REGISTRY,
        ),
    )


def test_a_plain_mapping_from_an_older_caller_builds_the_same(vertex: StackProviderSpec) -> None:
    spec = dict(vertex_spec())
    before = dict(spec)
    assert build(vertex, spec) == build(vertex, vertex_spec())
    assert spec == before


def test_vertex_with_a_service_account_key(
    vertex: StackProviderSpec, service_account_key: Path
) -> None:
    components = build(
        vertex, vertex_spec(credentials=f"gcp-service-account:{service_account_key}")
    )
    connector = components.service_connector
    assert connector is not None
    assert (connector.connector_type, connector.auth_method) == ("gcp", "service-account")
    assert connector.configuration == {
        "service_account_json": service_account_key.read_text(),
        "project_id": "my-project",
    }
    assert json.loads(connector.configuration["service_account_json"])["type"] == (
        "service_account"
    )
    assert "PRIVATE KEY" not in repr(components)
    assert components.orchestrator.configuration == {
        "project": "my-project",
        "location": "europe-west1",
    }


def test_extra_overrides_win_and_deep_merge(vertex: StackProviderSpec) -> None:
    spec = vertex_spec(
        extra={
            "orchestrator": {"location": "us-central1", "synchronous": False,
                             "labels": {"team": "ml"}},
            "artifact_store": {"authentication_secret": "gcs-secret"},
            "container_registry": {"default_repository": "flows"},
        }
    )
    components = build(vertex, spec)
    assert components.orchestrator.configuration == {
        "project": "my-project",
        "location": "us-central1",
        "synchronous": False,
        "labels": {"team": "ml"},
    }
    assert components.artifact_store.configuration == {
        "path": "gs://team-bucket/kitaru",
        "authentication_secret": "gcs-secret",
    }
    assert components.container_registry is not None
    assert components.container_registry.configuration == {
        "uri": REGISTRY,
        "default_repository": "flows",
    }


def test_uris_are_normalised(vertex: StackProviderSpec) -> None:
    components = build(
        vertex,
        vertex_spec(
            artifact_store=" GS://team-bucket/kitaru/ ",
            container_registry=f"https://{REGISTRY}/",
        ),
    )
    assert components.artifact_store.configuration == {"path": "gs://team-bucket/kitaru"}
    assert components.container_registry is not None
    assert components.container_registry.configuration == {"uri": REGISTRY}
    assert components.container_registry.connector_resource_id == REGISTRY
    bare = build(vertex, vertex_spec(artifact_store="gs://team-bucket"))
    assert bare.artifact_store.configuration == {"path": "gs://team-bucket"}


def test_build_is_repeatable_and_its_result_read_only(vertex: StackProviderSpec) -> None:
    spec = vertex_spec(extra={"orchestrator": {"labels": {"a": "b"}}})
    first = build(vertex, spec)
    with pytest.raises(TypeError):
        first.orchestrator.configuration["labels"]["a"] = "changed"  # type: ignore[index]
    assert build(vertex, spec) == first
    assert spec.extra_for("orchestrator") == {"labels": {"a": "b"}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"region": None}, "--type vertex needs --region; it is missing or blank."),
        ({"artifact_store": "s3://bucket"}, "GCS artifact stores need a gs:// URI"),
        ({"artifact_store": "gs://"}, "does not name a valid GCS bucket"),
        ({"artifact_store": "gs://Upper_Case"}, "does not name a valid GCS bucket"),
        ({"artifact_store": "gs://a..b"}, "does not name a valid GCS bucket"),
        ({"container_registry": "docker.io/me"}, "Cannot infer the GCP project"),
        ({"credentials": "aws-profile:dev"}, "Unsupported GCP credentials 'aws-profile:...'"),
        ({"credentials": "gcp-service-account:/does/not/exist.json"}, "does not exist"),
    ],
)
def test_vertex_rejects_bad_values(
    vertex: StackProviderSpec, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        build(vertex, vertex_spec(**fields))
    assert message in str(caught.value)


# -- kubernetes (GKE) -----------------------------------------------------------


def test_gke_with_implicit_credentials_and_the_default_namespace(gke: StackProviderSpec) -> None:
    components = build(gke, gke_spec())
    assert [role for role, _ in components.components()] == [
        "orchestrator",
        "artifact_store",
        "container_registry",
    ]
    assert components.service_connector == ConnectorSpec(
        name="team", connector_type="gcp", auth_method="implicit",
        configuration={"project_id": "my-project"},
    )
    assert components.orchestrator == ComponentSpec(
        name="team",
        flavor="kubernetes",
        configuration={"kubernetes_namespace": "default"},
        connector=True,
        connector_resource_id="kitaru-cluster",
    )
    assert components.artifact_store.flavor == "gcp"
    assert components.artifact_store.connector_resource_id == "gs://team-bucket"
    assert components.container_registry == ComponentSpec(
        name="team",
        flavor="gcp",
        configuration={"uri": "gcr.io/my-project"},
        connector=True,
        connector_resource_id="gcr.io/my-project",
    )


def test_gke_namespace_credentials_and_async(
    gke: StackProviderSpec, service_account_key: Path
) -> None:
    components = build(
        gke,
        gke_spec(
            namespace="flows",
            credentials=f"gcp-service-account:{service_account_key}",
            extra={"orchestrator": {"synchronous": False}},
        ),
    )
    assert components.orchestrator.configuration == {
        "kubernetes_namespace": "flows",
        "synchronous": False,
    }
    assert components.service_connector is not None
    assert components.service_connector.auth_method == "service-account"
    assert components.service_connector.configuration["project_id"] == "my-project"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cluster": None}, "--type kubernetes needs --cluster; it is missing or blank."),
        ({"region": " "}, "--type kubernetes needs --region; it is missing or blank."),
        ({"container_registry": "gcr.io"}, "Cannot infer the GCP project"),
    ],
)
def test_gke_rejects_bad_values(
    gke: StackProviderSpec, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(KitaruUsageError, match=message):
        build(gke, gke_spec(**fields))


# -- the gs:// backend for local stacks ------------------------------------------


def test_local_stack_with_implicit_credentials_gets_no_connector(fresh_manager: None) -> None:
    local = get_plugin_manager().stack_providers()["local"]
    spec = local_spec("gs://team-bucket/kitaru", authentication_secret="s")
    store = ComponentSpec(
        name="shared",
        flavor="gcp",
        configuration={"path": "gs://team-bucket/kitaru", "authentication_secret": "s"},
    )
    assert build(local, spec) == StackComponents(
        orchestrator=ComponentSpec(name="shared", flavor="local"), artifact_store=store
    )
    assert GCS_BACKEND.build(spec) == ArtifactStoreComponents(store)


def test_local_stack_with_a_service_account_links_a_connector(service_account_key: Path) -> None:
    spec = local_spec("gs://team-bucket/kitaru", f"gcp-service-account:{service_account_key}")
    assert GCS_BACKEND.build(spec) == ArtifactStoreComponents(
        service_connector=ConnectorSpec(
            name="shared",
            connector_type="gcp",
            auth_method="service-account",
            # A local stack names no registry: the key's own project is used.
            configuration={"service_account_json": service_account_key.read_text()},
        ),
        artifact_store=ComponentSpec(
            name="shared",
            flavor="gcp",
            configuration={"path": "gs://team-bucket/kitaru"},
            connector=True,
            connector_resource_id="gs://team-bucket",
        ),
    )


def test_backend_rejects_non_gcs_uris() -> None:
    with pytest.raises(KitaruUsageError, match="need a gs:// URI"):
        GCS_BACKEND.build(local_spec("/tmp/local"))


# -- the contract suite, with real specs (build) and the emulator (verify) ---------


CONTRACT_CASES = {
    "vertex": (vertex_spec, "gs://{bucket}/kitaru"),
    "kubernetes": (gke_spec, "gs://{bucket}"),
}
"""Per GCP stack type: its spec, and an artifact store URI in the emulator's fresh bucket."""


class TestGcpStackTypeContract(StackProviderContract):
    @pytest.fixture(params=sorted(CONTRACT_CASES))
    def stack_type(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    @pytest.fixture
    def stack_provider(self, stack_type: str, fresh_manager: None) -> StackProviderSpec:
        return get_plugin_manager().stack_providers()[f"{stack_type}@gcp"]

    @pytest.fixture
    def stack_spec(self, stack_type: str) -> StackSpec:
        spec_for, _ = CONTRACT_CASES[stack_type]
        return spec_for()

    def test_verify_accepts_the_sample_spec(  # type: ignore[override]
        self, stack_provider: StackProviderSpec, stack_type: str, gcs_env: str, bucket: str
    ) -> None:
        spec_for, uri = CONTRACT_CASES[stack_type]
        verify = stack_provider.verifier()
        assert verify is not None
        assert verify(spec_for(artifact_store=uri.format(bucket=bucket))) is None


def test_records_are_the_module_level_ones(
    vertex: StackProviderSpec, gke: StackProviderSpec
) -> None:
    assert vertex == VERTEX_STACK_PROVIDER and gke == KUBERNETES_STACK_PROVIDER

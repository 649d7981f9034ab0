"""End to end through the real ``kitaru`` CLI: Azure stacks, Azurite, a real flow.

The CLI runs in subprocesses on the session's config dir, so the test can
inspect what it registered with the engine's client in-process and load
artifacts through :class:`kitaru.KitaruClient`. Every stack is created with
``--no-activate`` (other tests share the active stack) and deleted afterwards.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import kitaru
import kitaru.stacks
from kitaru.plugins.stack_helpers import VERIFY_OBJECT_PREFIX
from tests.azure.conftest import AZURE_STORAGE_ENV, AZURITE_KEY, Azurite
from tests.azure.test_build import CLIENT, SUBSCRIPTION, TENANT
from tests.cloud.cli import SESSION_CONFIG, created_item, refusal, run_kitaru
from tests.cloud.engine import engine_client, registered_under
from tests.cloud.specs import unique_name
from tests.conftest import run_python

FLOW = Path(__file__).with_name("flows") / "azure_report.py"
SECRET = "Sx8Q~e2e-client-secret"


def kitaru_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``kitaru ARGS -o json`` on the session's config, with no Azure settings but ``env``."""
    return run_kitaru(SESSION_CONFIG, *args, env=env, hide=AZURE_STORAGE_ENV)


@pytest.fixture
def stacks_to_delete() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        kitaru.stacks.delete_stack(name, recursive=True)


def test_local_stack_on_azurite_runs_a_flow_and_keeps_artifacts_there(
    azurite_env: Azurite, stacks_to_delete: list[str]
) -> None:
    container = azurite_env.create_container()
    name = unique_name("az-local")
    created = kitaru_cli(
        "stack", "create", name, "--artifact-store", f"abfss://{container}/kitaru",
        "--no-activate",
        AZURE_STORAGE_CONNECTION_STRING=azurite_env.connection_string,
    )
    item = created_item(created)
    stacks_to_delete.append(name)
    assert (item["name"], item["stack_type"], item["is_active"]) == (name, "local", False)
    assert "service_connectors_created" not in item
    assert AZURITE_KEY not in created.stdout + created.stderr
    assert azurite_env.blob_names(container) == [], "verification left its probe behind"

    store = engine_client().get_stack_component("artifact_store", name)
    assert (store.flavor_name, store.configuration["path"]) == ("azure", f"abfs://{container}/kitaru")
    assert store.connector is None

    run = run_python(
        FLOW, SESSION_CONFIG, "azurite",
        KITARU_STACK=name, AZURE_STORAGE_CONNECTION_STRING=azurite_env.connection_string,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(line for line in run.stdout.splitlines() if line.startswith("EXECUTION "))
    outcome = json.loads(line.removeprefix("EXECUTION "))
    assert outcome["result"] == "azurite: 3 notes"

    execution = kitaru.KitaruClient().executions.get(outcome["exec_id"])
    assert execution.stack_name == name
    assert [call.name for call in execution.checkpoints] == ["gather", "summarize"]
    loaded = {artifact.producing_call: artifact.load() for artifact in execution.artifacts}
    assert loaded["gather"] == {"topic": "azurite", "notes": [f"azurite note {i}" for i in range(3)]}
    assert loaded["summarize"] == "azurite: 3 notes"

    blobs = azurite_env.blob_names(container)
    assert blobs and all(blob.startswith("kitaru/") for blob in blobs)
    assert not [blob for blob in blobs if VERIFY_OBJECT_PREFIX in blob]
    for call in ("gather", "summarize"):
        assert any(f"/{call}/" in blob for blob in blobs), (call, blobs)


def test_azureml_stack_with_no_verify_registers_connector_and_components(
    stacks_to_delete: list[str],
) -> None:
    name = unique_name("azml")
    created = kitaru_cli(
        "stack", "create", name, "--type", "azureml",
        "--artifact-store", "abfss://kitaru/runs",
        "--container-registry", "teamregistry.azurecr.io",
        "--subscription-id", SUBSCRIPTION, "--resource-group", "ml-rg", "--workspace", "ml-ws",
        "--region", "westeurope",
        "--credentials", f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}",
        "--extra", "orchestrator.mode=compute-cluster",
        "--extra", "orchestrator.compute_name=kitaru-cpu",
        "--async", "--no-verify", "--no-activate",
    )
    item = created_item(created)
    stacks_to_delete.append(name)
    assert SECRET not in created.stdout + created.stderr
    assert item["stack_type"] == "azureml"
    assert item["service_connectors_created"] == [name]
    assert sorted(item["components_created"]) == sorted(
        f"{role}:{name}" for role in ("orchestrator", "artifact_store", "container_registry")
    )
    assert item["resources"]["provider"] == "azure"

    client = engine_client()
    connector = client.get_service_connector(name)
    assert connector.auth_method == "service-principal"
    assert "client_secret" not in connector.configuration
    orchestrator = client.get_stack_component("orchestrator", name)
    assert orchestrator.flavor_name == "azureml"
    assert orchestrator.connector.id == connector.id
    assert orchestrator.configuration["subscription_id"] == SUBSCRIPTION
    assert orchestrator.configuration["location"] == "westeurope"
    assert orchestrator.configuration["mode"] == "compute-cluster"
    assert orchestrator.configuration["compute_name"] == "kitaru-cpu"
    assert orchestrator.configuration["synchronous"] is False
    store = client.get_stack_component("artifact_store", name)
    assert (store.flavor_name, store.configuration["path"]) == ("azure", "abfs://kitaru/runs")
    assert (store.connector.id, store.connector_resource_id) == (connector.id, "az://kitaru")
    registry = client.get_stack_component("container_registry", name)
    assert (registry.flavor_name, registry.configuration["uri"]) == (
        "azure", "teamregistry.azurecr.io"
    )
    assert registry.connector.id == connector.id

    stacks_to_delete.remove(name)
    kitaru.stacks.delete_stack(name, recursive=True)
    assert not any(registered_under(name).values())


def test_verification_against_a_missing_container_fails_and_registers_nothing(
    azurite_env: Azurite,
) -> None:
    name = unique_name("az-missing")
    result = kitaru_cli(
        "stack", "create", name, "--artifact-store", "az://no-such-container/kitaru",
        "--no-activate",
        AZURE_STORAGE_CONNECTION_STRING=azurite_env.connection_string,
    )
    error = refusal(result)
    assert error["type"] == "KitaruUsageError"
    assert error["message"].startswith("Azure Blob container 'no-such-container' does not exist")
    assert error["message"].endswith("Create it, or pass --no-verify to skip this check.")
    assert AZURITE_KEY not in result.stderr
    assert not any(registered_under(name).values())

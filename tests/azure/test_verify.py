"""Verification of Azure Blob containers against a real Azurite (no mocks).

Each test reaches Azurite the way a user would: through
``AZURE_STORAGE_CONNECTION_STRING`` (the ``azurite_env`` fixture), or through a
deliberately broken variant of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins.catalog import artifact_store_backend
from kitaru.plugins.stack_helpers import VERIFY_OBJECT_PREFIX
from tests.azure.conftest import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, connection_string
from tests.azure.test_build import CLIENT, TENANT, azureml, azureml_spec
from tests.cloud.servers import free_port
from tests.cloud.specs import local_spec


def verify(uri: str, credentials: str | None = None, **store_extra: str) -> None:
    """Verify ``uri`` with the backend core finds for its scheme, as a local stack does."""
    backend = artifact_store_backend(uri)
    assert backend.verify is not None
    backend.verify(local_spec(uri, credentials, **store_extra))


def verify_error(uri: str, credentials: str | None = None, **store_extra: str) -> str:
    """The message ``verify`` fails with; it must never hold the account key."""
    with pytest.raises(KitaruUsageError) as caught:
        verify(uri, credentials, **store_extra)
    message = str(caught.value)
    assert AZURITE_KEY not in message, "an account key leaked into an error message"
    assert "AccountKey" not in message
    return message


def _verify_with_sas(
    azurite: Azurite, env: pytest.MonkeyPatch, uri_path: str = "", **permissions: bool
) -> tuple[str, str]:
    """Verify a new container through a SAS limited to ``permissions``.

    Returns:
        The container's name and the error message.
    """
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    container = azurite.create_container()
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(**permissions),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    env.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"BlobEndpoint={azurite.endpoint};SharedAccessSignature={sas}",
    )
    return container, verify_error(f"az://{container}{uri_path}")


@pytest.mark.parametrize("prefix", ["", "/runs/nested"])
def test_existing_container_passes_and_the_probe_is_gone(azurite_env: Azurite, prefix: str) -> None:
    container = azurite_env.create_container()
    verify(f"az://{container}{prefix}")
    assert azurite_env.blob_names(container) == []


def test_abfss_uris_are_verified_too(azurite_env: Azurite) -> None:
    container = azurite_env.create_container()
    verify(f"abfss://{container}/x")
    assert azurite_env.blob_names(container) == []


def test_the_azureml_type_verifies_its_container(azurite_env: Azurite) -> None:
    container = azurite_env.create_container()
    check = azureml().verifier()  # the backend's: the record names no verify of its own
    assert check is not None
    check(azureml_spec(artifact_store=f"az://{container}/kitaru"))
    message = verify_error(f"az://{container}-missing")
    assert "does not exist" in message
    with pytest.raises(KitaruUsageError, match="does not exist"):
        check(azureml_spec(artifact_store=f"az://{container}-missing"))


def test_missing_container_says_create_it_or_skip(azurite_env: Azurite) -> None:
    message = verify_error("az://no-such-container/runs")
    assert message.startswith(
        f"Azure Blob container 'no-such-container' does not exist at {azurite_env.endpoint} "
    )
    assert "AZURE_STORAGE_CONNECTION_STRING" in message
    assert message.endswith("Create it, or pass --no-verify to skip this check.")


def test_read_only_credentials_fail_because_the_probe_is_written(
    azurite: Azurite, no_azure_env: pytest.MonkeyPatch
) -> None:
    container, message = _verify_with_sas(azurite, no_azure_env, read=True, list=True)
    assert message.startswith("Azure rejected the credentials from AZURE_STORAGE_CONNECTION_STRING")
    assert "sig=" not in message and "SharedAccessSignature" not in message
    assert azurite.blob_names(container) == []


def test_credentials_that_cannot_delete_leave_a_named_probe(
    azurite: Azurite, no_azure_env: pytest.MonkeyPatch
) -> None:
    container, message = _verify_with_sas(azurite, no_azure_env, "/p", write=True, create=True)
    left = azurite.blob_names(container)
    assert len(left) == 1 and left[0].startswith(f"p/{VERIFY_OBJECT_PREFIX}")
    assert "could not delete it" in message and left[0] in message


def test_wrong_account_key_is_an_auth_failure(
    azurite: Azurite, no_azure_env: pytest.MonkeyPatch
) -> None:
    container = azurite.create_container()
    wrong_key = "A" * 86 + "=="
    no_azure_env.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(azurite.endpoint, wrong_key))
    message = verify_error(f"az://{container}")
    assert message.startswith(
        f"Azure rejected the credentials from AZURE_STORAGE_CONNECTION_STRING for container "
        f"'{container}' at {azurite.endpoint} ("
    )
    assert wrong_key not in message
    assert message.endswith("or pass --no-verify to skip this check.")


def test_unreachable_endpoint(no_azure_env: pytest.MonkeyPatch) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/{AZURITE_ACCOUNT}"
    no_azure_env.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(endpoint))
    message = verify_error("az://kitaru")
    assert message.startswith(
        f"Cannot reach the Azure Blob endpoint {endpoint} (from AZURE_STORAGE_CONNECTION_STRING)."
    )
    assert "--no-verify" in message


def test_no_credentials_names_the_variables_and_the_option(no_azure_env: pytest.MonkeyPatch) -> None:
    message = verify_error("az://kitaru")
    assert message.startswith("No Azure Storage credentials found.")
    for hint in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME",
                 "--credentials azure-service-principal:TENANT:CLIENT:SECRET", "--no-verify"):
        assert hint in message


def test_malformed_connection_string_is_not_echoed(no_azure_env: pytest.MonkeyPatch) -> None:
    no_azure_env.setenv("AZURE_STORAGE_CONNECTION_STRING", "not a connection string secretvalue")
    message = verify_error("az://kitaru")
    assert "is not a valid Azure Storage connection string" in message
    assert "secretvalue" not in message


def test_service_principal_needs_the_storage_account(no_azure_env: pytest.MonkeyPatch) -> None:
    message = verify_error("az://kitaru", f"azure-service-principal:{TENANT}:{CLIENT}:hidden-secret")
    assert message.startswith("Set AZURE_STORAGE_ACCOUNT_NAME to the storage account")
    assert "hidden-secret" not in message


def test_bad_uris_fail_before_any_request(no_azure_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(KitaruUsageError, match="not a valid Azure Blob container name"):
        verify("az://Bad_Name")


def test_a_store_secret_is_named_when_verification_has_no_credentials(
    no_azure_env: pytest.MonkeyPatch,
) -> None:
    message = verify_error("az://kitaru", authentication_secret="azurite")
    assert message.startswith("The artifact store authenticates with the secret 'azurite'")
    assert "AZURE_STORAGE_CONNECTION_STRING" in message and "--no-verify" in message

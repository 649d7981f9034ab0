"""Azurite, Microsoft's Azure Storage emulator, for the Azure plugin's tests.

The ``azurite`` fixture starts Azurite's blob service once per test session
from ``tools/emulators`` (an npm project pinning Azurite), on a free port of
127.0.0.1 with its data in a temporary directory, and stops it at the end.
When ``tools/emulators/node_modules`` is missing the fixture installs it with
``npm ci --prefix tools/emulators``. Without npm the Azurite tests are skipped
with the reason, except in CI (``CI`` set), where that is a failure.

Azurite serves the well-known development account ``devstoreaccount1`` with
its published key; tests reach it with a connection string, exactly like a
user who exports ``AZURE_STORAGE_CONNECTION_STRING``. ``registry`` (from
``tests.cloud.engine``) registers built descriptions with the engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cloud.engine import registry  # noqa: F401  (the fixture, shared by import)
from tests.cloud.servers import answers_http, free_port, running_server
from tests.conftest import REPO_ROOT

EMULATORS = REPO_ROOT / "tools" / "emulators"
AZURITE_BLOB = EMULATORS / "node_modules" / ".bin" / "azurite-blob"

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's fixed development key, published in Azurite's documentation (not a secret)."""

AZURE_STORAGE_ENV = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_STORAGE_TENANT_ID",
)
"""Variables through which Azure Storage credentials reach adlfs and verification."""


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob service.

    Attributes:
        port: Its port on 127.0.0.1.
        endpoint: ``http://127.0.0.1:PORT/devstoreaccount1``.
        connection_string: What a user would export as ``AZURE_STORAGE_CONNECTION_STRING``.
    """

    port: int
    endpoint: str
    connection_string: str

    def service_client(self) -> Any:
        """A ``BlobServiceClient`` for the emulator's account."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def create_container(self, prefix: str = "kitaru") -> str:
        """Create a container with a unique name and return the name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        with self.service_client() as client:
            client.create_container(name)
        return name

    def blob_names(self, container: str, prefix: str = "") -> list[str]:
        """Names of the blobs in ``container`` under ``prefix``."""
        with self.service_client() as client:
            blobs = client.get_container_client(container).list_blobs(name_starts_with=prefix)
            return sorted(blob.name for blob in blobs)


def connection_string(endpoint: str, key: str = AZURITE_KEY) -> str:
    """An Azurite-style connection string for the development account at ``endpoint``."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
        f"BlobEndpoint={endpoint};"
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must run the Azurite tests.")
    pytest.skip(reason)


def _install_azurite() -> None:
    npm = shutil.which("npm")
    if npm is None:
        _unavailable(
            "Azurite is not installed and npm is not on PATH. Install Node.js (with npm), then "
            "run `npm ci --prefix tools/emulators`."
        )
    result = subprocess.run(
        [npm, "ci", "--prefix", str(EMULATORS), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not AZURITE_BLOB.exists():
        pytest.fail(f"`npm ci --prefix tools/emulators` failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Start Azurite's blob service for the session; yields how to reach it."""
    if shutil.which("node") is None:
        _unavailable("Azurite needs Node.js, which is not on PATH. Install Node.js 20 or newer.")
    if not AZURITE_BLOB.exists():
        _install_azurite()
    workdir = tmp_path_factory.mktemp("azurite")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    command = [
        str(AZURITE_BLOB),
        "--blobHost", "127.0.0.1",
        "--blobPort", str(port),
        "--location", str(workdir / "data"),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
    ]
    # Any HTTP answer (403 without credentials) means it is serving.
    with running_server(command, name="Azurite", log=workdir / "azurite.log",
                        ready=lambda: answers_http(f"{endpoint}?comp=list"), timeout=60):
        yield Azurite(port=port, endpoint=endpoint, connection_string=connection_string(endpoint))


@pytest.fixture
def no_azure_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Clear every ``AZURE_STORAGE_*`` credential variable for the test."""
    for name in AZURE_STORAGE_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def azurite_env(azurite: Azurite, no_azure_env: pytest.MonkeyPatch) -> Azurite:
    """Azurite reachable through ``AZURE_STORAGE_CONNECTION_STRING`` (and nothing else)."""
    no_azure_env.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return azurite

"""The cloud storage emulators the tests run against: gcp-storage-emulator and Azurite.

Each emulator is a real server in a subprocess on a free port of 127.0.0.1,
started once per test session by a session-scoped fixture and stopped at its
end (:func:`tests.cloud.servers.running_server`):

* ``gcs_emulator``: gcp-storage-emulator with in-memory storage (the URL a
  process gets as ``STORAGE_EMULATOR_HOST``); ``emulator_adc_file`` the
  placeholder Application Default Credentials ``docs/gcp.md`` shows, and
  :func:`gcs_client_env` what a CLI or flow subprocess needs to use both.
* ``azurite``: Azurite's blob service from ``tools/emulators`` (an npm
  project pinning Azurite), reached with a connection string, exactly like a
  user who exports ``AZURE_STORAGE_CONNECTION_STRING``. When
  ``tools/emulators/node_modules`` is missing the fixture installs it with
  ``npm ci --prefix tools/emulators``; without Node.js or npm the tests that
  use it are skipped with the reason, except in CI (``CI`` set), where that
  is a failure.

A directory's tests get a fixture by importing its function into their
``conftest.py`` (or test module); each function is named ``<fixture>_fixture``
so that the fixture's name stays free for the parameters that request it::

    from tests.cloud.emulators import gcs_emulator_fixture  # noqa: F401  (fixture ``gcs_emulator``)

``tests/gcp``, ``tests/azure`` and ``tests/team`` do so. pytest keeps one
instance per place that imports a fixture, so a session that runs two of
those directories starts the emulator once for each (about a second).

No test may reach Google: :func:`gcs_client_env` points google-auth's
metadata-server addresses at a closed loopback port, so a code path that
would ask the GCE metadata server fails locally instead of sending traffic
anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.servers import answers_http, free_port, running_server
from tests.conftest import REPO_ROOT

# -- Google Cloud Storage: gcp-storage-emulator ----------------------------------------------

GCS_EMULATOR = Path(sys.executable).with_name("gcp-storage-emulator")
"""The emulator's console script, installed in the venv by ``uv sync``."""

TEST_PROJECT = "kitaru-test"
"""The GCP project the tests name (their registries are ``gcr.io/kitaru-test``)."""

GOOGLE_VARS_TO_CLEAR: tuple[str, ...] = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "CLOUDSDK_CONFIG",
    "STORAGE_EMULATOR_HOST",
)
"""Developer settings that must not leak into a test."""

EMULATOR_ADC: dict[str, str] = {
    "type": "authorized_user",
    "client_id": "emulator",
    "client_secret": "emulator",
    "refresh_token": "emulator",
    "token": "emulator",
    "expiry": "2999-01-01T00:00:00Z",
}
"""The placeholder Application Default Credentials ``docs/gcp.md`` shows for emulator shells."""


@pytest.fixture(scope="session", name="gcs_emulator")
def gcs_emulator_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real GCS emulator for this test session (``http://127.0.0.1:PORT``)."""
    if not GCS_EMULATOR.exists():
        pytest.fail(f"gcp-storage-emulator is not installed next to {sys.executable}; run uv sync")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_server(
        [str(GCS_EMULATOR), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"],
        name="gcp-storage-emulator",
        log=tmp_path_factory.mktemp("gcs-emulator") / "emulator.log",
        ready=lambda: answers_http(f"{url}/storage/v1/b?project={TEST_PROJECT}"),
    ):
        yield url


@pytest.fixture(scope="session", name="emulator_adc_file")
def emulator_adc_file_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A placeholder Application Default Credentials file for runs against the emulator.

    An ``authorized_user`` login whose access token never expires: google-auth
    loads it without any network request, gcsfs sends ``Bearer emulator``, and
    the emulator ignores it. The same file ``docs/gcp.md`` shows users.
    """
    path = tmp_path_factory.mktemp("gcs-adc") / "emulator-adc.json"
    path.write_text(json.dumps(EMULATOR_ADC))
    return path


def gcs_client_env(emulator: str, adc_file: Path) -> dict[str, str]:
    """Environment additions for a CLI or flow subprocess that uses the GCS emulator.

    Args:
        emulator: The emulator's URL (from ``gcs_emulator``).
        adc_file: The placeholder credentials (from ``emulator_adc_file``).
    """
    closed = f"127.0.0.1:{free_port()}"
    return {
        "STORAGE_EMULATOR_HOST": emulator,
        "GOOGLE_APPLICATION_CREDENTIALS": str(adc_file),
        "GOOGLE_CLOUD_PROJECT": TEST_PROJECT,
        # Safety net: never probe the real GCE metadata server.
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": closed,
        "GCE_METADATA_IP": closed,
    }


def anonymous_client(endpoint: str) -> Any:
    """A google-cloud-storage client for the emulator (what tests inspect buckets with)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=TEST_PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


def create_bucket(endpoint: str, name: str | None = None) -> str:
    """Create a bucket in the emulator (a fresh unique name unless ``name``); return its name."""
    name = name or f"kitaru-{uuid.uuid4().hex[:12]}"
    anonymous_client(endpoint).create_bucket(name)
    return name


def blob_names(endpoint: str, bucket_name: str) -> list[str]:
    """Every object name in a bucket of the emulator."""
    return sorted(blob.name for blob in anonymous_client(endpoint).list_blobs(bucket_name))


# -- Azure Blob Storage: Azurite -------------------------------------------------------------

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

    def create_container(self, prefix: str = "kitaru", *, name: str | None = None) -> str:
        """Create a container (``name``, or a unique one starting with ``prefix``) and return its name."""
        name = name or f"{prefix}-{uuid.uuid4().hex[:12]}"
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
        [str(npm), "ci", "--prefix", str(EMULATORS), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not AZURITE_BLOB.exists():
        pytest.fail(f"`npm ci --prefix tools/emulators` failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session", name="azurite")
def azurite_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
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

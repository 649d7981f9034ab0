"""Fixtures for the GCP plugin tests: a real GCS emulator (``gcp-storage-emulator``).

``gcs_emulator`` starts one emulator for the whole session, in a subprocess
on a free port of 127.0.0.1 with in-memory storage, waits until it answers
HTTP, and stops it at the end. ``gcs_env`` points *this* process at it for
one test (``STORAGE_EMULATOR_HOST``, set with ``monkeypatch`` so it never
leaks into other test modules) and hides any developer credentials;
``gcs_child_env`` gives the same settings to CLI and flow subprocesses.
``bucket`` creates a fresh bucket per test. ``registry`` (from
``tests.cloud.engine``) registers built descriptions with the engine.

No test here may reach Google: every child process also gets google-auth's
metadata-server addresses pointed at a closed loopback port, so a code path
that would ask the GCE metadata server fails locally instead of sending
traffic anywhere.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.engine import registry  # noqa: F401  (the fixture, shared by import)
from tests.cloud.servers import answers_http, free_port, running_server

EMULATOR = Path(sys.executable).with_name("gcp-storage-emulator")

TEST_PROJECT = "kitaru-test"
"""The GCP project the tests' registries name (``gcr.io/kitaru-test``)."""

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


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real GCS emulator for this test session (``http://127.0.0.1:PORT``)."""
    if not EMULATOR.exists():
        pytest.fail(f"gcp-storage-emulator is not installed next to {sys.executable}; run uv sync")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_server(
        [str(EMULATOR), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"],
        name="gcp-storage-emulator",
        log=tmp_path_factory.mktemp("gcs-emulator") / "emulator.log",
        ready=lambda: answers_http(f"{url}/storage/v1/b?project={TEST_PROJECT}"),
    ):
        yield url


@pytest.fixture(scope="session")
def emulator_adc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A placeholder Application Default Credentials file for runs against the emulator.

    An ``authorized_user`` login whose access token never expires: google-auth
    loads it without any network request, gcsfs sends ``Bearer emulator``, and
    the emulator ignores it. The same file ``docs/gcp.md`` shows users.
    """
    path = tmp_path_factory.mktemp("gcs-adc") / "emulator-adc.json"
    path.write_text(json.dumps(EMULATOR_ADC))
    return path


@pytest.fixture
def gcs_env(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point this process at the emulator for one test; returns its URL."""
    for name in GOOGLE_VARS_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    return gcs_emulator


@pytest.fixture
def gcs_child_env(gcs_emulator: str, emulator_adc_file: Path) -> dict[str, str]:
    """Environment additions for a CLI or flow subprocess that uses the emulator."""
    closed = f"127.0.0.1:{free_port()}"
    return {
        "STORAGE_EMULATOR_HOST": gcs_emulator,
        "GOOGLE_APPLICATION_CREDENTIALS": str(emulator_adc_file),
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


@pytest.fixture
def bucket(gcs_emulator: str) -> str:
    """A fresh, empty bucket in the emulator; returns its name."""
    name = f"kitaru-{uuid.uuid4().hex[:12]}"
    anonymous_client(gcs_emulator).create_bucket(name)
    return name


def blob_names(endpoint: str, bucket_name: str) -> list[str]:
    """Every object name in a bucket of the emulator."""
    return sorted(blob.name for blob in anonymous_client(endpoint).list_blobs(bucket_name))


@pytest.fixture(scope="session")
def service_account_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete service-account key file with a freshly generated RSA private key.

    Nothing can log in with it (no such account exists), but it has every
    field ZenML's GCP connector checks and a real, parseable private key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = f"kitaru-ci@{TEST_PROJECT}.iam.gserviceaccount.com"
    path = tmp_path_factory.mktemp("gcp-key") / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "key-project",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": email,
                "client_id": "123456789012345678901",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            },
            indent=2,
        )
    )
    return path

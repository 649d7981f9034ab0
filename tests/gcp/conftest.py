"""Fixtures for the GCP plugin tests: a real GCS emulator (``gcp-storage-emulator``).

``gcs_emulator`` (from ``tests.cloud.emulators``, which ``tests/team`` shares)
starts one emulator for the whole session, in a subprocess on a free port of
127.0.0.1 with in-memory storage, waits until it answers HTTP, and stops it at
the end. ``gcs_env`` points *this* process at it for
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
from pathlib import Path

import pytest

from tests.cloud.emulators import (  # noqa: F401  (the session fixtures, shared by import)
    EMULATOR_ADC,
    GOOGLE_VARS_TO_CLEAR,
    TEST_PROJECT,
    anonymous_client,
    blob_names,
    create_bucket,
    emulator_adc_file_fixture,
    gcs_client_env,
    gcs_emulator_fixture,
)
from tests.cloud.engine import registry  # noqa: F401  (the fixture, shared by import)


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
    return gcs_client_env(gcs_emulator, emulator_adc_file)


@pytest.fixture
def bucket(gcs_emulator: str) -> str:
    """A fresh, empty bucket in the emulator; returns its name."""
    return create_bucket(gcs_emulator)


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

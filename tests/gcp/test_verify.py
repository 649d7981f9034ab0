"""Checking a GCS bucket with google-cloud-storage, against a real GCS emulator.

What the emulator cannot produce (a 403 from IAM, an expired key) is checked
through the message mapping with the real google-api-core exception types.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins.stack_helpers import VERIFY_OBJECT_PREFIX
from kitaru_gcp import GCS_BACKEND, KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER
from kitaru_gcp.artifact_store import _explain, emulator_host, verify_gcs_store
from kitaru_gcp.credentials import parse_credentials
from tests.cloud.servers import free_port
from tests.cloud.specs import local_spec
from tests.gcp.conftest import anonymous_client, blob_names
from tests.gcp.test_build import vertex_spec


def _verify_error(uri: str, credentials: str | None = None) -> str:
    with pytest.raises(KitaruUsageError) as caught:
        verify_gcs_store(local_spec(uri, credentials))
    return str(caught.value)


def test_existing_bucket_passes_and_the_probe_is_gone(gcs_env: str, bucket: str) -> None:
    assert verify_gcs_store(local_spec(f"gs://{bucket}")) is None
    assert blob_names(gcs_env, bucket) == []


def test_probe_is_written_under_the_prefix_and_deleted(
    gcs_env: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Look at the bucket just before the probe's delete: it sits under the prefix."""
    from google.cloud.storage.blob import Blob

    seen: list[str] = []
    delete = Blob.delete

    def look_then_delete(blob: Blob, *args: object, **kwargs: object) -> None:
        seen.extend(blob_names(gcs_env, bucket))
        delete(blob, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Blob, "delete", look_then_delete)
    verify_gcs_store(local_spec(f"gs://{bucket}/kitaru/runs/"))
    [probe] = seen
    assert probe.startswith(f"kitaru/runs/{VERIFY_OBJECT_PREFIX}")
    assert blob_names(gcs_env, bucket) == []


def test_existing_objects_are_left_alone(gcs_env: str, bucket: str) -> None:
    anonymous_client(gcs_env).bucket(bucket).blob("kitaru/keep.txt").upload_from_string(b"x")
    verify_gcs_store(local_spec(f"gs://{bucket}/kitaru"))
    assert blob_names(gcs_env, bucket) == ["kitaru/keep.txt"]


def test_missing_bucket_says_create_it_or_skip(gcs_env: str) -> None:
    message = _verify_error("gs://kitaru-no-such-bucket/kitaru")
    assert message == (
        f"GCS bucket 'gs://kitaru-no-such-bucket' does not exist on the GCS emulator at "
        f"{gcs_env}. Create it, or pass --no-verify to skip this check."
    )


def test_stack_types_and_backend_share_the_check(gcs_env: str, bucket: str) -> None:
    """The records name no ``verify``: core runs their backend's (``provider.verifier()``)."""
    for provider in (VERTEX_STACK_PROVIDER, KUBERNETES_STACK_PROVIDER):
        assert provider.verify is None and provider.verifier() is GCS_BACKEND.verify
    verify = GCS_BACKEND.verify
    assert verify is not None
    verify(vertex_spec(artifact_store=f"gs://{bucket}"))
    with pytest.raises(KitaruUsageError, match="Create it, or pass --no-verify"):
        verify(vertex_spec(artifact_store="gs://kitaru-missing-bucket"))
    verify(local_spec(f"gs://{bucket}"))
    assert blob_names(gcs_env, bucket) == []


def test_service_account_key_is_checked_but_the_emulator_needs_no_login(
    gcs_env: str, bucket: str, service_account_key: Path, tmp_path: Path
) -> None:
    verify_gcs_store(local_spec(f"gs://{bucket}", f"gcp-service-account:{service_account_key}"))
    assert blob_names(gcs_env, bucket) == []
    message = _verify_error(f"gs://{bucket}", f"gcp-service-account:{tmp_path / 'gone.json'}")
    assert "gone.json' does not exist" in message


def test_emulator_host_without_a_scheme_means_http(
    gcs_env: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_env.removeprefix("http://"))
    assert emulator_host() == gcs_env
    verify_gcs_store(local_spec(f"gs://{bucket}"))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "")
    assert emulator_host() is None


def test_unreachable_emulator_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    message = _verify_error("gs://any-bucket")
    assert time.monotonic() - started < 20
    assert message.startswith(
        f"Cannot reach the GCS emulator at http://127.0.0.1:{port} to check GCS bucket "
        "'gs://any-bucket' ("
    )
    assert "Connection refused" in message
    assert message.endswith(
        "Start the emulator or fix STORAGE_EMULATOR_HOST, or pass --no-verify to skip this check."
    )


def test_no_credentials_says_how_to_provide_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Real GCS, implicit login, and GOOGLE_APPLICATION_CREDENTIALS pointing nowhere.

    google-auth fails on the missing file before it would try anything else,
    so this test sends nothing over the network.
    """
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    missing = tmp_path / "adc.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))
    message = _verify_error("gs://any-bucket")
    assert message.startswith("No GCP credentials found to check GCS bucket 'gs://any-bucket'.")
    assert f"GOOGLE_APPLICATION_CREDENTIALS points to '{missing}'" in message
    assert "gcloud auth application-default login" in message
    assert "--credentials gcp-service-account:/path/key.json" in message
    assert message.endswith("or pass --no-verify to skip this check.")


def test_unusable_private_key_is_a_usage_error_without_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, service_account_key: Path
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    info = json.loads(service_account_key.read_text())
    info["private_key"] = "-----BEGIN PRIVATE KEY-----\nnot-a-key-secret\n-----END PRIVATE KEY-----\n"
    broken = tmp_path / "broken-key.json"
    broken.write_text(json.dumps(info))
    message = _verify_error("gs://any-bucket", f"gcp-service-account:{broken}")
    assert f"'{broken}' holds no usable private key" in message
    assert "not-a-key-secret" not in message


def test_permission_denied_names_the_principal_and_the_permissions(
    service_account_key: Path,
) -> None:
    from google.api_core import exceptions

    credentials = parse_credentials(f"gcp-service-account:{service_account_key}")
    denied = exceptions.Forbidden(
        "kitaru-ci@kitaru-test.iam.gserviceaccount.com does not have storage.objects.create "
        "access to the Google Cloud Storage object."
    )
    message = str(_explain(denied, "gs://locked/kitaru", credentials, None, "write to"))
    assert message.startswith(
        "Permission denied: service account kitaru-ci@kitaru-test.iam.gserviceaccount.com may "
        "not write to GCS bucket 'gs://locked' (403 "
    )
    assert "storage.objects.create" in message and "storage.objects.delete" in message
    assert message.endswith("or pass --no-verify to skip this check.")
    assert "PRIVATE KEY" not in message

    unauthorized = exceptions.Unauthorized("Invalid Credentials")
    implicit = parse_credentials(None)
    message = str(_explain(unauthorized, "gs://locked", implicit, None, "write to"))
    assert "your Application Default Credentials may not write to GCS bucket" in message


def test_rejected_credentials_and_other_errors() -> None:
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    implicit = parse_credentials(None)
    refresh = auth_exceptions.RefreshError(
        "invalid_grant: Invalid JWT Signature.", {"error": "invalid_grant"}
    )
    message = str(_explain(refresh, "gs://b", implicit, None, "write to"))
    assert "GCP rejected your Application Default Credentials" in message
    assert "invalid_grant: Invalid JWT Signature." in message
    other = exceptions.TooManyRequests("slow down")
    message = str(_explain(other, "gs://b", implicit, None, "write to"))
    assert message.startswith("GCS refused to let Kitaru write to bucket 'gs://b' (429 slow down)")

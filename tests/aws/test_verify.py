"""``verify`` against real S3 servers (moto in server mode): what passes, what each failure says."""

from __future__ import annotations

from typing import Any

import pytest

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import StackSpec
from kitaru.plugins.stack_helpers import VERIFY_OBJECT_PREFIX
from kitaru_aws import S3_ARTIFACT_STORE_BACKEND, SAGEMAKER_STACK_PROVIDER, verify_s3_bucket
from tests.aws.conftest import LockedS3, object_keys, write_team_profile
from tests.aws.test_build import sagemaker_spec
from tests.cloud.servers import free_port
from tests.cloud.specs import local_spec

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def spec(uri: str, *, endpoint: str | None = None, credentials: str | None = None
         ) -> StackSpec:
    """A local-stack spec; ``endpoint`` goes where --extra artifact_store.client_kwargs puts it."""
    if endpoint is None:
        return local_spec(uri, credentials)
    return local_spec(uri, credentials, client_kwargs={"endpoint_url": endpoint})


def test_existing_bucket_passes_and_the_probe_is_gone(
    aws_env: dict[str, str], moto_endpoint: str, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="team/kitaru/keep.txt", Body=b"existing data")
    assert verify_s3_bucket(spec(f"s3://{bucket}/team/kitaru", endpoint=moto_endpoint)) is None
    assert object_keys(s3, bucket) == ["team/kitaru/keep.txt"]


def test_the_probe_is_written_under_the_prefix(
    aws_env: dict[str, str], moto_endpoint: str, s3: Any, bucket: str
) -> None:
    """A versioned bucket keeps a trace of the probe: one version and its delete marker."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    verify_s3_bucket(spec(f"s3://{bucket}/team/kitaru/", endpoint=moto_endpoint))
    versions = s3.list_object_versions(Bucket=bucket)
    written = [v["Key"] for v in versions.get("Versions", [])]
    deleted = [m["Key"] for m in versions.get("DeleteMarkers", [])]
    assert len(written) == 1 and written == deleted
    assert written[0].startswith(f"team/kitaru/{VERIFY_OBJECT_PREFIX}")
    assert object_keys(s3, bucket) == []


def test_endpoint_from_aws_endpoint_url(
    aws_env: dict[str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, s3: Any,
    bucket: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    verify_s3_bucket(spec(f"s3://{bucket}"))
    assert object_keys(s3, bucket) == []


def test_missing_bucket_names_bucket_endpoint_and_the_way_out(
    aws_env: dict[str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec("s3://no-such-kitaru-bucket/x", endpoint=moto_endpoint))
    assert str(caught.value) == (
        f"S3 bucket 'no-such-kitaru-bucket' does not exist (endpoint {moto_endpoint}, from "
        "--extra artifact_store.client_kwargs.endpoint_url). Create it (for example "
        "`aws s3 mb s3://no-such-kitaru-bucket`), check the bucket name and endpoint, or pass "
        "--no-verify to skip this check."
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with pytest.raises(KitaruUsageError, match=f"endpoint {moto_endpoint}, from AWS_ENDPOINT_URL"):
        verify_s3_bucket(spec("s3://no-such-kitaru-bucket"))


def test_remote_stack_types_and_the_backend_share_the_check(
    aws_env: dict[str, str], moto_endpoint: str, s3: Any, bucket: str
) -> None:
    """The records name no ``verify``: core runs their backend's (``provider.verifier()``)."""
    check = SAGEMAKER_STACK_PROVIDER.verifier()
    assert check is verify_s3_bucket and S3_ARTIFACT_STORE_BACKEND.verify is verify_s3_bucket
    sagemaker = sagemaker_spec(
        artifact_store=f"s3://{bucket}",
        extra={"artifact_store": {"client_kwargs": {"endpoint_url": moto_endpoint}}},
    )
    check(sagemaker)
    assert object_keys(s3, bucket) == []


def test_explicit_access_keys_are_used(
    keyless_aws_env: dict[str, str], moto_endpoint: str, s3: Any, bucket: str
) -> None:
    keys = f"aws-access-keys:AKIAEXAMPLE:{SECRET}"
    verify_s3_bucket(spec(f"s3://{bucket}", endpoint=moto_endpoint, credentials=keys))
    token = f"aws-session-token:ASIAEXAMPLE:{SECRET}:TOKEN"
    verify_s3_bucket(spec(f"s3://{bucket}", endpoint=moto_endpoint, credentials=token))
    assert object_keys(s3, bucket) == []


def test_profile_credentials(
    keyless_aws_env: dict[str, str], moto_endpoint: str, bucket: str
) -> None:
    write_team_profile(keyless_aws_env)
    verify_s3_bucket(spec(f"s3://{bucket}", endpoint=moto_endpoint, credentials="aws-profile:team"))
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec(f"s3://{bucket}", endpoint=moto_endpoint,
                              credentials="aws-profile:ghost"))
    assert "AWS profile 'ghost' was not found" in str(caught.value)
    assert "aws configure --profile ghost" in str(caught.value)


def test_no_credentials_says_how_to_provide_them(
    keyless_aws_env: dict[str, str], moto_endpoint: str, bucket: str
) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec(f"s3://{bucket}", endpoint=moto_endpoint))
    message = str(caught.value)
    assert message.startswith("No AWS credentials found.")
    for hint in ("AWS_ACCESS_KEY_ID", "aws configure", "--credentials aws-profile:NAME",
                 "--no-verify"):
        assert hint in message


def test_unreachable_endpoint(aws_env: dict[str, str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec("s3://any-bucket", endpoint=endpoint))
    assert str(caught.value).startswith(
        f"Cannot reach the S3 endpoint {endpoint} (from --extra "
        "artifact_store.client_kwargs.endpoint_url): EndpointConnectionError."
    )
    assert "--no-verify" in str(caught.value)


def test_access_denied_and_rejected_keys_hide_the_secret(
    aws_env: dict[str, str], moto_auth_endpoint: LockedS3
) -> None:
    locked = moto_auth_endpoint
    uri = f"s3://{locked.bucket}/kitaru"
    user = f"aws-access-keys:{locked.access_key_id}:{locked.secret_access_key}"
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec(uri, endpoint=locked.endpoint, credentials=user))
    message = str(caught.value)
    assert message.startswith(
        f"Access denied: the AWS credentials (aws-access-keys:{locked.access_key_id}:***) may "
        f"not write to S3 bucket '{locked.bucket}'"
    )
    assert "s3:PutObject" in message and "--no-verify" in message
    assert locked.secret_access_key not in message

    wrong_secret = f"aws-access-keys:{locked.access_key_id}:{SECRET}"
    with pytest.raises(KitaruUsageError) as caught:
        verify_s3_bucket(spec(uri, endpoint=locked.endpoint, credentials=wrong_secret))
    assert "S3 rejected the AWS credentials" in str(caught.value)
    assert "SignatureDoesNotMatch" in str(caught.value)
    assert SECRET not in str(caught.value)

    unknown = f"aws-access-keys:AKIAUNKNOWNKEY:{SECRET}"
    with pytest.raises(KitaruUsageError, match="InvalidAccessKeyId") as caught:
        verify_s3_bucket(spec(uri, endpoint=locked.endpoint, credentials=unknown))
    assert SECRET not in str(caught.value)


def test_bad_endpoint_url_is_a_usage_error(aws_env: dict[str, str]) -> None:
    with pytest.raises(KitaruUsageError, match="Cannot build an S3 client"):
        verify_s3_bucket(spec("s3://any-bucket", endpoint="not a url"))

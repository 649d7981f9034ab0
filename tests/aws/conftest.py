"""Fixtures for the AWS plugin tests: real S3 servers (moto in server mode).

``moto_endpoint`` is one moto server for the whole session, on a free port of
127.0.0.1; ``bucket`` creates a fresh bucket in it per test. ``aws_env``
points this process's AWS settings at test-only credentials (and away from
the developer's ``~/.aws``) for the duration of one test; pass the same dict
as ``env`` to CLI and flow subprocesses. ``registry`` (from
``tests.cloud.engine``) registers built descriptions with the engine.

``moto_auth_endpoint`` is a second moto server that enforces IAM: it lets the
first few requests through unauthenticated (to create a bucket and a user
with no permissions) and then checks every request's signature and policy,
which is how the tests see real ``AccessDenied`` and ``InvalidAccessKeyId``
answers.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.engine import registry  # noqa: F401  (the fixture, shared by import)
from tests.cloud.servers import free_port, port_is_open, running_server

MOTO_SERVER = Path(sys.executable).with_name("moto_server")

TEST_REGION = "us-east-1"

AWS_TEST_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": TEST_REGION,
    # Never ask the EC2 metadata service (a non-loopback address) for credentials.
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""What a test process sees: fake keys moto accepts, and no instance metadata lookups."""

AWS_VARS_TO_CLEAR: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a real S3 server (moto in server mode) for this test session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass(frozen=True)
class LockedS3:
    """A moto server that enforces IAM, with a bucket and a user who may not touch it."""

    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str


@pytest.fixture(scope="session")
def moto_auth_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockedS3]:
    """A second moto server, in a subprocess, that checks credentials and permissions."""
    import boto3

    port = free_port()
    with running_server(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        name="moto_server",
        log=tmp_path_factory.mktemp("moto-auth") / "moto.log",
        ready=lambda: port_is_open(port),
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3", **AWS_TEST_ENV},
    ):
        endpoint = f"http://127.0.0.1:{port}"
        admin = {
            "endpoint_url": endpoint,
            "region_name": TEST_REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        # The three unauthenticated requests moto allows: a bucket, a user, its key.
        boto3.client("s3", **admin).create_bucket(Bucket="locked-bucket")
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="no-permissions")
        key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
        yield LockedS3(endpoint, "locked-bucket", key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Test-only AWS settings for this process (restored after the test).

    The AWS config and credentials files point at empty files in ``tmp_path``
    so a developer's own profiles never leak in; tests that need a profile
    write one there (``aws_env["AWS_CONFIG_FILE"]``).
    """
    for name in AWS_VARS_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    config_file = tmp_path / "aws-config"
    credentials_file = tmp_path / "aws-credentials"
    config_file.write_text("")
    credentials_file.write_text("")
    values = {
        **AWS_TEST_ENV,
        "AWS_CONFIG_FILE": str(config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def keyless_aws_env(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``aws_env`` without access keys: only ``--credentials`` or a profile can authenticate."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    for name in keys:
        monkeypatch.delenv(name)
    return {name: value for name, value in aws_env.items() if name not in keys}


def write_team_profile(aws_env: dict[str, str]) -> None:
    """Give ``aws_env``'s credentials file a profile ``team`` (any keys work against moto)."""
    with open(aws_env["AWS_SHARED_CREDENTIALS_FILE"], "w") as credentials:
        credentials.write("[team]\naws_access_key_id = AKIATEAM\naws_secret_access_key = team\n")


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    """A boto3 S3 client talking to the session's moto server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=TEST_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket in the moto server."""
    name = f"kitaru-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def object_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every object key in ``bucket`` under ``prefix`` (all pages)."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys

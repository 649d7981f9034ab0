"""The ``s3://`` artifact-store backend: describe an S3 artifact store and check its bucket.

Every AWS stack type keeps artifacts in S3, and a ``local`` stack borrows this
backend for ``--artifact-store s3://bucket`` (flows run in-process, artifacts
go to the bucket, which is also how a team shares artifacts while running
locally). :func:`build_s3_artifact_store` turns the stack spec into the
engine's ``s3`` artifact store, plus an ``aws`` service connector when the
credentials are explicit::

    kitaru stack create shared --artifact-store s3://team-artifacts/kitaru

    ArtifactStoreComponents(
        artifact_store=ComponentSpec(flavor="s3", name="shared",
                                     configuration={"path": "s3://team-artifacts/kitaru"}),
    )

S3-compatible servers (MinIO, Cloudflare R2, moto) work in two ways:

* ``--extra artifact_store.client_kwargs.endpoint_url=http://127.0.0.1:9000``
  stores the endpoint in the artifact store's configuration;
* the standard ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) environment
  variable, which boto3, and s3fs through aiobotocore, honour by themselves
  (checked with the locked botocore 1.41 / aiobotocore 2.26 / s3fs 2024.12).
  It is deliberately *not* copied into the configuration: the stack then
  follows the environment like every other AWS tool, and the variable can
  point at a different server on another machine.

Credentials: with ``implicit`` (the default) the artifact store carries no
credentials and s3fs uses boto3's default chain at run time. Explicit
credentials become a service connector that the artifact store is linked to,
so keys live in the engine's secret store rather than in the plain component
configuration (the ``s3`` flavor's ``key``/``secret``/``token`` fields). The
engine's AWS connector checks its credentials with ``sts:GetCallerIdentity``
(at AWS, or at ``AWS_ENDPOINT_URL`` when set) each time a run uses it, so it
only suits AWS itself and emulators that serve STS (moto). S3-compatible
servers (MinIO, R2) therefore take implicit credentials (environment
variables at run time) or an engine secret named by
``--extra artifact_store.authentication_secret=NAME``; explicit
``--credentials`` with a custom endpoint are refused with that advice.

:func:`s3_bucket` checks the bucket name when the stack is created (the engine
would only notice a bad one when a flow first runs); :func:`verify_s3_bucket`
writes and deletes one probe object with boto3, using the same endpoint and
credentials, before anything is registered. Nothing here imports boto3 at
module level.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import (
    ArtifactStoreBackend,
    ArtifactStoreComponents,
    ComponentSpec,
    StackSpec,
)
from kitaru.plugins.stack_helpers import (
    bucket_and_prefix,
    component_spec,
    connector_spec,
    verify_object_name,
)
from kitaru_aws.credentials import (
    CONNECTOR_TYPE,
    AwsCredentials,
    default_region,
    parse_credentials,
    profile_not_found,
)

S3_SCHEME = "s3"
"""The URI scheme this backend serves."""

S3_FLAVOR = "s3"
"""The engine's artifact-store flavor for S3."""

BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
"""An S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."""

ENDPOINT_ENV_VARS: tuple[str, ...] = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
"""Environment variables boto3 reads for the S3 endpoint, most specific first."""

NO_VERIFY_HINT = "or pass --no-verify to skip this check"

_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})
_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden", "403"})
_REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
    }
)


def s3_bucket(uri: str) -> tuple[str, str]:
    """Split an ``s3://bucket/prefix`` URI into bucket and prefix, checking the bucket name.

    >>> s3_bucket("s3://team-artifacts/kitaru")
    ('team-artifacts', 'kitaru')

    Raises:
        KitaruUsageError: When ``uri`` is not an ``s3://`` URI or its bucket
            name breaks S3's naming rules (capitals, underscores, ``..``).
    """
    text = uri.strip()
    if not text.lower().startswith("s3://"):
        raise KitaruUsageError(
            f"AWS artifact stores live in S3; got '{text}'. "
            "Pass --artifact-store s3://BUCKET[/PREFIX]."
        )
    bucket, prefix = bucket_and_prefix(text)
    if not BUCKET_PATTERN.match(bucket) or ".." in bucket:
        raise KitaruUsageError(
            f"'{bucket}' in '{text}' is not a valid S3 bucket name: use 3-63 lowercase letters, "
            "digits, dots and hyphens, starting and ending with a letter or digit "
            "(for example s3://my-team-artifacts/kitaru)."
        )
    return bucket, prefix


def s3_path(uri: str) -> str:
    """The artifact store path for ``uri``: ``s3://bucket[/prefix]`` without a trailing slash."""
    bucket, prefix = s3_bucket(uri)
    return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"


def configured_endpoint(spec: StackSpec) -> str | None:
    """The endpoint given with ``--extra artifact_store.client_kwargs.endpoint_url``, if any."""
    client_kwargs = spec.extra_for("artifact_store").get("client_kwargs") or {}
    endpoint = client_kwargs.get("endpoint_url") if isinstance(client_kwargs, Mapping) else None
    if not endpoint or not str(endpoint).strip():
        return None
    return str(endpoint).strip()


def build_s3_artifact_store(spec: Mapping[str, Any]) -> ArtifactStoreComponents:
    """Describe the S3 artifact store of a stack (and its connector, if the credentials need one).

    Args:
        spec: The :class:`~kitaru.plugins.records.StackSpec` (a plain mapping
            is converted): ``artifact_store`` (an ``s3://`` URI),
            ``credentials`` (None means implicit), the ``artifact_store``
            overrides; ``region`` when the stack type has one.

    Returns:
        Only the artifact store for implicit credentials; otherwise also an
        ``aws`` service connector, with the artifact store linked to it for
        the bucket ``s3://BUCKET``.

    Raises:
        KitaruUsageError: For a URI that is not a valid S3 bucket, malformed
            credentials, or explicit credentials with a custom endpoint (the
            connector would check them against AWS STS).
    """
    spec = StackSpec.coerce(spec)
    s3_bucket(_required_uri(spec))
    credentials = parse_credentials(spec.credentials)
    if credentials.is_implicit:
        return ArtifactStoreComponents(s3_artifact_store_component(spec, connected=False))
    if configured_endpoint(spec):
        raise KitaruUsageError(
            "--credentials cannot be combined with a custom S3 endpoint (--extra "
            "artifact_store.client_kwargs.endpoint_url): the engine's AWS connector, which keeps "
            "the keys out of the stack's configuration, checks them against AWS STS, which "
            "S3-compatible servers (MinIO, R2) do not serve. Leave --credentials out and give "
            "the keys at run time (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), "
            "or keep them in a secret (`kitaru secrets set NAME --aws_access_key_id=KEY_ID "
            "--aws_secret_access_key=SECRET`) and add --extra "
            "artifact_store.authentication_secret=NAME."
        )
    region = default_region(credentials, _stack_region(spec))
    auth_method, configuration = credentials.connector_auth(region)
    return ArtifactStoreComponents(
        artifact_store=s3_artifact_store_component(spec, connected=True),
        service_connector=connector_spec(spec, CONNECTOR_TYPE, auth_method, configuration),
    )


def s3_artifact_store_component(spec: StackSpec, *, connected: bool) -> ComponentSpec:
    """The ``s3`` artifact store, linked to the stack's connector (for its bucket) when ``connected``."""
    uri = _required_uri(spec)
    bucket, _ = s3_bucket(uri)
    return component_spec(
        spec,
        "artifact_store",
        S3_FLAVOR,
        {"path": s3_path(uri)},
        connector=connected,
        connector_resource_id=f"s3://{bucket}",
    )


def verify_s3_bucket(spec: Mapping[str, Any]) -> None:
    """Check that the stack's bucket exists and these credentials may write to it.

    Writes a probe object named by
    :func:`~kitaru.plugins.stack_helpers.verify_object_name` under the URI's
    prefix, then deletes it. Uses the endpoint of
    ``--extra artifact_store.client_kwargs.endpoint_url``, else the one boto3
    resolves itself (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, else AWS),
    and ``--extra artifact_store.config_kwargs`` as the botocore client config.

    Raises:
        KitaruUsageError: When the bucket does not exist, access is denied,
            the credentials are missing or rejected, or the endpoint cannot be
            reached. Messages name the fix and never contain a secret.
    """
    spec = StackSpec.coerce(spec)
    uri = _required_uri(spec)
    bucket, prefix = s3_bucket(uri)
    credentials = parse_credentials(spec.credentials)
    key = f"{prefix}/{verify_object_name()}" if prefix else verify_object_name()
    with _quiet_botocore():
        session, client = _s3_client(spec, credentials)
        secret_name = spec.extra_for("artifact_store").get("authentication_secret")
        if secret_name and credentials.is_implicit and session.get_credentials() is None:
            raise KitaruUsageError(
                f"The artifact store takes its keys from the engine secret '{secret_name}', "
                "which Kitaru cannot read to check the bucket. Export the same keys for the "
                f"check (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), {NO_VERIFY_HINT}."
            )
        _probe(client, bucket, key, credentials, _endpoint_source(spec))


@contextmanager
def _quiet_botocore() -> Iterator[None]:
    """Keep botocore's INFO lines ("Found credentials in ...") off the user's terminal."""
    logger = logging.getLogger("botocore")
    previous = logger.level
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _s3_client(spec: StackSpec, credentials: AwsCredentials) -> tuple[Any, Any]:
    """A boto3 session and S3 client with the artifact store's endpoint and client settings."""
    import boto3
    import botocore.config
    import botocore.exceptions

    extra = spec.extra_for("artifact_store")
    client_kwargs = dict(extra.get("client_kwargs") or {})
    config_kwargs = dict(extra.get("config_kwargs") or {})
    config_kwargs.setdefault("connect_timeout", 5)
    config_kwargs.setdefault("read_timeout", 20)
    config_kwargs.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
    region = client_kwargs.get("region_name") or _stack_region(spec)
    try:
        session = boto3.Session(**credentials.session_kwargs(), region_name=region)
        return session, session.client(
            "s3",
            endpoint_url=configured_endpoint(spec),
            verify=client_kwargs.get("verify"),
            config=botocore.config.Config(**config_kwargs),
        )
    except botocore.exceptions.ProfileNotFound as error:
        raise profile_not_found(error.kwargs.get("profile", credentials.profile)) from error
    except (ValueError, TypeError) as error:
        raise KitaruUsageError(
            f"Cannot build an S3 client from the artifact store settings: {error}. Check "
            "--extra artifact_store.client_kwargs.endpoint_url (an http:// or https:// URL) "
            "and artifact_store.config_kwargs."
        ) from error


def _endpoint_source(spec: StackSpec) -> str:
    """Where the endpoint comes from, for messages about an unreachable one."""
    if configured_endpoint(spec):
        return "--extra artifact_store.client_kwargs.endpoint_url"
    for name in ENDPOINT_ENV_VARS:
        if os.environ.get(name, "").strip():
            return name
    return "the AWS default for the region"


def _probe(
    client: Any, bucket: str, key: str, credentials: AwsCredentials, endpoint_source: str
) -> None:
    import botocore.exceptions

    endpoint = f"{client.meta.endpoint_url} (from {endpoint_source})"
    where = f"(endpoint {client.meta.endpoint_url}, from {endpoint_source})"
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"Kitaru stack verification probe.\n")
    except botocore.exceptions.ClientError as error:
        raise _client_error(error, bucket, where, credentials, "write to") from error
    except botocore.exceptions.BotoCoreError as error:
        raise _sdk_error(error, endpoint) from error
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as error:
        cause = _client_error(error, bucket, where, credentials, "delete from")
        raise KitaruUsageError(
            f"{cause} The probe object s3://{bucket}/{key} was written but is still there; "
            "delete it by hand."
        ) from error
    except botocore.exceptions.BotoCoreError as error:
        raise _sdk_error(error, endpoint) from error


def _client_error(
    error: Any, bucket: str, where: str, credentials: AwsCredentials, action: str
) -> KitaruUsageError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _MISSING_BUCKET_CODES or (code in ("404", "NotFound") and status == 404):
        return KitaruUsageError(
            f"S3 bucket '{bucket}' does not exist {where}. Create it (for example "
            f"`aws s3 mb s3://{bucket}`), check the bucket name and endpoint, {NO_VERIFY_HINT}."
        )
    if code in _REJECTED_CREDENTIAL_CODES:
        return KitaruUsageError(
            f"S3 rejected the AWS credentials ({credentials.describe()}) {where}: {code}. "
            "Check the access key id, secret and session token (or refresh them), "
            f"{NO_VERIFY_HINT}."
        )
    if code in _DENIED_CODES or status == 403:
        return KitaruUsageError(
            f"Access denied: the AWS credentials ({credentials.describe()}) may not {action} "
            f"S3 bucket '{bucket}' {where}. Kitaru needs s3:PutObject, s3:GetObject, "
            "s3:DeleteObject and s3:ListBucket on it. Grant them, use other --credentials, "
            f"{NO_VERIFY_HINT}."
        )
    message = str(details.get("Message", "")).strip()
    return KitaruUsageError(
        f"Could not {action} S3 bucket '{bucket}' {where}: {code or status}"
        f"{': ' + message if message else ''}. Fix the bucket settings, {NO_VERIFY_HINT}."
    )


def _sdk_error(error: Exception, endpoint: str) -> KitaruUsageError:
    import botocore.exceptions

    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return KitaruUsageError(
            "No AWS credentials found. Provide them with AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones), a profile "
            "(`aws configure`, AWS_PROFILE), or --credentials aws-profile:NAME / "
            "aws-access-keys:KEY_ID:SECRET / aws-session-token:KEY_ID:SECRET:TOKEN; "
            f"{NO_VERIFY_HINT}."
        )
    if isinstance(error, botocore.exceptions.PartialCredentialsError):
        return KitaruUsageError(
            f"Incomplete AWS credentials: {error}. Set both the access key id and the secret, "
            f"{NO_VERIFY_HINT}."
        )
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return profile_not_found(error.kwargs.get("profile"))
    connection_errors = (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.SSLError,
        botocore.exceptions.ProxyConnectionError,
    )
    if isinstance(error, connection_errors):
        return KitaruUsageError(
            f"Cannot reach the S3 endpoint {endpoint}: {type(error).__name__}. Check the "
            "network and the endpoint URL (--extra artifact_store.client_kwargs.endpoint_url "
            f"or AWS_ENDPOINT_URL), {NO_VERIFY_HINT}."
        )
    return KitaruUsageError(
        f"Could not check the S3 bucket (endpoint {endpoint}): {error}. "
        f"Fix the settings, {NO_VERIFY_HINT}."
    )


def _required_uri(spec: StackSpec) -> str:
    uri = spec.artifact_store
    if not isinstance(uri, str):
        raise KitaruUsageError(
            "An S3 artifact store needs a bucket URI. Pass --artifact-store s3://BUCKET[/PREFIX]."
        )
    return uri


def _stack_region(spec: StackSpec) -> str | None:
    """The stack's ``--region``: AWS stack types declare one, a ``local`` stack does not."""
    return spec.value("region") if "region" in spec else None


S3_ARTIFACT_STORE_BACKEND = ArtifactStoreBackend(
    schemes=(S3_SCHEME,),
    provider="aws",
    build=build_s3_artifact_store,
    verify=verify_s3_bucket,
    description="Amazon S3 and S3-compatible buckets (MinIO, R2) through boto3 and s3fs.",
)
"""The backend every AWS stack type uses, and ``local`` stacks borrow for ``s3://`` URIs."""

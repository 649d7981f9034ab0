"""Parse ``--credentials`` strings for AWS and map them onto the engine's AWS connector.

Kitaru accepts four forms (SPEC §5.4)::

    implicit                                  # the default: whatever boto3 finds
    aws-profile:NAME                          # a profile from ~/.aws/config
    aws-access-keys:KEY_ID:SECRET             # long-lived IAM user keys
    aws-session-token:KEY_ID:SECRET:TOKEN     # temporary STS credentials

Each becomes one authentication method of ZenML's ``aws`` service connector
(``zenml/integrations/aws/service_connectors/aws_service_connector.py``):

=====================  ==============  =========================================
Kitaru                 connector       connector configuration
=====================  ==============  =========================================
implicit               ``implicit``    ``region``
aws-profile:NAME       ``implicit``    ``region``, ``profile_name``
aws-access-keys        ``secret-key``  ``region``, ``aws_access_key_id``,
                                       ``aws_secret_access_key``
aws-session-token      ``sts-token``   the same plus ``aws_session_token``
=====================  ==============  =========================================

ZenML's own ``session-token`` method is something else (it *mints* session
tokens from long-lived keys), so a ready-made session token maps to
``sts-token``. A profile is resolved wherever the connector authenticates: on
this machine with the local store, on the server when connected to one. The
engine refuses ``implicit`` connectors unless ``ZENML_ENABLE_IMPLICIT_AUTH_METHODS``
is true in the process that authenticates (see ``docs/aws.md``).

Secrets never appear in messages or reprs: :meth:`AwsCredentials.describe`
masks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kitaru.errors import KitaruUsageError

IMPLICIT = "implicit"
PROFILE = "aws-profile"
ACCESS_KEYS = "aws-access-keys"
SESSION_TOKEN = "aws-session-token"

CREDENTIAL_FORMATS: tuple[str, ...] = (
    IMPLICIT,
    f"{PROFILE}:NAME",
    f"{ACCESS_KEYS}:KEY_ID:SECRET",
    f"{SESSION_TOKEN}:KEY_ID:SECRET:TOKEN",
)
"""The ``--credentials`` forms the AWS stack types accept, for help and errors."""

CONNECTOR_TYPE = "aws"
"""The engine's service connector type for AWS."""

DEFAULT_REGION = "us-east-1"
"""Region used when neither the stack nor the AWS configuration names one."""

_FORMAT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class AwsCredentials:
    """Parsed AWS credentials; the secret parts are hidden from ``repr``.

    Attributes:
        kind: ``implicit``, ``aws-profile``, ``aws-access-keys`` or ``aws-session-token``.
        profile: The profile name for ``aws-profile``.
        access_key_id: The access key id for the key-based kinds.
        secret_access_key: The secret key (never printed).
        session_token: The STS session token (never printed).
    """

    kind: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @property
    def is_implicit(self) -> bool:
        """Whether boto3's default credential chain supplies the credentials."""
        return self.kind == IMPLICIT

    def describe(self) -> str:
        """A form safe to print: ``aws-access-keys:AKIA...:***``."""
        if self.kind == PROFILE:
            return f"{PROFILE}:{self.profile}"
        if self.kind == ACCESS_KEYS:
            return f"{ACCESS_KEYS}:{self.access_key_id}:***"
        if self.kind == SESSION_TOKEN:
            return f"{SESSION_TOKEN}:{self.access_key_id}:***:***"
        return IMPLICIT

    def session_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.Session`` (empty for implicit)."""
        if self.kind == PROFILE:
            return {"profile_name": str(self.profile)}
        kwargs: dict[str, str] = {}
        if self.access_key_id is not None:
            kwargs["aws_access_key_id"] = self.access_key_id
            kwargs["aws_secret_access_key"] = str(self.secret_access_key)
        if self.session_token is not None:
            kwargs["aws_session_token"] = self.session_token
        return kwargs

    def connector_auth(self, region: str) -> tuple[str, dict[str, Any]]:
        """The engine connector's auth method and configuration for these credentials.

        Args:
            region: The AWS region the connector is scoped to (every AWS auth
                method requires one).
        """
        configuration: dict[str, Any] = {"region": region}
        if self.kind in (IMPLICIT, PROFILE):
            if self.profile is not None:
                configuration["profile_name"] = self.profile
            return "implicit", configuration
        configuration["aws_access_key_id"] = self.access_key_id
        configuration["aws_secret_access_key"] = self.secret_access_key
        if self.kind == SESSION_TOKEN:
            configuration["aws_session_token"] = self.session_token
            return "sts-token", configuration
        return "secret-key", configuration


def parse_credentials(value: str | None) -> AwsCredentials:
    """Parse a ``--credentials`` string (None or blank means ``implicit``).

    Raises:
        KitaruUsageError: For an unknown form or missing parts. The message
            names the expected form and never repeats a secret.
    """
    if value is None or not value.strip() or value.strip() == IMPLICIT:
        return AwsCredentials(kind=IMPLICIT)
    text = value.strip()
    kind, _, rest = text.partition(":")
    if kind == PROFILE:
        if not rest.strip():
            raise _malformed(PROFILE, f"{PROFILE}:NAME needs a profile name, e.g. {PROFILE}:dev.")
        return AwsCredentials(kind=PROFILE, profile=rest.strip())
    if kind == ACCESS_KEYS:
        key_id, _, secret = rest.partition(":")
        if not key_id.strip() or not secret.strip():
            raise _malformed(ACCESS_KEYS, f"Use {ACCESS_KEYS}:KEY_ID:SECRET.")
        return AwsCredentials(
            kind=ACCESS_KEYS, access_key_id=key_id.strip(), secret_access_key=secret.strip()
        )
    if kind == SESSION_TOKEN:
        parts = rest.split(":", 2)
        if len(parts) != 3 or not all(part.strip() for part in parts):
            raise _malformed(SESSION_TOKEN, f"Use {SESSION_TOKEN}:KEY_ID:SECRET:TOKEN.")
        key_id, secret, token = (part.strip() for part in parts)
        return AwsCredentials(
            kind=SESSION_TOKEN, access_key_id=key_id, secret_access_key=secret, session_token=token
        )
    shown = f"'{kind}:...'" if rest and _FORMAT_NAME.match(kind) else "the value given"
    if not rest and _FORMAT_NAME.match(kind):
        shown = f"'{kind}'"
    raise KitaruUsageError(
        f"AWS stacks do not accept {shown} as --credentials. Use one of: "
        f"{', '.join(CREDENTIAL_FORMATS)}."
    )


def default_region(credentials: AwsCredentials, explicit: str | None = None) -> str:
    """The region to scope a connector to when the stack type has no ``region`` field.

    ``explicit`` wins; then the region boto3 resolves for these credentials
    (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's ``region``); then
    :data:`DEFAULT_REGION`.
    """
    if explicit:
        return explicit
    import boto3
    import botocore.exceptions

    try:
        session = boto3.Session(profile_name=credentials.profile)
    except botocore.exceptions.ProfileNotFound as error:
        raise profile_not_found(error.kwargs.get("profile", credentials.profile)) from error
    return session.region_name or DEFAULT_REGION


def profile_not_found(profile: str | None) -> KitaruUsageError:
    """The error for an AWS profile (``aws-profile:NAME`` or ``AWS_PROFILE``) missing here."""
    return KitaruUsageError(
        f"AWS profile '{profile}' was not found in your AWS config files "
        "(~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE). "
        f"Create it with `aws configure --profile {profile}`, or pass other --credentials."
    )


def _malformed(kind: str, fix: str) -> KitaruUsageError:
    return KitaruUsageError(f"Malformed --credentials value for '{kind}'. {fix}")

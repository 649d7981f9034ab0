"""Parse ``--credentials`` strings into an Azure service-connector auth method.

Kitaru accepts three Azure credential formats (SPEC §5.4)::

    implicit                                      # (or no --credentials at all)
    azure-service-principal:TENANT:CLIENT:SECRET  # a service principal's client secret
    azure-access-token:TOKEN                      # a short-lived Azure access token

Each one maps onto an authentication method of the engine's ``azure`` service
connector and the configuration that method takes::

    >>> creds = parse_credentials("azure-service-principal:"
    ...     "11111111-1111-1111-1111-111111111111:22222222-2222-2222-2222-222222222222:s3cr3t")
    >>> creds.auth_method
    'service-principal'
    >>> sorted(creds.configuration)
    ['client_id', 'client_secret', 'tenant_id']
    >>> "s3cr3t" in repr(creds)  # secrets never show up in a repr
    False

The secret parts (the client secret, the token) are never put into an error
message or a repr: a user who mistyped a credentials string must not see it
echoed into a terminal log or a CI transcript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.errors import KitaruUsageError

IMPLICIT = "implicit"
"""Connector auth method: credentials found in the environment (``az login``, managed identity)."""

SERVICE_PRINCIPAL = "service-principal"
"""Connector auth method: a service principal's tenant ID, client ID and client secret."""

ACCESS_TOKEN = "access-token"
"""Connector auth method: a temporary Azure access token."""

SERVICE_PRINCIPAL_FORMAT = "azure-service-principal:TENANT:CLIENT:SECRET"
ACCESS_TOKEN_FORMAT = "azure-access-token:TOKEN"

CREDENTIAL_FORMATS: tuple[str, ...] = (IMPLICIT, SERVICE_PRINCIPAL_FORMAT, ACCESS_TOKEN_FORMAT)
"""The ``--credentials`` formats the Azure plugin understands, for help texts and errors."""

SECRET_KEYS = frozenset({"client_secret", "token"})
"""Connector configuration keys whose values are secrets."""

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_OTHER_PROVIDER = re.compile(r"^(aws|gcp)-[a-z-]+$")


@dataclass(frozen=True, repr=False)
class AzureCredentials:
    """Parsed Azure credentials: a connector auth method and its configuration.

    Attributes:
        auth_method: ``implicit``, ``service-principal`` or ``access-token``
            (the engine's Azure service connector auth methods).
        configuration: The auth method's connector configuration
            (``tenant_id``, ``client_id``, ``client_secret``; or ``token``);
            empty for ``implicit``. Contains secrets: never print it.
    """

    auth_method: str
    configuration: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_implicit(self) -> bool:
        """Whether the credentials come from the environment rather than the string."""
        return self.auth_method == IMPLICIT

    def connector_configuration(self, **extra: Any) -> dict[str, Any]:
        """A fresh connector configuration: these credentials plus ``extra`` (None dropped)."""
        configuration: dict[str, Any] = dict(self.configuration)
        configuration.update({key: value for key, value in extra.items() if value is not None})
        return configuration

    def __repr__(self) -> str:
        keys = ", ".join(sorted(self.configuration)) or "none"
        return f"AzureCredentials(auth_method={self.auth_method!r}, configuration keys: {keys})"

    __str__ = __repr__


def parse_credentials(value: str | None) -> AzureCredentials:
    """Turn a ``--credentials`` string into :class:`AzureCredentials`.

    Args:
        value: The raw string, or None / blank for implicit credentials.

    Returns:
        The connector auth method and its configuration.

    Raises:
        KitaruUsageError: When the string has an unknown format, misses a
            part, or its tenant / client ID is not a GUID. The message names
            the expected format and never repeats the string itself.
    """
    text = (value or "").strip()
    if not text or text == IMPLICIT:
        return AzureCredentials(IMPLICIT, {})
    kind, _, rest = text.partition(":")
    if kind == "azure-service-principal":
        return _service_principal(rest)
    if kind == "azure-access-token":
        token = rest.strip()
        if not token:
            raise _malformed(ACCESS_TOKEN_FORMAT, "the TOKEN part is empty")
        return AzureCredentials(ACCESS_TOKEN, {"token": token})
    if _OTHER_PROVIDER.match(kind):
        raise KitaruUsageError(
            f"'{kind}' credentials are for {kind[:3].upper()} stacks, not Azure. "
            f"Azure stacks accept: {', '.join(CREDENTIAL_FORMATS)}."
        )
    raise KitaruUsageError(
        "Unsupported Azure --credentials format (the value is not shown because it may be a "
        f"secret). Use one of: {', '.join(CREDENTIAL_FORMATS)}."
    )


def _service_principal(rest: str) -> AzureCredentials:
    # The secret is the last part and may itself contain ':'.
    parts = rest.split(":", 2)
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise _malformed(SERVICE_PRINCIPAL_FORMAT, "expected three parts after the prefix")
    tenant, client, secret = parts[0].strip(), parts[1].strip(), parts[2]
    for label, part in (("TENANT (the directory ID)", tenant), ("CLIENT (the app ID)", client)):
        if not _GUID.match(part):
            raise _malformed(
                SERVICE_PRINCIPAL_FORMAT,
                f"{label} must be a GUID like 00000000-0000-0000-0000-000000000000",
            )
    configuration = {"tenant_id": tenant, "client_id": client, "client_secret": secret}
    return AzureCredentials(SERVICE_PRINCIPAL, configuration)


def _malformed(expected: str, problem: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"Malformed Azure --credentials: {problem}. Expected {expected} "
        "(the value is not shown because it contains a secret)."
    )


def is_guid(value: str) -> bool:
    """Whether ``value`` looks like an Azure GUID (subscription, tenant or client ID)."""
    return bool(_GUID.match(value.strip()))

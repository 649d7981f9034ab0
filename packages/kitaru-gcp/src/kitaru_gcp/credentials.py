"""Turn ``--credentials`` (and the project the registry names) into a GCP service connector login.

The engine's ``gcp`` service connector needs two things: how to log in, and
the GCP project it is scoped to.

**The login.** Two ``--credentials`` formats are accepted (SPEC §5.4):

``implicit`` (the default, also when ``--credentials`` is omitted)
    Application Default Credentials of whatever runs the code: ``gcloud auth
    application-default login`` on a laptop, ``GOOGLE_APPLICATION_CREDENTIALS``,
    or the service account attached to a GCE VM / GKE workload.

``gcp-service-account:/path/key.json``
    A service-account key file. The file is read **when the stack is
    created** and its content is stored in the service connector (ZenML keeps
    it in its secret store), so the file may be deleted afterwards and the
    stack still works on other machines.

Each parses into a :class:`GcpCredentials` whose ``auth_method`` and
``connector_configuration()`` are exactly what ZenML's ``gcp`` service
connector takes (``implicit`` with ``project_id``; ``service-account`` with
``service_account_json`` and ``project_id``)::

    >>> creds = parse_credentials(None)
    >>> creds.auth_method, creds.connector_configuration("my-project")
    ('implicit', {'project_id': 'my-project'})

Errors name the file, never its content: a key file holds a private key.

**The project.** A Vertex or GKE stack's container registry URI already names
the project, so users do not type it twice (:func:`infer_project_id`)::

    >>> infer_project_id("europe-west1-docker.pkg.dev/my-project/kitaru")
    'my-project'
    >>> infer_project_id("eu.gcr.io/my-project")
    'my-project'

Two registry forms are accepted: Artifact Registry,
``<region>-docker.pkg.dev/<project>/<repository>[/...]``, and the legacy
Container Registry, ``gcr.io/<project>[/...]`` (also on ``us.gcr.io``,
``eu.gcr.io`` and ``asia.gcr.io``). An optional ``https://`` in front is
ignored; anything else is a usage error listing the accepted forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError

IMPLICIT = "implicit"
"""The ``--credentials`` value (and connector auth method) for Application Default Credentials."""

SERVICE_ACCOUNT_PREFIX = "gcp-service-account:"
"""Prefix of the service-account key file format."""

SERVICE_ACCOUNT_AUTH_METHOD = "service-account"
"""ZenML's GCP connector auth method for a service-account key."""

CREDENTIAL_FORMATS: tuple[str, ...] = (IMPLICIT, f"{SERVICE_ACCOUNT_PREFIX}/path/key.json")
"""The accepted formats, as help texts and errors show them."""

KEY_FILE_FIELDS: tuple[str, ...] = (
    "type",
    "project_id",
    "private_key_id",
    "private_key",
    "client_email",
    "client_id",
    "auth_uri",
    "token_uri",
    "auth_provider_x509_cert_url",
    "client_x509_cert_url",
)
"""Keys a service-account key file must have (what ZenML's connector checks)."""

GCR_HOSTS: tuple[str, ...] = ("gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io")
"""Hosts of Google Container Registry, whose first path segment is the project."""

ARTIFACT_REGISTRY_HOST = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$")
"""Hosts of Artifact Registry Docker repositories (``europe-west1-docker.pkg.dev``)."""

PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""A GCP project id: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."""

ACCEPTED_REGISTRY_FORMS = (
    "an Artifact Registry URI (<region>-docker.pkg.dev/<project>/<repository>, for example "
    "europe-west1-docker.pkg.dev/my-project/kitaru) or a Container Registry URI "
    "(gcr.io/<project>, us.gcr.io/<project>, eu.gcr.io/<project> or asia.gcr.io/<project>)"
)
"""How error messages describe the accepted container registry forms."""


@dataclass(frozen=True)
class GcpCredentials:
    """Parsed ``--credentials``: how the stack logs in to GCP.

    Attributes:
        auth_method: ZenML's GCP connector auth method (``implicit`` or
            ``service-account``).
        key_path: The key file it was read from (service accounts only).
        key_json: The key file's content, as read (service accounts only).
            Holds the private key: never print it.
        key_info: ``key_json`` parsed (service accounts only).
    """

    auth_method: str
    key_path: Path | None = None
    key_json: str | None = field(default=None, repr=False)
    key_info: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def is_implicit(self) -> bool:
        """Whether the stack uses Application Default Credentials."""
        return self.auth_method == IMPLICIT

    def connector_configuration(self, project_id: str | None) -> dict[str, Any]:
        """The configuration of ZenML's ``gcp`` service connector for these credentials.

        Args:
            project_id: The GCP project the connector is scoped to. Required
                for implicit credentials; for a service account ``None``
                means the key file's own project.

        Raises:
            KitaruUsageError: For implicit credentials without a project.
        """
        if self.key_json is None:
            if not project_id:
                raise KitaruUsageError(
                    "Implicit GCP credentials need a project id for the service connector; "
                    "pass a container registry that names it, or use "
                    f"--credentials {SERVICE_ACCOUNT_PREFIX}/path/key.json."
                )
            return {"project_id": project_id}
        configuration: dict[str, Any] = {"service_account_json": self.key_json}
        if project_id:
            configuration["project_id"] = project_id
        return configuration


def parse_credentials(value: str | None) -> GcpCredentials:
    """Parse a ``--credentials`` string for a GCP stack.

    Args:
        value: ``None``, a blank string or ``implicit`` for Application
            Default Credentials, or ``gcp-service-account:/path/key.json``
            (``~`` is expanded; the file is read now).

    Returns:
        The parsed credentials.

    Raises:
        KitaruUsageError: For an unknown format, or a key file that is
            missing, unreadable, not JSON, or not a service-account key. The
            message names the path; it never shows the file's content or the
            part of an unknown string after its first ``:``.
    """
    text = (value or "").strip()
    if not text or text == IMPLICIT:
        return GcpCredentials(auth_method=IMPLICIT)
    if text.startswith(SERVICE_ACCOUNT_PREFIX):
        path_text = text[len(SERVICE_ACCOUNT_PREFIX):].strip()
        if not path_text:
            raise KitaruUsageError(
                "--credentials gcp-service-account: needs the key file's path, for example "
                f"{SERVICE_ACCOUNT_PREFIX}/path/key.json."
            )
        path = Path(path_text).expanduser()
        key_json, key_info = _read_key_file(path)
        return GcpCredentials(
            auth_method=SERVICE_ACCOUNT_AUTH_METHOD,
            key_path=path,
            key_json=key_json,
            key_info=key_info,
        )
    shown = text.split(":", 1)[0] + (":..." if ":" in text else "")
    raise KitaruUsageError(
        f"Unsupported GCP credentials '{shown}'. Use one of: {', '.join(CREDENTIAL_FORMATS)} "
        "(or omit --credentials for implicit)."
    )


def _read_key_file(path: Path) -> tuple[str, dict[str, Any]]:
    """Read and check a service-account key file: ``(content, parsed)``.

    Errors never include the content.
    """
    create_key = (
        "Create a key with `gcloud iam service-accounts keys create KEY.json "
        "--iam-account=NAME@PROJECT.iam.gserviceaccount.com` and pass its path."
    )
    if not path.exists():
        raise KitaruUsageError(f"GCP service-account key file '{path}' does not exist. {create_key}")
    if not path.is_file():
        raise KitaruUsageError(f"GCP service-account key file '{path}' is not a file. {create_key}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KitaruUsageError(
            f"Cannot read GCP service-account key file '{path}': {exc.strerror or exc}. "
            "Check the file's permissions."
        ) from None
    except UnicodeDecodeError:
        raise KitaruUsageError(
            f"GCP service-account key file '{path}' is not a text (JSON) file. {create_key}"
        ) from None
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"GCP service-account key file '{path}' is not valid JSON (line {exc.lineno}, "
            f"column {exc.colno}). {create_key}"
        ) from None
    if not isinstance(info, dict):
        raise KitaruUsageError(
            f"GCP service-account key file '{path}' does not hold a JSON object. {create_key}"
        )
    if info.get("type") != "service_account":
        raise KitaruUsageError(
            f"'{path}' is not a GCP service-account key: its \"type\" must be "
            "\"service_account\" (user or external-account credentials are not supported "
            f"here; use --credentials implicit for those). {create_key}"
        )
    missing = [key for key in KEY_FILE_FIELDS if not info.get(key)]
    if missing:
        raise KitaruUsageError(
            f"GCP service-account key file '{path}' lacks: {', '.join(missing)}. "
            f"Download a complete key. {create_key}"
        )
    return text, info


def infer_project_id(container_registry: str | None) -> str:
    """Read the GCP project id out of a container registry URI.

    Args:
        container_registry: The ``--container-registry`` value.

    Returns:
        The project id (``my-project``).

    Raises:
        KitaruUsageError: When the URI is missing, is not an Artifact Registry
            or Container Registry URI, or names no valid project id. The
            message lists the accepted forms.
    """
    text = (container_registry or "").strip()
    if not text:
        raise KitaruUsageError(
            "GCP stacks need a container registry to read the GCP project from. "
            f"Pass --container-registry with {ACCEPTED_REGISTRY_FORMS}."
        )
    address = text.removeprefix("https://").rstrip("/")
    host, _, path = address.partition("/")
    host = host.lower()
    project = path.split("/", 1)[0]
    if host in GCR_HOSTS or ARTIFACT_REGISTRY_HOST.match(host):
        needs_repository = host not in GCR_HOSTS
        has_repository = "/" in path and bool(path.split("/", 1)[1])
        if project and PROJECT_ID.match(project) and (has_repository or not needs_repository):
            return project
    raise KitaruUsageError(
        f"Cannot infer the GCP project from container registry '{text}'. "
        f"Use {ACCEPTED_REGISTRY_FORMS}."
    )

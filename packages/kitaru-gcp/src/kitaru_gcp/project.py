"""Find the GCP project a stack belongs to, from its container registry URI.

A Vertex or GKE stack needs a GCP project id (its service connector and the
Vertex orchestrator are scoped to one project), and the container registry URI
already names it, so users do not have to type it twice (SPEC §5.4)::

    >>> infer_project_id("europe-west1-docker.pkg.dev/my-project/kitaru")
    'my-project'
    >>> infer_project_id("eu.gcr.io/my-project")
    'my-project'

Two registry forms are accepted:

* Artifact Registry: ``<region>-docker.pkg.dev/<project>/<repository>[/...]``
* Container Registry (legacy): ``gcr.io/<project>[/...]``, also on
  ``us.gcr.io``, ``eu.gcr.io`` and ``asia.gcr.io``.

An optional ``https://`` in front is ignored. Anything else raises a
:class:`~kitaru.errors.KitaruUsageError` that lists the accepted forms.
"""

from __future__ import annotations

import re

from kitaru.errors import KitaruUsageError

GCR_HOSTS: tuple[str, ...] = ("gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io")
"""Hosts of Google Container Registry, whose first path segment is the project."""

ARTIFACT_REGISTRY_HOST = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$")
"""Hosts of Artifact Registry Docker repositories (``europe-west1-docker.pkg.dev``)."""

PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""A GCP project id: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."""

ACCEPTED_FORMS = (
    "an Artifact Registry URI (<region>-docker.pkg.dev/<project>/<repository>, for example "
    "europe-west1-docker.pkg.dev/my-project/kitaru) or a Container Registry URI "
    "(gcr.io/<project>, us.gcr.io/<project>, eu.gcr.io/<project> or asia.gcr.io/<project>)"
)
"""How error messages describe the accepted container registry forms."""


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
            f"Pass --container-registry with {ACCEPTED_FORMS}."
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
        f"Use {ACCEPTED_FORMS}."
    )

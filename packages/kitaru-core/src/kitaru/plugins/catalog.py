"""Which first-party plugin provides what, for errors that name the extra to install.

Core knows no cloud: stack types and artifact stores come from plugins. But
when a user asks for ``--type sagemaker`` without the AWS plugin, the error
should say ``pip install 'kitaru[aws]'`` rather than "unknown". This module
is that phrasebook, and the lookups that use it:

>>> from kitaru.plugins.catalog import artifact_store_backend
>>> artifact_store_backend("s3://bucket/kitaru")  # doctest: +SKIP
ArtifactStoreBackend(schemes=('s3',), provider='aws', ...)
"""

from __future__ import annotations

from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError
from kitaru.plugins.manager import get_plugin_manager
from kitaru.plugins.records import ArtifactStoreBackend

PROVIDER_LABELS: dict[str, str] = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
"""First-party cloud plugins (also their pip extras) and how messages name them."""

STACK_TYPE_PROVIDERS: dict[str, tuple[str, ...]] = {
    "local": (),
    "kubernetes": ("aws", "gcp"),
    "vertex": ("gcp",),
    "sagemaker": ("aws",),
    "azureml": ("azure",),
}
"""The stack types Kitaru documents, and the first-party plugins providing each."""

STACK_TYPE_TITLES: dict[str, str] = {
    "local": "Local",
    "kubernetes": "Kubernetes",
    "vertex": "Vertex",
    "sagemaker": "SageMaker",
    "azureml": "AzureML",
}
"""How messages name the documented stack types when their plugin is not installed."""

STACK_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "local": ("artifact_store", "credentials"),
    "kubernetes": (
        "artifact_store", "container_registry", "cluster", "region", "namespace", "credentials",
    ),
    "vertex": ("artifact_store", "container_registry", "region", "credentials"),
    "sagemaker": (
        "artifact_store", "container_registry", "region", "execution_role", "credentials",
    ),
    "azureml": (
        "artifact_store", "container_registry", "subscription_id", "resource_group",
        "workspace", "region", "credentials",
    ),
}
"""Options each documented type accepts (SPEC §5.4), so a misplaced option can
name its type even when that type's plugin is not installed."""

SCHEME_PROVIDERS: dict[str, str] = {
    "s3": "aws",
    "gs": "gcp",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
}
"""Artifact-store URI schemes and the first-party plugin serving each."""


def install_hint(providers: tuple[str, ...] | list[str]) -> str:
    """``pip install 'kitaru[aws]'`` (or ``'kitaru[aws]' or 'kitaru[gcp]'``)."""
    return "pip install " + " or ".join(f"'kitaru[{provider}]'" for provider in providers)


def plugin_label(providers: tuple[str, ...] | list[str]) -> str:
    """``AWS`` or ``AWS or GCP``."""
    return " or ".join(PROVIDER_LABELS.get(p, p) for p in providers)


def missing_stack_type_error(stack_type: str) -> KitaruFeatureNotAvailableError:
    """The error for a documented stack type whose plugin is not installed."""
    providers = STACK_TYPE_PROVIDERS.get(stack_type, ())
    if not providers:
        return KitaruFeatureNotAvailableError(
            f"No installed plugin provides the '{stack_type}' stack type. "
            "List the installed plugins with `kitaru plugins`."
        )
    return KitaruFeatureNotAvailableError(
        f"Stack type '{stack_type}' needs the {plugin_label(providers)} plugin. "
        f"Install it with: {install_hint(providers)}"
    )


def missing_stack_type_error_for(stack_type: str, provider: str) -> KitaruFeatureNotAvailableError:
    """The error for ``stack_type`` on one cloud whose plugin is not installed."""
    title = STACK_TYPE_TITLES.get(stack_type, stack_type.capitalize())
    return KitaruFeatureNotAvailableError(
        f"{title} stacks on {plugin_label([provider])} need the {plugin_label([provider])} "
        f"plugin. Install it with: {install_hint([provider])}"
    )


def uri_scheme(uri: str) -> str | None:
    """The lowercase scheme of ``uri`` (``s3``), or None for a plain path."""
    scheme, separator, _ = uri.strip().partition("://")
    return scheme.lower() if separator and scheme else None


def artifact_store_backends() -> dict[str, ArtifactStoreBackend]:
    """Every installed artifact-store backend, by URI scheme (first registered wins)."""
    backends: dict[str, ArtifactStoreBackend] = {}
    for spec in get_plugin_manager().stack_providers().values():
        backend = spec.artifact_store_backend
        if backend is None:
            continue
        for scheme in backend.schemes:
            backends.setdefault(scheme, backend)
    return backends


def artifact_store_backend(uri: str) -> ArtifactStoreBackend:
    """The installed backend that stores artifacts at ``uri``.

    Raises:
        KitaruUsageError: When the URI has no scheme or one no plugin knows.
        KitaruFeatureNotAvailableError: When a first-party plugin serves the
            scheme but is not installed; the message names the extra.
    """
    scheme = uri_scheme(uri)
    backends = artifact_store_backends()
    if scheme is not None and scheme in backends:
        return backends[scheme]
    if scheme in SCHEME_PROVIDERS:
        provider = SCHEME_PROVIDERS[scheme]
        raise KitaruFeatureNotAvailableError(
            f"Artifact stores at {scheme}:// need the {plugin_label([provider])} plugin. "
            f"Install it with: {install_hint([provider])}"
        )
    known = [*SCHEME_PROVIDERS, *(s for s in backends if s not in SCHEME_PROVIDERS)]
    listed = ", ".join(f"{s}://" for s in known[:-1]) + f", or {known[-1]}://"
    raise KitaruUsageError(f"Cannot infer cloud provider from '{uri}'. Use an {listed} URI.")

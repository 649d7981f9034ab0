"""The log-store preference: which runtime-log backend you mean to use (SPEC §7).

The preference is a backend name, an http(s) endpoint and an optional API key.
It comes from, highest first:

1. ``KITARU_LOG_STORE_BACKEND`` / ``_ENDPOINT`` / ``_API_KEY`` (source
   ``environment``; blank variables count as unset);
2. the ``log_store`` section of ``kitaru.yaml``, written by
   ``kitaru log-store set`` (source ``global user config``)::

       version: 1
       log_store:
         backend: otel
         endpoint: https://collector.example.com:4318/v1/logs
         api_key: ...            # optional

3. the default, ``artifact-store`` (source ``default``).

It is only a preference: a run sends its logs wherever the active stack's
log-store component sends them (:mod:`kitaru.cli.log_store` compares the two
and says what to do when they disagree). Backend names are free-form (``^[a-z0-9][a-z0-9._-]*$``): a name no
installed plugin registers is accepted, with a warning from
:func:`unknown_backend_warning`, because the plugin may live only where the
flows run.

The API key is kept in ``kitaru.yaml`` (written with owner-only permissions)
and never shown: :meth:`LogStorePreference.public` reports only whether one
is configured. This module never imports the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kitaru.config.diagnostics import describe_key, unknown_keys
from kitaru.config.paths import config_file
from kitaru.config.sources import read_global_config, update_global_config
from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.settings import settings

SECTION = "log_store"
"""The ``kitaru.yaml`` key holding the preference."""

DEFAULT_BACKEND = "artifact-store"
"""The backend used when nothing is configured: logs stay in the artifact store."""

SECTION_KEYS = ("backend", "endpoint", "api_key")
"""The keys of the ``log_store`` section."""

SOURCE_DEFAULT = "default"
SOURCE_ENVIRONMENT = "environment"
SOURCE_GLOBAL = "global user config"

ENV_BACKEND = "KITARU_LOG_STORE_BACKEND"
ENV_ENDPOINT = "KITARU_LOG_STORE_ENDPOINT"
ENV_API_KEY = "KITARU_LOG_STORE_API_KEY"
ENV_VARIABLES = (ENV_BACKEND, ENV_ENDPOINT, ENV_API_KEY)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
"""Valid backend names: lowercase letters, digits, ``.``, ``_`` and ``-``."""

MAX_NAME_LENGTH = 64
"""Backend names are short (``otel``); a longer one is a mistake."""

EXAMPLE_ENDPOINT = "https://collector.example.com:4318/v1/logs"


@dataclass(frozen=True)
class LogStorePreference:
    """The effective log-store preference and where it comes from.

    Attributes:
        backend: The backend name (``artifact-store``, ``otel``, ``datadog``).
        endpoint: Its http(s) endpoint, or ``None`` (always ``None`` for
            ``artifact-store``).
        api_key: The API key, or ``None``. Never print it; use
            :attr:`api_key_configured`.
        source: ``default``, ``environment`` or ``global user config``.
    """

    backend: str
    endpoint: str | None = None
    api_key: str | None = field(default=None, repr=False)
    source: str = SOURCE_DEFAULT

    @property
    def api_key_configured(self) -> bool:
        """Whether an API key is set (the key itself is never shown)."""
        return self.api_key is not None

    def public(self) -> dict[str, Any]:
        """The preference without its secret: ``{backend, endpoint, api_key_configured, source}``."""
        return {
            "backend": self.backend,
            "endpoint": self.endpoint,
            "api_key_configured": self.api_key_configured,
            "source": self.source,
        }


DEFAULT_PREFERENCE = LogStorePreference(backend=DEFAULT_BACKEND)


# -- validation ----------------------------------------------------------------


def normalise_backend(name: Any, *, what: str = "Log store backend") -> str:
    """Strip and lowercase a backend name, then check it.

    Args:
        name: The name as typed (``OTel`` becomes ``otel``).
        what: How the error names the value (a variable name, say).

    Returns:
        The normalised name.

    Raises:
        KitaruUsageError: If the name is blank, longer than
            :data:`MAX_NAME_LENGTH`, has characters outside ``[a-z0-9._-]``
            or does not start with a letter or digit.
    """
    text = name.strip().lower() if isinstance(name, str) else ""
    if len(text) > MAX_NAME_LENGTH:
        raise KitaruUsageError(
            f"{what} '{text[:20]}...' is {len(text)} characters long; use at most {MAX_NAME_LENGTH} "
            "(for example otel or datadog)."
        )
    if not NAME_PATTERN.match(text):
        raise KitaruUsageError(
            f"{what} {name!r} is not a valid name. Use lowercase letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (for example otel or datadog)."
        )
    return text


def validate_endpoint(url: Any, *, what: str = "Log store endpoint") -> str:
    """Check that ``url`` is an http(s) URL with a host.

    Args:
        url: The endpoint; surrounding whitespace is stripped, nothing else changes.
        what: How the error names the value.

    Returns:
        The stripped URL.

    Raises:
        KitaruUsageError: If it is blank, not http(s), or has no host.
    """
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        shown = text if text else "(blank)"
        raise KitaruUsageError(
            f"{what} '{shown}' is not an http:// or https:// URL. Give the backend's full URL, "
            f"for example {EXAMPLE_ENDPOINT}."
        )
    return text


def _clean_key(value: Any, *, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KitaruUsageError(f"{what} is blank. Give the key, or leave it out if the backend needs none.")
    return value.strip()


def installed_backends() -> dict[str, Any]:
    """The log stores installed plugins register, by name (``LogStoreSpec`` records)."""
    return dict(get_plugin_manager().log_stores())


def requires_endpoint(backend: str) -> bool:
    """Whether ``backend`` needs an endpoint.

    ``artifact-store`` never does; an installed backend says so in its
    ``LogStoreSpec.requires_endpoint``; a backend no plugin registers is
    assumed to need one.
    """
    if backend == DEFAULT_BACKEND:
        return False
    spec = installed_backends().get(backend)
    return True if spec is None else bool(spec.requires_endpoint)


def unknown_backend_warning(backend: str) -> str | None:
    """A warning when no installed plugin registers ``backend``, else ``None``."""
    known = installed_backends()
    if backend in known:
        return None
    names = ", ".join(sorted(known)) or "none"
    return (
        f"No installed plugin registers the log store '{backend}' (installed: {names}). "
        "The preference is kept, but check the spelling; logs only go there if the active "
        f"stack has a '{backend}' log-store component."
    )


# -- reading -----------------------------------------------------------------


def read_env_preference(environ: Mapping[str, str] | None = None) -> LogStorePreference | None:
    """Read the preference from ``KITARU_LOG_STORE_*`` variables.

    Args:
        environ: Variables to read; ``os.environ`` by default.

    Returns:
        The preference (source ``environment``), or ``None`` when none of the
        three variables is set.

    Raises:
        KitaruUsageError: If the endpoint or key is set without a backend; if
            the backend is ``artifact-store`` and an endpoint or key is set; if
            the backend needs an endpoint and none is set; or if a value is
            invalid. The message names the variables to change and never
            contains the key.
    """
    current = settings(environ)
    backend_text = current.log_store_backend
    endpoint_text = current.log_store_endpoint
    api_key = current.log_store_api_key
    if backend_text is None and endpoint_text is None and api_key is None:
        return None
    others = [name for name, value in ((ENV_ENDPOINT, endpoint_text), (ENV_API_KEY, api_key)) if value]
    if backend_text is None:
        given = " and ".join(others)
        several = len(others) > 1
        raise KitaruUsageError(
            f"{given} {'are' if several else 'is'} set but {ENV_BACKEND} is not. Set {ENV_BACKEND} "
            f"to the log store {'they are' if several else 'it is'} for (for example otel or "
            f"datadog), or unset {given}."
        )
    backend = normalise_backend(backend_text, what=ENV_BACKEND)
    if backend == DEFAULT_BACKEND:
        if others:
            raise KitaruUsageError(
                f"{ENV_BACKEND}={DEFAULT_BACKEND} keeps logs in the stack's artifact store, which takes "
                f"no endpoint or API key. Unset {' and '.join(others)}, or set {ENV_BACKEND} to the "
                "backend they are for."
            )
        return LogStorePreference(backend=backend, source=SOURCE_ENVIRONMENT)
    endpoint = None
    if endpoint_text is not None:
        endpoint = validate_endpoint(endpoint_text, what=ENV_ENDPOINT)
    elif requires_endpoint(backend):
        raise KitaruUsageError(
            f"{ENV_BACKEND}={backend} needs an endpoint. Set {ENV_ENDPOINT} to its http(s) URL "
            f"(for example {EXAMPLE_ENDPOINT}), or unset {ENV_BACKEND} to use the saved preference."
        )
    return LogStorePreference(backend=backend, endpoint=endpoint, api_key=api_key, source=SOURCE_ENVIRONMENT)


def _invalid_file(problem: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"The Kitaru global config file is invalid. Fix or delete {config_file()} and try again. "
        f"({problem}; `kitaru log-store reset` also rewrites it.)"
    )


def read_saved_preference() -> LogStorePreference | None:
    """Read the ``log_store`` section of ``kitaru.yaml``.

    Returns:
        The saved preference (source ``global user config``), or ``None``
        when the file or the section does not exist.

    Raises:
        KitaruUsageError: ``The Kitaru global config file is invalid. Fix or
            delete <path> and try again.`` when the file is not a YAML mapping
            or its ``log_store`` section is not a valid preference.
    """
    section = read_global_config().get(SECTION)
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise _invalid_file("log_store must be a mapping with backend, endpoint and api_key")
    unknown = unknown_keys(section, SECTION_KEYS)
    if unknown:  # an error, not a warning: a misspelt api_key would otherwise be dropped unseen
        described = ", ".join(describe_key(key, SECTION_KEYS) for key in unknown)
        raise _invalid_file(f"log_store has unknown keys: {described}; its keys are {', '.join(SECTION_KEYS)}")
    try:
        backend = normalise_backend(section.get("backend"), what="log_store.backend")
        endpoint = section.get("endpoint")
        endpoint = None if endpoint is None else validate_endpoint(endpoint, what="log_store.endpoint")
        api_key = section.get("api_key")
        api_key = None if api_key is None else _clean_key(api_key, what="log_store.api_key")
    except KitaruUsageError as exc:
        raise _invalid_file(str(exc).rstrip(".")) from None
    if backend == DEFAULT_BACKEND and (endpoint or api_key):
        raise _invalid_file("log_store.backend artifact-store takes no endpoint or api_key")
    if endpoint is None and requires_endpoint(backend):
        raise _invalid_file(f"log_store.backend {backend} needs an endpoint")
    return LogStorePreference(backend=backend, endpoint=endpoint, api_key=api_key, source=SOURCE_GLOBAL)


def resolve_log_store(environ: Mapping[str, str] | None = None) -> LogStorePreference:
    """Return the effective preference: environment, then ``kitaru.yaml``, then the default.

    Args:
        environ: Variables to read; ``os.environ`` by default.

    Raises:
        KitaruUsageError: If the variables are inconsistent or the file is invalid.
    """
    return read_env_preference(environ) or read_saved_preference() or DEFAULT_PREFERENCE


# -- writing -----------------------------------------------------------------


def check_new_preference(backend: str, endpoint: str | None, api_key: str | None) -> LogStorePreference:
    """Validate what ``kitaru log-store set`` was given, without writing anything.

    Args:
        backend: The backend name (normalised to lowercase).
        endpoint: Its http(s) endpoint, or ``None``.
        api_key: Its API key, or ``None``.

    Returns:
        The preference that :func:`save_preference` would write.

    Raises:
        KitaruUsageError: For ``artifact-store`` (use reset), an invalid name
            or endpoint, a blank key, or a missing endpoint the backend needs.
    """
    name = normalise_backend(backend)
    if name == DEFAULT_BACKEND:
        raise KitaruUsageError(
            f"'{DEFAULT_BACKEND}' is the default log store and cannot be set. "
            "Run `kitaru log-store reset` to go back to it."
        )
    if endpoint is not None:
        endpoint = validate_endpoint(endpoint)
    elif requires_endpoint(name):
        raise KitaruUsageError(
            f"The log store '{name}' needs an endpoint. Run: kitaru log-store set {name} "
            f"--endpoint {EXAMPLE_ENDPOINT}"
        )
    if api_key is not None:
        api_key = _clean_key(api_key, what="--api-key")
    return LogStorePreference(backend=name, endpoint=endpoint, api_key=api_key, source=SOURCE_GLOBAL)


def save_preference(preference: LogStorePreference) -> None:
    """Write ``preference`` as the ``log_store`` section of ``kitaru.yaml``.

    The whole section is replaced (a key saved for another backend does not
    linger); every other field of the file is preserved. A malformed file is
    replaced by a fresh one.

    Args:
        preference: A preference checked by :func:`check_new_preference`.
    """
    section: dict[str, Any] = {"backend": preference.backend}
    if preference.endpoint is not None:
        section["endpoint"] = preference.endpoint
    if preference.api_key is not None:
        section["api_key"] = preference.api_key

    def mutate(data: dict[str, Any]) -> None:
        data[SECTION] = section

    update_global_config(mutate)


def clear_preference() -> bool:
    """Remove the ``log_store`` section of ``kitaru.yaml`` (back to the default).

    Nothing is created when the file does not exist; a malformed file is
    replaced by a fresh one.

    Returns:
        Whether the file was rewritten.
    """
    if not config_file().exists():
        return False
    try:
        if SECTION not in read_global_config():
            return False
    except KitaruUsageError:
        pass  # malformed: writers start fresh
    update_global_config(lambda data: data.pop(SECTION, None))
    return True


__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_PREFERENCE",
    "ENV_VARIABLES",
    "LogStorePreference",
    "check_new_preference",
    "clear_preference",
    "installed_backends",
    "normalise_backend",
    "read_env_preference",
    "read_saved_preference",
    "requires_endpoint",
    "resolve_log_store",
    "save_preference",
    "unknown_backend_warning",
    "validate_endpoint",
]

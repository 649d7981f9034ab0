"""Prepare the process for the engine, then load it.

Before ZenML is first imported, Kitaru's settings (``KITARU_*``, read through
:func:`kitaru.settings.settings`) are translated into ZenML's variables (SPEC
§5.3), ZenML's config is pointed at the Kitaru config directory, and engine
behaviour Kitaru does not want (analytics, rich tracebacks) is turned off.
After the import, the terminal interceptor is installed.

ZenML also calls :func:`zenml_init_hook` through its ``zenml.init_hooks``
entry point, so the translation applies even when a process imports ZenML
directly (for example a step entrypoint on a remote orchestrator).
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

from kitaru._engine.terminal import install_terminal_interceptor
from kitaru.engine.connection import IncompleteServerSettings
from kitaru.locks import file_lock
from kitaru.settings import KitaruSettings, default_config_dir, settings

TRANSLATIONS: tuple[tuple[str, str], ...] = (
    ("server_url", "ZENML_STORE_URL"),
    ("auth_token", "ZENML_STORE_API_KEY"),
    ("project", "ZENML_ACTIVE_PROJECT_ID"),
    ("debug", "ZENML_DEBUG"),
    ("analytics_opt_in", "ZENML_ANALYTICS_OPT_IN"),
    ("default_analytics_source", "ZENML_DEFAULT_ANALYTICS_SOURCE"),
    ("config_path", "ZENML_CONFIG_PATH"),
)
"""Kitaru setting → the engine variable it fills."""

STORE_AUTH_VARIABLES = ("ZENML_STORE_URL", "ZENML_STORE_API_KEY", "ZENML_STORE_USERNAME", "ZENML_STORE_PASSWORD")
"""The engine's variables that choose its server and credentials."""

# Defaults Kitaru sets unless the user chose otherwise.
_ENGINE_DEFAULTS: dict[str, str] = {
    # Kitaru sends nothing anywhere.
    "ZENML_ANALYTICS_OPT_IN": "false",
    "ZENML_ENABLE_RICH_TRACEBACK": "false",
    "ZENML_REPOSITORY_DIRECTORY_NAME": ".kitaru",
    # Small JSON-able checkpoint inputs travel as step parameters instead of
    # being uploaded as separate artifacts: a third of a step's cost (bench/).
    "ZENML_PARAMETER_SIZE_THRESHOLD": "65536",
    "ZENML_LOGGING_COLORS_DISABLED": "true",
    # Stored log lines are stamped when exported; export often so timestamps
    # are accurate and a killed process loses little.
    "ZENML_LOGS_OTEL_SCHEDULE_DELAY_MILLIS": "200",
}

_translated = False
_loaded = False
_lock = threading.RLock()


def translated_variables() -> dict[str, str]:
    """Engine variable → the Kitaru variable that fills it."""
    return {engine: KitaruSettings.variable(field) for field, engine in TRANSLATIONS}


def kitaru_values(current: KitaruSettings | None = None) -> dict[str, str]:
    """The engine variables Kitaru's settings fill, with their values (unset settings left out).

    A switch (``KITARU_DEBUG``) is passed on as ``true`` when on.
    """
    current = current or settings()
    values: dict[str, str] = {}
    for field, engine in TRANSLATIONS:
        value = getattr(current, field)
        if isinstance(value, bool):
            value = "true" if value else None
        if value:
            values[engine] = value
    return values


def translate_environment() -> None:
    """Map ``KITARU_*`` settings to the engine's ``ZENML_*`` variables, once per process.

    A Kitaru value wins over a conflicting ZenML value, with a warning.

    Raises:
        IncompleteServerSettings: If a server URL is set without a token, or a
            token without a server URL.
    """
    global _translated
    with _lock:
        if _translated:
            return
        kitaru_names = translated_variables()
        for zenml_name, value in kitaru_values().items():
            existing = os.environ.get(zenml_name)
            if existing is not None and existing != value:
                kitaru_name = kitaru_names[zenml_name]
                warnings.warn(
                    f"{kitaru_name} and {zenml_name} are both set and differ; using {kitaru_name}.",
                    stacklevel=2,
                )
            os.environ[zenml_name] = value
        url = os.environ.get("ZENML_STORE_URL", "").strip()
        token = os.environ.get("ZENML_STORE_API_KEY", "").strip()
        if url.startswith(("http://", "https://")) and not token:
            raise IncompleteServerSettings("auth_token")
        if token and not url:
            raise IncompleteServerSettings("server_url")
        if not os.environ.get("ZENML_CONFIG_PATH", "").strip():
            os.environ["ZENML_CONFIG_PATH"] = default_config_dir()
        for name, value in _ENGINE_DEFAULTS.items():
            os.environ.setdefault(name, value)
        if not url.startswith(("http://", "https://")):
            # The engine refuses "implicit" cloud credentials (the machine's own
            # profile, role or environment) unless told otherwise, because a
            # shared server must not hand its identity to its users. With the
            # local store the user's own process is the only one using them.
            os.environ.setdefault("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", "true")
        _translated = True


def zenml_init_hook() -> None:
    """Entry point for ZenML's ``zenml.init_hooks`` group."""
    translate_environment()


def engine_config_dir() -> Path:
    """The engine's config directory (the Kitaru config directory), without importing ZenML."""
    translate_environment()
    return Path(os.environ["ZENML_CONFIG_PATH"]).expanduser().resolve()


def load_engine() -> None:
    """Prepare the environment, import ZenML and quiet its terminal output.

    Safe to call many times and from several threads.

    Raises:
        IncompleteServerSettings: See :func:`translate_environment`.
    """
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        translate_environment()
        _quiet_cloud_sdk_warnings()
        import zenml  # noqa: F401  (the import initialises ZenML's logging)

        install_terminal_interceptor()
        _initialize_local_store_once()
        _loaded = True


def client() -> Any:
    """ZenML's client, after preparing the process for the engine."""
    load_engine()
    from zenml.client import Client

    return Client()


def _quiet_cloud_sdk_warnings() -> None:
    """Hide SDK notices that say nothing about the user's flow.

    The engine imports every installed cloud's SDK when it handles service
    connectors; Google's libraries then warn, on every import, about the
    Python version they will stop supporting in a year. Real problems still
    surface as errors.
    """
    warnings.filterwarnings(
        "ignore", message=r"You are using a Python version .* which Google will stop supporting",
        category=FutureWarning,
    )


def _initialize_local_store_once() -> None:
    """Create or migrate the local SQLite store under a cross-process lock.

    The engine creates its store on first use; two processes doing that at
    the same moment on a brand-new config dir make one of them fail with a
    migration error. Kitaru serialises that first use with a file lock and
    leaves a marker per engine version, so later processes skip the lock.
    """
    if os.environ.get("ZENML_STORE_URL", "").strip().startswith(("http://", "https://")):
        return
    from zenml import __version__ as engine_version

    directory = Path(os.environ["ZENML_CONFIG_PATH"])
    marker = directory / f".kitaru-store-ready-{engine_version}"
    if marker.exists():
        return
    with file_lock(directory / ".kitaru-store.lock"):
        if not marker.exists():
            from zenml.client import Client

            Client().zen_store  # noqa: B018  (creates and migrates the store)
            Client().active_stack_model  # noqa: B018  (creates the default stack)
            marker.touch()


__all__ = [
    "STORE_AUTH_VARIABLES",
    "TRANSLATIONS",
    "client",
    "engine_config_dir",
    "kitaru_values",
    "load_engine",
    "translate_environment",
    "translated_variables",
    "zenml_init_hook",
]

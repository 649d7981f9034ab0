"""Prepare the process for the engine, then load it.

Before ZenML is first imported, Kitaru translates its own environment
variables into ZenML's (SPEC §5.3), points ZenML's config at the Kitaru config
directory, and turns off engine behaviour Kitaru does not want (analytics,
rich tracebacks). After the import, it installs the terminal interceptor.

ZenML also calls :func:`zenml_init_hook` through its ``zenml.init_hooks``
entry point, so the translation applies even when a process imports ZenML
directly (for example a step entrypoint on a remote orchestrator).
"""

from __future__ import annotations

import logging
import os
import threading
import warnings

_TRANSLATIONS: tuple[tuple[str, str], ...] = (
    ("KITARU_SERVER_URL", "ZENML_STORE_URL"),
    ("KITARU_AUTH_TOKEN", "ZENML_STORE_API_KEY"),
    ("KITARU_PROJECT", "ZENML_ACTIVE_PROJECT_ID"),
    ("KITARU_DEBUG", "ZENML_DEBUG"),
    ("KITARU_ANALYTICS_OPT_IN", "ZENML_ANALYTICS_OPT_IN"),
    ("KITARU_DEFAULT_ANALYTICS_SOURCE", "ZENML_DEFAULT_ANALYTICS_SOURCE"),
    ("KITARU_CONFIG_PATH", "ZENML_CONFIG_PATH"),
)

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
logger = logging.getLogger("kitaru")


def translate_environment() -> None:
    """Map ``KITARU_*`` variables to the engine's ``ZENML_*`` ones, once per process.

    A Kitaru value wins over a conflicting ZenML value, with a warning.

    Raises:
        RuntimeError: If a server URL is set without a token, or a token
            without a server URL.
    """
    global _translated
    with _lock:
        if _translated:
            return
        for kitaru_name, zenml_name in _TRANSLATIONS:
            value = os.environ.get(kitaru_name, "").strip()
            if not value:
                continue
            existing = os.environ.get(zenml_name)
            if existing is not None and existing != value:
                warnings.warn(
                    f"{kitaru_name} and {zenml_name} are both set and differ; "
                    f"using {kitaru_name}.",
                    stacklevel=2,
                )
            os.environ[zenml_name] = value
        url = os.environ.get("ZENML_STORE_URL", "").strip()
        token = os.environ.get("ZENML_STORE_API_KEY", "").strip()
        if url.startswith(("http://", "https://")) and not token:
            raise RuntimeError(
                "KITARU_SERVER_URL is set but no token is: set KITARU_AUTH_TOKEN too, "
                "or unset KITARU_SERVER_URL to use the local default."
            )
        if token and not url:
            raise RuntimeError(
                "KITARU_AUTH_TOKEN is set but no server URL is: set KITARU_SERVER_URL "
                "too, or unset KITARU_AUTH_TOKEN."
            )
        if not os.environ.get("ZENML_CONFIG_PATH", "").strip():
            from kitaru.config.paths import config_dir

            os.environ["ZENML_CONFIG_PATH"] = str(config_dir())
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


def load_engine() -> None:
    """Prepare the environment, import ZenML and quiet its terminal output.

    Safe to call many times and from several threads.
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

        from kitaru._engine.terminal import install_terminal_interceptor

        install_terminal_interceptor()
        _initialize_local_store_once()
        _loaded = True


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
    migration error. Kitaru serialises that first use with ``flock`` and
    leaves a marker per engine version, so later processes skip the lock.
    """
    if os.environ.get("ZENML_STORE_URL", "").strip().startswith(("http://", "https://")):
        return
    import fcntl
    from pathlib import Path

    from zenml import __version__ as engine_version

    config_dir = Path(os.environ["ZENML_CONFIG_PATH"])
    marker = config_dir / f".kitaru-store-ready-{engine_version}"
    if marker.exists():
        return
    config_dir.mkdir(parents=True, exist_ok=True)
    with open(config_dir / ".kitaru-store.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not marker.exists():
                from zenml.client import Client

                Client().zen_store  # noqa: B018  (creates and migrates the store)
                Client().active_stack_model  # noqa: B018  (creates the default stack)
                marker.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

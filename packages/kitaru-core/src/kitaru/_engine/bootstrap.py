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

import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from kitaru._engine import (
    analytics_off,
    fixed_source_root,
    interrupted_steps,
    launch_logs,
    model_versions,
    output_storage,
    server_errors,
    server_retries,
    source_root,
    sqlite_journal,
    stack_integrations,
    unclosed_uploads,
    unreachable_store,
)
from kitaru._engine.terminal import install_terminal_interceptor
from kitaru.engine.connection import IncompleteServerSettings
from kitaru.errors import KitaruBackendError
from kitaru.locks import file_lock
from kitaru.owner_only import SECRETS_KEY_FILE, owner_only_dir, restrict, secrets_key
from kitaru.settings import KitaruSettings, default_config_dir, settings

logger = logging.getLogger("kitaru")

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

ENGINE_CREDENTIAL_VARIABLES = ("ZENML_STORE_API_KEY", "ZENML_STORE_USERNAME")
"""Either one gives a server URL its credentials (an API key, or a user name with its password)."""

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
        IncompleteServerSettings: If ``KITARU_SERVER_URL`` is set without any
            credentials, or ``KITARU_AUTH_TOKEN`` without any server URL.
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
        _check_kitaru_server_settings(url)
        if not os.environ.get("ZENML_CONFIG_PATH", "").strip():
            os.environ["ZENML_CONFIG_PATH"] = default_config_dir()
        for name, value in _ENGINE_DEFAULTS.items():
            os.environ.setdefault(name, value)
        _use_secrets_key(create=False)  # a step process ZenML starts: the key exists by then
        if not url.startswith(("http://", "https://")) and not shared_server():
            # The engine refuses "implicit" cloud credentials (the machine's own
            # profile, role or environment) unless told otherwise, because a
            # shared server must not hand its identity to its users. With the
            # local store the user's own process is the only one using them.
            os.environ.setdefault("ZENML_ENABLE_IMPLICIT_AUTH_METHODS", "true")
        if running_server():
            server_errors.install()
        _translated = True


SERVER_APP = "zenml.zen_server.zen_server_api"
"""The engine's server application, the module its image runs with uvicorn."""


def running_server() -> bool:
    """Whether this process is the engine's server.

    The engine marks its own deployments with ``ZENML_SERVER``; its image runs
    ``uvicorn zenml.zen_server.zen_server_api:app`` without it, and the init
    hook runs before that module is imported, so the command line tells.
    """
    return "ZENML_SERVER" in os.environ or any(arg.startswith(SERVER_APP) for arg in sys.argv)


def shared_server() -> bool:
    """Whether this process is a server other people use (any server but the local one ``kitaru login`` starts)."""
    return running_server() and os.environ.get("ZENML_SERVER_DEPLOYMENT_TYPE", "").strip().lower() != "local"


def _check_kitaru_server_settings(url: str) -> None:
    """Refuse incomplete Kitaru server settings; leave the engine's own to the engine.

    ``KITARU_SERVER_URL`` needs credentials: ``KITARU_AUTH_TOKEN``, or the
    engine's own (``ZENML_STORE_API_KEY``, or ``ZENML_STORE_USERNAME`` with
    ``ZENML_STORE_PASSWORD``). ``KITARU_AUTH_TOKEN`` needs a server URL. The
    engine's variables alone are never refused here: a URL with a user name
    and password, or with credentials the engine saved, is how the engine
    itself connects, and this check also runs for a plain ``import zenml``.

    Args:
        url: The store URL after translation.

    Raises:
        IncompleteServerSettings: See :func:`translate_environment`.
    """
    current = settings()
    credentials = any(os.environ.get(name, "").strip() for name in ENGINE_CREDENTIAL_VARIABLES)
    if current.server_url and not credentials:
        raise IncompleteServerSettings("auth_token")
    if current.auth_token and not url:
        raise IncompleteServerSettings("server_url")


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
        if not running_server():  # a server takes its settings from its environment, not this file
            analytics_off.keep_analytics_off(Path(os.environ["ZENML_CONFIG_PATH"]).expanduser())
        _use_secrets_key(create=True)
        _quiet_cloud_sdk_warnings()
        import zenml  # noqa: F401  (the import initialises ZenML's logging)

        install_terminal_interceptor()
        server_retries.install()
        output_storage.install()
        interrupted_steps.install()
        launch_logs.install()
        fixed_source_root.install()
        model_versions.install()
        unclosed_uploads.install()
        stack_integrations.install()
        unreachable_store.install()
        source_root.fall_back_to_cwd()
        _initialize_local_store_once()
        _check_environment_credentials()
        _loaded = True


def client() -> Any:
    """ZenML's client, after preparing the process for the engine."""
    load_engine()
    from zenml.client import Client

    return Client()


def _check_environment_credentials() -> None:
    """Log in once with credentials from the environment; refuse them in Kitaru's words.

    The engine would otherwise report refused credentials at the first
    request in its own words (and suggest its own CLI). Only a server URL set
    in the environment is checked, with the variables that were set named in
    the message; the token the login yields is the one later requests use.

    Raises:
        KitaruBackendError: If the server refuses the credentials.
    """
    url = os.environ.get("ZENML_STORE_URL", "").strip()
    if not url.startswith(("http://", "https://")):
        return
    from zenml.client import Client
    from zenml.exceptions import AuthorizationException
    from zenml.zen_stores.rest_zen_store import RestZenStore

    try:
        store = Client().zen_store  # connecting validates the active project: the first request
        if isinstance(store, RestZenStore):
            store.authenticate()
    except AuthorizationException:
        variables = credential_variables()
        if len(variables) > 1:
            message = (
                f"The server at {url} refused the credentials from {', '.join(variables)}. Check them "
                "(an API key, or a user name and its password), or unset these variables and run "
                "`kitaru login` instead."
            )
        else:
            message = (
                f"{variables[0] if variables else 'ZENML_STORE_URL'} is set, but there are no credentials "
                f"for the server at {url}: set an API key too (KITARU_AUTH_TOKEN or ZENML_STORE_API_KEY), "
                "or ZENML_STORE_USERNAME and ZENML_STORE_PASSWORD."
            )
        raise KitaruBackendError(message) from None
    except Exception as exc:  # unreachable, say: the first real request reports it where it is handled
        logger.debug("Kitaru could not check the server's credentials yet: %s", exc)


def credential_variables() -> list[str]:
    """The variables set in this process that choose the server and its credentials.

    Kitaru's own (``KITARU_SERVER_URL`` ...) come first; an engine variable
    Kitaru filled from one of them is named by the Kitaru variable only.
    """
    filled = kitaru_values()
    kitaru = [
        kitaru_name for engine, kitaru_name in translated_variables().items()
        if engine in STORE_AUTH_VARIABLES and engine in filled
    ]
    engine = [name for name in STORE_AUTH_VARIABLES if os.environ.get(name, "").strip() and name not in filled]
    return kitaru + engine


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
    encrypted = directory / ENCRYPTED_MARKER
    write_ahead = directory / WAL_MARKER
    local = _local_database(os.environ.get("ZENML_STORE_URL", ""))
    if marker.exists() and (not local or (encrypted.exists() and write_ahead.exists())):
        return
    from zenml.client import Client

    with file_lock(directory / ".kitaru-store.lock"):
        if not marker.exists():
            Client().zen_store  # noqa: B018  (creates and migrates the store)
            Client().active_stack_model  # noqa: B018  (creates the default stack)
            marker.touch()
        if local and not encrypted.exists():
            if _encrypt_plain_secrets():
                encrypted.touch()
        if local and not write_ahead.exists():
            if sqlite_journal.use_write_ahead_log(Client().zen_store):
                write_ahead.touch()
        restrict(directory)


ENCRYPTED_MARKER = ".kitaru-secrets-encrypted"
"""Left in the config dir once every secret in the local database is encrypted."""

WAL_MARKER = ".kitaru-store-wal"
"""Left in the config dir once the local database keeps a write-ahead log (:mod:`sqlite_journal`)."""


def _use_secrets_key(*, create: bool) -> None:
    """Have the engine encrypt secret values in the local database with the config dir's key.

    The key (:func:`kitaru.owner_only.secrets_key`) is created when the engine
    is loaded, not when the environment is only prepared, so a refused login
    leaves a brand-new config dir empty. Nothing changes when the store is a
    server or another database, or when the user configured the engine's
    secrets store themselves (``ZENML_SECRETS_STORE_TYPE`` without a key).

    Args:
        create: Create the key if it does not exist yet.
    """
    if not _local_database(os.environ.get("ZENML_STORE_URL", "")):
        return
    if os.environ.get("ZENML_SECRETS_STORE_ENCRYPTION_KEY") or os.environ.get("ZENML_SECRETS_STORE_TYPE"):
        return
    config_dir = Path(os.environ["ZENML_CONFIG_PATH"]).expanduser()
    if not create and not (config_dir / SECRETS_KEY_FILE).exists():
        return
    os.environ["ZENML_SECRETS_STORE_TYPE"] = "sql"
    os.environ["ZENML_SECRETS_STORE_ENCRYPTION_KEY"] = secrets_key(owner_only_dir(config_dir))


def _local_database(url: str) -> bool:
    """Whether the store is the local SQLite database (the default, or a ``sqlite:`` URL)."""
    url = url.strip()
    return not url or url.startswith("sqlite:")


def _encrypt_plain_secrets() -> bool:
    """Encrypt secret values stored before the local database had a key (older Kitaru).

    Each value that decrypts with the key is left alone; one that only
    decodes as the engine's plain base64 is written again, encrypted.

    Returns:
        Whether the store has a key (so every secret is now encrypted).
    """
    from sqlmodel import Session, select
    from zenml.client import Client
    from zenml.zen_stores.schemas.secret_schemas import SecretDecodeError, SecretSchema
    from zenml.zen_stores.sql_zen_store import SqlZenStore

    store = Client().zen_store
    if not isinstance(store, SqlZenStore):
        return False
    secrets_store = store.secrets_store
    encryption = getattr(secrets_store, "_encryption_engine", None)  # set from the key at init
    if encryption is None:
        return False  # the user configured the engine's secrets store themselves
    rewritten = 0
    with Session(store.engine) as session:
        for row in session.exec(select(SecretSchema)).all():
            if not row.values:
                continue
            try:
                row.get_secret_values(encryption_engine=encryption)
                continue  # already encrypted
            except SecretDecodeError:
                pass
            try:
                values = row.get_secret_values(encryption_engine=None)
            except SecretDecodeError:
                continue  # neither: not ours to rewrite
            row.set_secret_values(secret_values=values, encryption_engine=encryption)
            session.add(row)
            rewritten += 1
        session.commit()
    if rewritten:
        # The plain values may linger in the database file's free pages until it is rebuilt, and
        # in the write-ahead log until it is checkpointed and emptied.
        with store.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM")
            autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


__all__ = [
    "STORE_AUTH_VARIABLES",
    "TRANSLATIONS",
    "client",
    "credential_variables",
    "engine_config_dir",
    "kitaru_values",
    "load_engine",
    "running_server",
    "shared_server",
    "translate_environment",
    "translated_variables",
    "zenml_init_hook",
]

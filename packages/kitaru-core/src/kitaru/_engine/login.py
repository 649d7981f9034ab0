"""Log in to a remote Kitaru server, and log out (remote or local).

A Kitaru server is an engine (ZenML) server. Logging in with an API key
follows one rule: check everything first, write only when it all worked.

1. The URL must be ``http://`` or ``https://``; a bare workspace name or ID is
   handed to the engine's managed-server ("pro") login instead.
2. The server's public info endpoint must answer (this also tells whether it
   is a managed server and which auth scheme it uses).
3. The API key must be accepted by the server's login endpoint.
4. Only then are the key (in ``credentials.yaml``) and the server URL (in
   ``config.yaml``) saved. If saving or selecting the project still fails,
   both files are restored byte for byte.

Steps 1 to 3 (:mod:`kitaru._engine.login_checks`) run before the engine
touches the config directory, so a refused key leaves it exactly as it was.
API keys are never put in messages, return values or logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kitaru._engine.login_checks import (
    AUTH_ENV_VARS,
    DEFAULT_HTTP_TIMEOUT,
    INVALID_URL_MESSAGE,
    active_auth_env_vars,
    check_api_key,
    normalize_server_url,
    refuse_if_auth_env,
    server_info,
    short_reason,
    verify_setting,
)
from kitaru.errors import KitaruBackendError, KitaruUsageError

# -- what gets written, and how it is undone ------------------------------------


def _login_files() -> list[Path]:
    from kitaru.config.paths import config_dir

    root = config_dir()
    return [
        root / "config.yaml",
        root / "credentials.yaml",
        root / "local_stores" / "certificates" / "ca_bundle.pem",
    ]


@contextmanager
def restore_on_failure() -> Iterator[None]:
    """Put the login files back exactly as they were if the body raises.

    The engine keeps the files' contents in process-wide objects too; those
    are reset so this process reads the restored files again.
    """
    saved = {path: path.read_bytes() if path.exists() else None for path in _login_files()}
    try:
        yield
    except BaseException:
        _reset_engine_singletons()
        for path, content in saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        _reset_engine_singletons()
        raise


def _reset_engine_singletons() -> None:
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration
    from zenml.login.credentials_store import CredentialsStore

    CredentialsStore._clear()  # type: ignore[attr-defined]  (forget in-memory keys, keep the file)
    GlobalConfiguration._reset_instance()
    Client._reset_instance()


# -- login / logout ----------------------------------------------------------------------


def login_remote(
    server: str,
    *,
    api_key: str | None = None,
    refresh: bool = False,
    project: str | None = None,
    no_verify_ssl: bool = False,
    ssl_ca_cert: str | None = None,
    cloud_api_url: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Connect to a remote Kitaru server and save the login.

    Args:
        server: Server URL, or a managed workspace name or ID.
        api_key: API key of a service account (never echoed).
        refresh: Start a fresh browser login even if credentials are saved.
        project: Project to make active after connecting.
        no_verify_ssl: Skip TLS certificate verification.
        ssl_ca_cert: CA bundle to verify the server with (wins over ``no_verify_ssl``).
        cloud_api_url: The managed-server control plane URL, for managed servers.
        timeout: Seconds to wait for each request to the server.

    Returns:
        ``{"mode": "remote", "url": ..., "project": <active project name or None>}``.

    Raises:
        KitaruUsageError: For an invalid URL or when auth variables are set.
        KitaruBackendError: For any failure talking to the server; nothing is
            saved in that case.
    """
    from kitaru._engine.bootstrap import translate_environment
    from kitaru._engine.environment import load_engine

    value, is_url = normalize_server_url(server)
    if api_key is not None and not api_key.strip():
        raise KitaruUsageError("The API key is empty. Pass the key your server administrator gave you.")
    if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
        raise KitaruUsageError(f"Invalid timeout {timeout!r}: use a positive number of seconds.")
    refuse_if_auth_env("log in")
    verify = verify_setting(no_verify_ssl, ssl_ca_cert)
    seconds = float(timeout) if timeout is not None else DEFAULT_HTTP_TIMEOUT
    try:
        translate_environment()  # the engine is imported below, but not initialised yet
    except RuntimeError as exc:
        raise KitaruUsageError(str(exc)) from exc
    # Checks that need no engine state come first: a refused key leaves even a
    # brand-new config directory untouched.
    info = server_info(value, verify, seconds) if is_url else None
    managed = info is None or info.is_pro_server()
    if api_key and not managed:
        check_api_key(value, api_key, verify, seconds)
    load_engine()
    with restore_on_failure():
        try:
            if managed:
                url = _login_managed(value, api_key, refresh, project, verify,
                                     cloud_api_url or (info.pro_api_url if info else None))
            else:
                url = _login_plain(value, info, api_key, refresh, verify, seconds)
            project_name = _select_project(project)
        except (KitaruBackendError, KitaruUsageError):
            raise
        except (Exception, SystemExit) as exc:
            raise KitaruBackendError(
                f"Could not log in to the Kitaru server at {value}: {short_reason(exc)}. Nothing was saved."
            ) from None
    return {"mode": "remote", "url": url, "project": project_name}


def _login_plain(
    url: str, info: Any, api_key: str | None, refresh: bool, verify: bool | str, timeout: float
) -> str:
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import AuthScheme
    from zenml.login.credentials_store import get_credentials_store
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    credentials = get_credentials_store()
    if api_key:  # already accepted by the server (check_api_key)
        protect_credentials_file(create=True)  # owner-only before the key is written
        credentials.set_api_key(url, api_key)
    elif info.auth_scheme == AuthScheme.NO_AUTH:
        pass  # a local-style server: it accepts every request as its default user
    elif refresh or not credentials.has_valid_credentials(url):
        from zenml.login.web_login import web_login

        web_login(url=url, verify_ssl=verify)
    config = RestZenStoreConfiguration(url=url, verify_ssl=verify, http_timeout=max(1, int(timeout)))
    GlobalConfiguration().set_store(config)
    protect_credentials_file()
    return url


def protect_credentials_file(*, create: bool = False) -> None:
    """Make the saved credentials readable by their owner only (mode 0600).

    The engine writes ``credentials.yaml`` with the default file mode, keeping
    the mode of an existing file. It holds API keys and tokens, so Kitaru
    creates it owner-only before a key goes in and tightens it after a login.

    Args:
        create: Create the (empty) file if it does not exist yet.
    """
    from kitaru.config.paths import config_dir

    path = config_dir() / "credentials.yaml"
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
    if path.exists():
        path.chmod(0o600)


def _login_managed(
    server: str, api_key: str | None, refresh: bool, project: str | None,
    verify: bool | str, cloud_api_url: str | None,
) -> str:
    """Log in to a managed ("pro") server through the engine's own flow."""
    from zenml.cli.login import connect_to_pro_server
    from zenml.config.global_config import GlobalConfiguration

    connect_to_pro_server(
        pro_server=server, api_key=api_key, refresh=refresh, pro_api_url=cloud_api_url,
        verify_ssl=verify, project=project,
    )
    protect_credentials_file()
    return str(GlobalConfiguration().store_configuration.url)


def _select_project(project: str | None) -> str | None:
    from zenml.client import Client

    client = Client()
    if project:
        try:
            return str(client.set_active_project(project).name)
        except KeyError:
            raise KitaruUsageError(
                f"No project named or with ID '{project}' exists on this server. Nothing was "
                "saved; check the name (your server administrator can list projects)."
            ) from None
    try:
        return str(client.active_project.name)
    except Exception:
        return None


def saved_remote_url() -> str | None:
    """Return the saved remote server URL, if the client is logged in to one."""
    from kitaru._engine.environment import load_engine

    load_engine()
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType

    store = GlobalConfiguration().get_store_configuration(allow_default=False)
    if store is None or store.type != StoreType.REST:
        return None
    return str(store.url)


def forget_remote_login(url: str) -> None:
    """Return to the local database and delete the saved credentials for ``url``."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.login.credentials_store import get_credentials_store

    GlobalConfiguration().set_default_store()
    get_credentials_store().clear_credentials(server_url=url)


def uses_local_database() -> bool:
    """Whether the client's store is now the local SQLite database."""
    from zenml.config.global_config import GlobalConfiguration

    return str(GlobalConfiguration().store_configuration.url).startswith("sqlite:")


__all__ = [
    "AUTH_ENV_VARS",
    "INVALID_URL_MESSAGE",
    "active_auth_env_vars",
    "forget_remote_login",
    "login_remote",
    "normalize_server_url",
    "protect_credentials_file",
    "refuse_if_auth_env",
    "saved_remote_url",
    "uses_local_database",
    "verify_setting",
]

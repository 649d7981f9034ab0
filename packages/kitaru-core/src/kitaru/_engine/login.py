"""Save and forget a login in ZenML's configuration.

ZenML keeps a login in two files of its config directory: the store (server
URL, TLS settings) in ``config.yaml`` and API keys and tokens in
``credentials.yaml``, plus a CA bundle it may copy under ``local_stores``.
Kitaru checks everything before calling in here (:mod:`kitaru.connection`);
:func:`login_transaction` puts the files back byte for byte if saving still
fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kitaru._engine.bootstrap import engine_config_dir, load_engine
from kitaru.engine.connection import ServerEndpoints, ServerInfo
from kitaru.engine.errors import RecordNotFound


def _login_files() -> list[Path]:
    root = engine_config_dir()
    return [root / "config.yaml", root / "credentials.yaml", root / "local_stores" / "certificates" / "ca_bundle.pem"]


@contextmanager
def login_transaction() -> Iterator[None]:
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

    # ZenML private API: forget the in-memory keys (the file is restored separately).
    CredentialsStore._clear()
    # ZenML private API: drop the singletons so the restored files are read again.
    GlobalConfiguration._reset_instance()
    Client._reset_instance()


def protect_credentials_file(*, create: bool = False) -> None:
    """Make the saved credentials readable by their owner only (mode 0600).

    The engine writes ``credentials.yaml`` with the default file mode, keeping
    the mode of an existing file. It holds API keys and tokens, so the file is
    created owner-only before a key goes in and tightened after a login.

    Args:
        create: Create the (empty) file if it does not exist yet.
    """
    path = engine_config_dir() / "credentials.yaml"
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
    if path.exists():
        path.chmod(0o600)


def server_endpoints(url: str) -> ServerEndpoints:
    """The engine server's info and login URLs, and its API-key grant."""
    from zenml.constants import API, INFO, LOGIN, VERSION_1
    from zenml.enums import OAuthGrantTypes

    return ServerEndpoints(
        info=f"{url}{API}{VERSION_1}{INFO}",
        login=f"{url}{API}{VERSION_1}{LOGIN}",
        api_key_grant=str(OAuthGrantTypes.ZENML_API_KEY.value),
    )


def parse_server_info(payload: Any) -> ServerInfo:
    """Read the server's info answer (raises ``ValueError`` when it is not one)."""
    from pydantic import ValidationError
    from zenml.enums import AuthScheme
    from zenml.models import ServerModel

    try:
        info = ServerModel.model_validate(payload)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    return ServerInfo(
        managed=bool(info.is_pro_server()),
        no_auth=info.auth_scheme == AuthScheme.NO_AUTH,
        managed_api_url=info.pro_api_url,
    )


def save_server_login(
    url: str, *, api_key: str | None, no_auth: bool, refresh: bool, verify: bool | str, timeout: float
) -> str:
    """Save a login to a (not managed) server and make it the store; return its URL."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.login.credentials_store import get_credentials_store
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    credentials = get_credentials_store()
    if api_key:
        protect_credentials_file(create=True)  # owner-only before the key is written
        credentials.set_api_key(url, api_key)
    elif no_auth:
        pass  # a local-style server: it accepts every request as its default user
    elif refresh or not credentials.has_valid_credentials(url):
        from zenml.login.web_login import web_login

        web_login(url=url, verify_ssl=verify)
    config = RestZenStoreConfiguration(url=url, verify_ssl=verify, http_timeout=max(1, int(timeout)))
    GlobalConfiguration().set_store(config)
    protect_credentials_file()
    return url


def save_managed_login(
    server: str, *, api_key: str | None, refresh: bool, project: str | None,
    verify: bool | str, cloud_api_url: str | None,
) -> str:
    """Log in to a managed ("pro") server through the engine's own flow; return its URL."""
    from zenml.cli.login import connect_to_pro_server
    from zenml.config.global_config import GlobalConfiguration

    connect_to_pro_server(
        pro_server=server, api_key=api_key, refresh=refresh, pro_api_url=cloud_api_url,
        verify_ssl=verify, project=project,
    )
    protect_credentials_file()
    return str(GlobalConfiguration().store_configuration.url)


def activate_project(name_or_id: str) -> str:
    """Make a project active and return its name (``RecordNotFound`` if it does not exist)."""
    from zenml.client import Client

    try:
        return str(Client().set_active_project(name_or_id).name)
    except KeyError:
        raise RecordNotFound(name_or_id) from None


def active_project_name() -> str:
    """The active project's name."""
    from zenml.client import Client

    return str(Client().active_project.name)


def saved_server_url() -> str | None:
    """The saved server URL, if the engine's configuration points at a server."""
    load_engine()
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType

    store = GlobalConfiguration().get_store_configuration(allow_default=False)
    if store is None or store.type != StoreType.REST:
        return None
    return str(store.url)


def forget_server_login(url: str) -> None:
    """Return to the local database and delete the saved credentials for ``url``."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.login.credentials_store import get_credentials_store

    GlobalConfiguration().set_default_store()
    get_credentials_store().clear_credentials(server_url=url)


def uses_local_database() -> bool:
    """Whether the store is now the local SQLite database."""
    from zenml.config.global_config import GlobalConfiguration

    return str(GlobalConfiguration().store_configuration.url).startswith("sqlite:")


__all__ = [
    "activate_project",
    "active_project_name",
    "forget_server_login",
    "login_transaction",
    "parse_server_info",
    "protect_credentials_file",
    "save_managed_login",
    "save_server_login",
    "saved_server_url",
    "server_endpoints",
    "uses_local_database",
]

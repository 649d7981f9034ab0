"""ZenML's store configuration, login and local server as Kitaru's :class:`~kitaru.engine.connection.Connection`.

The login and daemon mechanics live in :mod:`kitaru._engine.login` and
:mod:`kitaru._engine.server`; this class puts them behind the port and reads
the store configuration.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from importlib import metadata
from pathlib import Path
from typing import Any

from kitaru._engine import login, server
from kitaru._engine.bootstrap import STORE_AUTH_VARIABLES, client, kitaru_values, load_engine, translate_environment
from kitaru.engine.connection import LocalServerRecord, ServerEndpoints, ServerInfo, StoreConfig


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


class ZenMLConnection:
    """Where ZenML records executions, and how that changes."""

    # -- start-up and store ---------------------------------------------------------

    def prepare(self) -> None:
        translate_environment()

    def load(self) -> None:
        load_engine()

    def warm_up(self) -> None:
        client().zen_store  # noqa: B018 - the property configures the store (migrations checked)

    def forget_cached_state(self) -> None:
        from zenml.client import Client
        from zenml.config.global_config import GlobalConfiguration

        if GlobalConfiguration().is_initialized:
            GlobalConfiguration()._active_stack = None  # set when the store was opened
        Client._global_client = None  # its repository config and cached active stack

    def release_store_connections(self) -> None:
        from zenml.config.global_config import GlobalConfiguration
        from zenml.zen_stores.rest_zen_store import RestZenStore
        from zenml.zen_stores.sql_zen_store import SqlZenStore

        if not GlobalConfiguration().is_initialized:
            return
        store = GlobalConfiguration().zen_store
        if isinstance(store, SqlZenStore):
            store.engine.dispose()
        elif isinstance(store, RestZenStore):
            store.reinitialize_session()

    def engine_version(self) -> str:
        try:
            return metadata.version("zenml")
        except metadata.PackageNotFoundError:
            return "unknown"

    def store_config(self) -> StoreConfig:
        load_engine()
        from zenml.config.global_config import GlobalConfiguration

        config = GlobalConfiguration()
        store = config.store_configuration
        persisted = config.store
        url = str(store.url)
        database = None
        if url.startswith("sqlite:"):
            database = getattr(store, "database", None) or url.removeprefix("sqlite:///")
        saved_url = getattr(persisted, "url", None)
        return StoreConfig(
            store_type=str(getattr(store.type, "value", store.type)),
            url=url,
            database=str(database) if database else None,
            saved_url=str(saved_url) if saved_url else None,
            url_variable="ZENML_STORE_URL" if _set("ZENML_STORE_URL") else None,
            project_variable_value=os.environ.get("ZENML_ACTIVE_PROJECT_ID", "").strip() or None,
            secrets_encrypted=bool(getattr(getattr(store, "secrets_store", None), "encryption_key", None)),
        )

    def active_user_name(self) -> str:
        return str(client().active_user.name)

    def engine_auth_variables(self) -> tuple[str, ...]:
        filled = kitaru_values()
        return tuple(name for name in STORE_AUTH_VARIABLES if _set(name) and name not in filled)

    # -- login ------------------------------------------------------------------------

    def server_endpoints(self, url: str) -> ServerEndpoints:
        return login.server_endpoints(url)

    def parse_server_info(self, payload: Any) -> ServerInfo:
        return login.parse_server_info(payload)

    def login_transaction(self) -> AbstractContextManager[None]:
        return login.login_transaction()

    def save_server_login(
        self, url: str, *, api_key: str | None, no_auth: bool, refresh: bool, verify: bool | str, timeout: float
    ) -> str:
        return login.save_server_login(
            url, api_key=api_key, no_auth=no_auth, refresh=refresh, verify=verify, timeout=timeout
        )

    def save_managed_login(
        self, server: str, *, api_key: str | None, refresh: bool, project: str | None,
        verify: bool | str, cloud_api_url: str | None,
    ) -> str:
        return login.save_managed_login(
            server, api_key=api_key, refresh=refresh, project=project, verify=verify, cloud_api_url=cloud_api_url
        )

    def activate_project(self, name_or_id: str) -> str:
        return login.activate_project(name_or_id)

    def active_project_name(self) -> str:
        return login.active_project_name()

    def saved_server_url(self) -> str | None:
        return login.saved_server_url()

    def forget_server_login(self, url: str) -> None:
        login.forget_server_login(url)

    def uses_local_database(self) -> bool:
        return login.uses_local_database()

    # -- local server -------------------------------------------------------------------

    def missing_server_modules(self) -> tuple[str, ...]:
        return server.missing_server_modules()

    def server_log_file(self) -> Path:
        return server.server_log_file()

    def local_server(self) -> LocalServerRecord | None:
        return server.local_server()

    def deploy_local_server(self, host: str, port: int, timeout: int) -> bool:
        return server.deploy_local_server(host, port, timeout)

    def remove_local_server(self, timeout: int) -> None:
        server.remove_local_server(timeout)

    def connect_to_server(self, url: str) -> None:
        server.connect_to_server(url)

    def use_local_database(self) -> None:
        server.use_local_database()

    def skip_dashboard_survey(self) -> None:
        server.skip_dashboard_survey()


__all__ = ["ZenMLConnection"]

"""The port for the connection: the engine's store, its login and its local server daemon.

Kitaru records executions in the engine's store: a local database by
default, or a server (the local one Kitaru starts, or a remote one).
:mod:`kitaru.connection` holds the rules (which URLs are valid, what is
checked before a login writes anything, the local server's port, loopback
binding and reuse, every message); the adapter does what only the engine
can: read and switch its store configuration, save or forget a login, and
start or stop its server daemon.

At start-up the adapter configures the engine from Kitaru's settings
(``KITARU_SERVER_URL`` ...). ``KITARU_SERVER_URL`` without credentials, or
``KITARU_AUTH_TOKEN`` without a server URL, is refused with
:class:`IncompleteServerSettings`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

# -- start-up ---------------------------------------------------------------------


class IncompleteServerSettings(RuntimeError):
    """Kitaru's server settings are incomplete: a server URL without credentials, or a token without a URL.

    Only Kitaru's own variables are checked; the engine's (``ZENML_STORE_URL``
    with an API key, or with a user name and password) are the engine's to
    judge, so every way the engine supports to connect keeps working.

    Attributes:
        missing: ``auth_token`` or ``server_url``: the setting to add.
    """

    def __init__(self, missing: Literal["auth_token", "server_url"]) -> None:
        if missing == "auth_token":
            message = (
                "KITARU_SERVER_URL is set but no credentials are: set KITARU_AUTH_TOKEN (an API key) "
                "too, or unset KITARU_SERVER_URL to use the local default."
            )
        else:
            message = (
                "KITARU_AUTH_TOKEN is set but no server URL is: set KITARU_SERVER_URL "
                "too, or unset KITARU_AUTH_TOKEN."
            )
        super().__init__(message)
        self.missing = missing


# -- records ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreConfig:
    """The engine's store configuration, read without contacting the store.

    Attributes:
        store_type: ``sql`` (a database) or ``rest`` (a server).
        url: The store URL (``sqlite:///...`` or the server URL).
        database: The SQLite file of a local database, else None.
        saved_url: The store URL saved in the engine's config (a saved login),
            which the environment may override.
        url_variable: The engine variable that sets the store URL
            (``ZENML_STORE_URL``), when it is set.
        project_variable_value: The project the engine's own variable selects, if set.
        secrets_encrypted: Whether a database store encrypts secret values
            (False for a server, which keeps secrets its own way).
    """

    store_type: str
    url: str
    database: str | None = None
    saved_url: str | None = None
    url_variable: str | None = None
    project_variable_value: str | None = None
    secrets_encrypted: bool = False


@dataclass(frozen=True)
class ServerEndpoints:
    """Where a server answers the requests a login makes before saving anything.

    Attributes:
        info: Its public info (``GET``, no credentials).
        login: Its login endpoint (``POST`` form).
        api_key_grant: The ``grant_type`` that logs in with an API key.
    """

    info: str
    login: str
    api_key_grant: str


@dataclass(frozen=True)
class ServerInfo:
    """What a server says about itself.

    Attributes:
        managed: Whether it is a managed ("pro") server, logged in to
            through its control plane.
        no_auth: Whether it accepts every request without credentials.
        managed_api_url: The control plane URL of a managed server.
    """

    managed: bool
    no_auth: bool = False
    managed_api_url: str | None = None


@dataclass(frozen=True)
class LocalServerRecord:
    """The engine's registered local server deployment.

    Attributes:
        port: The port it is configured for.
        pid: The daemon's process id while that process exists, else None.
        is_running: Whether the engine considers it running.
    """

    port: int | None
    pid: int | None = None
    is_running: bool = False


# -- the protocol ---------------------------------------------------------------------


class Connection(Protocol):
    """What Kitaru needs from an engine to know and change where it records executions."""

    # start-up and store

    def prepare(self) -> None:
        """Configure the engine's environment from Kitaru's settings, without loading it.

        Raises:
            IncompleteServerSettings: If the server settings are incomplete.
        """
        ...

    def load(self) -> None:
        """Prepare and load the engine (raises ``IncompleteServerSettings``)."""
        ...

    def warm_up(self) -> None:
        """Load the engine and open its store, as the first store read of a process would."""
        ...

    def forget_cached_state(self) -> None:
        """Drop what the engine cached about the store's contents (the active stack's model).

        A process forked from a long-lived one calls it first, so that its
        reads are as fresh as those of a process that just started.
        """
        ...

    def release_store_connections(self) -> None:
        """Close the store's pooled connections (database or HTTP); the next request opens new ones.

        Called before a process forks, so that no two processes ever share one
        connection.
        """
        ...

    def engine_version(self) -> str:
        """The installed engine's version (without loading it), or ``unknown``."""
        ...

    def store_config(self) -> StoreConfig:
        """The store configuration (loads the engine; does not contact the store)."""
        ...

    def active_user_name(self) -> str:
        """The user Kitaru acts as (contacts the store)."""
        ...

    def engine_auth_variables(self) -> tuple[str, ...]:
        """The engine's own server or credential variables set in this process.

        Those filled from Kitaru's settings are left out (the Kitaru variable
        names them).
        """
        ...

    # login

    def server_endpoints(self, url: str) -> ServerEndpoints:
        """The URLs a login asks before saving anything."""
        ...

    def parse_server_info(self, payload: Any) -> ServerInfo:
        """Read a server's info answer (raises ``ValueError`` if it is not one)."""
        ...

    def login_transaction(self) -> AbstractContextManager[None]:
        """Put the saved login back exactly as it was if the block raises."""
        ...

    def save_server_login(
        self, url: str, *, api_key: str | None, no_auth: bool, refresh: bool, verify: bool | str, timeout: float
    ) -> str:
        """Save a login to a (not managed) server and connect to it; return its URL.

        With ``api_key`` (already accepted by the server) the key is saved;
        a server without authentication needs nothing; otherwise saved
        credentials are reused, or a browser login is started.
        """
        ...

    def save_managed_login(
        self, server: str, *, api_key: str | None, refresh: bool, project: str | None,
        verify: bool | str, cloud_api_url: str | None,
    ) -> str:
        """Log in to a managed server through its control plane and return its URL."""
        ...

    def activate_project(self, name_or_id: str) -> str:
        """Make a project active and return its name (raises ``RecordNotFound``)."""
        ...

    def active_project_name(self) -> str:
        """The active project's name."""
        ...

    def saved_server_url(self) -> str | None:
        """The URL of the saved server login, if the engine is logged in to a server."""
        ...

    def forget_server_login(self, url: str) -> None:
        """Go back to the local database and delete the saved credentials for ``url``."""
        ...

    def uses_local_database(self) -> bool:
        """Whether the store is now the local database."""
        ...

    # local server

    def missing_server_modules(self) -> tuple[str, ...]:
        """The modules the engine's server needs that cannot be imported."""
        ...

    def server_log_file(self) -> Path:
        """The local server daemon's log file."""
        ...

    def local_server(self) -> LocalServerRecord | None:
        """The registered local server deployment, or None when none was ever started here."""
        ...

    def deploy_local_server(self, host: str, port: int, timeout: int) -> bool:
        """Start (or reconfigure) the local server daemon; return whether it runs."""
        ...

    def remove_local_server(self, timeout: int) -> None:
        """Stop and remove the registered local server daemon."""
        ...

    def connect_to_server(self, url: str) -> None:
        """Use the server at ``url`` as the store (a local server needs no credentials)."""
        ...

    def use_local_database(self) -> None:
        """Use the local database as the store."""
        ...

    def skip_dashboard_survey(self) -> None:
        """Mark the local user's dashboard onboarding as done, with e-mail updates declined (best effort)."""
        ...


__all__ = [
    "Connection",
    "IncompleteServerSettings",
    "LocalServerRecord",
    "ServerEndpoints",
    "ServerInfo",
    "StoreConfig",
]

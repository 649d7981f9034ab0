"""Connect to a Kitaru server (arrives with the server work)."""

from __future__ import annotations

from kitaru.errors import KitaruFeatureNotAvailableError


def connect(server_url: str, *, api_key: str | None = None, **options: object) -> None:
    """Connect to a Kitaru server.

    Raises:
        KitaruFeatureNotAvailableError: In this build; the local default needs
            no connection.
    """
    raise KitaruFeatureNotAvailableError(
        "kitaru.connect() is not available in this build yet; it ships with the local "
        "server and remote connection work. The local default needs no connection."
    )

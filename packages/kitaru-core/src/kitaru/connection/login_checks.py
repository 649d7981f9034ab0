"""Checks made before a login writes anything: arguments and the server itself.

Nothing here loads the engine's configuration or touches the config
directory, so a refused login leaves even a brand-new directory empty. The
server is asked over plain HTTP: its public info endpoint (is it a Kitaru
server, a managed one, which auth scheme) and its login endpoint (is this
API key valid). API keys never appear in messages.
"""

from __future__ import annotations

import re
from pathlib import Path

from kitaru.engine import get_engine
from kitaru.engine.connection import ServerInfo
from kitaru.errors import KitaruBackendError, KitaruUsageError

INVALID_URL_MESSAGE = "Invalid Kitaru server URL. Please use an http:// or https:// URL."
DEFAULT_HTTP_TIMEOUT = 30.0
_HOST_LIKE = re.compile(r"[./:]|^localhost$", re.IGNORECASE)
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
"""A managed workspace name or ID: letters, digits, ``-`` and ``_`` (a UUID fits)."""


def normalize_server_url(server: str) -> tuple[str, bool]:
    """Validate a server argument.

    Args:
        server: An ``http(s)://`` URL, or a managed workspace name or ID.

    Returns:
        ``(value, is_url)``: the URL without trailing ``/``, or the workspace
        name/ID unchanged with ``is_url=False``.

    Raises:
        KitaruUsageError: For an empty value, another scheme, a host-like
            string without a scheme (``example.com:8080``), or anything else
            that cannot be a workspace name or ID (``not a url``): it is
            refused here, before any request is made.
    """
    value = (server or "").strip()
    if re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        return value.rstrip("/"), True
    if not value or "://" in value or _HOST_LIKE.search(value) or not _WORKSPACE.match(value):
        raise KitaruUsageError(INVALID_URL_MESSAGE)
    return value, False


def check_login_arguments(api_key: str | None, timeout: float | None) -> None:
    """Refuse an empty API key or a timeout that is not a positive number of seconds.

    Raises:
        KitaruUsageError: Saying what to pass instead.
    """
    if api_key is not None and not api_key.strip():
        raise KitaruUsageError("The API key is empty. Pass the key your server administrator gave you.")
    if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
        raise KitaruUsageError(f"Invalid timeout {timeout!r}: use a positive number of seconds.")


def verify_setting(no_verify_ssl: bool, ssl_ca_cert: str | None) -> bool | str:
    """Return the TLS verification setting: the CA bundle wins over ``no_verify_ssl``.

    Raises:
        KitaruUsageError: If the CA bundle file does not exist.
    """
    if ssl_ca_cert is not None:
        path = Path(ssl_ca_cert).expanduser()
        if not path.is_file():
            raise KitaruUsageError(
                f"The CA certificate file {ssl_ca_cert} does not exist. Pass the path of a PEM "
                "bundle with --ssl-ca-cert."
            )
        return str(path.resolve())
    return not no_verify_ssl


def short_reason(exc: BaseException) -> str:
    """A one-line reason: the OS error when there is one (``[Errno 111] Connection refused``)."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text[:300]


def server_info(url: str, verify: bool | str, timeout: float) -> ServerInfo:
    """Fetch the server's public info (no credentials needed).

    Raises:
        KitaruBackendError: If the server cannot be reached or is not a Kitaru
            (engine) server.
    """
    import requests

    connection = get_engine().connection
    endpoint = connection.server_endpoints(url).info
    try:
        response = requests.get(endpoint, verify=verify, timeout=timeout)
    except requests.exceptions.SSLError as exc:
        raise KitaruBackendError(
            f"TLS verification failed for {url}: {short_reason(exc)}. Pass --ssl-ca-cert with the "
            "server's CA bundle (or --no-verify-ssl for a test server)."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise KitaruBackendError(
            f"Cannot reach the Kitaru server at {url}: {short_reason(exc)}. Check the URL and that "
            "the server is running."
        ) from None
    if response.status_code != 200:
        raise KitaruBackendError(
            f"{url} did not answer like a Kitaru server (HTTP {response.status_code} from {endpoint}). Check the URL."
        )
    try:
        return connection.parse_server_info(response.json())
    except Exception:
        raise KitaruBackendError(
            f"{url} did not answer like a Kitaru server (unexpected server info). Check the URL."
        ) from None


def check_api_key(url: str, api_key: str, verify: bool | str, timeout: float) -> None:
    """Ask the server to accept ``api_key``, without saving anything.

    Raises:
        KitaruBackendError: If the server refuses the key or cannot be reached.
    """
    import requests

    endpoints = get_engine().connection.server_endpoints(url)
    try:
        response = requests.post(
            endpoints.login,
            data={"grant_type": endpoints.api_key_grant, "password": api_key},
            verify=verify,
            timeout=timeout,
        )
    except requests.exceptions.RequestException as exc:
        raise KitaruBackendError(f"Cannot reach the Kitaru server at {url}: {short_reason(exc)}.") from None
    if response.status_code in (401, 403):
        raise KitaruBackendError(
            f"The Kitaru server at {url} refused the API key (HTTP {response.status_code}): it is "
            "wrong, expired or deactivated. Nothing was saved. Check the key or create a new one "
            "for your service account, then run `kitaru login` again."
        )
    if response.status_code != 200:
        raise KitaruBackendError(
            f"The Kitaru server at {url} could not check the API key (HTTP "
            f"{response.status_code}). Nothing was saved; try again later."
        )


__all__ = [
    "DEFAULT_HTTP_TIMEOUT",
    "INVALID_URL_MESSAGE",
    "check_api_key",
    "check_login_arguments",
    "normalize_server_url",
    "server_info",
    "short_reason",
    "verify_setting",
]

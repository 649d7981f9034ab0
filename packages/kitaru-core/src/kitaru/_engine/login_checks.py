"""Checks made before a login writes anything: arguments, environment, the server itself.

Nothing here imports the engine's configuration or touches the config
directory, so a refused login leaves even a brand-new directory empty. The
server is asked over plain HTTP: its public info endpoint (is it a Kitaru
server, a managed one, which auth scheme) and its login endpoint (is this
API key valid). API keys never appear in messages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruBackendError, KitaruUsageError

INVALID_URL_MESSAGE = "Invalid Kitaru server URL. Please use an http:// or https:// URL."
#: Variables that authenticate the engine from the environment; while any is
#: set, a saved login would be overridden, so login/logout refuse to write one.
AUTH_ENV_VARS = (
    "KITARU_SERVER_URL",
    "KITARU_AUTH_TOKEN",
    "ZENML_STORE_URL",
    "ZENML_STORE_API_KEY",
    "ZENML_STORE_USERNAME",
    "ZENML_STORE_PASSWORD",
)
DEFAULT_HTTP_TIMEOUT = 30.0
_HOST_LIKE = re.compile(r"[./:]|^localhost$", re.IGNORECASE)


#: Engine variables that Kitaru fills from its own (listed once, under the Kitaru name).
_TRANSLATED_FROM = {"ZENML_STORE_URL": "KITARU_SERVER_URL", "ZENML_STORE_API_KEY": "KITARU_AUTH_TOKEN"}


def active_auth_env_vars() -> list[str]:
    """Return the authentication variables set in this process (non-blank)."""
    active = [name for name in AUTH_ENV_VARS if os.environ.get(name, "").strip()]
    return [name for name in active if _TRANSLATED_FROM.get(name) not in active]


def refuse_if_auth_env(action: str) -> None:
    """Refuse to change the saved login while environment variables override it.

    Args:
        action: ``log in`` or ``log out``, for the message.

    Raises:
        KitaruUsageError: If any of :data:`AUTH_ENV_VARS` is set.
    """
    active = active_auth_env_vars()
    if active:
        raise KitaruUsageError(
            f"Cannot {action} while {', '.join(active)} "
            f"{'is' if len(active) == 1 else 'are'} set: these variables already choose the "
            "server and credentials, and they would override a saved login. Use them as they "
            "are, or unset them and run the command again."
        )


def normalize_server_url(server: str) -> tuple[str, bool]:
    """Validate a server argument.

    Args:
        server: An ``http(s)://`` URL, or a managed workspace name or ID.

    Returns:
        ``(value, is_url)``: the URL without trailing ``/``, or the workspace
        name/ID unchanged with ``is_url=False``.

    Raises:
        KitaruUsageError: For an empty value, another scheme, or a host-like
            string without a scheme (``example.com:8080``).
    """
    value = (server or "").strip()
    if re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        return value.rstrip("/"), True
    if not value or "://" in value or _HOST_LIKE.search(value):
        raise KitaruUsageError(INVALID_URL_MESSAGE)
    return value, False


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



# -- talking to the server before anything is written -------------------------------


def _endpoint(url: str, path: str) -> str:
    from zenml.constants import API, VERSION_1

    return f"{url}{API}{VERSION_1}{path}"


def server_info(url: str, verify: bool | str, timeout: float) -> Any:
    """Fetch the server's public info (no credentials needed).

    Returns:
        The engine's ``ServerModel``.

    Raises:
        KitaruBackendError: If the server cannot be reached or is not a Kitaru
            (engine) server.
    """
    import requests
    from zenml.constants import INFO
    from zenml.models import ServerModel

    try:
        response = requests.get(_endpoint(url, INFO), verify=verify, timeout=timeout)
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
            f"{url} did not answer like a Kitaru server (HTTP {response.status_code} from "
            f"{_endpoint(url, INFO)}). Check the URL."
        )
    try:
        return ServerModel.model_validate(response.json())
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
    from zenml.constants import LOGIN
    from zenml.enums import OAuthGrantTypes

    try:
        response = requests.post(
            _endpoint(url, LOGIN),
            data={"grant_type": OAuthGrantTypes.ZENML_API_KEY.value, "password": api_key},
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


def short_reason(exc: BaseException) -> str:
    """A one-line reason: the OS error when there is one (``[Errno 111] Connection refused``)."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text[:300]


__all__ = [
    "AUTH_ENV_VARS",
    "DEFAULT_HTTP_TIMEOUT",
    "INVALID_URL_MESSAGE",
    "active_auth_env_vars",
    "check_api_key",
    "normalize_server_url",
    "refuse_if_auth_env",
    "server_info",
    "short_reason",
    "verify_setting",
]

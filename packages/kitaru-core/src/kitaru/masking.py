"""Hide secrets before anything is printed, stored in a spec, or put in a message.

One module decides what counts as secret and how it is hidden:

* :func:`is_secret_name`: a variable or field name that holds a secret
  (``KITARU_AUTH_TOKEN``, ``OPENAI_API_KEY``, ``client_secret``);
* :func:`mask_secret`: a secret value, keeping a short prefix to recognise it;
* :func:`mask_url`: the password in a URL's user-info;
* :func:`mask_value`: a value by its name (secret names, URLs with passwords);
* :func:`mask_environment`: every secret-named entry of an environment mapping;
* :func:`redact`: known secret values inside free text (an engine error that
  echoes the value it rejected).

Example::

    >>> mask_value("KITARU_AUTH_TOKEN", "kat_0123456789abcdefghijklmnop")
    'kat_0123***'
    >>> redact("bad key sk-12345", ["sk-12345"])
    'bad key ***'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
SECRET_NAME_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH")


def is_secret_name(name: str) -> bool:
    """Whether a variable or field name holds a secret (any case)."""
    upper = name.upper()
    return any(marker in upper for marker in SECRET_NAME_MARKERS)


def mask_secret(value: str) -> str:
    """Hide a secret, keeping a prefix long enough to recognise it.

    At most a third of the value is shown: the first 8 characters of a value
    of 24 or more characters, the first 6 of 18 to 23, otherwise nothing.

    Returns:
        ``prefix***`` or ``***``.
    """
    if len(value) >= 24:
        return value[:8] + MASK
    if len(value) >= 18:
        return value[:6] + MASK
    return MASK


def mask_url(url: str) -> str:
    """Hide the password in a URL's user-info (``mysql://user:***@host/db``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:{MASK}@{parts.hostname or ''}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mask_value(name: str, value: str) -> str:
    """Mask ``value`` if ``name`` says it is secret, and any password in a URL."""
    if is_secret_name(name):
        return mask_secret(value)
    if "://" in value:
        return mask_url(value)
    return value


def mask_environment(environment: Mapping[str, str] | None) -> dict[str, str] | None:
    """Replace the values of secret-named keys with ``***`` (whole values, no prefix).

    Args:
        environment: Environment variables, or ``None``.

    Returns:
        A copy with secret-named values masked, or ``None``.
    """
    if environment is None:
        return None
    return {key: MASK if is_secret_name(key) else value for key, value in environment.items()}


def redact(text: str, secrets: Iterable[object], *, min_length: int = 3) -> str:
    """Replace every occurrence of the known ``secrets`` in ``text`` with ``***``.

    Longer secrets are replaced first, so one that contains another is hidden
    whole. Values shorter than ``min_length`` are left alone: hiding ``"1"``
    everywhere would make the text unreadable and protects nothing.

    Args:
        text: A message that may echo secret values.
        secrets: The values to hide (non-strings are compared as ``str()``).
        min_length: The shortest value worth hiding.
    """
    values = {str(secret) for secret in secrets if secret is not None}
    for value in sorted((v for v in values if len(v) >= min_length), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


__all__ = [
    "MASK",
    "SECRET_NAME_MARKERS",
    "is_secret_name",
    "mask_environment",
    "mask_secret",
    "mask_url",
    "mask_value",
    "redact",
]

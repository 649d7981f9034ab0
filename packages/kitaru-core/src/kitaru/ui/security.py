"""What keeps the dashboard to its user: a per-process token for changes, and a Host check.

* **Token.** Every page carries a random token made when the dashboard
  starts. A request that changes something (any ``POST``) must send it back,
  as the form field ``csrf_token`` or the header ``X-Kitaru-Token``; another
  site open in the same browser cannot read it, so it cannot forge one.
* **Host check.** Served on loopback, the dashboard answers only requests
  addressed to ``127.0.0.1``, ``localhost`` or ``[::1]`` at its port, so a
  web page cannot reach it through a DNS name that resolves to 127.0.0.1
  (DNS rebinding).
* **Headers.** A content security policy lets pages load scripts and styles
  from the dashboard only and never be framed.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

TOKEN_FIELD = "csrf_token"
TOKEN_HEADER = "X-Kitaru-Token"

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def new_token() -> str:
    """A fresh random token for one dashboard process."""
    return secrets.token_urlsafe(32)


def token_matches(expected: str, given: str | None) -> bool:
    """Whether a request's token is the dashboard's (compared in constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def is_loopback(host: str) -> bool:
    """Whether a bind address is a loopback address (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The ``Host`` headers the dashboard answers; None means any (served beyond loopback with ``--host``)."""
    if not is_loopback(host):
        return None
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


__all__ = [
    "SECURITY_HEADERS",
    "TOKEN_FIELD",
    "TOKEN_HEADER",
    "allowed_hosts",
    "is_loopback",
    "new_token",
    "token_matches",
]

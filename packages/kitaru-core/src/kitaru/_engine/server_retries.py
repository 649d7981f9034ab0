"""Wait for a server that is briefly away: a time budget for the engine's REST requests.

The engine's REST store retries a request a fixed number of times (five
refused connections, ten 502/503/504 answers, with exponential backoff), so
a server restarting for a minute fails a flow halfway through with the HTTP
library's own error. Kitaru replaces that policy with a time budget:

* a refused connection, a dropped connection and the answers 408, 429, 502,
  503 and 504 are retried, with backoff from 0.5 s doubling up to
  :data:`BACKOFF_CAP` (or the server's ``Retry-After``), until the request has
  been failing for ``KITARU_SERVER_RETRY_SECONDS`` (default
  :data:`DEFAULT_BUDGET`);
* while it waits, ``Kitaru is waiting for the server at URL (12s)…`` goes to
  stderr, at most every :data:`NOTICE_EVERY` seconds per process;
* when the budget is spent it says so on stderr and raises
  :class:`ServerUnreachableError`, which names the server, says what failed
  and how to continue the execution.

A 500 is not retried: the engine's server answers 500 for bugs as well, and
repeating an arbitrary failed request is not safe. A server with Kitaru
installed answers 503 when it lost its database (see
:mod:`kitaru._engine.server_errors`), which is retried here.

Retrying a POST is as safe as the engine already makes it: each request
carries an ``Idempotency-Key`` that stays the same across retries, and the
engine's server answers a repeated key with the first answer.

Engine private API: the policy is the ``urllib3`` ``Retry`` the REST store
mounts on its ``requests`` session when it first builds it
(``RestZenStore.session``). :func:`install` replaces the name ``Retry`` in
``zenml.zen_stores.rest_zen_store`` with :class:`ServerRetry`, which accepts
the same arguments, so only the policy changes, never the store's code.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from types import TracebackType
from typing import Any, Self

from urllib3.util.retry import Retry

from kitaru.errors import KitaruBackendError
from kitaru.settings import KitaruSettings, settings

DEFAULT_BUDGET = 120.0
"""Seconds a request keeps being retried when ``KITARU_SERVER_RETRY_SECONDS`` is not set."""
BACKOFF_FACTOR = 0.5
BACKOFF_CAP = 10.0
"""The longest pause between two attempts, ``Retry-After`` included."""
NOTICE_EVERY = 5.0
"""Seconds between two "waiting for the server" lines of one process."""
RETRIED_STATUSES = frozenset({408, 429, 502, 503, 504})

FIRST_CONTACT_BUDGET = 5.0
"""The budget, and no "waiting" lines, while this process has not had a single answer from a server.

A server that never answered is more likely a wrong URL or a server that is
not running than one briefly away: ``kitaru status`` or ``secrets list``
against it fails within seconds with Kitaru's message, not after minutes."""

_notice_lock = threading.Lock()
_last_notice = 0.0
_answered = False
"""Whether any server answered this process (any HTTP status) since it started."""


class ServerUnreachableError(KitaruBackendError):
    """The engine's server did not answer within the retry budget.

    Attributes:
        server: The server's address (``http://host:port``).
        seconds: How long the request was retried.
    """

    def __init__(self, message: str, *, server: str, seconds: float) -> None:
        super().__init__(message)
        self.server = server
        self.seconds = seconds


def retry_budget() -> float:
    """Seconds to keep retrying one request (``KITARU_SERVER_RETRY_SECONDS``, 0 turns retries off).

    Raises:
        KitaruBackendError: If the variable is not a number of seconds.
    """
    raw = settings().server_retry_seconds
    if raw is None:
        return DEFAULT_BUDGET
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        variable = KitaruSettings.variable("server_retry_seconds")
        raise KitaruBackendError(f"Invalid {variable} value {raw!r}: use a number of seconds, such as 120.")
    return seconds


def _origin(pool: Any) -> str:
    if pool is None:
        return "the server"
    return f"{pool.scheme}://{pool.host}:{pool.port}" if pool.port else f"{pool.scheme}://{pool.host}"


class ServerRetry(Retry):
    """urllib3's retry policy with a time budget instead of counts (see the module docstring).

    Built by the engine with its own counts and status list; the counts are
    ignored and the statuses replaced by :data:`RETRIED_STATUSES`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["status_forcelist"] = RETRIED_STATUSES
        kwargs["backoff_factor"] = BACKOFF_FACTOR
        kwargs["backoff_max"] = BACKOFF_CAP
        super().__init__(*args, **kwargs)
        self.budget = retry_budget()
        self.started: float | None = None  # when this request first failed
        self.server = "the server"
        self.quiet = False  # first contact: no "waiting" lines

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.server = self.server
        if self.started is not None:
            retry.started, retry.budget, retry.quiet = self.started, self.budget, self.quiet
        else:  # the request's first failure: its budget starts now
            retry.started = time.monotonic()
            retry.budget = self.budget
            if not _answered:
                retry.budget, retry.quiet = min(retry.budget, FIRST_CONTACT_BUDGET), True
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Whether to repeat a request the server answered; any answer shows a server is there."""
        global _answered
        _answered = True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        """Count one failed attempt; raise :class:`ServerUnreachableError` once the budget is spent."""
        from urllib3.exceptions import MaxRetryError, ResponseError

        try:
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError as exc:
            if isinstance(exc.reason, ResponseError) and "redirect" in str(exc.reason):
                raise  # too many redirects: not an outage
            raise self._gave_up(_origin(_pool), exc.reason) from exc
        retry.server = _origin(_pool)
        return retry

    def is_exhausted(self) -> bool:
        if self.redirect is not None and self.redirect is not False and self.redirect < 0:
            return True
        return self.started is not None and time.monotonic() - self.started >= self.budget

    def sleep(self, response: Any = None) -> None:
        pause = self.get_backoff_time()
        if response is not None and self.respect_retry_after_header:
            pause = self.get_retry_after(response) or pause
        if self.started is not None:
            pause = min(pause, BACKOFF_CAP, max(0.0, self.started + self.budget - time.monotonic()))
            if pause > 0 and not self.quiet:
                _notice(self.server, time.monotonic() - self.started)
        if pause > 0:
            time.sleep(pause)

    def _gave_up(self, server: str, reason: Any) -> ServerUnreachableError:
        seconds = time.monotonic() - self.started if self.started is not None else 0.0
        what = _reason(reason)
        exec_id = _current_execution()
        if exec_id:
            then = f"continue the execution with `kitaru executions retry {exec_id}`"
        else:
            then = "run the command again (a failed execution continues with `kitaru executions retry ID`)"
        variable = KitaruSettings.variable("server_retry_seconds")
        if not self.quiet:
            _say(f"Kitaru gave up waiting for the server at {server} after {seconds:.0f}s ({what}).")
        return ServerUnreachableError(
            f"The server at {server} did not answer for {seconds:.0f}s ({what}). Once it is back, {then}. "
            f"{variable} sets how long Kitaru waits (now {self.budget:.0f}s).",
            server=server,
            seconds=seconds,
        )


def _reason(reason: Any) -> str:
    """A short reason: 'connection refused', 'HTTP 503' ..."""
    from urllib3.exceptions import NewConnectionError, ResponseError

    if isinstance(reason, ResponseError):
        code = re.search(r"\b\d{3}\b", str(reason))
        return f"it answered HTTP {code.group()}" if code else str(reason)
    if isinstance(reason, NewConnectionError):
        return "the connection was refused" if "refused" in str(reason).lower() else "no connection could be made"
    return type(reason).__name__ if reason is not None else "no answer"


def _current_execution() -> str | None:
    """The execution whose flow body runs in this thread, if any (no request is made)."""
    try:
        from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

        context = DynamicPipelineRunContext.get()
    except Exception:
        return None
    return str(context.run.id) if context is not None else None


def _notice(server: str, seconds: float) -> None:
    """Say on stderr that Kitaru is waiting, at most every :data:`NOTICE_EVERY` seconds."""
    global _last_notice
    with _notice_lock:
        now = time.monotonic()
        if now - _last_notice < NOTICE_EVERY:
            return
        _last_notice = now
    _say(f"Kitaru is waiting for the server at {server} ({seconds:.0f}s)…")


def _say(line: str) -> None:
    """Write a line to the process's real stderr (not a step's captured logs)."""
    try:
        sys.__stderr__.write(line + "\n")  # type: ignore[union-attr]
        sys.__stderr__.flush()  # type: ignore[union-attr]
    except (OSError, ValueError, AttributeError):
        pass  # no terminal left to tell


def install() -> None:
    """Make the engine's REST store use :class:`ServerRetry` for sessions it builds from now on."""
    from zenml.zen_stores import rest_zen_store

    # Engine private API: the module-level name RestZenStore.session builds its policy from.
    rest_zen_store.Retry = ServerRetry  # type: ignore[misc]


__all__ = [
    "BACKOFF_CAP",
    "FIRST_CONTACT_BUDGET",
    "DEFAULT_BUDGET",
    "RETRIED_STATUSES",
    "ServerRetry",
    "ServerUnreachableError",
    "install",
    "retry_budget",
]

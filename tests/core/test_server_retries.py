"""Kitaru's retry policy for the engine's REST requests, against a real refused port."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from kitaru._engine import server_retries
from kitaru._engine.server_retries import ServerRetry, ServerUnreachableError


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1/info"  # nothing listens there any more


def session() -> requests.Session:
    # Built as the engine's REST store builds its session, with its own retry counts.
    http = requests.Session()
    http.mount("http://", HTTPAdapter(max_retries=ServerRetry(connect=5, read=8, status=10, other=3, backoff_factor=1)))
    return http


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_retries, "_last_notice", 0.0)
    monkeypatch.setattr(server_retries, "_answered", True)  # a server answered before: it is briefly away


def test_a_refused_server_is_retried_for_the_budget_then_named(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KITARU_SERVER_RETRY_SECONDS", "1.5")
    url = refused_url()
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError) as caught:
        session().get(url)
    waited = time.monotonic() - started
    server = url.rsplit("/api", 1)[0]
    assert caught.value.server == server
    assert f"The server at {server} did not answer" in str(caught.value)
    assert "the connection was refused" in str(caught.value)
    assert "KITARU_SERVER_RETRY_SECONDS" in str(caught.value)
    assert waited >= 1.5  # it kept trying for the whole budget (the engine's counts would stop at 5 tries)
    err = capfd.readouterr().err
    assert f"Kitaru is waiting for the server at {server}" in err
    assert f"Kitaru gave up waiting for the server at {server}" in err


def test_a_server_that_never_answered_fails_fast_and_quietly(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A wrong URL or a server that is not running: Kitaru's message within seconds, no waiting lines."""
    monkeypatch.setattr(server_retries, "_answered", False)
    monkeypatch.setattr(server_retries, "FIRST_CONTACT_BUDGET", 0.5)
    monkeypatch.setenv("KITARU_SERVER_RETRY_SECONDS", "60")
    with pytest.raises(ServerUnreachableError) as caught:
        session().get(refused_url())
    assert caught.value.seconds < 60
    assert "Kitaru is waiting" not in capfd.readouterr().err


def test_a_bad_budget_is_refused_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_SERVER_RETRY_SECONDS", "soon")
    with pytest.raises(Exception, match="Invalid KITARU_SERVER_RETRY_SECONDS value 'soon'"):
        ServerRetry()

"""Login and logout errors that need no server: arguments, environment, extra, port.

These run in-process against the session's config dir (``tests/conftest.py``);
none of them starts a server or writes a login.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import pytest

import kitaru
from kitaru import KitaruBackendError, KitaruFeatureNotAvailableError, KitaruUsageError
from kitaru.cli.app import run as cli
from kitaru.config.paths import config_dir
from kitaru.connection import logout, start_local_server
from tests.server.conftest import free_port

INVALID_URL = "Invalid Kitaru server URL. Please use an http:// or https:// URL."


def _fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Run ``kitaru ARGS -o json`` in-process; return its JSON error."""
    assert cli([*args, "-o", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    return json.loads(captured.err[captured.err.index('{\n  "command"'):])["error"]


def test_remote_only_options_are_rejected_for_the_local_server(capsys: pytest.CaptureFixture[str]) -> None:
    error = _fails(["login", "--api-key", "SECRET-KEY-VALUE", "--refresh", "--no-verify-ssl"], capsys)
    assert error["type"] == "KitaruUsageError"
    assert error["message"].startswith("--api-key, --refresh, --no-verify-ssl only apply to a remote server.")
    assert "SECRET-KEY-VALUE" not in error["message"]
    single = _fails(["login", "--project", "p"], capsys)
    assert single["message"].startswith("--project only applies to a remote server.")


def test_port_is_rejected_for_a_remote_server(capsys: pytest.CaptureFixture[str]) -> None:
    error = _fails(["login", "https://kitaru.example.com", "--port", "9000"], capsys)
    assert error == {
        "message": "--port only applies to the local server. Put the port in the URL instead "
        "(`kitaru login https://host:PORT`).",
        "type": "KitaruUsageError",
    }


@pytest.mark.parametrize("server", ["example.com", "127.0.0.1:8080", "localhost", "ftp://host", "http://", " "])
def test_invalid_server_urls_are_rejected(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _fails(["login", server, "--api-key", "k"], capsys)["message"] == INVALID_URL
    with pytest.raises(KitaruUsageError, match="^Invalid Kitaru server URL"):
        kitaru.connect(server, api_key="k")


def test_login_and_logout_refuse_while_auth_variables_are_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KITARU_SERVER_URL", "https://kitaru.example.com")
    monkeypatch.setenv("KITARU_AUTH_TOKEN", "a-token-that-must-stay-secret")
    error = _fails(["login", "https://other.example.com", "--api-key", "k"], capsys)
    assert error["type"] == "KitaruUsageError"
    assert error["message"].startswith("Cannot log in while KITARU_SERVER_URL, KITARU_AUTH_TOKEN are set")
    assert "a-token-that-must-stay-secret" not in error["message"]
    assert _fails(["logout"], capsys)["message"].startswith("Cannot log out while KITARU_SERVER_URL")
    monkeypatch.delenv("KITARU_SERVER_URL")
    monkeypatch.delenv("KITARU_AUTH_TOKEN")
    monkeypatch.setenv("ZENML_STORE_API_KEY", "another-secret")
    with pytest.raises(KitaruUsageError, match="^Cannot log out while ZENML_STORE_API_KEY is set"):
        logout()


def test_missing_server_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if kitaru[server] were not installed
    error = _fails(["login"], capsys)
    assert error["type"] == "KitaruFeatureNotAvailableError"
    assert error["message"].endswith("Install it with: pip install 'kitaru[server]'")
    assert "fastapi" in error["message"]
    with pytest.raises(KitaruFeatureNotAvailableError, match=r"kitaru\[server\]"):
        start_local_server()


@pytest.mark.parametrize(("port", "timeout"), [(0, 60), (65536, 60), (8383, 0.5), (8383, 0)])
def test_invalid_port_or_timeout(port: int, timeout: float) -> None:
    with pytest.raises(KitaruUsageError, match="^Invalid (port|timeout)"):
        start_local_server(port, timeout)


def test_a_port_held_by_another_program_is_reported() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(KitaruBackendError, match=f"^Port {port} on 127.0.0.1 is already in use"):
            start_local_server(port)


def test_a_daemon_failure_names_the_server_log() -> None:
    # A file where the daemon's directory belongs makes the engine's deployer fail.
    blocker = config_dir() / "zen_server"
    blocker.write_text("not a directory")
    try:
        with pytest.raises(KitaruBackendError) as error:
            start_local_server(free_port(), timeout=5)
    finally:
        blocker.unlink()
    message = str(error.value)
    assert message.startswith("The local Kitaru server did not start on port ")
    assert f"See the server log at {config_dir() / 'zen_server' / 'daemon' / 'service.log'}" in message


def test_logout_without_any_login_is_a_no_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert logout() == {
        "mode": "none",
        "target": None,
        "local_fallback_available": True,
        "local_server_stopped": False,
    }
    assert cli(["logout"]) == 0
    assert capsys.readouterr().out.startswith("Not logged in to any Kitaru server.")


def test_status_reports_no_local_server() -> None:
    from kitaru.cli.status import collect_status, local_server_row

    status = collect_status()
    assert status["connection"] == "local" and status["local_server"] is None
    assert local_server_row(None) == ("Local server", "not started (`kitaru login` starts it)")

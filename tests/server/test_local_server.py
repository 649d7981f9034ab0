"""The local server: ``kitaru login`` starts it on loopback, reuses it, records flows."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Any

import psutil

from tests.server.conftest import FLOW_NAME, ServerSession, json_item


def test_login_starts_the_server_and_reports_progress(server: ServerSession) -> None:
    assert server.login == {"mode": "local", "url": server.url, "action": "started"}
    # In JSON mode, progress goes to stderr so stdout stays one JSON document.
    progress = server.login_stderr
    assert "Starting local Kitaru server..." in progress
    assert f"Server running at {server.url}" in progress
    assert f"Connected to local Kitaru server: {server.url}" in progress
    with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
        assert response.status == 200


def test_login_again_reuses_the_running_server(server: ServerSession) -> None:
    pid = server.daemon_pid()
    same_port = json_item(server.kitaru("login", "--port", str(server.port), "-o", "json"))
    assert same_port == {"mode": "local", "url": server.url, "action": "connected"}
    text = server.kitaru("login")
    assert text.returncode == 0, text.stderr
    assert f"Server already running at {server.url}" in text.stdout
    assert f"Connected to local Kitaru server: {server.url}" in text.stdout
    assert f"Dashboard: {server.url} (the engine's)" in text.stdout
    assert "Kitaru's dashboard: run `kitaru ui` and open http://127.0.0.1:8384" in text.stdout
    assert server.daemon_pid() == pid  # not restarted


def test_server_listens_on_loopback_only(server: ServerSession) -> None:
    pid = server.daemon_pid()
    assert pid is not None
    listening = [
        conn.laddr for conn in psutil.Process(pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert listening, "the daemon listens on nothing"
    assert {address.ip for address in listening} == {"127.0.0.1"}
    assert all(address.ip not in {"0.0.0.0", "::"} for address in listening)
    # And from any other address of this machine, the port is closed.
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.settimeout(2)
                    assert probe.connect_ex((address.address, server.port)) != 0, address.address


def test_status_shows_the_local_server(server: ServerSession) -> None:
    item = json_item(server.kitaru("status", "-o", "json"))
    assert item["connection"] == "server"
    assert item["server_url"] == server.url
    assert item["local_server"] == {
        "running": True,
        "url": server.url,
        "port": server.port,
        "connected": True,
        "log_file": str(server.config / "zen_server" / "daemon" / "service.log"),
    }
    assert item["active_user"] == "default"
    assert item["warnings"] == []


def test_flow_run_while_connected_is_recorded_by_the_server(
    server: ServerSession, recorded_execution: dict[str, Any]
) -> None:
    exec_id = recorded_execution["exec_id"]
    assert recorded_execution["result"] == "HELLO DASHBOARD"
    execution = json_item(server.kitaru("executions", "get", exec_id, "-o", "json"))
    assert execution["flow_name"] == FLOW_NAME
    assert execution["status"] == "completed"
    # Ask the server itself (the local server needs no credentials on loopback).
    with urllib.request.urlopen(f"{server.url}/api/v1/runs/{exec_id}", timeout=10) as response:
        run = json.load(response)
    assert run["id"] == exec_id
    assert run["body"]["status"] == "completed"
    # The client wrote it through the server's API, not into the database directly.
    log = (server.config / "zen_server" / "daemon" / "service.log").read_text()
    assert '"POST /api/v1/runs HTTP/1.1" 200' in log

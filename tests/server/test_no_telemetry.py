"""No telemetry: Kitaru's processes talk to loopback and the configured server, nothing else.

Every Python process started for this test (the CLI, a flow run, the local
server ``kitaru login`` starts, anything those start) imports a
``sitecustomize`` that installs an audit hook (PEP 578) recording each
``socket.connect`` and ``socket.getaddrinfo`` with the process id. The test
then runs a flow on the local default, logs in to a local server, runs a
flow through it, reads executions and logs out, and checks every recorded
destination. The engine's config file Kitaru wrote must say
``analytics_opt_in: false``.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path

import pytest
import yaml

from tests.server.conftest import FLOW_NAME, ServerSession, json_item

AUDIT_HOOK = """
import json, os, socket, sys

_LOG = os.environ.get("KITARU_TEST_NETWORK_LOG")


def _record(event, args):
    if event == "socket.connect":
        sock, address = args[0], args[1]
        entry = {"event": "connect", "family": int(sock.family), "address": address}
    elif event == "socket.getaddrinfo":
        entry = {"event": "getaddrinfo", "host": args[0], "port": args[1]}
    else:
        return
    entry["pid"] = os.getpid()
    entry["argv"] = " ".join(sys.argv)[:200]
    line = (json.dumps(entry, default=str) + "\\n").encode()
    descriptor = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


if _LOG:
    sys.addaudithook(_record)
"""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "ip6-localhost"})


def is_loopback_destination(entry: dict) -> bool:
    """Whether a recorded connection or lookup stays on this machine."""
    if entry["event"] == "getaddrinfo":
        host = entry["host"]
        if host is None:
            return True  # a lookup for a local bind
        if isinstance(host, bytes | bytearray):
            host = host.decode()
        if host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    if entry["family"] == socket.AF_UNIX:
        return True
    address = entry["address"]
    host = address[0] if isinstance(address, list | tuple) else str(address)
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in LOOPBACK_NAMES


@pytest.fixture
def audited(tmp_path: Path) -> tuple[ServerSession, dict[str, str], Path]:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK)
    log = tmp_path / "network.jsonl"
    env = {"PYTHONPATH": str(hooks), "KITARU_TEST_NETWORK_LOG": str(log)}
    (tmp_path / "session").mkdir()
    return ServerSession(tmp_path / "session"), env, log


def test_kitaru_processes_connect_to_loopback_and_the_server_only(
    audited: tuple[ServerSession, dict[str, str], Path],
) -> None:
    session, env, log = audited
    local = session.fresh_config("local-config")

    run = session.python("server_flow.py", "telemetry", config=local, **env)
    assert run.returncode == 0, run.stderr
    listed = session.kitaru("executions", "list", "-o", "json", config=local, **env)
    assert listed.returncode == 0, listed.stderr

    login = session.kitaru("login", "--port", str(session.port), "-o", "json", **env)
    try:
        assert json_item(login)["mode"] == "local"
        remote_run = session.python("server_flow.py", "telemetry", **env)
        assert remote_run.returncode == 0, remote_run.stderr
        listed_remote = session.kitaru("executions", "list", "--flow", FLOW_NAME, "-o", "json", **env)
        assert listed_remote.returncode == 0, listed_remote.stderr
        assert json.loads(listed_remote.stdout)["count"] == 1, "the flow run through the server is not listed"
    finally:
        logout = session.kitaru("logout", "-o", "json", timeout=120, **env)
    assert json_item(logout)["local_server_stopped"] is True

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    # The hook ran in the CLI, the flow runs and the server daemon: several processes.
    assert len({entry["pid"] for entry in entries}) >= 4, entries
    # The server was reached (the hook sees connections), and only loopback was.
    assert any(
        entry["event"] == "connect" and is_loopback_destination(entry) and entry["family"] != socket.AF_UNIX
        for entry in entries
    ), entries
    outside = [entry for entry in entries if not is_loopback_destination(entry)]
    assert outside == [], json.dumps(outside, indent=1)

    for config in (local, session.config):
        engine_config = yaml.safe_load((config / "config.yaml").read_text())
        assert engine_config["analytics_opt_in"] is False, config


def test_a_config_written_by_an_older_kitaru_is_turned_off(tmp_path: Path) -> None:
    session = ServerSession(tmp_path)
    config = session.fresh_config("old-config")
    # What older Kitaru releases left behind: the engine's default, on.
    (config / "config.yaml").write_text("analytics_opt_in: true\nuser_id: 0b7c8f6e-58c9-4e44-9d52-3b7d1f1f7a10\n")
    run = session.python("server_flow.py", "telemetry", config=config)
    assert run.returncode == 0, run.stderr
    engine_config = yaml.safe_load((config / "config.yaml").read_text())
    assert engine_config["analytics_opt_in"] is False
    assert engine_config["user_id"] == "0b7c8f6e-58c9-4e44-9d52-3b7d1f1f7a10"  # the rest is kept


def test_opting_in_is_respected(tmp_path: Path) -> None:
    session = ServerSession(tmp_path)
    config = session.fresh_config("opted-in")
    # Analytics endpoints are unreachable here; the run must still succeed.
    run = session.python("server_flow.py", "telemetry", config=config, KITARU_ANALYTICS_OPT_IN="true")
    assert run.returncode == 0, run.stderr
    assert yaml.safe_load((config / "config.yaml").read_text())["analytics_opt_in"] is True

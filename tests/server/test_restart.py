"""An explicit different port restarts the local server there.

This module moves the session's server to a new port (``ServerSession.port``
follows), so it sorts after the others in this directory.
"""

from __future__ import annotations

import json
import socket
import urllib.request

from tests.server.conftest import ServerSession, free_port, json_item


def test_an_explicit_new_port_restarts_the_server(server: ServerSession) -> None:
    old_url = server.url
    new_port = free_port()
    result = server.kitaru("login", "--port", str(new_port), "-o", "json")
    item = json_item(result)
    server.port = new_port
    assert item == {"mode": "local", "url": f"http://127.0.0.1:{new_port}", "action": "restarted"}
    assert f"Restarting local Kitaru server on port {new_port}..." in result.stderr

    old_port = int(old_url.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", old_port)) != 0, "the old port still answers"
    with urllib.request.urlopen(f"{server.url}/api/v1/runs?size=1", timeout=10) as response:
        assert json.load(response)["index"] == 1

    status = json_item(server.kitaru("status", "-o", "json"))
    assert status["server_url"] == server.url
    assert status["local_server"]["port"] == new_port
    assert status["local_server"]["connected"] is True

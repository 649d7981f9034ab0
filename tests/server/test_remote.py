"""Remote connection for real: the session's server treated as a remote one.

An administrator (the server's own config dir) creates a service account and
an API key through the engine; a user with a brand-new config dir logs in
with ``kitaru login URL --api-key``, runs a flow and reads it back with
``KitaruClient``, and ``kitaru.connect()`` is exercised the same way. A wrong
key is refused and leaves the config dir exactly as it was. The key never
appears in any output, JSON or log.
"""

from __future__ import annotations

import base64
import json
import stat
import uuid

import pytest

from tests.server.conftest import FLOW_NAME, ServerSession, config_snapshot, json_error, json_item

CREATE_KEY = """
import sys
from kitaru.connection.environment import load_engine

load_engine()
from zenml.client import Client

client = Client()
account = client.create_service_account(name=sys.argv[1])
print(client.create_api_key(service_account_name_id_or_prefix=account.id, name="tests").key)
"""

CONNECT_AND_RUN = """
import json, os, sys
from pathlib import Path

import kitaru
from kitaru import KitaruBackendError, KitaruUsageError, KitaruClient

url, config = sys.argv[1], Path(os.environ["KITARU_CONFIG_PATH"])
files = lambda: {p: p.read_bytes() for p in sorted(config.rglob("*")) if p.is_file()}
report = {}
before = files()
try:
    kitaru.connect(url, api_key=os.environ["TEST_WRONG_KEY"])
except KitaruBackendError as exc:
    report["wrong_key"] = str(exc)
report["wrong_key_wrote_nothing"] = files() == before
try:
    kitaru.connect("127.0.0.1:8080", api_key=os.environ["TEST_API_KEY"])
except KitaruUsageError as exc:
    report["bad_url"] = str(exc)
kitaru.connect(url + "/", api_key=os.environ["TEST_API_KEY"])

from server_flow import server_hello

handle = server_hello.run("remote")
report["result"] = handle.wait()
execution = KitaruClient().executions.get(handle.exec_id)
report["exec_id"] = handle.exec_id
report["flow_name"] = execution.flow_name
report["status"] = str(execution.status.value)
print(json.dumps(report))
"""


def _wrong_key(key: str) -> str:
    """The same key id with a different secret: well-formed, but not valid."""
    payload = json.loads(base64.b64decode(key.removeprefix("ZENKEY_")))
    payload["key"] = "0" * len(payload["key"])
    return "ZENKEY_" + base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.fixture(scope="module")
def api_key(server: ServerSession) -> str:
    """A service account's API key, created by the server's administrator."""
    script = server.project / "create_key.py"
    script.write_text(CREATE_KEY)
    result = server.python(script.name, f"kitaru-tests-{uuid.uuid4().hex[:8]}")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("ZENKEY_")
    return key


def _assert_secret_free(key: str, *texts: str) -> None:
    for text in texts:
        assert key not in text
        assert key[len("ZENKEY_"):][:24] not in text


def test_wrong_key_is_refused_and_nothing_is_written(server: ServerSession, api_key: str) -> None:
    fresh = server.fresh_config("wrong-key-config")
    wrong = _wrong_key(api_key)
    result = server.kitaru("login", server.url, "--api-key", wrong, "-o", "json", config=fresh)
    error = json_error(result)
    assert error["type"] == "KitaruBackendError"
    assert error["message"].startswith(f"The Kitaru server at {server.url} refused the API key (HTTP 401)")
    assert "Nothing was saved" in error["message"]
    assert config_snapshot(fresh) == {}  # not even the local database was created
    _assert_secret_free(wrong, result.stdout, result.stderr)


def test_login_with_api_key_runs_a_flow_and_reads_it_back(server: ServerSession, api_key: str) -> None:
    fresh = server.fresh_config("remote-config")
    # --api-key - reads the key from stdin: it stays out of the process list.
    login = server.kitaru("login", server.url, "--api-key", "-", "-o", "json", config=fresh,
                          stdin=api_key + "\n")
    assert json_item(login) == {"mode": "remote", "url": server.url, "project": "default"}
    credentials = fresh / "credentials.yaml"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert api_key not in (fresh / "config.yaml").read_text()

    script = server.project / "connect_and_run.py"
    script.write_text(CONNECT_AND_RUN)
    run = server.python(script.name, server.url, config=fresh,
                        TEST_API_KEY=api_key, TEST_WRONG_KEY=_wrong_key(api_key))
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert "refused the API key" in report["wrong_key"]
    assert report["wrong_key_wrote_nothing"] is True
    assert report["bad_url"] == "Invalid Kitaru server URL. Please use an http:// or https:// URL."
    assert report["result"] == "HELLO REMOTE"
    assert (report["flow_name"], report["status"]) == (FLOW_NAME, "completed")

    # The administrator sees the execution on the server.
    shown = json_item(server.kitaru("executions", "get", report["exec_id"], "-o", "json"))
    assert shown["flow_name"] == FLOW_NAME

    status = server.kitaru("status", "-o", "json", config=fresh)
    item = json_item(status)
    assert (item["connection"], item["server_url"], item["local_server"]) == ("server", server.url, None)

    logout = server.kitaru("logout", "-o", "json", config=fresh)
    assert json_item(logout) == {
        "mode": "remote",
        "target": server.url,
        "local_fallback_available": True,
        "local_server_stopped": False,
    }
    assert api_key not in credentials.read_text()
    again = json_item(server.kitaru("logout", "-o", "json", config=fresh))
    assert again["mode"] == "none" and again["target"] is None

    server_log = (server.config / "zen_server" / "daemon" / "service.log").read_text()
    _assert_secret_free(api_key, login.stdout, login.stderr, run.stdout, run.stderr,
                        status.stdout, status.stderr, logout.stdout, logout.stderr, server_log)


def test_fresh_config_stays_untouched_when_the_server_is_unreachable(
    server: ServerSession, api_key: str
) -> None:
    fresh = server.fresh_config("unreachable-config")
    result = server.kitaru("login", "http://127.0.0.1:9", "--api-key", api_key, config=fresh)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Cannot reach the Kitaru server at http://127.0.0.1:9: ")
    assert config_snapshot(fresh) == {}
    _assert_secret_free(api_key, result.stdout, result.stderr)

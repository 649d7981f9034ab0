"""A dead client is detected from other machines by its heartbeat (issue 19, defect 4).

Two clients share one store (a SQLite file named by ``ZENML_STORE_URL``, and
one directory for the local artifact store, as a team shares a bucket), each
with its own config dir, so the owner's lock file is out of the other
client's reach, as it is for a teammate on another machine. The owner runs in
its own UTS namespace (``unshare --uts``) with another host name, so readers
judge it by its heartbeat, not by its pid. The flow (``five_steps.py``)
blocks in ``s2`` while a file exists in the owner's state dir.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kitaru.client import KitaruClient
from kitaru.errors import KitaruStateError, KitaruUsageError
from kitaru.execution import ownership
from tests.lifecycle.conftest import Lab, kill9

OWNER_HOST = "pod-a"
LONG_HOST = "research-agent-worker-deployment-7d9f8b6c5-x2x9q.eu-west-1.internal"[:63]
"""A pod's long host name: the crash reason then exceeds the engine's 255-character status reason."""
UNKNOWN_ID = "0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a"


def _unshare_prefix() -> list[str] | None:
    """The command prefix that runs a process under another host name, or None if this machine cannot."""
    for prefix in (["unshare", "--uts"], ["unshare", "--map-root-user", "--uts"]):
        try:
            probe = subprocess.run([*prefix, "hostname", "probe"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


class Client(Lab):
    """One teammate's client: its own config, flows and state dirs, on the team's shared store."""

    def __init__(self, root: Path, store: Path, **env: str) -> None:
        root.mkdir()
        super().__init__(root)
        self.store = store
        self.extra = env

    def env(self) -> dict[str, str]:
        shared = {
            "ZENML_STORE_URL": f"sqlite:///{self.store / 'kitaru.db'}",
            "ZENML_LOCAL_STORES_PATH": str(self.store),
        }
        return {**super().env(), **shared, **self.extra}

    def start_elsewhere(self, prefix: list[str], host: str) -> subprocess.Popen[str]:
        """Start the flow as a process on ``host`` (its own UTS namespace); it blocks in ``s2``."""
        self.flag("hang_s2")
        command = [*prefix, "sh", "-c", 'hostname "$0" && exec "$@"', host, sys.executable, "five_steps.py", "0"]
        return subprocess.Popen(
            command, cwd=self.project, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def started(self, process: subprocess.Popen[str]) -> str:
        """Wait until the flow blocks in ``s2``; its execution id."""
        try:
            self.wait_for("started_s2", timeout=90)
        except AssertionError:
            process.kill()
            raise AssertionError(process.communicate(timeout=30)[0]) from None
        return self.latest_exec_id()


@pytest.fixture(scope="module")
def elsewhere() -> list[str]:
    prefix = _unshare_prefix()
    if prefix is None:
        pytest.skip("this machine cannot run a process under another host name (unshare --uts)")
    return prefix


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for every test here (its first use creates the database, once)."""
    return tmp_path_factory.mktemp("team-store")


@pytest.fixture
def team(tmp_path: Path, store: Path) -> Callable[..., Client]:
    def client(name: str, **env: str) -> Client:
        return Client(tmp_path / name, store, **env)

    return client


@pytest.fixture
def owner_process() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            kill9(process)


def _poll(
    read: Callable[[], dict[str, Any]], until: Callable[[dict[str, Any]], bool], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value):
            return value
        assert time.monotonic() < deadline, value
        time.sleep(0.2)


def _item(stdout: str) -> dict[str, Any]:
    """The JSON item a command printed after its progress lines."""
    return json.loads(stdout[stdout.index("\n{") + 1 :] if not stdout.startswith("{") else stdout)["item"]


def _error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    return " ".join(result.stderr.split())


def test_a_killed_owner_elsewhere_is_shown_refused_then_forced(
    team: Callable[..., Client], elsewhere: list[str], owner_process: list[subprocess.Popen[str]]
) -> None:
    owner = team("owner", KITARU_HEARTBEAT_TIMEOUT="300")
    reader = team("reader", KITARU_HEARTBEAT_TIMEOUT="1")  # the owner's declared 300 s is what counts
    process = owner.start_elsewhere(elsewhere, OWNER_HOST)
    owner_process.append(process)
    exec_id = owner.started(process)
    kill9(process)
    killed = time.monotonic()

    # Silent for longer than the reader's own timeout, still within the owner's: running.
    shown = _poll(lambda: reader.execution(exec_id), lambda item: item["owner"]["last_seen_seconds"] >= 1, 20)
    assert shown["status"] == "running"
    assert shown["owner"]["host"] == OWNER_HOST and shown["owner"]["pid"] == process.pid
    assert shown["owner"]["timeout_seconds"] == 300
    assert 1 <= shown["owner"]["last_seen_seconds"] <= time.monotonic() - killed + 15
    text = reader.kitaru("executions", "get", exec_id)
    assert text.returncode == 0, text.stderr
    flat = " ".join(text.stdout.replace("│", " ").split())
    assert f"Owner pid {process.pid} on host {OWNER_HOST}, last seen " in flat
    assert "s ago (judged dead after 300s without a heartbeat)" in flat

    refused = _error(reader.kitaru("executions", "retry", exec_id))
    assert (
        f"Execution {exec_id} is running: its owner (pid {process.pid} on host {OWNER_HOST}) was last seen" in refused
    )
    assert "counts as dead after 300s without a heartbeat. It will be judged dead in about" in refused
    assert f"`kitaru executions retry {exec_id} --force-owner-dead`" in refused

    forced = reader.kitaru("executions", "retry", exec_id, "--force-owner-dead", "-o", "json")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    warning = " ".join(forced.stderr.split())
    assert f"Warning: declaring the owner of execution {exec_id} (pid {process.pid} on host {OWNER_HOST}" in warning
    assert "dead before its heartbeat timeout (300s)" in warning and "a checkpoint may run twice" in warning
    after = _item(forced.stdout)
    assert after["status"] == "completed" and after["owner"] is None
    s2 = next(call for call in after["checkpoints"] if call["name"] == "s2")
    assert [attempt["status"] for attempt in s2["attempts"]] == ["failed", "completed"]
    assert "was declared dead with --force-owner-dead" in s2["attempts"][0]["failure"]["message"]
    assert owner.ran() == ["s1", "s2"] and reader.ran() == ["s2", "s3", "s4", "s5"]

    # Forcing a finished execution is refused and changes nothing.
    again = _error(reader.kitaru("executions", "retry", exec_id, "--force-owner-dead", "-o", "json"))
    assert json.loads(again)["error"]["message"] == (
        f"Only failed executions can be retried. Execution {exec_id} is completed."
    )
    assert reader.execution(exec_id) == after


def test_readers_judge_an_owner_by_the_timeout_it_declared(
    team: Callable[..., Client], elsewhere: list[str], owner_process: list[subprocess.Popen[str]]
) -> None:
    owner = team("owner", KITARU_HEARTBEAT_TIMEOUT="4")  # it beats every 1.33 s
    reader = team("reader", KITARU_HEARTBEAT_TIMEOUT="3600")
    process = owner.start_elsewhere(elsewhere, LONG_HOST)
    owner_process.append(process)
    exec_id = owner.started(process)

    # Alive, it is never judged dead, however short its timeout.
    alive_until = time.monotonic() + 5
    while time.monotonic() < alive_until:
        item = reader.execution(exec_id)
        assert item["status"] == "running", item
        assert item["owner"]["timeout_seconds"] == 4 and item["owner"]["last_seen_seconds"] < 4
    kill9(process)
    killed = time.monotonic()
    failed = _poll(lambda: reader.execution(exec_id), lambda item: item["status"] == "failed", 30)
    assert time.monotonic() - killed < 30  # 4 s (its own timeout) and a read, not the reader's hour
    assert failed["failure"]["origin"] == "runtime"
    assert f"(pid {process.pid} on host {LONG_HOST}) stopped sending heartbeats" in failed["failure"]["message"]
    assert "(its timeout: 4s)" in failed["failure"]["message"]


def test_an_owner_declared_dead_that_comes_back_stops_without_writing(
    team: Callable[..., Client], elsewhere: list[str], owner_process: list[subprocess.Popen[str]]
) -> None:
    owner = team("owner", KITARU_HEARTBEAT_TIMEOUT="300")  # it beats every 10 s
    reader = team("reader")
    process = owner.start_elsewhere(elsewhere, OWNER_HOST)
    owner_process.append(process)
    exec_id = owner.started(process)
    os.kill(process.pid, signal.SIGSTOP)  # frozen: a machine cut off by the network

    forced = reader.kitaru("executions", "retry", exec_id, "--force-owner-dead", "-o", "json")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Warning: declaring the owner" in forced.stderr
    done = _item(forced.stdout)
    assert done["status"] == "completed"

    os.kill(process.pid, signal.SIGCONT)  # back, still inside s2
    output, _ = process.communicate(timeout=30)  # its next heartbeat finds the takeover
    assert process.returncode == ownership.LOST_CLAIM_EXIT_CODE, output
    assert f"Kitaru: execution {exec_id} was taken over by pid " in output
    assert "declared dead, so it stops now without writing anything more" in output
    assert reader.execution(exec_id) == done
    assert owner.ran() == ["s1", "s2"]


def test_forcing_an_unknown_execution_is_refused() -> None:
    with pytest.raises(KitaruStateError, match=f"Execution '{UNKNOWN_ID}' was not found"):
        KitaruClient().executions.retry(UNKNOWN_ID, force_owner_dead=True)


# -- the owner record, read in this process ------------------------------------


def _metadata(*, declared: float | None, silent: float) -> dict[str, Any]:
    record: dict[str, Any] = {"host": "pod-7", "pid": 42, ownership.RELEASED: False, "claim": "c0ffee"}
    if declared is not None:
        record["timeout"] = declared
    beat = datetime.now(timezone.utc) - timedelta(seconds=silent)
    return {ownership.OWNER_KEY: record, ownership.HEARTBEAT_KEY: beat.isoformat()}


def test_the_declared_timeout_wins_over_the_readers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    exec_id = "66666666-6666-6666-6666-666666666666"
    monkeypatch.setenv("KITARU_HEARTBEAT_TIMEOUT", "3600")
    dead, why = ownership.owner_is_dead(exec_id, _metadata(declared=5, silent=10))
    assert dead and "(its timeout: 5s)" in why
    monkeypatch.setenv("KITARU_HEARTBEAT_TIMEOUT", "1")
    assert ownership.owner_is_dead(exec_id, _metadata(declared=600, silent=100)) == (False, "")
    # A record from before owners declared their timeout: the reader's own.
    assert ownership.owner_is_dead(exec_id, _metadata(declared=None, silent=100))[0] is True
    info = ownership.owner_info(_metadata(declared=600, silent=100))
    assert info is not None and info.timeout_seconds == 600 and 100 <= info.last_seen_seconds < 110


def test_defaults_and_a_bad_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KITARU_HEARTBEAT_TIMEOUT", raising=False)
    assert ownership.heartbeat_timeout() == 60
    assert ownership.heartbeat_interval() == 10
    assert ownership.owner_record()["timeout"] == 60
    for bad in ("soon", "0", "-5", "nan"):
        monkeypatch.setenv("KITARU_HEARTBEAT_TIMEOUT", bad)
        with pytest.raises(KitaruUsageError, match=r"Invalid KITARU_HEARTBEAT_TIMEOUT value .*above 0"):
            ownership.heartbeat_timeout()

"""Owner liveness: the run lock on this machine, heartbeats for other machines."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kitaru.execution import ownership


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path))
    return tmp_path


def _hold_lock(exec_id: str, ready, config: str) -> None:  # runs in a child process
    os.environ["KITARU_CONFIG_PATH"] = config
    lock = ownership.RunLock(exec_id)
    assert lock.acquire()
    ready.set()
    signal.pause()


def test_lock_held_by_a_live_process_then_dropped_by_sigkill(config_dir: Path) -> None:
    exec_id = "11111111-1111-1111-1111-111111111111"
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_lock, args=(exec_id, ready, str(config_dir)))
    child.start()
    assert ready.wait(30)
    metadata = {ownership.OWNER_KEY: {"host": socket.gethostname(), "pid": child.pid}}
    assert ownership.local_owner_alive(exec_id) is True
    assert ownership.owner_is_dead(exec_id, metadata) == (False, "")
    assert not ownership.RunLock(exec_id).acquire()  # a second runner is refused

    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    dead, why = ownership.owner_is_dead(exec_id, metadata)
    assert dead
    assert f"pid {child.pid}" in why and "died" in why


def _metadata(host: str, silent_for: timedelta) -> dict:
    beat = datetime.now(timezone.utc) - silent_for
    return {ownership.OWNER_KEY: {"host": host, "pid": 42}, ownership.HEARTBEAT_KEY: beat.isoformat()}


def test_owner_on_another_machine_is_judged_by_its_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    exec_id = "22222222-2222-2222-2222-222222222222"
    monkeypatch.setenv("KITARU_HEARTBEAT_TIMEOUT", "120")
    assert ownership.owner_is_dead(exec_id, _metadata("pod-7", timedelta(seconds=30)))[0] is False
    dead, why = ownership.owner_is_dead(exec_id, _metadata("pod-7", timedelta(seconds=600)))
    assert dead
    assert "pod-7" in why and "heartbeats" in why


def test_runs_without_an_owner_are_never_declared_dead() -> None:
    assert ownership.owner_is_dead("33333333-3333-3333-3333-333333333333", {}) == (False, "")

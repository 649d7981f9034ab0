"""A launcher blocked in ``handle.wait()`` is not the owner of a resumed execution (issue 12, item 2).

The launcher runs ``draft()``, reads ``ORIG_ONLY`` (set only in its own
environment) and pauses at ``kitaru.wait``. Another shell answers the wait
and resumes; the resumed body raises ``KeyError: 'ORIG_ONLY'``. That failure,
not "execution process died", is what the store records and what the
launcher's ``wait()`` raises, although the launcher stays alive throughout and
the paused execution's last heartbeat is long stale.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kitaru.execution import ownership
from tests.conftest import subprocess_env
from tests.lifecycle.conftest import HERE, KITARU, Lab

HEARTBEAT_TIMEOUT = 2.0


def _env(lab: Lab, **extra: str) -> dict[str, str]:
    return subprocess_env(
        lab.config,
        LIFECYCLE_DIR=str(lab.state),
        KITARU_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        KITARU_WAIT_POLL_INTERVAL="0.2",
        **extra,
    )


def _kitaru(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KITARU), *args], cwd=lab.root, env=_env(lab), capture_output=True, text=True, timeout=180
    )


def _probe(lab: Lab, exec_id: str, *options: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "outcome_flows.py", "probe", exec_id, *options],
        cwd=lab.project,
        env=_env(lab),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_resumer_owns_the_execution_and_the_launcher_sees_the_real_failure(lab: Lab) -> None:
    shutil.copy(HERE / "outcome_flows.py", lab.project / "outcome_flows.py")
    launcher = subprocess.Popen(
        [sys.executable, "outcome_flows.py", "paused"],
        cwd=lab.project,
        env=_env(lab, ORIG_ONLY="-launcher"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lab.wait_for("launched")  # run() returned: the body paused at the wait
        exec_id = (lab.state / "launched").read_text()

        # Its heartbeat goes stale while it waits for input (the issue saw it
        # 11 minutes after the pause with the default timeout).
        paused = _probe(lab, exec_id)
        assert paused["status"] == "paused"
        deadline = time.monotonic() + 60
        while datetime.now(timezone.utc) - datetime.fromisoformat(paused["heartbeat"]) < timedelta(
            seconds=HEARTBEAT_TIMEOUT + 1
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)

        # While a resumer takes over, readers here and on another host keep
        # it alive: the launcher (alive, blocked in wait()) is not judged.
        taken_over = _probe(lab, exec_id, "resuming")
        assert taken_over["judged"] == {"here": "resuming", "elsewhere": "resuming"}, taken_over
        assert launcher.poll() is None
        # A paused execution has no running owner.
        assert taken_over["owner"]["pid"] == launcher.pid and taken_over["owner"]["released"] is True

        answered = _kitaru(lab, "executions", "input", exec_id, "--value", '{"ok": true}')
        assert answered.returncode == 0, answered.stdout + answered.stderr
        resumed = _kitaru(lab, "executions", "resume", exec_id)
        assert resumed.returncode == 1, resumed.stdout + resumed.stderr
        assert "KeyError: 'ORIG_ONLY'" in resumed.stdout
        assert "died" not in resumed.stdout + resumed.stderr

        output, _ = launcher.communicate(timeout=180)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate(timeout=30)
    assert launcher.returncode == 1, output
    outcome = json.loads((lab.state / "outcome.json").read_text())
    assert outcome["type"] == "KitaruUserCodeError", outcome
    assert outcome["origin"] == "user_code"
    assert "KeyError: 'ORIG_ONLY'" in outcome["message"]
    assert "died" not in outcome["message"]

    execution = json.loads(_kitaru(lab, "executions", "get", exec_id, "-o", "json").stdout)["item"]
    assert execution["status"] == "failed"
    assert execution["failure"]["origin"] == "user_code"
    assert execution["failure"]["exception_type"] == "KeyError"

    # The resumer took ownership (lock, owner record, heartbeat).
    owner = _probe(lab, exec_id)["owner"]
    assert owner["pid"] != launcher.pid
    assert owner["released"] is False


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path))
    return tmp_path


def test_a_live_pid_on_this_host_is_never_called_dead(config_dir: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        exec_id = "44444444-4444-4444-4444-444444444444"
        ownership.lock_path(exec_id).parent.mkdir(parents=True)
        ownership.lock_path(exec_id).touch()  # a lock file nobody holds
        stale = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        metadata = {
            ownership.OWNER_KEY: {"host": socket.gethostname(), "pid": sleeper.pid},
            ownership.HEARTBEAT_KEY: stale,
        }
        assert ownership.owner_is_dead(exec_id, metadata) == (False, "")
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    dead, why = ownership.owner_is_dead(exec_id, metadata)
    assert dead and f"pid {sleeper.pid}" in why


def test_a_released_owner_is_never_dead(config_dir: Path) -> None:
    stale = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    metadata = {
        ownership.OWNER_KEY: {"host": "pod-7", "pid": 42, ownership.RELEASED: True},
        ownership.HEARTBEAT_KEY: stale,
    }
    assert ownership.owner_is_dead("55555555-5555-5555-5555-555555555555", metadata) == (False, "")


def test_heartbeats_come_well_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_HEARTBEAT_TIMEOUT", "5")
    assert ownership.heartbeat_interval() <= 5 / 3
    monkeypatch.delenv("KITARU_HEARTBEAT_TIMEOUT")
    assert ownership.heartbeat_interval() == ownership.HEARTBEAT_INTERVAL
    assert os.getpid() > 0

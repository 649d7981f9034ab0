"""Helpers for lifecycle tests: flows in child processes, the CLI, counters."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")


class Lab:
    """A scratch dir with its own Kitaru config and a copy of the test flows."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir()
        self.config = root / "config"
        self.config.mkdir()
        self.project = root / "project"
        self.project.mkdir()
        shutil.copy(HERE / "five_steps.py", self.project / "five_steps.py")

    def env(self) -> dict[str, str]:
        return subprocess_env(self.config, LIFECYCLE_DIR=str(self.state))

    def flag(self, name: str, on: bool = True) -> None:
        path = self.state / name
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def start_flow(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "five_steps.py", *args], cwd=self.project, env=self.env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def run_flow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "five_steps.py", *args], cwd=self.project, env=self.env(),
            capture_output=True, text=True, timeout=timeout,
        )

    def kitaru(self, *args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run the real ``kitaru`` CLI (by default from a directory unrelated to the flow)."""
        return subprocess.run(
            [str(KITARU), *args], cwd=cwd or self.root, env=self.env(),
            capture_output=True, text=True, timeout=timeout,
        )

    def wait_for(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not (self.state / name).exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {name}")
            time.sleep(0.05)

    def ran(self) -> list[str]:
        path = self.state / "ran"
        return path.read_text().split() if path.exists() else []

    def latest_exec_id(self) -> str:
        listed = self.kitaru("executions", "list", "--limit", "1", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        return json.loads(listed.stdout)["items"][0]["exec_id"]

    def execution(self, exec_id: str) -> dict:
        shown = self.kitaru("executions", "get", exec_id, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)["item"]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def kill9(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


HOLD_CLAIM = """
import sys, time
from pathlib import Path
from kitaru.execution import ownership
exec_id, state = sys.argv[1], Path(sys.argv[2])
assert ownership.claim(exec_id)
(state / "claimed").touch()
while not (state / "release").exists():
    time.sleep(0.05)
ownership.release_run_lock(exec_id)
"""
"""``python -c HOLD_CLAIM EXEC_ID DIR``: hold the execution's claim (as a process continuing it does) until
``DIR/release`` exists; ``DIR/claimed`` says it holds it."""

"""The warm helper (``kitaru.cli.warm``): read commands answered by a process with the engine loaded.

Every test drives the real ``kitaru`` console script in a fresh config dir:
the first read command runs in-process and leaves a helper behind; later ones
are answered by a fork of it. ``kitaru info`` says which one answered.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, subprocess_env

KITARU = REPO_ROOT / ".venv" / "bin" / "kitaru"
IN_PROCESS = "import sys; from kitaru.cli import main; main(sys.argv[1:])"
"""The same CLI, called with its arguments: never routed to a helper (the reference)."""

pytestmark = pytest.mark.slow

FLOW = textwrap.dedent(
    """
    import sys
    import kitaru

    @kitaru.checkpoint
    def double(n: int) -> int:
        print(f"doubling {n}")
        return n * 2

    @kitaru.flow
    def twice(n: int) -> int:
        return double(double(n))

    if __name__ == "__main__":
        handle = twice.run(int(sys.argv[1]))
        print("EXEC", handle.exec_id, handle.wait())
    """
)


class Cli:
    """Run ``kitaru`` the way a user does, from one project directory and config dir."""

    def __init__(self, project: Path, config: Path) -> None:
        self.project = project
        self.env = subprocess_env(config, COLUMNS="200")

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KITARU), *args], cwd=self.project, env={**self.env, **env}, capture_output=True, text=True,
            timeout=300,
        )

    def in_process(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", IN_PROCESS, *args], cwd=self.project, env=self.env, capture_output=True,
            text=True, timeout=300,
        )

    def run_flow(self, n: int) -> str:
        result = subprocess.run(
            [sys.executable, "twice.py", str(n)], cwd=self.project, env=self.env, capture_output=True, text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.split("EXEC ")[1].split()[0]

    def answered_by(self, **env: str) -> int | None:
        """The helper pid that answered ``kitaru info``, or None when it ran in-process."""
        result = self("info", "-o", "json", **env)
        assert result.returncode == 0, result.stderr
        said = json.loads(result.stdout)["item"]["system"]["cli_helper"]
        match = re.search(r"answered this command \(pid (\d+)", said)
        return int(match.group(1)) if match else None


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "kitaru-helper"
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cli(tmp_path: Path, fresh_config_dir: Path) -> Cli:
    project = tmp_path / "project"
    project.mkdir()
    (project / "twice.py").write_text(FLOW)
    return Cli(project, fresh_config_dir)


@pytest.fixture
def warm(cli: Cli) -> int:
    """A project with one execution and a running helper; returns the helper's pid."""
    cli.run_flow(3)
    assert cli.answered_by() is None, "the first read command runs in-process"
    pid = cli.answered_by()
    assert pid is not None, "the second read command is answered by the helper the first one left"
    return pid


def test_answers_are_byte_for_byte_those_of_the_in_process_cli(cli: Cli, warm: int) -> None:
    exec_id = json.loads(cli("executions", "list", "-o", "json").stdout)["items"][0]["exec_id"]
    commands = [
        ("status",),
        ("status", "-o", "json"),
        ("executions", "list"),
        ("executions", "list", "-o", "json"),
        ("executions", "get", exec_id),
        ("executions", "get", exec_id, "-o", "json"),
        ("executions", "logs", exec_id),
        ("executions", "logs", exec_id, "-o", "json"),
        ("stack", "list"),
        ("stack", "show", "default", "-o", "json"),
        ("secrets", "list", "-o", "json"),
        # Errors: the message, the stream and the exit code are the same too.
        ("executions", "get", "no-such-execution"),
        ("executions", "get", "no-such-execution", "-o", "json"),
        ("executions", "list", "--status", "sideways"),
        ("executions", "logs", exec_id, "--checkpoint"),
    ]
    for args in commands:
        helped, reference = cli(*args), cli.in_process(*args)
        assert (helped.returncode, helped.stdout, helped.stderr) == (
            reference.returncode,
            reference.stdout,
            reference.stderr,
        ), args
    assert cli.answered_by() == warm, "every answer came from the same helper"


def test_the_helper_never_serves_stale_data(cli: Cli, warm: int) -> None:
    before = json.loads(cli("executions", "list", "-o", "json").stdout)["count"]
    exec_id = cli.run_flow(5)  # written by another process after the helper was born
    listed = json.loads(cli("executions", "list", "-o", "json").stdout)
    assert listed["count"] == before + 1 and listed["items"][0]["exec_id"] == exec_id
    got = json.loads(cli("executions", "get", exec_id, "-o", "json").stdout)["item"]
    assert got["status"] == "completed"
    assert "doubling 10" in cli("executions", "logs", exec_id).stdout
    assert cli.answered_by() == warm


def test_a_changed_config_file_retires_the_helper(cli: Cli, fresh_config_dir: Path, warm: int) -> None:
    created = cli("stack", "create", "second", "-o", "json")  # writes the engine's config (the active stack)
    assert created.returncode == 0, created.stderr
    shown = json.loads(cli("stack", "current", "-o", "json").stdout)["item"]
    assert shown["name"] == "second", shown  # the out-of-date helper did not answer
    wait_until(lambda: not alive(warm), 30, "the out-of-date helper to exit")
    successor = cli.answered_by()
    assert successor is not None and successor != warm


def test_kitaru_no_daemon_runs_everything_in_process(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "helpers"
    folder.mkdir(mode=0o700)
    cli.run_flow(1)
    for _ in range(2):
        assert cli.answered_by(KITARU_NO_DAEMON="1", KITARU_DAEMON_DIR=str(folder)) is None
    said = json.loads(cli("info", "-o", "json", KITARU_NO_DAEMON="1").stdout)["item"]["system"]["cli_helper"]
    assert said == "off (KITARU_NO_DAEMON)"
    assert list(folder.iterdir()) == [], "no helper was started"


def test_a_killed_helper_means_in_process_then_a_new_helper(cli: Cli, warm: int) -> None:
    os.kill(warm, signal.SIGKILL)
    wait_until(lambda: not alive(warm), 30, "the helper to die")
    listed = cli("executions", "list", "-o", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["count"] == 1, listed.stderr
    successor = cli.answered_by()
    assert successor is not None and successor != warm


def test_an_idle_helper_exits_by_itself(cli: Cli) -> None:
    cli.run_flow(2)
    assert cli("status", KITARU_DAEMON_IDLE_SECONDS="1").returncode == 0
    pid = cli.answered_by(KITARU_DAEMON_IDLE_SECONDS="1")
    assert pid is not None
    wait_until(lambda: not alive(pid), 60, "the idle helper to exit")
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "kitaru"
    assert not [path for path in folder.glob("*.pid") if path.read_text().strip() == str(pid)]


def test_the_socket_is_owner_only(cli: Cli, warm: int) -> None:
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "kitaru"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    pid_file = next(path for path in folder.glob("*.pid") if path.read_text().strip() == str(warm))
    socket_path = pid_file.with_suffix(".sock")
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) & 0o077 == 0


def test_a_folder_others_can_enter_is_refused(cli: Cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    cli.run_flow(1)
    for _ in range(2):
        assert cli.answered_by(KITARU_DAEMON_DIR=str(shared)) is None
    assert not list(shared.iterdir())

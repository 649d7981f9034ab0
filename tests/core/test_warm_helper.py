"""The warm helper (``kitaru.cli.warm``): read commands answered by a process with the engine loaded.

Every test drives the real ``kitaru`` console script in a fresh config dir:
the first read command runs in-process and leaves a helper behind; later ones
are answered by a fork of it. ``kitaru info`` says which one answered.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import textwrap
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


def wait_for_exit(pid: int, timeout: float) -> None:
    """Wait for process ``pid`` (not our child) to end: its pidfd becomes readable when it does."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([handle], [], [], timeout)
    finally:
        os.close(handle)
    assert ready, f"process {pid} still runs after {timeout:g} s"


def pid_file(pid: int) -> Path:
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "kitaru"
    return next(path for path in folder.glob("*.pid") if path.read_text().strip() == str(pid))


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
    served = pid_file(warm)
    for args in commands:
        before = served.stat().st_mtime_ns
        helped, reference = cli(*args), cli.in_process(*args)
        assert served.stat().st_mtime_ns > before, f"the helper did not answer {args}"  # touched per command
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
    wait_for_exit(warm, 30)
    assert_replaced(cli, warm)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An owner-only helper folder of this test's own (``KITARU_DAEMON_DIR``)."""
    path = tmp_path / "helpers"
    path.mkdir(mode=0o700)
    return path


def assert_replaced(cli: Cli, old: int) -> None:
    """The next read command is answered by a new helper."""
    successor = cli.answered_by()
    assert successor is not None and successor != old


def test_kitaru_no_daemon_runs_everything_in_process(cli: Cli, folder: Path) -> None:
    cli.run_flow(1)
    for _ in range(2):
        assert cli.answered_by(KITARU_NO_DAEMON="1", KITARU_DAEMON_DIR=str(folder)) is None
    said = json.loads(cli("info", "-o", "json", KITARU_NO_DAEMON="1").stdout)["item"]["system"]["cli_helper"]
    assert said == "off (KITARU_NO_DAEMON)"
    assert list(folder.iterdir()) == [], "no helper was started"


def test_a_killed_helper_means_in_process_then_a_new_helper(cli: Cli, warm: int) -> None:
    os.kill(warm, signal.SIGKILL)
    wait_for_exit(warm, 30)
    listed = cli("executions", "list", "-o", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["count"] == 1, listed.stderr
    assert_replaced(cli, warm)


def test_an_idle_helper_exits_by_itself(cli: Cli, folder: Path) -> None:
    cli.run_flow(2)
    assert cli("status", KITARU_DAEMON_IDLE_SECONDS="3", KITARU_DAEMON_DIR=str(folder)).returncode == 0
    assert list(folder.glob("*.lock")), "the status command started a helper"
    for pid_path in folder.glob("*.pid"):  # still there unless it already went idle (a loaded machine)
        with contextlib.suppress(FileNotFoundError):
            wait_for_exit(int(pid_path.read_text()), 60)
    assert list(folder.glob("*.pid")) == [] and list(folder.glob("*.sock")) == [], "it cleaned up after itself"


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


def test_the_helper_keeps_nothing_the_cli_inherited(cli: Cli, tmp_path: Path) -> None:
    """A pipe's reader sees the end, and a lock taken for the CLI is free, once the CLI has exited."""
    cli.run_flow(1)
    reader, writer = os.pipe()
    lock_file = tmp_path / "job.lock"
    with open(lock_file, "w") as locked:
        fcntl.flock(locked, fcntl.LOCK_EX)  # as `flock job.lock kitaru status` would, for the CLI's lifetime
        result = subprocess.run(
            [str(KITARU), "status"], cwd=cli.project, env=cli.env, capture_output=True, text=True,
            pass_fds=(writer, locked.fileno()), timeout=300,
        )
        assert result.returncode == 0, result.stderr
    os.close(writer)
    assert cli.answered_by() is not None, "the status command left a helper behind"
    ready, _, _ = select.select([reader], [], [], 30)
    assert ready and os.read(reader, 1) == b"", "the helper still holds the pipe the CLI inherited"
    os.close(reader)
    with open(lock_file, "w") as again:
        fcntl.flock(again, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if the helper kept the lock


def test_a_terminal_gets_what_the_in_process_cli_prints_on_it(cli: Cli, warm: int) -> None:
    def on_a_terminal(argv: list[str]) -> tuple[int, bytes]:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(argv, cwd=cli.project, env={**cli.env, "TERM": "xterm-256color"},
                                   stdin=terminal, stdout=terminal, stderr=terminal)
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            output += chunk
        os.close(controller)
        return process.wait(timeout=300), output

    served = pid_file(warm)
    before = served.stat().st_mtime_ns
    helped = on_a_terminal([str(KITARU), "executions", "list"])
    assert served.stat().st_mtime_ns > before, "the helper did not answer"
    reference = on_a_terminal([sys.executable, "-c", IN_PROCESS, "executions", "list"])
    assert helped == reference
    assert helped[0] == 0 and b"twice" in helped[1], helped


SANDBOXES = {
    "no_new_privs": ("setpriv", "--no-new-privs"),
    "user_namespace": ("unshare", "--user", "--map-root-user"),
}
"""Ways a caller of the same user runs confined: the helper must never run its commands outside."""

KNOCK = textwrap.dedent(
    """
    import os, socket, sys
    sys.path[0] = sys.argv[2]  # as the console script's, which the helper's fingerprint counts
    from kitaru.cli.warm import identity
    from kitaru.cli.warm.protocol import LineReader, Request, send_request

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sys.argv[1])
    sock.settimeout(60)
    request = Request(argv=["info", "-o", "json"], cwd=os.getcwd(), environ=dict(os.environ),
                      fingerprint=identity.fingerprint(os.getcwd()),
                      encodings={name: ["utf-8", "strict"] for name in ("stdin", "stdout", "stderr")})
    send_request(sock, request, [0, 1, 2])
    print("ANSWER", LineReader(sock).next_line(), flush=True)
    """
)
"""A caller that skips the context and asks a given helper directly (as a sandboxed program could)."""


def sandbox(name: str) -> tuple[str, ...]:
    prefix = SANDBOXES[name]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"{' '.join(prefix)} is not available here: {probe.stderr.decode().strip()}")
    return prefix


@pytest.mark.parametrize("name", sorted(SANDBOXES))
def test_a_sandboxed_caller_is_refused_by_a_helper_outside_its_sandbox(cli: Cli, warm: int, name: str) -> None:
    prefix = sandbox(name)
    socket_path = pid_file(warm).with_suffix(".sock")
    knocked = subprocess.run(
        [*prefix, sys.executable, "-c", KNOCK, str(socket_path), str(KITARU.parent)], cwd=cli.project, env=cli.env,
        capture_output=True, text=True, timeout=300,
    )
    assert "ANSWER refused" in knocked.stdout, knocked.stdout + knocked.stderr
    knocked = subprocess.run(  # the same caller unconfined is served: the refusal is about the sandbox
        [sys.executable, "-c", KNOCK, str(socket_path), str(KITARU.parent)], cwd=cli.project, env=cli.env,
        capture_output=True, text=True, timeout=300,
    )
    assert "ANSWER started" in knocked.stdout, knocked.stdout + knocked.stderr
    assert alive(warm), "a refusal does not stop the helper"


@pytest.mark.parametrize("name", sorted(SANDBOXES))
def test_a_sandboxed_cli_is_answered_inside_its_sandbox(cli: Cli, warm: int, name: str) -> None:
    """In-process, or by a helper born in the same sandbox; never by the helper outside it.

    ``setpriv --no-new-privs`` confines the same way every time, so its second
    command finds the helper its first one left. Each ``unshare --user`` makes a
    new namespace: a new sandbox, so every command runs in-process.
    """
    prefix = sandbox(name)

    def answered_in_sandbox() -> int | None:
        result = subprocess.run(
            [*prefix, str(KITARU), "info", "-o", "json"], cwd=cli.project, env=cli.env, capture_output=True,
            text=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr
        said = json.loads(result.stdout)["item"]["system"]["cli_helper"]
        match = re.search(r"answered this command \(pid (\d+)", said)
        return int(match.group(1)) if match else None

    assert answered_in_sandbox() is None, "the first sandboxed command runs in-process (its context is new)"
    inside = answered_in_sandbox()
    if name == "user_namespace":
        assert inside is None
    else:
        assert inside is not None and inside != warm, "a helper born inside the sandbox answers"
        assert confinement_of(inside) != confinement_of(warm)
    assert cli.answered_by() == warm, "the unconfined caller keeps its own helper"


def confinement_of(pid: int) -> str:
    from kitaru.cli.warm import confinement

    return confinement.describe(pid)

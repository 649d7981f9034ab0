"""The scratch world of the server-concurrency test: a local server, an S3 store, clients.

:class:`ServerLab` owns one config dir that is logged in to a local Kitaru
server (``kitaru login --port N``, as a user would), with an active stack
whose artifact store is a bucket on moto's S3 server; a scratch project
holding ``server_workload.py``; and a state dir where the clients report.
It starts and stops only processes it created, by pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cloud.servers import free_port, port_is_open
from tests.conftest import subprocess_env

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")
MOTO_SERVER = Path(sys.executable).with_name("moto_server")
FLOW = "server_concurrent"

AWS_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class ClientLog:
    """What one client reported (parsed from ``client-<n>.log``)."""

    started: dict[int, str] = field(default_factory=dict)
    ended: dict[int, str] = field(default_factory=dict)
    raised: list[str] = field(default_factory=list)
    submits: int = 0
    done: bool = False
    tracebacks: int = 0


class ServerLab:
    """Config dir + local server + moto S3 + project + state (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "config"
        self.project = root / "project"
        self.state = root / "state"
        self.elsewhere = root / "elsewhere"
        for path in (self.config, self.project, self.state, self.elsewhere):
            path.mkdir(parents=True)
        shutil.copy(HERE / "server_workload.py", self.project / "server_workload.py")
        aws = root / "aws"
        aws.mkdir()
        (aws / "config").write_text("")
        (aws / "credentials").write_text("")
        self.aws_env = {
            **AWS_ENV,
            "AWS_CONFIG_FILE": str(aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        }
        self.port = free_port()
        self.moto_port = free_port()
        self.moto: subprocess.Popen[bytes] | None = None
        self.clients: list[subprocess.Popen[bytes]] = []
        self.daemon_pids: set[int] = set()

    # -- environment and commands ----------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        return subprocess_env(self.config, SERVER_FAULT_STATE=str(self.state), **self.aws_env, **extra)

    def kitaru(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real ``kitaru`` console script (from an unrelated directory by default)."""
        return subprocess.run(
            [str(KITARU), *args],
            cwd=cwd or self.elsewhere,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def kitaru_json(self, *args: str, cwd: Path | None = None) -> Any:
        result = self.kitaru(*args, "-o", "json", cwd=cwd)
        assert result.returncode == 0, f"kitaru {' '.join(args)}: exit {result.returncode}\n{result.stderr[-3000:]}"
        return json.loads(result.stdout)

    # -- moto -------------------------------------------------------------------------

    def start_moto(self) -> str:
        with open(self.root / "moto.log", "ab") as log:
            self.moto = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **AWS_ENV},
            )
        wait_until(lambda: port_is_open(self.moto_port), 60, "moto_server to listen")
        return f"http://127.0.0.1:{self.moto_port}"

    def create_s3_stack(self, endpoint: str) -> str:
        import boto3

        bucket = f"kitaru-server-{uuid.uuid4().hex[:10]}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)
        self.kitaru_json(
            "stack",
            "create",
            "server-s3",
            "--artifact-store",
            f"s3://{bucket}/kitaru",
            "--extra",
            f"artifact_store.client_kwargs.endpoint_url={endpoint}",
        )
        return bucket

    # -- the local server -----------------------------------------------------------

    def daemon_pid(self) -> int | None:
        try:
            return int((self.config / "zen_server" / "daemon" / "service.pid").read_text())
        except (OSError, ValueError):
            return None

    def login(self) -> tuple[dict[str, Any], float]:
        """``kitaru login --port N``: start the server (or connect); return its item and the seconds taken."""
        started = time.monotonic()
        item = self.kitaru_json("login", "--port", str(self.port))["item"]
        pid = self.daemon_pid()
        if pid is not None:
            self.daemon_pids.add(pid)
        return item, time.monotonic() - started

    def stop_server(self) -> float:
        """Stop the daemon as a service manager would (SIGTERM), keeping the login; return seconds taken."""
        pid = self.daemon_pid()
        assert pid is not None, "no local server is registered"
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not pid_alive(pid), 30, "the server process to exit")
        except AssertionError:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 30, "the killed server process to exit")
        wait_until(lambda: not port_is_open(self.port), 30, "the server port to close")
        return time.monotonic() - started

    def retry_all(self, exec_ids: list[str], timeout: float = 600) -> dict[str, subprocess.CompletedProcess[str]]:
        """``kitaru executions retry`` each execution, all at once, from the project directory."""
        running = {
            exec_id: subprocess.Popen(
                [str(KITARU), "executions", "retry", exec_id],
                cwd=self.project,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for exec_id in exec_ids
        }
        results = {}
        for exec_id, process in running.items():
            stdout, stderr = process.communicate(timeout=timeout)
            results[exec_id] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        return results

    # -- clients -------------------------------------------------------------------

    def start_client(self, client: int, count: int, **env: str) -> subprocess.Popen[bytes]:
        with open(self.state / f"client-{client}.out", "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "server_workload.py", str(client), str(count)],
                cwd=self.project,
                env=self.env(**env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.clients.append(process)
        return process

    def client_log(self, client: int) -> ClientLog:
        parsed = ClientLog()
        log = self.state / f"client-{client}.log"
        lines = log.read_text().splitlines() if log.exists() else []
        for line in lines:
            parts = line.split()
            if not parts or line.startswith("    "):
                continue
            if parts[0] == "started":
                parsed.started.setdefault(int(parts[1]), parts[2])
            elif parts[0] == "ended":
                parsed.ended[int(parts[1])] = parts[3]
            elif parts[0] == "raised":
                parsed.raised.append(" ".join(parts[1:]))
            elif parts[0] == "submit":
                parsed.submits += 1
            elif parts[0] == "done":
                parsed.done = True
        out = self.state / f"client-{client}.out"
        parsed.tracebacks = out.read_text(errors="replace").count("Traceback") if out.exists() else 0
        parsed.tracebacks += log.read_text().count("Traceback") if log.exists() else 0
        return parsed

    def slow_entered(self) -> int:
        return len(list(self.state.glob("slow-*")))

    def ran(self) -> list[tuple[str, str]]:
        path = self.state / "ran"
        lines = path.read_text().split("\n") if path.exists() else []
        return [tuple(line.split()) for line in lines if line.strip()]  # type: ignore[misc]

    # -- cleanup -------------------------------------------------------------------

    def close(self) -> None:
        """Stop every process this lab started: clients, the server (logout, then by pid), moto."""
        for process in self.clients:
            if process.poll() is None:
                process.kill()
                process.wait(30)
        if self.daemon_pid() is not None:
            try:
                self.kitaru("logout", timeout=120)
            except subprocess.TimeoutExpired:
                pass
        for pid in self.daemon_pids:
            if pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                try:
                    wait_until(lambda pid=pid: not pid_alive(pid), 15, "the server to stop")
                except AssertionError:
                    os.kill(pid, signal.SIGKILL)
        if self.moto is not None and self.moto.poll() is None:
            self.moto.terminate()
            try:
                self.moto.wait(10)
            except subprocess.TimeoutExpired:
                self.moto.kill()
                self.moto.wait(10)

"""Fault-injection trials: kill -9 a running flow at a chosen moment, retry it, check the store.

Used by ``tests/faults/test_kills.py``, ``tests/faults/test_store_outage.py``
and ``bench/faults.py`` (which puts the repository root on ``sys.path`` and
imports ``tests.faults.harness``). Nothing here imports pytest or Kitaru: every
flow and every CLI command runs in a child process, as a user's would.

One trial (:func:`run_trial`):

1. start ``workload.py`` (five checkpoints, two multi-MB outputs, one
   checkpoint retry, a flow result) in its own process group, in a project
   directory, with the store's ``KITARU_CONFIG_PATH``;
2. ``kill -9`` the group at the trial's moment (:data:`MOMENTS`): a random
   time within the run's measured duration, or a random delay after an event
   the workload reports (a large output being written, a small output and its
   status being stored, the flow's result being recorded, the checkpoint's own
   retry), or, for ``in_resume``, during the retry of a first kill as well;
3. run ``kill_aftermath.py`` from another directory: it finds the execution
   (none: the kill came first, nothing to retry), snapshots which checkpoints
   the store calls completed, runs ``kitaru executions retry`` and checks the
   store (``list``/``get``/``logs`` exit 0, nothing running, every output and
   the result load back as the expected values). It runs again if it was
   killed or its retry did not complete (at most :data:`MAX_AFTERMATHS` times);
4. count duplicates: lines of the side-effect counter written after a
   snapshot for a checkpoint that snapshot called completed.

Example::

    with MotoServer(root / "moto") as moto:
        store = FaultStore.s3(root / "s3", moto.endpoint)
        baseline = store.calibrate()
        rng = random.Random(7)
        result = run_trial(store, "artifact_write", rng, baseline)
        assert result.ok, result.problems()
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "workload.py"
VALUES = HERE / "kill_values.py"
AFTERMATH = HERE / "kill_aftermath.py"
ZYGOTE = HERE / "kill_zygote.py"
PYTHON = Path(sys.executable)
KITARU = PYTHON.with_name("kitaru")
MOTO_SERVER = PYTHON.with_name("moto_server")

MOMENTS: tuple[str, ...] = (
    "random",
    "artifact_write",
    "status_update",
    "flow_result",
    "in_retry",
    "in_resume",
)
"""Where a trial's kill lands (see :func:`plan_kill`)."""

EVENT_TARGETS: dict[str, tuple[tuple[str, str], ...]] = {
    # The body returned a 6 MB / 4 MB value: the engine is serializing and writing it.
    "artifact_write": (("return", "fetch"), ("return", "expand")),
    # The body returned a small dict: its artifact, the call's status, the next call's record.
    "status_update": (("return", "digest"), ("return", "flaky"), ("return", "summarize")),
    # The flow body is about to return: the result is encoded and recorded, the run finished.
    "flow_result": (("body_end", "flow"),),
    # flaky's first attempt raised: the failed attempt is recorded and the retry starts.
    "in_retry": (("attempt_failed", "flaky"),),
}

MAX_AFTERMATHS = 4
RUN_TIMEOUT = 300.0
AWS_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Kitaru, ZenML or AWS setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_", "AWS_"))}
    env.update(ZENML_ANALYTICS_OPT_IN="false", PYTHONUNBUFFERED="1", COLUMNS="200", NO_COLOR="1")
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_open(port: int) -> bool:
    """Whether something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``condition()`` until it is true; raise ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class MotoServer:
    """moto's S3 server in a child process on 127.0.0.1 (``with MotoServer(dir) as moto``)."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: Any | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "moto.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_env(**AWS_ENV),
            )
        wait_until(lambda: port_is_open(self.port), 60, "moto_server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def create_bucket(self, name: str) -> None:
        self.create_bucket_at(self.endpoint, name)

    @staticmethod
    def create_bucket_at(endpoint: str, name: str) -> None:
        """Create bucket ``name`` on the S3 server at ``endpoint``."""
        import boto3  # lazily: only the S3 store needs it

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=name)

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StoreProxy:
    """A TCP relay in front of the S3 server that can be stopped and started again.

    Stopping it closes the listening socket and resets every open connection,
    so clients see what they see when a real object store becomes unreachable
    (connection reset mid-request, then connection refused), while the data
    behind it survives, as it does in a real outage. :meth:`cut_after` stops it
    once a given number of bytes went upstream: in the middle of an upload.
    """

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._budget: int | None = None
        self.cut = threading.Event()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self.cut.clear()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
            self._budget = None
        if listener is not None:
            listener.close()
        for sock in sockets:
            try:  # linger 0: the peer gets a reset, like a crashed server
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()
            except OSError:
                pass
        self.cut.set()

    def cut_after(self, upstream_bytes: int) -> None:
        """Stop once ``upstream_bytes`` more bytes were relayed towards the server."""
        with self._lock:
            self._budget = upstream_bytes

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and self._spend(len(data)):
                    self.stop()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _spend(self, size: int) -> bool:
        with self._lock:
            if self._budget is None:
                return False
            self._budget -= size
            return self._budget <= 0


class ForkedProcess:
    """A child of the fork server, with the parts of ``Popen`` the harness uses."""

    def __init__(self, pid: int, server: ForkServer) -> None:
        self.pid = pid
        self.server = server
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        wait_until(lambda: self.poll() is not None, timeout or RUN_TIMEOUT, f"pid {self.pid} to exit", interval=0.01)
        assert self.returncode is not None
        return self.returncode


class ForkServer:
    """``kill_zygote.py`` in a child process: scripts start in ~0.1 s instead of 5-15 s.

    Each script still runs in its own process (a fork of a server that only
    imported Kitaru, its engine and the S3 libraries), in its own process
    group, directory and environment; see ``kill_zygote.py``.
    """

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._exits: dict[int, int] = {}
        self._pids: list[int] = []
        self._cond = threading.Condition()
        with open(log, "ab") as errors:
            self.process = subprocess.Popen(
                [str(PYTHON), str(ZYGOTE)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                cwd=HERE,
            )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if not ready:
            raise RuntimeError(f"the fork server did not start: {log.read_text()[-3000:]}")
        threading.Thread(target=self._read, daemon=True).start()
        self._spawn_lock = threading.Lock()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._cond:
                if "pid" in message:
                    self._pids.append(message["pid"])
                else:
                    self._exits[message["exited"]] = message["code"]
                self._cond.notify_all()

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> ForkedProcess:
        request = {"argv": argv, "cwd": str(cwd), "env": env, "log": str(log)}
        assert self.process.stdin is not None
        with self._spawn_lock, self._cond:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            if not self._cond.wait_for(lambda: self._pids, timeout=60):
                raise RuntimeError("the fork server did not answer")
            return ForkedProcess(self._pids.pop(0), self)

    def exit_code(self, pid: int) -> int | None:
        with self._cond:
            return self._exits.get(pid)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


@dataclass
class Calibration:
    """Timings of one run that was not killed, used to place random kills."""

    first_enter: float = 3.0
    """Seconds from spawn to the first checkpoint's body."""
    exit: float = 9.0
    """Seconds from spawn to process exit."""
    gaps: dict[str, float] = field(default_factory=dict)
    """Seconds from each ``kind name`` event to the next event (or to exit)."""

    def window(self, kind: str, name: str) -> float:
        return max(0.05, 1.3 * self.gaps.get(f"{kind} {name}", 0.4))

    @property
    def body(self) -> float:
        return max(1.0, self.exit - self.first_enter)


@dataclass
class TrialResult:
    """What one trial did and found (JSON-able through :func:`dataclasses.asdict`)."""

    store: str
    moment: str
    seed: int
    killed: bool = False
    kill_after: str = ""
    resume_kills: int = 0
    resume_kill_missed: bool = False
    exec_id: str | None = None
    status_after_kill: str | None = None
    completed_before_retry: list[str] = field(default_factory=list)
    outcome: str = "error"
    duplicates: int = 0
    duplicate_names: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    aftermaths: int = 0
    seconds: float = 0.0
    state_dir: str = ""
    error: str | None = None

    @property
    def kills(self) -> int:
        return int(self.killed) + self.resume_kills

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """Everything that breaks a guarantee (empty: the trial passed)."""
        found = []
        if self.error:
            found.append(f"error: {self.error}")
        if self.outcome not in ("completed", "nothing_to_retry"):
            found.append(f"outcome {self.outcome} (failures: {self.failures})")
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate executions of {self.duplicate_names}")
        found += [f"wrong value: {m}" for m in self.mismatches]
        found += [f"unreadable: {u}" for u in self.unreadable]
        if self.stuck:
            found.append(f"stuck in running: {self.stuck}")
        if found:
            found.append(f"trial files: {self.state_dir}")
        return found


class FaultStore:
    """A Kitaru config dir (the local default, or a local stack on S3) that trials share."""

    def __init__(self, name: str, root: Path, *, stack: str | None = None, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.root = root
        self.config = root / "config"
        self.project = root / "project"
        self.elsewhere = root / "elsewhere"
        self.known = root / "known-ids"
        self.stack = stack
        self.extra_env = dict(env or {})
        self.count = 0
        self.server: ForkServer | None = None
        self.bucket = ""
        self.endpoint = ""
        for path in (self.config, self.project, self.elsewhere):
            path.mkdir(parents=True, exist_ok=True)
        shutil.copy(WORKLOAD, self.project / "workload.py")
        shutil.copy(VALUES, self.project / "kill_values.py")
        self.known.touch()

    @classmethod
    def local(cls, root: Path) -> FaultStore:
        """The local default store (SQLite + local artifact store) in a new config dir."""
        return cls("local", root)

    @classmethod
    def s3(cls, root: Path, endpoint: str, *, bucket: str | None = None) -> FaultStore:
        """A local stack whose artifact store is a new bucket on the S3 server at ``endpoint``."""
        root.mkdir(parents=True, exist_ok=True)
        bucket = bucket or f"kitaru-faults-{uuid.uuid4().hex[:10]}"
        aws = root / "aws"
        aws.mkdir(exist_ok=True)
        (aws / "config").write_text("")
        (aws / "credentials").write_text("")
        env = {
            **AWS_ENV,
            "AWS_CONFIG_FILE": str(aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        }
        store = cls("s3", root, stack="faults-s3", env=env)
        store.bucket = bucket
        store.endpoint = endpoint
        MotoServer.create_bucket_at(endpoint, bucket)
        created = store.kitaru(
            "stack",
            "create",
            "faults-s3",
            "--artifact-store",
            f"s3://{bucket}/faults",
            "--extra",
            f"artifact_store.client_kwargs.endpoint_url={endpoint}",
        )
        if created.returncode != 0:
            raise RuntimeError(f"stack create failed: {created.stdout}{created.stderr}")
        return store

    def env(self, state: Path | None = None, **extra: str) -> dict[str, str]:
        values = {"KITARU_CONFIG_PATH": str(self.config), **self.extra_env, **extra}
        if state is not None:
            values["FAULT_STATE"] = str(state)
        return clean_env(**values)

    def kitaru(self, *args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run the real ``kitaru`` console script from :attr:`elsewhere`."""
        return subprocess.run(
            [str(KITARU), *args], cwd=self.elsewhere, env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def start_fork_server(self) -> None:
        """Start later workloads and aftermaths as forks of a preloaded process (much faster)."""
        self.server = ForkServer(self.env(), self.root / "fork-server.log")

    def close(self) -> None:
        """Stop the fork server, if one runs."""
        if self.server is not None:
            self.server.close()
            self.server = None

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> Any:
        """Start ``python ARGV`` (a fork of the fork server, or a new interpreter)."""
        if self.server is not None:
            return self.server.spawn(argv, cwd, env, log)
        with open(log, "ab") as output:
            return subprocess.Popen(
                [str(PYTHON), *argv], cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def new_state(self, label: str) -> Path:
        self.count += 1
        state = self.root / "trials" / f"{self.count:04d}-{label}"
        state.mkdir(parents=True)
        return state

    def start_workload(self, state: Path, seed: int, **env: str) -> tuple[Any, float]:
        """Start the workload in its own process group; return it and its wall-clock start."""
        started = time.time()
        process = self.spawn(
            [str(self.project / "workload.py"), str(seed), self.stack or ""],
            self.project,
            self.env(state, **env),
            state / "workload.log",
        )
        return process, started

    def start_aftermath(self, state: Path, seed: int, *, retry: bool = True, exec_id: str | None = None) -> Any:
        """Start ``kill_aftermath.py`` from :attr:`elsewhere` (not the flow's directory)."""
        args = [str(AFTERMATH), "--state", str(state), "--known", str(self.known), "--seed", str(seed)]
        if not retry:
            args.append("--no-retry")
        if exec_id is not None:
            args += ["--exec-id", exec_id]
        log = state / f"aftermath-{len(list(state.glob('aftermath-*.log')))}.log"
        return self.spawn(args, self.elsewhere, self.env(state), log)

    def remember(self, exec_ids: list[str]) -> None:
        with open(self.known, "a") as known:
            known.writelines(f"{exec_id}\n" for exec_id in exec_ids)

    def calibrate(self, runs: int = 2) -> Calibration:
        """Run the workload ``runs`` times without a kill; check each; time the last one.

        The first run on a new config dir also creates the store, so it is
        slower than the runs the trials kill.

        Raises:
            RuntimeError: When an unkilled run or its check fails.
        """
        calibration = Calibration()
        for seed in range(runs):
            state = self.new_state("calibration")
            process, started = self.start_workload(state, seed)
            process.wait(RUN_TIMEOUT)
            ended = time.time()
            if process.returncode != 0:
                raise RuntimeError(f"calibration run failed: {(state / 'workload.log').read_text()[-3000:]}")
            events = read_events(state)
            calibration = Calibration(first_enter=events[0][0] - started, exit=ended - started)
            for (when, kind, name), following in zip(events, [*events[1:], (ended, "", "")], strict=True):
                calibration.gaps.setdefault(f"{kind} {name}", following[0] - when)
            result = TrialResult(self.name, "none", seed, state_dir=str(state))
            self.recover(result, state, seed, kill_first=None)
            self.remember([result.exec_id] if result.exec_id else [])
            if (
                not result.ok
                or result.outcome != "completed"
                or sorted((state / "ran").read_text().split())
                != sorted(["fetch", "digest", "flaky", "expand", "summarize"])
            ):
                raise RuntimeError(f"calibration check failed: {result.problems()}")
        return calibration

    def recover(
        self, result: TrialResult, state: Path, seed: int, kill_first: float | None, exec_id: str | None = None
    ) -> None:
        """Run the aftermath until the execution is completed (or there is nothing to retry).

        Args:
            result: Filled in from the aftermath's reports.
            state: The trial's state directory.
            seed: The workload's seed (for the expected values).
            kill_first: When set, the first aftermath is killed this many
                seconds after it starts its retry (a kill inside the retry).
            exec_id: The execution to recover (default: the one new to the store).
        """
        for attempt in range(MAX_AFTERMATHS):
            process = self.start_aftermath(state, seed, exec_id=exec_id)
            result.aftermaths += 1
            if kill_first is not None and attempt == 0:
                before = count_events(state, "retry_start")
                if kill_on_event(process, state, "retry_start", "aftermath", kill_first, before):
                    result.resume_kills += 1
                    continue
                result.resume_kill_missed = True
            try:
                process.wait(RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                kill_group(process)
                result.error = f"aftermath timed out after {RUN_TIMEOUT:g} s"
                return
            final = last_record(state, "final")
            if final is None:
                result.error = f"aftermath exited {process.returncode} without a final report"
                return
            if final["outcome"] == "completed" or final["outcome"] == "nothing_to_retry":
                break
            # Its retry did not complete (failed again): a user would retry again.
        read_aftermath(result, state)


def read_events(state: Path, since: int = 0) -> list[tuple[float, str, str]]:
    """The workload's events as ``(wall time, kind, name)``, from line ``since`` on."""
    path = state / "events"
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines()[since:]:
        parts = line.split()
        if len(parts) == 3:
            events.append((float(parts[0]), parts[1], parts[2]))
    return events


def count_events(state: Path, kind: str) -> int:
    return sum(1 for _, seen, _ in read_events(state) if seen == kind)


def kill_group(process: Any) -> bool:
    """``kill -9`` the process's whole group; True if that is what ended it."""
    if process.poll() is not None:
        return False
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # a fork that has not called setsid() yet
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
    process.wait(30)
    return process.returncode == -signal.SIGKILL


def kill_on_event(process: Any, state: Path, kind: str, name: str, delay: float, occurrences_before: int = 0) -> bool:
    """Kill ``process`` ``delay`` s after event ``kind name`` appears; False if it exited first."""

    def seen() -> bool:
        hits = [e for e in read_events(state) if e[1] == kind and e[2] == name]
        return len(hits) > occurrences_before or process.poll() is not None

    wait_until(seen, RUN_TIMEOUT, f"event {kind} {name}", interval=0.005)
    if process.poll() is not None:
        return False
    time.sleep(delay)
    return kill_group(process)


def kill_after(process: Any, started: float, delay: float) -> bool:
    """Kill ``process`` ``delay`` s after wall time ``started``; False if it exited first."""
    deadline = started + delay
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(min(0.005, max(0.0, deadline - time.time())))
    return kill_group(process)


def records(state: Path) -> list[dict[str, Any]]:
    path = state / "aftermath.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def last_record(state: Path, kind: str) -> dict[str, Any] | None:
    found = [record for record in records(state) if record["kind"] == kind]
    return found[-1] if found else None


def read_aftermath(result: TrialResult, state: Path) -> None:
    """Fill ``result`` from the aftermath reports and the side-effect counter."""
    reports = records(state)
    snapshots = [r for r in reports if r["kind"] == "snapshot"]
    if snapshots:
        result.exec_id = snapshots[0]["exec_id"]
        result.status_after_kill = snapshots[0]["status"]
        result.completed_before_retry = snapshots[0]["completed"]
    ran_path = state / "ran"
    ran = ran_path.read_text().split() if ran_path.exists() else []
    for position, name in enumerate(ran):
        if any(s["offset"] <= position and name in s["completed"] for s in snapshots):
            result.duplicates += 1
            result.duplicate_names.append(name)
    result.failures = [r["failure"] for r in reports if r.get("failure")]
    final = next((r for r in reversed(reports) if r["kind"] == "final"), None)
    if final is None:
        result.outcome = "error"
        return
    result.outcome = final["outcome"]
    result.mismatches = final.get("mismatches", [])
    result.stuck = final.get("running", [])
    result.unreadable = [
        f"{name} exited {final[name]}" for name in ("list_rc", "get_rc", "logs_rc") if final.get(name, 0) != 0
    ]


def plan_kill(moment: str, rng: random.Random, calibration: Calibration) -> tuple[str, str, float]:
    """Where to kill: ``("time", "", delay)`` after spawn or ``(kind, name, delay)`` after an event."""
    if moment == "random":
        low = max(0.0, calibration.first_enter - 1.5)
        return "time", "", rng.uniform(low, calibration.exit)
    if moment == "in_resume":  # the first kill: anywhere a targeted kill may land
        moment = rng.choice(tuple(EVENT_TARGETS))
    kind, name = rng.choice(EVENT_TARGETS[moment])
    window = calibration.window(kind, name)
    if moment == "flow_result" and rng.random() < 0.5:
        # Recording the result takes a few ms of a window that also holds the run's teardown.
        window = min(window, 0.06)
    return kind, name, rng.uniform(0.0, window)


def run_trial(store: FaultStore, moment: str, rng: random.Random, calibration: Calibration) -> TrialResult:
    """Run, kill at ``moment``, retry from another directory until done, and check.

    Args:
        store: Where the trial runs (its config dir and stack).
        moment: One of :data:`MOMENTS`.
        rng: Source of the seed and the kill delays (seed it for a reproducible plan).
        calibration: Timings of an unkilled run on this store.

    Returns:
        The trial's findings; ``result.ok`` is False when a guarantee broke.
    """
    seed = rng.randrange(1, 10**6)
    state = store.new_state(moment)
    result = TrialResult(store.name, moment, seed, state_dir=str(state))
    started_at = time.monotonic()
    kind, name, delay = plan_kill(moment, rng, calibration)
    # A retry re-runs what was not completed, reusing the rest: shorter than a whole run.
    resume_delay = rng.uniform(0.0, max(1.0, 0.6 * calibration.body)) if moment == "in_resume" else None
    process, started = store.start_workload(state, seed)
    try:
        if kind == "time":
            result.killed = kill_after(process, started, delay)
            result.kill_after = f"{delay:.3f}s after spawn"
        else:
            result.killed = kill_on_event(process, state, kind, name, delay)
            result.kill_after = f"{delay:.3f}s after {kind} {name}"
        if not result.killed:
            process.wait(RUN_TIMEOUT)
        store.recover(result, state, seed, kill_first=resume_delay)
    except (TimeoutError, subprocess.TimeoutExpired) as error:
        kill_group(process)
        result.error = str(error)
    finally:
        listed = [r.get("new", []) for r in records(state) if r["kind"] == "listed"]
        store.remember(sorted({exec_id for new in listed for exec_id in new}))
        result.seconds = round(time.monotonic() - started_at, 2)
    return result


def held_trial(store: FaultStore, *, hold_at: str = "return:expand", seed: int = 4243) -> TrialResult:
    """Kill a run that is certainly live, then retry it: the trials' control.

    The random moments may land after the execution completed (a kill just
    after the body returned, or at a random time), so whether a batch of them
    hit a live run is chance. This one does not depend on timing: the
    workload blocks at ``hold_at`` (a checkpoint returned, later ones still to
    run), is killed there, and must then be retried to completion.

    Returns:
        The trial's findings, with ``moment`` ``"held"``.
    """
    started_at = time.monotonic()
    state = store.new_state("held")
    (state / "hold").touch()
    result = TrialResult(store.name, "held", seed, state_dir=str(state))
    process, _ = store.start_workload(state, seed, FAULT_HOLD=hold_at)
    try:
        wait_until(
            lambda: (state / "hold_reached").exists() or process.poll() is not None,
            RUN_TIMEOUT,
            f"the workload to reach {hold_at}",
        )
        result.killed = kill_group(process)
        result.kill_after = f"held at {hold_at}"
        store.recover(result, state, seed, kill_first=None)
    except (TimeoutError, subprocess.TimeoutExpired) as error:
        kill_group(process)
        result.error = str(error)
    finally:
        listed = [r.get("new", []) for r in records(state) if r["kind"] == "listed"]
        store.remember(sorted({exec_id for new in listed for exec_id in new}))
        result.seconds = round(time.monotonic() - started_at, 2)
    return result


def figures(results: list[TrialResult], seconds: float | None = None) -> dict[str, Any]:
    """The figures of a batch of trials, as ``docs/reliability.md`` reports them."""
    executions = [r for r in results if r.exec_id is not None]
    return {
        "trials": len(results),
        "kills": sum(r.kills for r in results),
        "kills_in_retry_process": sum(r.resume_kills for r in results),
        "executions_to_recover": len(executions),
        "nothing_to_retry": sum(r.outcome == "nothing_to_retry" for r in results),
        "completed": sum(r.outcome == "completed" and not r.mismatches for r in executions),
        "duplicates": sum(r.duplicates for r in results),
        "lost": sum(r.outcome != "completed" for r in executions),
        "wrong_values": sum(len(r.mismatches) for r in results),
        "stuck": sum(bool(r.stuck) for r in results),
        "unreadable": sum(bool(r.unreadable) for r in results),
        "errors": sum(r.error is not None for r in results),
        "seconds": round(seconds if seconds is not None else sum(r.seconds for r in results), 1),
    }


def as_dict(result: TrialResult) -> dict[str, Any]:
    return {**asdict(result), "kills": result.kills, "ok": result.ok}


@dataclass
class OutageResult:
    """What the store-outage trial saw (see :func:`outage_trial`)."""

    exec_id: str | None = None
    cut_mid_upload: bool = False
    run_exit_code: int | None = None
    exit_lag: float | None = None
    """Seconds from the run reporting its failure to its process exiting."""
    run_output: str = ""
    status_during_outage: str | None = None
    failure_during_outage: str | None = None
    checks_during_outage: dict[str, Any] = field(default_factory=dict)
    """``list``/``get``/``logs`` exit codes and running executions, with the store still down."""
    recovery: TrialResult | None = None
    seconds: float = 0.0


def outage_trial(
    store: FaultStore,
    proxy: StoreProxy,
    *,
    hold_at: str = "return:expand",
    cut_after: int = 1024 * 1024,
    seed: int = 4242,
    exit_timeout: float = RUN_TIMEOUT,
) -> OutageResult:
    """Take the S3 store away while a checkpoint's output is uploading, bring it back, retry.

    The workload blocks at ``hold_at`` (after the checkpoint body returned its
    4 MB value); the proxy is armed to stop after ``cut_after`` more bytes go
    upstream, and the workload is released: the upload is cut mid-way and the
    store refuses connections from then on. Once the run has ended, the
    failed execution is inspected with the store still down, the proxy is
    started again on the same port and the aftermath retries and checks it.

    Args:
        store: An S3 store whose endpoint is ``proxy.endpoint``.
        proxy: The relay in front of the S3 server (running).
        hold_at: The workload event to stop at (``kind:name``).
        cut_after: Bytes relayed upstream before the store goes away.
        seed: The workload's seed.
        exit_timeout: Seconds the workload gets to exit once it reported the
            failure; then it is killed (``run_exit_code`` stays None).

    Returns:
        What happened at each step.
    """
    started_at = time.monotonic()
    state = store.new_state("outage")
    (state / "hold").touch()
    result = OutageResult()
    process, _ = store.start_workload(state, seed, FAULT_HOLD=hold_at)
    try:
        wait_until(
            lambda: (state / "hold_reached").exists() or process.poll() is not None,
            RUN_TIMEOUT,
            f"the workload to reach {hold_at}",
        )
        proxy.cut_after(cut_after)
        (state / "hold").unlink()
        result.cut_mid_upload = proxy.cut.wait(RUN_TIMEOUT)
        log = state / "workload.log"
        wait_until(lambda: "EXEC " in log.read_text() or process.poll() is not None, RUN_TIMEOUT, "the run to end")
        reported = time.monotonic()
        try:
            result.run_exit_code = process.wait(exit_timeout)
        except (subprocess.TimeoutExpired, TimeoutError):
            result.run_exit_code = None
        result.exit_lag = round(time.monotonic() - reported, 2)
    finally:
        kill_group(process)
        proxy.stop()
    result.run_output = (state / "workload.log").read_text()
    aftermath = store.start_aftermath(state, seed, retry=False)
    aftermath.wait(RUN_TIMEOUT)
    snapshot = last_record(state, "snapshot")
    if snapshot is not None:
        result.exec_id = snapshot["exec_id"]
        result.status_during_outage = snapshot["status"]
        result.failure_during_outage = snapshot["failure"]
        store.remember([snapshot["exec_id"]])
    result.checks_during_outage = last_record(state, "final") or {}
    proxy.start()
    recovery = TrialResult(store.name, "outage", seed, state_dir=str(state))
    store.recover(recovery, state, seed, kill_first=None, exec_id=result.exec_id)
    result.recovery = recovery
    result.seconds = round(time.monotonic() - started_at, 2)
    return result

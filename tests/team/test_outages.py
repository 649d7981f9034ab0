"""Outages on the shared server: the engine's server or its database restarts while flows run (issue 19, defect 5).

Two clients run the ``held`` flow (``outage_flows.py``): each waits inside
its ``hold`` checkpoint. The test then stops the engine's server (or
MariaDB), releases the holds, so each flow's next requests meet the outage,
and starts the service again once every flow says it is waiting for the
server. No execution may be lost: each completes, or fails cleanly and
completes when another client retries it, and nothing is left ``running``.

Before the fix, a stopped server failed the flows with the engine's
``requests.exceptions.ConnectionError`` and no word of waiting, and a
database restart made the server answer 500, which clients did not retry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env
from tests.team.conftest import HERE, Client, MariaDB, Team, json_item, ok

pytestmark = pytest.mark.slow

WAITING = "waiting for the server"
HOLD_TIMEOUT = 180.0
"""Seconds the flows get to reach their ``hold`` checkpoint (two flows starting at once on 2 cores)."""
OUTAGE_TIMEOUT = 60.0
"""Seconds the service stays down at most, waiting for every flow to say it is waiting."""
FLOW_TIMEOUT = 300.0
SERVER_DOWN = 15.0
"""Seconds the engine's server stays down at least (its restart then takes several more)."""
DATABASE_DOWN = 7.0
"""Seconds MariaDB stays down at least (the outage of issue 19)."""
BUDGET = 15
"""``KITARU_SERVER_RETRY_SECONDS`` of the client whose budget the server outage outlasts."""


@dataclass
class HeldFlow:
    """One ``outage_flows.py`` process, its output in files the test can read while it runs."""

    client: Client
    process: subprocess.Popen[str]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def outcome(self) -> dict[str, Any]:
        """The flow's JSON line, after it exited."""
        self.process.wait(timeout=FLOW_TIMEOUT)
        lines = self.stdout.read_text().strip().splitlines()
        assert self.process.returncode == 0 and lines, f"exit {self.process.returncode}\n{self.output()}"
        return dict(json.loads(lines[-1]))


@pytest.fixture(scope="module")
def hold_dir(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    shutil.copy(HERE / "outage_flows.py", team.project / "outage_flows.py")
    return tmp_path_factory.mktemp("holds")


def start_held(client: Client, hold_dir: Path, logs: Path, **extra: str) -> HeldFlow:
    stdout, stderr = logs / f"{client.name}.out", logs / f"{client.name}.err"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "outage_flows.py", str(hold_dir)],
            cwd=client.project,
            env=client.env(**extra),
            stdout=out,
            stderr=err,
            text=True,
        )
    return HeldFlow(client, process, stdout, stderr)


def wait_for(condition: Callable[[], bool], timeout: float, flows: list[HeldFlow]) -> bool:
    """Poll ``condition`` until it holds (True), ``timeout`` passes or a flow exits (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        if any(flow.process.poll() is not None for flow in flows):
            return condition()
        time.sleep(0.2)
    return True


@pytest.fixture
def held_flows(team: Team, hold_dir: Path, tmp_path: Path) -> Iterator[Callable[..., list[HeldFlow]]]:
    """Start ``held`` once per environment given (client 1, 2 ...), all at once; wait until all hold.

    Flows still running at the end are killed.
    """
    started: list[HeldFlow] = []
    for leftover in hold_dir.iterdir():
        leftover.unlink()

    def start(*environments: dict[str, str]) -> list[HeldFlow]:
        for client, extra in zip(team.clients, environments, strict=False):
            started.append(start_held(client, hold_dir, tmp_path, **extra))
        holding = wait_for(lambda: len(list(hold_dir.iterdir())) >= len(started), HOLD_TIMEOUT, started)
        assert holding, "\n\n".join(flow.output() for flow in started)
        return started

    yield start
    for flow in started:
        if flow.process.poll() is None:
            flow.process.kill()
            flow.process.wait(timeout=30)


def outage(
    flows: list[HeldFlow],
    hold_dir: Path,
    stop: Callable[[], None],
    start: Callable[[], None],
    *,
    at_least: float,
    until: Callable[[], bool] | None = None,
) -> tuple[float, bool]:
    """Stop a service and release the holds; start it again once every flow waits (or ``until`` holds).

    The service stays down ``at_least`` seconds, its restart not counted.

    Returns:
        The seconds the service was down (its restart included), and whether the condition was met.
    """
    stop()
    down = time.monotonic()
    condition = until or (lambda: all(WAITING in flow.output() for flow in flows))
    try:
        (hold_dir / "release").write_text("go\n")
        met = wait_for(condition, OUTAGE_TIMEOUT, flows)
        wait_for(lambda: time.monotonic() - down >= at_least, at_least, flows)  # the outage lasts this long
    finally:
        start()
    return time.monotonic() - down, met


def check_nothing_lost(team: Team, flows: list[HeldFlow]) -> list[dict[str, Any]]:
    """Each execution completed, or failed cleanly and completes on retry; nothing stays ``running``.

    Returns:
        Each flow's outcome (its JSON line).
    """
    reader = team.clients[3]
    outcomes = []
    for flow in flows:
        result = flow.outcome()
        outcomes.append(result)
        exec_id = result["exec_id"]
        if result["status"] != "completed":
            assert result["status"] == "failed", flow.output()
            assert f"The server at {team.server.url} did not answer for" in result["error"], result
            assert f"kitaru executions retry {exec_id}" in result["error"], result
            failed = json_item(reader.kitaru("executions", "get", exec_id, "-o", "json"))
            assert failed["status"] == "failed", failed
            assert "running" not in [c["status"] for c in failed["checkpoints"]], failed["checkpoints"]
            retried = json_item(reader.kitaru("executions", "retry", exec_id, "-o", "json"))
            assert retried["status"] == "completed", retried
        item = json_item(reader.kitaru("executions", "get", exec_id, "-o", "json"))
        assert item["status"] == "completed", item
        assert "running" not in [c["status"] for c in item["checkpoints"]], item["checkpoints"]
        assert [c["name"] for c in item["checkpoints"] if c["status"] == "completed"] == ["begin", "hold", "end"]
    return outcomes


def test_a_server_restart_loses_no_execution(
    team: Team, hold_dir: Path, held_flows: Callable[..., list[HeldFlow]]
) -> None:
    """Client 1 waits for the server and completes; client 2's budget is shorter than the outage: it gives up.

    Client 2's flow must then fail cleanly, in Kitaru's words, with nothing
    left ``running``, and complete when client 4 retries it.
    """
    patient, impatient = held_flows({}, {"KITARU_SERVER_RETRY_SECONDS": str(BUDGET)})
    gave_up = f"Kitaru gave up waiting for the server at {team.server.url}"
    seconds, met = outage(
        [patient, impatient],
        hold_dir,
        team.server.stop,
        team.server.start,
        at_least=SERVER_DOWN,
        until=lambda: WAITING in patient.output() and gave_up in impatient.output(),
    )
    outputs = "\n\n".join(flow.output() for flow in (patient, impatient))
    assert met, f"client 1 did not say it was {WAITING!r}, or client 2 did not give up:\n{outputs}"
    print(f"server down for {seconds:.1f} s")
    first, second = check_nothing_lost(team, [patient, impatient])
    assert (first["status"], first["result"]) == ("completed", "x:begun:held:ended"), first
    assert second["status"] == "failed", second


def test_a_database_restart_loses_no_execution(
    team: Team, mariadb: MariaDB, hold_dir: Path, held_flows: Callable[..., list[HeldFlow]]
) -> None:
    """MariaDB restarts under the server: the server answers 503, the clients wait, both flows complete."""
    flows = held_flows({}, {})
    seconds, waited = outage(flows, hold_dir, mariadb.stop, mariadb.start, at_least=DATABASE_DOWN)
    outputs = "\n\n".join(flow.output() for flow in flows)
    assert waited, f"not every flow said it was {WAITING!r} within {OUTAGE_TIMEOUT:.0f} s:\n{outputs}"
    print(f"database down for {seconds:.1f} s")
    outcomes = check_nothing_lost(team, flows)
    assert [(o["status"], o["result"]) for o in outcomes] == [("completed", "x:begun:held:ended")] * 2, outcomes


def test_a_client_killed_mid_checkpoint_is_retried_by_another(
    team: Team, hold_dir: Path, held_flows: Callable[..., list[HeldFlow]]
) -> None:
    """``kill -9`` of client 1 inside ``hold``; client 4 finds it failed, retries it, and only ``hold`` runs again.

    The clients share one machine here, so the crash check sees the owner's
    process is gone at once (across machines the heartbeat decides:
    tests/lifecycle/test_dead_owner.py).
    """
    (victim,) = held_flows({})
    reader = team.clients[3]
    running = json.loads(ok(reader.kitaru("executions", "list", "--flow", "held", "--status", "running", "-o", "json")))
    (exec_id,) = [item["exec_id"] for item in running["items"]]  # the run prints its id only once it ends
    victim.process.kill()
    victim.process.wait(timeout=30)
    crashed = json_item(reader.kitaru("executions", "get", exec_id, "-o", "json"))
    assert crashed["status"] == "failed", crashed
    assert crashed["owner"] is None, crashed["owner"]
    assert [(c["name"], c["status"]) for c in crashed["checkpoints"]] == [("begin", "completed"), ("hold", "failed")]
    (hold_dir / "release").write_text("go\n")
    retried = json_item(reader.kitaru("executions", "retry", exec_id, "-o", "json"))
    assert retried["status"] == "completed", retried
    item = json_item(team.clients[1].kitaru("executions", "get", exec_id, "-o", "json"))
    calls = {c["name"]: c for c in item["checkpoints"]}
    assert [c["name"] for c in item["checkpoints"]] == ["begin", "hold", "end"]
    assert all(c["status"] == "completed" for c in calls.values()), item["checkpoints"]
    assert len(calls["begin"]["attempts"]) == 1 and len(calls["hold"]["attempts"]) == 2, calls


@pytest.mark.parametrize(("deployment", "implicit"), [("", None), ("local", "true")])
def test_a_shared_server_does_not_enable_implicit_cloud_credentials(
    tmp_path: Path, deployment: str, implicit: str | None
) -> None:
    """Kitaru's init hook, inside the engine's server, leaves the engine's refusal of implicit credentials alone.

    Only the local server that ``kitaru login`` starts (deployment type ``local``) is the user's own.
    """
    script = "import os, zenml; print(os.environ.get('ZENML_ENABLE_IMPLICIT_AUTH_METHODS'))"
    env = subprocess_env(tmp_path / "config", ZENML_SERVER="true", ZENML_STORE_URL=f"sqlite:///{tmp_path / 'db'}")
    if deployment:
        env["ZENML_SERVER_DEPLOYMENT_TYPE"] = deployment
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(implicit)

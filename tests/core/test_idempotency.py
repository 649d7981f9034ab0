"""Idempotent starts: ``flow.run(..., idempotency_key=KEY)`` and ``kitaru run --idempotency-key KEY``.

Real flows (``flows/idempotency_flows.py``) run in child processes on a
local config dir of this module's own. What is proven:

* two processes released at the same moment by a barrier file, starting one
  flow with one key, give ONE execution: one in the store, both report its
  id, its body ran once;
* the same key later returns that execution, from Python and from
  ``kitaru run --idempotency-key`` (which says it was not started again), and
  ``kitaru executions get`` shows the key (text and JSON);
* another key, or another flow with the same key, starts a new execution;
* bad keys are refused before anything is stored, and a key on a child flow
  call in a flow body is refused.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow

FLOWS_FILE = Path(__file__).parent / "flows" / "idempotency_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
READY_TIMEOUT = 240.0
REUSED = "already exists for idempotency key"


class Project:
    """A directory with the flows, a config dir (a local store) of its own, and a folder bodies mark."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.bodies = root / "bodies"
        self.bodies.mkdir()
        shutil.copy(FLOWS_FILE, root / "idempotency_flows.py")

    def env(self) -> dict[str, str]:
        return subprocess_env(self.config_dir, COLUMNS="200", NO_COLOR="1")

    def start(self, flow: str, key: str, *barrier: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "idempotency_flows.py", flow, key, str(self.bodies), *barrier],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, flow: str, key: str) -> tuple[str, str]:
        """Start ``flow`` with ``key`` to its end; return its execution id and the process output."""
        process = self.start(flow, key)
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"stdout={stdout}\nstderr={stderr}"
        return exec_id_of(stdout), stdout + stderr

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KITARU), *args],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def executions(self, flow: str) -> list[dict[str, Any]]:
        result = self.kitaru("executions", "list", "--flow", flow, "-o", "json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout)["items"])

    def body_runs(self, flow: str) -> int:
        return len(list(self.bodies.glob(f"{flow}-*")))


def error_of(stderr: str) -> dict[str, Any]:
    """The JSON error a command printed on stderr (after any progress lines)."""
    start = re.search(r"^\{", stderr, re.M)
    assert start, stderr
    return dict(json.loads(stderr[start.start() :])["error"])


def exec_id_of(stdout: str) -> str:
    match = re.search(rf"^EXEC ({UUID})$", stdout, re.M)
    assert match, stdout
    return match.group(1)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = Project(tmp_path_factory.mktemp("idempotency-project"), tmp_path_factory.mktemp("idempotency-config"))
    # Create the store first: the race under test is the start, not two processes creating a config dir.
    created = project.kitaru("executions", "list", "-o", "json")
    assert created.returncode == 0, created.stderr
    return project


def test_two_concurrent_starts_with_one_key_give_one_execution(project: Project, tmp_path: Path) -> None:
    barrier = tmp_path / "go"
    processes = [project.start("idem_order", "order-42", str(barrier)) for _ in range(2)]
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while len(list(tmp_path.glob("go.ready-*"))) < len(processes):
            failed = [process for process in processes if process.poll() is not None]
            assert not failed, [process.communicate() for process in failed]
            assert time.monotonic() < deadline, "the processes did not get ready"
            time.sleep(0.05)
        barrier.write_text("go")  # both start now
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"stdout={stdout}\nstderr={stderr}"
    ids = {exec_id_of(stdout) for stdout, _ in outputs}
    assert len(ids) == 1, outputs
    (exec_id,) = ids
    assert [item["exec_id"] for item in project.executions("idem_order")] == [exec_id]
    assert project.body_runs("idem_order") == 1
    for stdout, _ in outputs:
        assert "RESULT idem_order done" in stdout  # the loser waited for the winner's result
        assert "STATUS completed" in stdout
    reused = [stdout + stderr for stdout, stderr in outputs if REUSED in stdout + stderr]
    assert len(reused) == 1, outputs
    assert f"Execution {exec_id} {REUSED} 'order-42'; not starting another." in reused[0]


def test_the_same_key_later_returns_the_existing_execution(project: Project) -> None:
    first, _ = project.run("idem_order", "order-43")
    again, output = project.run("idem_order", "order-43")
    assert again == first
    assert f"Execution {first} {REUSED} 'order-43'; not starting another." in output
    assert "Starting flow" not in output

    cli = project.kitaru(
        "run",
        "idempotency_flows.py:idem_order",
        "--args",
        json.dumps({"body_dir": str(project.bodies)}),
        "--idempotency-key",
        "order-43",
        "-o",
        "json",
    )
    assert cli.returncode == 0, cli.stderr
    item = json.loads(cli.stdout)["item"]
    assert item["exec_id"] == first
    assert item["idempotency_key"] == "order-43"
    assert f"Execution {first} {REUSED} 'order-43'; not starting another." in cli.stderr

    shown = project.kitaru("executions", "get", first)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"Idempotency key\s+order-43", shown.stdout), shown.stdout
    assert [item["exec_id"] for item in project.executions("idem_order") if item["idempotency_key"] == "order-43"] == [
        first
    ]


def test_another_key_or_another_flow_starts_a_new_execution(project: Project) -> None:
    first, _ = project.run("idem_order", "order-44")
    other_key, output = project.run("idem_order", "order-45")
    assert other_key != first
    assert REUSED not in output
    other_flow, output = project.run("idem_invoice", "order-44")
    assert other_flow not in (first, other_key)
    assert REUSED not in output
    shown = project.kitaru("executions", "get", other_flow, "-o", "json")
    assert json.loads(shown.stdout)["item"]["idempotency_key"] == "order-44"

    cli = project.kitaru(
        "run",
        "idempotency_flows.py:idem_invoice",
        "--args",
        json.dumps({"body_dir": str(project.bodies)}),
        "--idempotency-key",
        "invoice-1",
    )
    assert cli.returncode == 0, cli.stderr
    assert REUSED not in cli.stdout + cli.stderr
    keys = {item["idempotency_key"] for item in project.executions("idem_invoice")}
    assert keys == {"order-44", "invoice-1"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 257, "the limit is 256"),
        (" order-46", "leading or trailing whitespace"),
        ("order\n46", "control characters"),
    ],
)
def test_bad_keys_are_refused_before_anything_is_stored(project: Project, key: str, message: str) -> None:
    before = len(project.executions("idem_order"))
    cli = project.kitaru(
        "run",
        "idempotency_flows.py:idem_order",
        "--args",
        json.dumps({"body_dir": str(project.bodies)}),
        "--idempotency-key",
        key,
        "-o",
        "json",
    )
    assert cli.returncode == 1
    error = error_of(cli.stderr)
    assert error["type"] == "KitaruUsageError"
    assert message in error["message"]
    assert len(project.executions("idem_order")) == before


def test_a_key_on_a_child_flow_call_is_refused(project: Project) -> None:
    process = project.start("idem_parent", "parent-1")
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode != 0
    assert "idempotency_key is only for starting a flow from outside a flow" in stdout + stderr
    assert "child-key" not in {item["idempotency_key"] for item in project.executions("idem_order")}

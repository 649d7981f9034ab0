"""Idempotent starts with a shared server store: concurrent starts with one key give one execution.

The session's local server (``conftest.py``) stands for a shared server:
three client processes, released together by a barrier file, start the same
flow with the same key through the server's API. The server's store decides
(its unique constraint on execution names): one execution, its body ran
once, and every process reports its id.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import subprocess_env
from tests.server.conftest import ServerSession, json_item

FLOWS_FILE = Path(__file__).resolve().parents[1] / "core" / "flows" / "idempotency_flows.py"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PROCESSES = 3
READY_TIMEOUT = 240.0


def test_concurrent_starts_through_the_server_give_one_execution(server: ServerSession, tmp_path: Path) -> None:
    shutil.copy(FLOWS_FILE, server.project / "idempotency_flows.py")
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    barrier = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "idempotency_flows.py", "idem_order", "server-order-1", str(bodies), str(barrier)],
            cwd=server.project,
            env=subprocess_env(server.config),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while len(list(tmp_path.glob("go.ready-*"))) < PROCESSES:
            failed = [process for process in processes if process.poll() is not None]
            assert not failed, [process.communicate() for process in failed]
            assert time.monotonic() < deadline, "the processes did not get ready"
            time.sleep(0.05)
        barrier.write_text("go")
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"stdout={stdout}\nstderr={stderr}"
    ids = {exec_id for stdout, _ in outputs for exec_id in re.findall(rf"^EXEC ({UUID})$", stdout, re.M)}
    assert len(ids) == 1, outputs
    listed = server.kitaru("executions", "list", "--flow", "idem_order", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    keyed = [item for item in json.loads(listed.stdout)["items"] if item["idempotency_key"] == "server-order-1"]
    assert [item["exec_id"] for item in keyed] == list(ids)
    assert len(list(bodies.iterdir())) == 1
    assert json_item(server.kitaru("executions", "get", keyed[0]["exec_id"], "-o", "json"))["status"] == "completed"

"""Concurrency through the local server: 4 clients, 20 executions, a server restart, retries.

The world is what a team running locally would have: ``kitaru login`` started
the local Kitaru server, and the active stack's artifact store is a bucket on
an S3 server (moto). Four client processes start at once, each starting its
share of ``KITARU_FAULT_SERVER_EXECUTIONS`` executions (8 in CI; the figures in
docs/reliability.md come from 20) one after
another; every other execution spends a few seconds in a slow checkpoint.
While they run, once some executions are inside that checkpoint, the server
is stopped (SIGTERM to its process, as a service manager would) and started
again with ``kitaru login``. Afterwards ``kitaru executions retry`` is run, from
the project directory, on every execution that failed (all of them at once),
in rounds, until all completed or the deadline passes.

Figures printed: executions started, completed, lost (an execution a client
started that the server does not know, or that could not be completed; must
be 0), retried, orphans (executions the server has that no client saw start),
checkpoints that ran again after finishing, client tracebacks, the server's
stop and start times, and the time from the first client start until all
executions completed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.server_lab import FLOW, ServerLab, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(1800)]

EXECUTIONS = int(os.environ.get("KITARU_FAULT_SERVER_EXECUTIONS", "8"))
"""CI size; ``KITARU_FAULT_SERVER_EXECUTIONS=20`` gives the figures in docs/reliability.md."""
CLIENTS = 4
DEADLINE = 600.0
"""Seconds for the clients to finish and, again, for the retries to complete everything."""


def _statuses(lab: ServerLab) -> dict[str, dict[str, Any]]:
    items = lab.kitaru_json("executions", "list", "--flow", FLOW)["items"]
    return {item["exec_id"]: item for item in items}


def test_executions_survive_a_server_restart_under_concurrent_clients(tmp_path: Path) -> None:
    lab = ServerLab(tmp_path / "lab")
    try:
        endpoint = lab.start_moto()
        login, first_start = lab.login()
        assert login["action"] == "started", login
        lab.create_s3_stack(endpoint)
        shares = [EXECUTIONS // CLIENTS + (1 if client < EXECUTIONS % CLIENTS else 0) for client in range(CLIENTS)]

        began = time.monotonic()
        for client, count in enumerate(shares):
            if count:
                lab.start_client(client, count)
        # Restart while executions are inside the slow checkpoint (at least two, or all there will be).
        slow_total = sum((count + 1) // 2 for count in shares)
        wait_until(lambda: lab.slow_entered() >= min(2, slow_total), DEADLINE, "executions inside `server_slow`")
        in_flight = sum(1 for process in lab.clients if process.poll() is None)
        stop_seconds = lab.stop_server()
        login, start_seconds = lab.login()
        assert login["action"] == "started", login

        for process in lab.clients:
            process.wait(timeout=DEADLINE)
        logs = [lab.client_log(client) for client in range(CLIENTS)]
        started = {exec_id: (client, seq) for client, log in enumerate(logs) for seq, exec_id in log.started.items()}
        clients_done = sum(1 for log in logs if log.done)

        # Retry whatever the restart broke, until everything completed.
        retried: list[str] = []
        retry_failures: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while True:
            statuses = _statuses(lab)
            pending = {
                exec_id: statuses.get(exec_id, {}).get("status")
                for exec_id in started
                if statuses.get(exec_id, {}).get("status") != "completed"
            }
            if not pending or time.monotonic() > deadline:
                break
            failed = [exec_id for exec_id, status in pending.items() if status == "failed"]
            # All at once, from the project directory, as several users (or one script) would.
            for exec_id, result in lab.retry_all(failed).items():
                retried.append(exec_id)
                if result.returncode != 0 or "Traceback" in result.stdout + result.stderr:
                    retry_failures.append(f"{exec_id}: exit {result.returncode}: {result.stderr[-1500:]}")
            if not failed:
                time.sleep(2)  # running: wait for its owner to finish, or to be found dead
        all_done = time.monotonic() - began

        statuses = _statuses(lab)
        completed = [exec_id for exec_id in started if statuses.get(exec_id, {}).get("status") == "completed"]
        unknown = [exec_id for exec_id in started if exec_id not in statuses]
        lost = [exec_id for exec_id in started if exec_id not in completed]
        orphans = [exec_id for exec_id in statuses if exec_id not in started]
        ran = lab.ran()
        again = len(ran) - len(set(ran))
        tracebacks = sum(log.tracebacks for log in logs)
        raised = [entry for log in logs for entry in log.raised]
        print(
            f"\nserver restart: {EXECUTIONS} executions from {CLIENTS} clients ({in_flight} running at the "
            f"restart); started {len(started)}, completed {len(completed)}, lost {len(lost)} "
            f"(unknown to the server {len(unknown)}), retried {len(retried)} ({len(set(retried))} executions), "
            f"orphans {len(orphans)}, checkpoints run again {again}, client errors {len(raised)}, "
            f"client tracebacks {tracebacks}; server stop {stop_seconds:.1f} s, start {start_seconds:.1f} s "
            f"(first start {first_start:.1f} s); all completed {all_done:.1f} s after the clients started"
        )
        for entry in raised:
            print(f"  client error: {entry}")

        assert clients_done == sum(1 for count in shares if count), [log for log in logs if not log.done]
        assert len(started) == EXECUTIONS, f"{len(started)} started; client logs: {logs}"
        assert not retry_failures, retry_failures
        assert not lost, {exec_id: statuses.get(exec_id, {}).get("status") for exec_id in lost}
        assert len(completed) == EXECUTIONS
        assert tracebacks == 0, "a client printed a traceback (see client-*.out in the state dir)"
    finally:
        lab.close()

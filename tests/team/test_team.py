"""Four clients share one engine server on MariaDB, with their artifacts in S3.

What a team does with Kitaru, each step from a different client (its own
config dir and API key, see ``conftest.py``):

* a flow started by client 1 is read (status, checkpoints, logs), retried
  and replayed by client 2, and read again by client 3;
* a wait is answered from client 3 and the execution resumed by client 4;
* four flows run at once, one per client, and all complete;
* on a fresh run the terminal never says a checkpoint was "cached" (defect 1:
  MariaDB keeps whole seconds, and reuse was guessed from timestamps), and
  ``executions get`` lists checkpoints in call order (defect 2: calls were
  sorted by their whole-second creation time).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.team.conftest import Team, clock_ahead, json_item, ok, outcome

pytestmark = pytest.mark.slow

STEPS = 8
"""Checkpoints of the ``steps`` flow: quick ones, several per second, so whole-second timestamps tie."""

FINISHED = re.compile(r"Checkpoint `step_\d+` finished in .+\.")


def test_a_flow_of_one_client_is_inspected_retried_and_replayed_by_another(team: Team) -> None:
    first, second, third = team.clients[:3]
    fail_file = team.project / "finish-fails"
    fail_file.write_text("until client 2 fixes it\n")

    failed = outcome(first.flow("flaky", "cats", KITARU_TEAM_FAIL_FILE=str(fail_file)))
    exec_id = failed["exec_id"]
    assert failed["status"] == "failed", failed

    seen = json_item(second.kitaru("executions", "get", exec_id, "-o", "json"))
    assert seen["status"] == "failed"
    assert [(c["name"], c["status"]) for c in seen["checkpoints"]] == [("prepare", "completed"), ("finish", "failed")]
    logs = ok(second.kitaru("executions", "logs", exec_id))
    assert "preparing a draft about cats" in logs

    fail_file.unlink()
    retried = second.kitaru("executions", "retry", exec_id, "-o", "json", KITARU_TEAM_FAIL_FILE=str(fail_file))
    assert json_item(retried)["status"] == "completed", retried.stdout
    after = json_item(third.kitaru("executions", "get", exec_id, "-o", "json"))
    assert after["status"] == "completed"
    assert [c["status"] for c in after["checkpoints"] if c["name"] == "finish"][-1] == "completed"

    replayed = json_item(second.kitaru("executions", "replay", exec_id, "--from", "finish", "-o", "json"))
    replay_id = replayed["exec_id"]
    assert replay_id != exec_id
    replay = json_item(third.kitaru("executions", "get", replay_id, "-o", "json"))
    assert replay["status"] == "completed", replay
    assert replay["original_exec_id"] == exec_id


def test_a_wait_is_answered_from_another_client(team: Team) -> None:
    first, _, third, fourth = team.clients
    paused = outcome(first.flow("gate", "dogs"))
    exec_id = paused["exec_id"]
    assert paused["status"] == "waiting", paused

    pending = json_item(third.kitaru("executions", "get", exec_id, "-o", "json"))["pending_wait"]
    assert pending["name"] == "approve" and pending["question"] == "Publish 'draft about dogs'?"
    ok(third.kitaru("executions", "input", exec_id, "--value", "true"))
    ok(fourth.kitaru("executions", "resume", exec_id))

    done = json_item(first.kitaru("executions", "get", exec_id, "-o", "json"))
    assert done["status"] == "completed", done
    assert done["pending_wait"] is None


def test_four_clients_run_flows_at_the_same_time(team: Team) -> None:
    running = [client.start_flow("steps", "4") for client in team.clients]
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert [(r["status"], r["result"]) for r in results] == [("completed", 6)] * len(team.clients)
    listed = json.loads(ok(team.clients[0].kitaru("executions", "list", "--flow", "steps", "-o", "json")))
    listed_ids = {item["exec_id"] for item in listed["items"]}
    assert {r["exec_id"] for r in results} <= listed_ids


def checkpoint_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Checkpoint ")]


def test_checkpoints_started_in_the_same_second_are_listed_in_call_order(team: Team) -> None:
    """Defect 2, every time: six checkpoints submitted at once share their whole-second timestamps."""
    run = outcome(team.clients[0].flow("fanout", "6"))
    assert run["status"] == "completed" and run["result"] == sum(range(6))
    item = json_item(team.clients[3].kitaru("executions", "get", run["exec_id"], "-o", "json"))
    assert [c["name"] for c in item["checkpoints"]] == [f"step_{index}" for index in range(6)]


def test_a_client_whose_clock_runs_ahead_of_the_server_sees_no_cached_lines(team: Team) -> None:
    """Defect 1, every time: reuse must come from the engine's record, not from comparing clocks.

    The client's clock runs 10 s ahead of the server's (``faketime``), as a
    laptop's may; every output the server stamps then looks older than the
    call that produced it.
    """
    result = team.clients[3].flow("steps", "2", **clock_ahead(10))
    run = outcome(result)
    assert run["status"] == "completed" and run["result"] == 1
    lines = checkpoint_lines(result.stdout)
    assert len(lines) == 2 and all(FINISHED.fullmatch(line) for line in lines), lines

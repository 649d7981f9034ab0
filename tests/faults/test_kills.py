"""Kill -9 at random moments, then ``kitaru executions retry`` from another directory.

Issue 12, item 7. Each trial (``harness.run_trial``) runs a five-checkpoint
flow with two multi-MB outputs, a checkpoint retry and a flow result; kills
its process group with SIGKILL at a seeded moment (a large-output write, a
small output and its status update, the flow-result write, inside the
checkpoint's own retry, inside the ``kitaru executions retry`` of a first
kill, or a random time within a measured run); then retries from a directory
that is not the flow's until the execution completes. A control trial
(``harness.held_trial``) kills a run held at ``expand``'s return, so each
store retries at least one execution that was certainly live. The guarantees:

* every execution that exists completes after the retry (none lost);
* no checkpoint the store recorded as completed runs again (its side-effect
  counter never moves: 0 duplicates);
* ``executions list``/``get``/``logs`` exit 0 and nothing is left running;
* every stored output and the flow's result load back as the exact values.

Both stores: the local default, and a local stack whose artifact store is a
bucket on moto's S3 server. ``KITARU_FAULT_TRIALS`` sets the trials per
store; ``bench/faults.py`` runs hundreds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.faults.conftest import fault_seed, fault_trials
from tests.faults.harness import (
    MOMENTS,
    FaultStore,
    TrialResult,
    as_dict,
    figures,
    held_trial,
    read_aftermath,
    run_trial,
)

pytestmark = pytest.mark.faults

FIRST_MOMENTS = {
    "local": ("artifact_write", "flow_result", "in_resume", "random"),
    "s3": ("artifact_write", "status_update", "in_retry", "in_resume"),
}
"""The first trials' moments per store: together the two stores cover every moment."""


def moments(store: str, trials: int) -> list[str]:
    first = list(FIRST_MOMENTS[store])
    rest = [MOMENTS[index % len(MOMENTS)] for index in range(max(0, trials - len(first)))]
    return (first + rest)[:trials]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_kill_9_then_retry_from_another_directory(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if kind == "s3":
        store = FaultStore.s3(tmp_path, request.getfixturevalue("moto").endpoint)
    else:
        store = FaultStore.local(tmp_path)
    store.start_fork_server()
    try:
        calibration = store.calibrate(runs=1)
        rng = random.Random(f"{fault_seed()}:{kind}")
        results = [run_trial(store, moment, rng, calibration) for moment in moments(kind, fault_trials())]
        held = held_trial(store)
    finally:
        store.close()

    report = "\n".join(json.dumps(as_dict(result)) for result in results)
    print(f"{kind}: {json.dumps(figures(results))}")
    problems = [f"{r.moment}: {p}" for r in results for p in r.problems()]
    assert not problems, "\n".join(problems) + "\n" + report
    totals = figures(results)
    assert totals["duplicates"] == 0 and totals["lost"] == 0 and totals["stuck"] == 0, report
    assert totals["completed"] == totals["executions_to_recover"], report
    # The control: a kill that certainly hit a live execution, so a retry had real work to do.
    # (Whether the random moments did is chance: a kill just after the body returned, or at a
    # random time, may land once the execution has completed.)
    assert held.killed and held.status_after_kill == "failed", json.dumps(as_dict(held))
    assert held.ok and held.outcome == "completed" and held.duplicates == 0, json.dumps(as_dict(held))
    assert "summarize" not in held.completed_before_retry, json.dumps(as_dict(held))


def test_the_counters_tell_a_duplicate_from_a_rerun_of_the_interrupted_call(tmp_path: Path) -> None:
    """The accounting the trials rely on, on hand-written reports (no processes)."""
    snapshots = [
        {"kind": "snapshot", "exec_id": "e", "status": "failed", "completed": ["fetch"], "offset": 2, "failure": None},
        {"kind": "snapshot", "exec_id": "e", "status": "failed", "completed": ["fetch", "digest"], "offset": 3},
        {
            "kind": "final",
            "outcome": "completed",
            "exec_id": "e",
            "mismatches": [],
            "list_rc": 0,
            "get_rc": 0,
            "logs_rc": 0,
            "running": [],
        },
    ]
    (tmp_path / "aftermath.jsonl").write_text("\n".join(json.dumps(record) for record in snapshots))
    # Killed after digest's body returned but before it was stored: digest running again is fine;
    # fetch (completed at the first snapshot) and digest (completed at the second) running
    # after their snapshots are duplicates.
    (tmp_path / "ran").write_text("fetch\ndigest\ndigest\nfetch\ndigest\nflaky\n")
    result = TrialResult("local", "artifact_write", 1, state_dir=str(tmp_path))
    read_aftermath(result, tmp_path)
    assert (result.duplicates, result.duplicate_names) == (2, ["fetch", "digest"])
    assert not result.ok and "2 duplicate executions" in result.problems()[0]

"""``kitaru executions get`` and ``kitaru executions list`` (SPEC §4 contract, §4.2).

Most tests run the CLI in-process (``kitaru.cli.app.run``) against the
session store, where this module's flows ran once; one test runs the real
console script in a subprocess on the same store to check stdout/stderr
separation and exit codes end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kitaru.cli.app import run as cli_run
from tests.core.flows import client_flows

KITARU = Path(sys.executable).with_name("kitaru")
EXECUTION_KEYS = {
    "exec_id", "flow_id", "flow_name", "status", "started_at", "ended_at", "stack_name", "metadata",
    "status_reason", "failure", "pending_wait", "frozen_execution_spec", "original_exec_id",
    "checkpoints", "artifacts", "checkpoint_count", "artifact_count", "llm_usage", "replay_info",
    "owner",  # a running execution's owner (host, pid, last_seen_seconds, timeout_seconds), else null
    "parent_exec_id", "children",  # child flows: the calling execution, and the executions it started
    "sleep",  # a durable sleep in progress: name, wake_at, state, due (else null)
    "idempotency_key",  # the key the execution was started with (else null)
    "budget",  # its kitaru.Budget against what it spent: limits, spent, exhausted (else null)
    "cassette",  # {"path", "mode"} when model requests were answered from a cassette (else null)
}


@dataclass(frozen=True)
class Runs:
    report: str
    failing: str
    many: str


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs(
        report=client_flows.client_report.run("cli").exec_id,
        failing=client_flows.client_failing.run("oops").exec_id,
        many=client_flows.client_many.run(6).exec_id,
    )


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> Any:
        return json.loads(self.err)


@pytest.fixture
def kitaru(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = cli_run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


# -- get ------------------------------------------------------------------------


def test_get_text_panel(kitaru, runs: Runs) -> None:
    result = kitaru("executions", "get", runs.report)
    assert result.code == 0, result.err
    out = result.out
    assert "Kitaru execution" in out
    for label in ("Execution ID", "Flow", "Status", "Started", "Ended", "Stack", "Pending wait",
                  "Wait question", "Failure", "Checkpoints"):
        assert label in out, label
    assert runs.report in out and "client_report" in out and "completed" in out
    assert "fetch_notes (completed), summarize (completed), review (completed)" in out
    assert "UTC" in out
    assert "retry" not in out


def test_get_text_failed_shows_failure_and_retry_hint(kitaru, runs: Runs) -> None:
    result = kitaru("executions", "get", runs.failing)
    assert result.code == 0, result.err
    assert "failed" in result.out
    assert "ValueError: cannot handle 'oops' (origin: user_code)" in result.out
    assert "prepare (completed), explode (failed)" in result.out
    assert f"kitaru executions retry {runs.failing}" in result.out


def test_get_text_caps_checkpoints_at_four(kitaru, runs: Runs) -> None:
    result = kitaru("executions", "get", runs.many)
    assert result.code == 0, result.err
    expected = "square (completed), square_2 (completed), square_3 (completed), square_4 (completed), ... (+2 more)"
    assert expected in result.out


def test_get_json_is_the_full_execution(kitaru, runs: Runs) -> None:
    result = kitaru("executions", "get", runs.report, "-o", "json")
    assert result.code == 0, result.err
    payload = result.json()
    assert set(payload) == {"command", "item"}
    assert payload["command"] == "executions.get"
    item = payload["item"]
    assert set(item) == EXECUTION_KEYS
    assert (item["exec_id"], item["flow_name"], item["status"]) == (runs.report, "client_report", "completed")
    assert item["metadata"] == {"team": "research", "priority": 1}
    assert [c["name"] for c in item["checkpoints"]] == ["fetch_notes", "summarize", "review"]
    assert [len(c["attempts"]) for c in item["checkpoints"]] == [1, 1, 1]
    assert {a["name"] for a in item["checkpoints"][0]["artifacts"]} == {
        "search_prompt", "raw_context", "client_report::fetch_notes::output"
    }
    assert (item["checkpoint_count"], item["artifact_count"], len(item["artifacts"])) == (3, 5, 5)
    assert item["frozen_execution_spec"]["version"] == 1


def test_get_json_failed_execution(kitaru, runs: Runs) -> None:
    item = kitaru("executions", "get", runs.failing, "--output", "json").json()["item"]
    assert item["status"] == "failed"
    assert item["failure"]["message"] == "ValueError: cannot handle 'oops'"
    assert item["failure"]["exception_type"] == "ValueError"
    assert item["failure"]["origin"] == "user_code"
    assert item["checkpoints"][1]["failure"]["exception_type"] == "ValueError"


def test_get_errors_follow_the_contract(kitaru, runs: Runs) -> None:
    unknown = str(uuid.uuid4())
    result = kitaru("executions", "get", unknown, "-o", "json")
    assert (result.code, result.out) == (1, "")
    assert result.error() == {
        "command": "executions.get",
        "error": {
            "message": f"Execution '{unknown}' was not found. List executions with `kitaru executions list`.",
            "type": "KitaruStateError",
        },
    }
    prefix = runs.report[:5]  # shorter than the 6 characters a prefix needs
    result = kitaru("executions", "get", prefix)
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(f"Error: '{prefix}' is not a valid execution id")

    result = kitaru("executions", "get", "-o", "json")
    assert result.code == 1
    assert result.error()["command"] == "executions.get"


# -- list -----------------------------------------------------------------------


def test_list_json_items_are_summaries(kitaru, runs: Runs) -> None:
    payload = kitaru("executions", "list", "-o", "json").json()
    assert payload["command"] == "executions.list"
    assert payload["count"] == len(payload["items"])
    items = {item["exec_id"]: item for item in payload["items"]}
    assert set(items[runs.report]) == EXECUTION_KEYS
    assert (items[runs.report]["checkpoint_count"], items[runs.report]["artifact_count"]) == (3, 5)
    assert (items[runs.many]["checkpoint_count"], items[runs.many]["artifact_count"]) == (6, 6)
    assert items[runs.report]["checkpoints"] == [] and items[runs.report]["artifacts"] == []
    ids = [item["exec_id"] for item in payload["items"]]
    assert ids.index(runs.many) < ids.index(runs.failing) < ids.index(runs.report)


def test_list_filters_and_limit(kitaru, runs: Runs) -> None:
    payload = kitaru("executions", "list", "--flow", "client_many", "--limit", "1", "-o", "json").json()
    assert payload["count"] == 1 and payload["items"][0]["exec_id"] == runs.many
    failed = kitaru("executions", "list", "--status", "failed", "-o", "json").json()["items"]
    assert runs.failing in [item["exec_id"] for item in failed]
    assert {item["status"] for item in failed} == {"failed"}
    none = kitaru("executions", "list", "--flow", "client_report", "--status", "cancelled", "-o", "json").json()
    assert (none["items"], none["count"]) == ([], 0)


def test_list_text_table(kitaru, runs: Runs) -> None:
    result = kitaru("executions", "list", "--flow", "client_failing")
    assert result.code == 0, result.err
    assert "Kitaru executions" in result.out
    for column in ("ID", "Flow", "Status", "Stack", "Checkpoints", "Started"):
        assert column in result.out
    row = next(line for line in result.out.splitlines() if runs.failing in line)
    assert "client_failing" in row and "failed" in row and " 2 " in row
    assert runs.report not in result.out

    empty = kitaru("executions", "list", "--flow", "no_such_flow")
    assert empty.code == 0
    assert "No executions found matching flow='no_such_flow'." in empty.out


@pytest.mark.parametrize(
    ("args", "message", "error_type"),
    [
        (
            ["--status", "done"],
            "Unsupported status filter 'done'. Expected one of: running, waiting, completed, failed, cancelled.",
            "KitaruUsageError",
        ),
        (["--limit", "0"], "limit must be a positive integer; got 0.", "KitaruUsageError"),
    ],
)
def test_list_bad_filters(kitaru, args: list[str], message: str, error_type: str) -> None:
    result = kitaru("executions", "list", *args, "-o", "json")
    assert (result.code, result.out) == (1, "")
    assert result.error() == {"command": "executions.list", "error": {"message": message, "type": error_type}}
    text = kitaru("executions", "list", *args)
    assert (text.code, text.out, text.err) == (1, "", f"Error: {message}\n")


def test_list_limit_must_be_a_number(kitaru) -> None:
    result = kitaru("executions", "list", "--limit", "many", "-o", "json")
    assert (result.code, result.out) == (1, "")
    assert result.error()["command"] == "executions.list"
    assert "Invalid value for '--limit'" in result.error()["error"]["message"]


# -- the real console script ----------------------------------------------------


def test_console_script_prints_only_json_on_stdout(runs: Runs) -> None:
    """The real executable: engine chatter must not leak into the JSON on stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env.update(KITARU_CONFIG_PATH=os.environ["KITARU_CONFIG_PATH"], NO_COLOR="1", COLUMNS="200")
    done = subprocess.run(
        [str(KITARU), "executions", "get", runs.failing, "-o", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["command"] == "executions.get"
    assert (payload["item"]["exec_id"], payload["item"]["status"]) == (runs.failing, "failed")

"""Short execution ids: a unique prefix of at least 6 characters works wherever an execution id does.

The flows (``flows/housekeeping_flows.py``) run in this process on the
session store, and the commands run in-process through the real Typer app
(``kitaru.cli.app.run``), as in test_cli_executions_inspect.py. The session
store holds other modules' executions too, so every prefix used here is
checked to be unique among all of them first (see :func:`unique_prefix`).

An ambiguous prefix of 6 characters cannot be made on purpose (ids are random
UUIDs), so ambiguity is proven on real executions with a shorter common
prefix: through the real store query with the minimum lowered
(``resolve_execution_id(..., min_length=1)``), and through the matcher itself.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from kitaru.cli.app import run as cli_run
from kitaru.client import KitaruClient
from kitaru.client.short_ids import MIN_PREFIX_LENGTH, pick_match, resolve_execution_id
from kitaru.engine import get_engine
from kitaru.errors import KitaruStateError, KitaruUsageError
from tests.core.flows import housekeeping_flows

MAX_RUNS_FOR_A_SHARED_FIRST_DIGIT = 17
"""Among 17 ids two share their first hex digit (there are 16 digits)."""


@dataclass(frozen=True)
class Runs:
    report: str
    retryable: str
    same_first_digit: tuple[str, str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    marker = tmp_path_factory.mktemp("short-ids") / "flaky-marker"
    report = housekeeping_flows.housekeeping_report.run(f"short-{uuid.uuid4().hex[:8]}").exec_id
    retryable = housekeeping_flows.housekeeping_retryable.run(str(marker)).exec_id
    ids = [report, retryable]
    while shared_first_digit(ids) is None and len(ids) < MAX_RUNS_FOR_A_SHARED_FIRST_DIGIT:
        ids.append(housekeeping_flows.housekeeping_report.run("short-shared").exec_id)  # cached after the first
    pair = shared_first_digit(ids)
    assert pair is not None
    return Runs(report=report, retryable=retryable, same_first_digit=pair)


def shared_first_digit(ids: list[str]) -> tuple[str, str] | None:
    """Two of ``ids`` that start with the same hex digit, if any (the older first)."""
    for index, later in enumerate(ids):
        earlier = next((exec_id for exec_id in ids[:index] if exec_id[0] == later[0]), None)
        if earlier is not None:
            return earlier, later
    return None


def all_ids() -> list[str]:
    return [execution.exec_id for execution in KitaruClient().executions.list()]


def unique_prefix(exec_id: str, *, at_least: int = MIN_PREFIX_LENGTH) -> str:
    """The shortest prefix of ``exec_id`` (``at_least`` characters or more) no other execution shares."""
    others = [other for other in all_ids() if other != exec_id]
    for length in range(at_least, len(exec_id) + 1):
        prefix = exec_id[:length]
        if not any(other.startswith(prefix) for other in others):
            return prefix
    raise AssertionError(f"no unique prefix for {exec_id}")


def unused_prefix() -> str:
    """A 6-character prefix no execution id starts with."""
    ids = all_ids()
    for first in "0123456789abcdef":
        candidate = first * MIN_PREFIX_LENGTH
        if not any(exec_id.startswith(candidate) for exec_id in ids):
            return candidate
    raise AssertionError("every repeated-digit prefix is taken")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


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


# -- the client ----------------------------------------------------------------------------


def test_client_methods_take_a_unique_prefix(runs: Runs) -> None:
    executions = KitaruClient().executions
    prefix = unique_prefix(runs.report)
    assert len(prefix) >= MIN_PREFIX_LENGTH
    hyphenated = runs.report[: max(len(prefix), 13)]  # the first hyphen is the 9th character
    for given in (prefix, prefix.upper(), f"  {prefix} ", hyphenated, hyphenated.replace("-", "")):
        assert executions.get(given).exec_id == runs.report, given
    assert [artifact.name for artifact in KitaruClient().artifacts.list(prefix, name="housekeeping_notes")] == [
        "housekeeping_notes"
    ]
    assert executions.logs(prefix, source="runner") == executions.logs(runs.report, source="runner")
    assert executions.pending_waits(prefix) == []


def test_a_full_id_is_parsed_without_a_lookup(runs: Runs) -> None:
    assert resolve_execution_id(f" {runs.report.upper()} ") == runs.report
    unknown = str(uuid.uuid4())
    assert resolve_execution_id(unknown) == unknown  # existence is checked by whoever loads it
    with pytest.raises(KitaruStateError, match=f"Execution '{unknown}' was not found"):
        KitaruClient().executions.get(unknown)


# -- the CLI -------------------------------------------------------------------------------


def test_cli_get_logs_and_retry_take_a_prefix(kitaru, runs: Runs) -> None:
    prefix = unique_prefix(runs.report)
    shown = kitaru("executions", "get", prefix)
    assert shown.code == 0, shown.err
    assert runs.report in shown.out and "housekeeping_report" in shown.out
    assert kitaru("executions", "get", prefix, "-o", "json").json()["item"]["exec_id"] == runs.report

    logs = kitaru("executions", "logs", prefix, "--source", "runner", "-o", "json")
    assert logs.code == 0, logs.err
    assert (
        logs.json()["items"]
        == kitaru("executions", "logs", runs.report, "--source", "runner", "-o", "json").json()["items"]
    )
    assert kitaru("executions", "logs", prefix, "-vv").code == 0  # read below the client

    failed = KitaruClient().executions.get(runs.retryable)
    assert str(failed.status) == "failed"
    retried = kitaru("executions", "retry", unique_prefix(runs.retryable))
    assert retried.code == 0, retried.err
    assert f"Retried execution: {runs.retryable}\n" in retried.out
    assert str(KitaruClient().executions.get(runs.retryable).status) == "completed"


def test_cli_refuses_a_short_an_unknown_and_a_named_id(kitaru, runs: Runs) -> None:
    short = runs.report[: MIN_PREFIX_LENGTH - 1]
    result = kitaru("executions", "get", short)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"Error: '{short}' is not a valid execution id: a prefix needs at least 6 characters of the id "
        "(give more of it, or the full id). List executions with `kitaru executions list`.\n"
    )

    nowhere = unused_prefix()
    error = json.loads(kitaru("executions", "logs", nowhere, "-o", "json").err)
    assert error == {
        "command": "executions.logs",
        "error": {
            "message": f"Execution '{nowhere}' was not found: no execution id starts with it. "
            "List executions with `kitaru executions list`.",
            "type": "KitaruStateError",
        },
    }

    named = kitaru("executions", "retry", "housekeeping_report")
    assert named.code == 1
    assert named.err.startswith("Error: 'housekeeping_report' is not a valid execution id: expected a full UUID")


def test_mcp_tools_take_a_prefix(runs: Runs) -> None:
    from kitaru.mcp.executions import kitaru_executions_get

    assert kitaru_executions_get(unique_prefix(runs.report))["exec_id"] == runs.report


# -- ambiguity -----------------------------------------------------------------------------


def test_an_ambiguous_prefix_lists_every_match(runs: Runs) -> None:
    first, second = runs.same_first_digit
    shared = first[0]
    with pytest.raises(KitaruUsageError) as raised:
        resolve_execution_id(shared, min_length=1)  # the real store query, minimum lowered
    message = str(raised.value)
    lines = message.splitlines()
    assert lines[0].startswith(f"Execution id prefix '{shared}' is ambiguous: it matches ")
    assert lines[-1] == "Give more characters of the id, or the full id."
    for exec_id in (first, second):  # the newest matches are listed, ours among them
        [line] = [line for line in lines if exec_id in line]
        assert line.startswith(f"  {exec_id}  housekeeping_")
        assert "  completed  started 20" in line or "  failed  started 20" in line, line
        assert line.endswith(" UTC")


def test_the_matcher_on_real_executions(runs: Runs) -> None:
    first, second = runs.same_first_digit
    records = [get_engine().runs.get_run(exec_id) for exec_id in (first, second)]
    first_hex, second_hex = first.replace("-", ""), second.replace("-", "")
    common = os.path.commonprefix([first_hex, second_hex])
    assert common  # they share their first digit at least

    with pytest.raises(KitaruUsageError, match=f"it matches 2 executions:\n  {first}  .*\n  {second}  "):
        pick_match(common, common, records)
    own = first_hex[: len(common) + 1]
    assert pick_match(own, own, records) == first  # one more digit tells them apart
    neither = next(digit * 6 for digit in "0123456789abcdef" if digit != first[0] and digit != second[0])
    with pytest.raises(KitaruStateError, match=f"Execution '{neither}' was not found: no execution id starts with it"):
        pick_match(neither, neither, records)


def test_prefixes_that_are_not_hex_or_too_long_are_usage_errors() -> None:
    for value in ("not-a-uuid", "", "   ", "0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a0", "g" * 8, "0b6f3c 1e"):
        with pytest.raises(KitaruUsageError, match="is not a valid execution id"):
            resolve_execution_id(value)

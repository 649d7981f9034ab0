"""Keep ``docs/teams.md`` in step with the code it describes, without starting a server.

* Every ``kitaru ...`` line of the page's ``bash`` blocks parses against the
  real CLI (the app ``kitaru.cli.app.run`` builds): the command exists, each
  ``--flag`` exists on it, and ``<placeholders>`` fill its arguments.
* Every ``KITARU_*`` variable the page names is a Kitaru setting, and every
  number it states (heartbeat, timeout, retry budget, backoff, exit status)
  is the code's constant.
* The ``"owner"`` JSON and the ``Owner`` row it shows are what ``executions
  get`` prints for the same owner: the run goes through the client's real
  mapping, serializer and panel.

``tests/team/`` runs the page's commands against a real server; this file only
catches a page that drifted from the code, in about a second.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import re
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.meta.doc_commands import kitaru_commands, refusal
from tests.meta.test_llm_docs import flat

from kitaru._engine import server_errors, server_retries
from kitaru.cli.executions.inspect import execution_panel
from kitaru.cli.output import print_text
from kitaru.client.client import ExecutionsAPI
from kitaru.client.mapping import execution
from kitaru.client.models import Execution
from kitaru.engine.runs import RunRecord
from kitaru.execution import owner_record, ownership
from kitaru.jsonable import to_jsonable
from kitaru.settings import KitaruSettings

ROOT = Path(__file__).resolve().parents[2]
TEAMS_DOC = ROOT / "docs" / "teams.md"

def teams_doc() -> str:
    return TEAMS_DOC.read_text(encoding="utf-8")


def test_every_documented_kitaru_command_parses() -> None:
    commands = kitaru_commands(teams_doc())
    used = {" ".join(args[:2]) for args in commands}
    expected = {"login https://kitaru.example.com", "stack create", "stack use", "executions retry", "executions input"}
    assert expected <= used, f"found only {sorted(used)}"
    assert len(commands) >= 10, commands
    refused = [f"kitaru {shlex.join(args)}\n  {reason}" for args in commands if (reason := refusal(args))]
    assert not refused, "docs/teams.md shows commands the CLI refuses:\n" + "\n".join(refused)


@pytest.mark.parametrize(
    "line",
    [
        "kitaru executions retry X --force-owner-gone",  # a renamed flag
        "kitaru executions restart X",  # a renamed command
        "kitaru executions replay X",  # a missing required option
        "kitaru stack use",  # a missing argument
        "kitaru executions get X Y",  # an extra argument
    ],
)
def test_a_wrong_command_line_is_refused(line: str) -> None:
    [args] = kitaru_commands(f"```bash\n{line}  # a comment\n```")
    assert refusal(args)


def test_the_documented_python_call_exists() -> None:
    doc = flat(teams_doc())
    assert "`KitaruClient().executions.retry(exec_id, force_owner_dead=True)`" in doc
    assert "force_owner_dead" in inspect.signature(ExecutionsAPI.retry).parameters


# -- settings and numbers ----------------------------------------------------------------


def test_every_kitaru_variable_is_a_setting() -> None:
    named = set(re.findall(r"\bKITARU_[A-Z0-9_]*[A-Z0-9]", teams_doc()))
    assert {"KITARU_HEARTBEAT_TIMEOUT", "KITARU_SERVER_RETRY_SECONDS", "KITARU_SERVER_URL"} <= named
    settings = {KitaruSettings.variable(field.name) for field in dataclasses.fields(KitaruSettings)}
    unknown = sorted(named - settings)
    assert not unknown, f"docs/teams.md names variables Kitaru does not read: {unknown}"


def and_list(numbers: list[int]) -> str:
    """``408, 429 or 504``."""
    *head, last = [str(number) for number in numbers]
    return f"{', '.join(head)} or {last}"


def test_the_stated_defaults_and_timings_are_the_code_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("heartbeat_timeout", "server_retry_seconds"):
        monkeypatch.delenv(KitaruSettings.variable(name), raising=False)
    timeout, interval = owner_record.DEFAULT_HEARTBEAT_TIMEOUT, owner_record.HEARTBEAT_INTERVAL
    assert (owner_record.heartbeat_timeout(), owner_record.heartbeat_interval()) == (timeout, interval)
    assert server_retries.retry_budget() == server_retries.DEFAULT_BUDGET
    monkeypatch.setenv(KitaruSettings.variable("heartbeat_timeout"), "15")
    assert owner_record.heartbeat_interval() == 5, "the interval is no longer a third of a short timeout"
    assert owner_record.STOP_POLL_INTERVAL == 1, "the doc says the owner reads its status every second"
    assert timeout / interval == 6, "the doc says a minute tolerates six lost heartbeats"
    stated = [
        f"sends a heartbeat every {interval:g} seconds",
        f"timeout ({timeout:g} s by default)",
        "the status read the owner already makes every second",
        "six lost heartbeats",
        f"The heartbeat interval follows: {interval:g} s, or a third of the timeout",
        f"(exit status {ownership.LOST_CLAIM_EXIT_CODE})",
        f"`KITARU_SERVER_RETRY_SECONDS` (default {server_retries.DEFAULT_BUDGET:g} s)",
        f"after {server_retries.DEFAULT_BUDGET:.0f}s (the connection was refused)",
        f"waits (now {server_retries.DEFAULT_BUDGET:.0f}s)",
        f"an answer {and_list(sorted(server_retries.RETRIED_STATUSES))}, is repeated",
        f"({server_retries.BACKOFF_FACTOR:g} s doubling up to {server_retries.BACKOFF_CAP:g} s",
        f"at most every {server_retries.NOTICE_EVERY:g} s",
        f"gives up after {server_retries.FIRST_CONTACT_BUDGET:g} s",
        f"`Retry-After: {server_errors.RETRY_AFTER_SECONDS}`",
    ]
    doc = flat(teams_doc())
    missing = [text for text in stated if text not in doc]
    assert not missing, "docs/teams.md no longer states the code's numbers:\n" + "\n".join(missing)


# -- what `executions get` shows about the owner -----------------------------------------


OWNER: dict[str, Any] = {"host": "pod-a", "pid": 4242, "last_seen_seconds": 12.3, "timeout_seconds": 60.0}
"""The owner section 6 shows, as ``executions get -o json`` prints it."""


def running_execution(owner: dict[str, Any] | None) -> Execution:
    """A running execution as the client maps it from its run, owned by ``owner`` (as in :data:`OWNER`)."""
    metadata: dict[str, Any] = {}
    if owner is not None:
        heartbeat = datetime.now(timezone.utc) - timedelta(seconds=owner["last_seen_seconds"])
        record = {
            "host": owner["host"],
            "pid": owner["pid"],
            owner_record.RELEASED: False,
            owner_record.CLAIM: "c0ffee",
            owner_record.TIMEOUT: owner["timeout_seconds"],
        }
        metadata = {owner_record.OWNER_KEY: record, owner_record.HEARTBEAT_KEY: heartbeat.isoformat()}
    run = RunRecord(id="e1", flow_name="research", flow_id=None, status="running", finished=False, metadata=metadata)
    return execution(run)


def printed_owner(owner: dict[str, Any] | None) -> Any:
    """The ``owner`` of ``executions get -o json`` (the JSON the command prints) for that owner."""
    printed = to_jsonable(running_execution(owner))
    assert isinstance(printed, dict)
    return printed["owner"]


def test_the_documented_owner_json_is_what_executions_get_prints() -> None:
    [text] = re.findall(r'`-o json` gives `"owner": (\{[^`]*\})`', teams_doc())
    documented = json.loads(text)
    printed = printed_owner(OWNER)
    assert sorted(documented) == sorted(printed), f"docs/teams.md shows the owner keys {sorted(documented)}"
    assert printed == {**OWNER, "last_seen_seconds": pytest.approx(OWNER["last_seen_seconds"], abs=0.5)}
    assert documented == OWNER, "the owner JSON should show the owner of the Owner row"
    assert printed_owner(None) is None
    assert "and `null` when no process runs the execution" in flat(teams_doc())


def test_the_documented_owner_row_is_what_executions_get_prints() -> None:
    quoted = [line for block in re.findall(r"```text\n(.*?)```", teams_doc(), re.S) for line in block.splitlines()]
    [row] = [line for line in quoted if line.startswith("Owner ")]
    out = io.StringIO()
    print_text(execution_panel(running_execution(OWNER)), Console(file=out, width=200, color_system=None))
    [printed] = [line.strip("│ ") for line in out.getvalue().splitlines() if line.startswith("│ Owner ")]
    assert row == printed, f"`executions get` prints the row:\n{printed}"

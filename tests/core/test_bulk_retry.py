"""Bulk retry: ``kitaru executions retry --status failed --flow NAME [--since D] [--dry-run]``.

Real flows (``flows/bulk_retry_flows.py``) run in child processes on a local
config dir of this module's own; the real ``kitaru`` console script retries
them. The store holds, in this order:

* ``old``: a failed ``bulk_alpha`` execution, before the ``--since`` window;
* ``beta``: a failed ``bulk_beta`` execution (another flow);
* ``ok``: a completed ``bulk_alpha`` execution;
* ``parent``: a failed ``bulk_parent`` execution whose child, a
  ``bulk_alpha`` execution, failed;
* ``a1``, ``gone``, ``a2``: failed ``bulk_alpha`` executions in the window;
  ``gone`` ran from a copy of the flows file that was deleted since, so its
  retry fails again (its flow cannot be imported).

``--flow bulk_alpha --since <just after old>`` must select ``parent`` (for its
failed child), ``a1``, ``gone`` and ``a2``.

What is proven: a dry run lists exactly those, never the child itself, and
changes nothing; the real run retries exactly those, one after another, and
reports each (text and JSON): ``gone`` failed again, without stopping ``a2``
after it, and the exit status is 1; ``old``, ``beta``
and ``ok`` are untouched. Bad argument combinations are refused before
anything is retried.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow

FLOWS_FILE = Path(__file__).parent / "flows" / "bulk_retry_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SELECTED = ("parent", "a1", "gone", "a2")
"""What ``--flow bulk_alpha --since <just after old>`` retries, oldest first."""


class Store:
    """A project directory with the flows, a config dir of its own, and the flag files that break flows."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.flags = root / "flags"
        self.flags.mkdir()
        shutil.copy(FLOWS_FILE, root / "bulk_retry_flows.py")

    def env(self) -> dict[str, str]:
        return subprocess_env(self.config_dir, COLUMNS="200", NO_COLOR="1")

    def run_flow(self, flow: str, label: str, *, broken: bool, script: str = "bulk_retry_flows.py") -> str:
        """Run ``flow`` of ``script`` to its end in a child process (failing if ``broken``); return the execution id."""
        if broken:
            (self.flags / f"{label}.broken").write_text("down")
        result = self._run([sys.executable, script, flow, str(self.flags), label])
        match = re.search(rf"^EXEC ({UUID})$", result.stdout, re.M)
        assert match, f"stdout={result.stdout}\nstderr={result.stderr}"
        return match.group(1)

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(KITARU), *args])

    def get(self, exec_id: str) -> dict[str, Any]:
        result = self.kitaru("executions", "get", exec_id, "-o", "json")
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout)["item"])

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.root, env=self.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
        )


def error_of(stderr: str) -> dict[str, Any]:
    """The JSON error a command printed on stderr (after any progress lines)."""
    start = re.search(r"^\{", stderr, re.M)
    assert start, stderr
    return dict(json.loads(stderr[start.start() :])["error"])


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("bulk-retry-project"), tmp_path_factory.mktemp("bulk-retry-config"))


@pytest.fixture(scope="module")
def executions(store: Store) -> dict[str, str]:
    """The executions described in the module docstring, by role."""
    ids = {"old": store.run_flow("bulk_alpha", "old", broken=True)}
    ids["beta"] = store.run_flow("bulk_beta", "beta", broken=True)
    ids["ok"] = store.run_flow("bulk_alpha", "ok", broken=False)
    ids["parent"] = store.run_flow("bulk_parent", "child", broken=True)
    ids["a1"] = store.run_flow("bulk_alpha", "a1", broken=True)
    gone = store.root / "bulk_retry_gone.py"
    shutil.copy(FLOWS_FILE, gone)
    ids["gone"] = store.run_flow("bulk_alpha", "gone", broken=True, script=gone.name)
    gone.unlink()
    ids["a2"] = store.run_flow("bulk_alpha", "a2", broken=True)
    parent = store.get(ids["parent"])
    assert len(parent["children"]) == 1, parent
    ids["child"] = parent["children"][0]
    for role, exec_id in ids.items():
        assert store.get(exec_id)["status"] == ("completed" if role == "ok" else "failed"), role
    return ids


def since_excluding_old(store: Store, executions: dict[str, str]) -> str:
    """A ``--since`` in seconds whose window starts just after ``old`` failed (``beta`` and ``ok`` ran since)."""
    old_failed = parse_time(store.get(executions["old"])["ended_at"])
    first_in_window = parse_time(store.get(executions["parent"])["ended_at"])
    assert (first_in_window - old_failed).total_seconds() > 10, "the window needs a margin for the CLI's start"
    seconds = int((datetime.now(timezone.utc) - old_failed).total_seconds()) - 1
    return f"{seconds}s"


def statuses(store: Store, executions: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    return {
        role: (item["status"], item["ended_at"]) for role, item in ((r, store.get(i)) for r, i in executions.items())
    }


def test_a_dry_run_lists_exactly_the_failed_ones_and_changes_nothing(store: Store, executions: dict[str, str]) -> None:
    before = statuses(store, executions)
    since = since_excluding_old(store, executions)
    result = store.kitaru(
        "executions", "retry", "--status", "failed", "--flow", "bulk_alpha", "--since", since, "--dry-run", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["dry_run"] is True
    assert [item["exec_id"] for item in payload["items"]] == [executions[r] for r in SELECTED]
    assert {item["result"] for item in payload["items"]} == {"would_retry"}
    assert {item["status_before"] for item in payload["items"]} == {"failed"}
    assert [item["flow"] for item in payload["items"]] == ["bulk_parent", "bulk_alpha", "bulk_alpha", "bulk_alpha"]

    text = store.kitaru(
        "executions", "retry", "--status", "failed", "--flow", "bulk_alpha", "--since", since, "--dry-run"
    )
    assert text.returncode == 0, text.stderr
    assert "Would retry 4 failed executions of flow bulk_alpha" in text.stdout
    for role in SELECTED:
        assert f"{executions[role]}" in text.stdout
    for role in ("old", "beta", "ok", "child"):
        assert executions[role] not in text.stdout
    assert statuses(store, executions) == before


def test_the_real_run_retries_exactly_the_failed_ones_and_reports_each(
    store: Store, executions: dict[str, str]
) -> None:
    before = statuses(store, executions)
    since = since_excluding_old(store, executions)
    for flag in store.flags.iterdir():  # the outage is over: every retry succeeds
        flag.unlink()
    result = store.kitaru(
        "executions", "retry", "--status", "failed", "--flow", "bulk_alpha", "--since", since, "-o", "json"
    )
    assert result.returncode == 1, f"stdout={result.stdout}\nstderr={result.stderr}"  # gone failed again
    items = json.loads(result.stdout)["items"]
    assert items == [
        {"exec_id": executions[role], "flow": flow, "status_before": "failed", "result": result}
        for role, flow, result in (
            ("parent", "bulk_parent", "completed"),
            ("a1", "bulk_alpha", "completed"),
            ("gone", "bulk_alpha", "failed"),
            ("a2", "bulk_alpha", "completed"),
        )
    ]
    for index, role in enumerate(SELECTED, start=1):
        assert f"Retrying {index}/4: {executions[role]}" in result.stderr
    after = statuses(store, executions)
    for role in ("parent", "a1", "a2"):
        assert after[role][0] == "completed", role
    # The parent's retry called its child flow again: a new child execution completed; the failed one stays.
    children = store.get(executions["parent"])["children"]
    assert len(children) == 2 and children[0] == executions["child"], children
    assert store.get(children[1])["status"] == "completed"
    assert after["child"] == before["child"]
    for role in ("old", "beta", "ok"):
        assert after[role] == before[role], role  # untouched: same status, same end
    assert after["gone"][0] == "failed"
    assert "No module named 'bulk_retry_gone'" in store.get(executions["gone"])["failure"]["message"]

    again = store.kitaru("executions", "retry", "--status", "failed", "--flow", "bulk_alpha", "--since", since)
    assert again.returncode == 1, again.stderr
    assert "Retried 1 of 1 failed execution of flow bulk_alpha" in again.stdout
    assert f"{executions['gone']}  bulk_alpha  failed -> failed" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0123456789ab", "--status", "failed"], "Give either an execution id or filters"),
        (["--status", "completed"], "Only failed executions can be retried"),
        (["--flow", "bulk_alpha"], "A bulk retry needs --status failed"),
        (["--status", "failed", "--since", "yesterday"], "--since 'yesterday' is not a duration"),
        (["--status", "failed", "--force-owner-dead"], "--force-owner-dead takes over one execution"),
        ([], "An execution id is required"),
    ],
)
def test_bad_combinations_are_refused(store: Store, args: list[str], message: str) -> None:
    result = store.kitaru("executions", "retry", *args, "-o", "json")
    assert result.returncode == 1
    error = error_of(result.stderr)
    assert message in error["message"]

"""``kitaru executions delete`` and ``prune``, and ``KitaruClient().executions.delete/prune``.

Real flows (``flows/housekeeping_flows.py``) run in child processes on a
fresh local config dir of this module's own (prune deletes across a whole
store), and the real ``kitaru`` console script deletes them. What is proven:

* delete removes the execution, its log files, and the artifacts only it
  used, records and files: the files really are gone from the local artifact
  store, while artifacts a later (cached) execution still uses stay, files
  included, until that one is deleted too;
* a running execution (a live process inside a checkpoint) is refused and
  left intact, and prune never selects it; once it ended it can be deleted;
* without ``--yes`` and without a terminal nothing is deleted;
* several ids are reported one by one;
* prune takes only executions that ended before the cutoff, with the status
  and flow asked for (``--older-than 1d`` vs ``0s`` shows both sides of the
  cutoff), and a dry run deletes nothing;
* the client methods return frozen, typed results and refuse bad arguments.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow

FLOWS_FILE = Path(__file__).parent / "flows" / "housekeeping_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Store:
    """A project directory with the flows, and a config dir (hence a local store) of its own."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        shutil.copy(FLOWS_FILE, root / "housekeeping_flows.py")
        (root / "run_flow.py").write_text("import housekeeping_flows\nhousekeeping_flows.main()\n")

    def env(self) -> dict[str, str]:
        return subprocess_env(self.config_dir, COLUMNS="200", NO_COLOR="1")

    def run_flow(self, *args: str) -> str:
        """Run a flow to its end in a child process; return the execution id."""
        result = self._run([sys.executable, "run_flow.py", *args])
        assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
        match = re.search(rf"^EXEC ({UUID})$", result.stdout, re.M)
        assert match, result.stdout
        return match.group(1)

    def start_flow(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "run_flow.py", *args],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(KITARU), *args])

    def json(self, *args: str) -> Any:
        result = self.kitaru(*args, "-o", "json")
        assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
        return json.loads(result.stdout)

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-c", textwrap.dedent(code)])

    def exists(self, exec_id: str) -> bool:
        result = self.kitaru("executions", "get", exec_id, "-o", "json")
        if result.returncode == 0:
            return True
        assert "was not found" in result.stderr, result.stderr
        return False

    def stored_files(self) -> set[Path]:
        """Every file in the local artifact store (values and log files)."""
        stores = self.config_dir / "local_stores"
        if not stores.exists():  # nothing ran yet
            return set()
        return {
            path
            for store in stores.iterdir()
            if store.is_dir() and store.name != "default_zen_store"
            for path in store.rglob("*")
            if path.is_file()
        }

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.root, env=self.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("housekeeping-project")
    config_dir = tmp_path_factory.mktemp("housekeeping-config")
    return Store(root, config_dir)


def topic() -> str:
    """A topic no other execution used, so the cached flow stores artifacts of its own."""
    return f"topic-{uuid.uuid4().hex[:8]}"


def value_files(files: set[Path]) -> set[Path]:
    return {path for path in files if "logs" not in path.parts}


def log_files(files: set[Path]) -> set[Path]:
    return {path for path in files if "logs" in path.parts}


# -- delete ------------------------------------------------------------------------------


def test_delete_removes_the_execution_its_artifacts_and_their_files(store: Store) -> None:
    subject = topic()
    before = store.stored_files()
    first = store.run_flow("housekeeping_report", subject)
    first_files = store.stored_files() - before
    second = store.run_flow("housekeeping_report", subject)  # every checkpoint cached: first's artifacts
    second_files = store.stored_files() - before - first_files
    assert len(value_files(first_files)) == 3, first_files  # two outputs and one saved value
    assert log_files(first_files) and not value_files(second_files), second_files

    deleted = store.json("executions", "delete", first[:8], "--yes")  # a prefix is enough
    assert deleted["command"] == "executions.delete" and deleted["count"] == 1
    assert deleted["items"][0] == {
        "exec_id": first,
        "flow_name": "housekeeping_report",
        "status": "completed",
        "ended_at": deleted["items"][0]["ended_at"],
        "deleted": True,
        "artifacts_deleted": 0,
        "artifacts_kept": 3,
        "error": None,
    }
    assert not store.exists(first)
    assert not (store.config_dir / "runs" / f"{first}.lock").exists()
    assert all(not path.exists() for path in log_files(first_files)), "its log files must be gone"
    assert all(path.exists() for path in value_files(first_files)), "artifacts the cached execution uses stay"
    kept = store.json("executions", "get", second)["item"]
    assert (kept["status"], kept["artifact_count"]) == ("completed", 3)

    result = store.kitaru("executions", "delete", second, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Deleted execution {second} (housekeeping_report, completed): 3 artifacts deleted."
    assert not store.exists(second)
    leftovers = {path for path in first_files | second_files if path.exists()}
    assert not leftovers, "every file of both executions must be gone from the artifact store"


def test_a_running_execution_is_refused_and_left_intact(store: Store, tmp_path: Path) -> None:
    release = tmp_path / "release"
    process = store.start_flow("housekeeping_blocking", str(release))
    try:
        deadline = time.monotonic() + 120
        while not Path(f"{release}.started").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the blocking checkpoint did not start"
            time.sleep(0.1)
        [running] = store.json("executions", "list", "--flow", "housekeeping_blocking", "--status", "running")["items"]
        exec_id = running["exec_id"]

        refused = store.kitaru("executions", "delete", exec_id, "--yes")
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.startswith(f"Error: Execution {exec_id} is running (its process: pid {process.pid} on ")
        assert f"cancel it with `kitaru executions cancel {exec_id}`, then delete it." in refused.stderr
        error = json.loads(store.kitaru("executions", "delete", exec_id[:6], "--yes", "-o", "json").stderr)
        assert error["command"] == "executions.delete" and error["error"]["type"] == "KitaruStateError"

        pruned = store.json("executions", "prune", "--older-than", "0s", "--flow", "housekeeping_blocking", "--yes")
        assert (pruned["count"], pruned["failures"]) == (0, []), "prune never selects a running execution"
        assert store.json("executions", "get", exec_id)["item"]["status"] == "running"
        release.write_text("go")
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
        out, err = process.communicate()
    assert f"EXEC {exec_id}" in out and "STATUS completed" in out, err

    deleted = store.json("executions", "delete", exec_id, "--yes")["items"][0]
    assert (deleted["status"], deleted["artifacts_deleted"], deleted["error"]) == ("completed", 1, None)


def test_delete_without_yes_off_a_terminal_deletes_nothing(store: Store) -> None:
    exec_id = store.run_flow("housekeeping_report", topic())
    for extra in ((), ("-o", "json")):
        result = store.kitaru("executions", "delete", exec_id, *extra)
        assert result.returncode == 1 and result.stdout == ""
        assert "pass --yes to confirm" in result.stderr
    assert store.exists(exec_id)


def test_several_ids_are_reported_one_by_one(store: Store) -> None:
    first = store.run_flow("housekeeping_report", topic())
    second = store.run_flow("housekeeping_report", topic())
    unknown = str(uuid.uuid4())
    result = store.kitaru("executions", "delete", first, unknown, second[:10], "--yes", "-o", "json")
    assert result.returncode == 1, "one id could not be deleted"
    payload = json.loads(result.stdout)
    assert payload["count"] == 3
    assert [(item["exec_id"], item["deleted"]) for item in payload["items"]] == [
        (first, True),
        (unknown, False),
        (second, True),
    ]
    assert payload["items"][1]["error"] == {
        "message": f"Execution '{unknown}' was not found. List executions with `kitaru executions list`.",
        "type": "KitaruStateError",
    }
    assert not store.exists(first) and not store.exists(second)


def test_one_execution_named_twice_is_deleted_once(store: Store) -> None:
    exec_id = store.run_flow("housekeeping_report", topic())
    result = store.kitaru("executions", "delete", exec_id[:8], exec_id, "--yes", "-o", "json")
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    payload = json.loads(result.stdout)
    assert [(item["exec_id"], item["deleted"]) for item in payload["items"]] == [(exec_id, True)]
    assert not store.exists(exec_id)


def test_prune_among_deletes_only_the_listed_executions(store: Store) -> None:
    # What a confirmed preview does: an execution that qualifies but was not shown stays.
    shown = store.run_flow("housekeeping_report", topic())
    unseen = store.run_flow("housekeeping_report", topic())
    result = store.python(
        f"""
        from datetime import timedelta
        from kitaru import KitaruClient
        result = KitaruClient().executions.prune(timedelta(0), among=["{shown}"])
        print("PRUNED", sorted(e.exec_id for e in result.executions))
        """
    )
    assert result.returncode == 0, result.stderr
    assert f"PRUNED ['{shown}']" in result.stdout
    assert not store.exists(shown) and store.exists(unseen)


# -- prune -------------------------------------------------------------------------------


def test_prune_takes_only_ended_executions_older_than_the_cutoff_with_the_status(store: Store) -> None:
    before = store.stored_files()
    failed = store.run_flow("housekeeping_failing", topic())
    failed_files = store.stored_files() - before
    done = store.run_flow("housekeeping_report", topic())
    selection = ("--status", "failed", "--flow", "housekeeping_failing")

    # The cutoff: nothing ended more than a day ago.
    young = store.json("executions", "prune", "--older-than", "1d", *selection, "--yes")
    assert (young["count"], young["dry_run"], young["failures"]) == (0, False, [])
    assert store.exists(failed)

    dry = store.json("executions", "prune", "--older-than", "0s", "--status", "failed", "--dry-run")
    ids = [item["exec_id"] for item in dry["items"]]
    assert failed in ids and done not in ids
    assert {item["status"] for item in dry["items"]} == {"failed"}
    assert dry["dry_run"] is True and not any(item["deleted"] for item in dry["items"])
    assert store.exists(failed), "a dry run deletes nothing"

    unconfirmed = store.kitaru("executions", "prune", "--older-than", "0s", *selection)
    assert unconfirmed.returncode == 1 and "would be deleted, which cannot be undone: pass --yes" in unconfirmed.stderr
    assert store.exists(failed)

    pruned = store.json("executions", "prune", "--older-than", "0s", *selection, "--yes")
    assert [item["exec_id"] for item in pruned["items"]] == [failed]
    assert pruned["items"][0]["artifacts_deleted"] == 2  # the draft's output and its saved value
    assert not store.exists(failed) and store.exists(done)
    assert failed_files and not any(path.exists() for path in failed_files)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30", "--older-than '30' is not a duration: give a number and a unit, e.g. 30d, 12h, 90m or 45s"),
        ("thirty days", "--older-than 'thirty days' is not a duration"),
        ("-1d", "--older-than '-1d' is not a duration"),
        ("999999999999w", "--older-than '999999999999w' is too long"),
    ],
)
def test_prune_refuses_a_bad_duration(store: Store, value: str, message: str) -> None:
    result = store.kitaru("executions", "prune", "--older-than", value, "--yes")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {message}")


# -- client ------------------------------------------------------------------------------

CLIENT_SCRIPT = """
import dataclasses, json
from datetime import timedelta

import housekeeping_flows as flows
from kitaru import KitaruClient
from kitaru.client.models import DeletedExecution, PruneResult
from kitaru.errors import KitaruStateError, KitaruUsageError

executions = KitaruClient().executions
kept = flows.housekeeping_report.run("client-kept-{tag}").exec_id
failed = flows.housekeeping_failing.run("client-failed-{tag}").exec_id
report = {{}}

dry = executions.prune(timedelta(0), status="failed", flow="housekeeping-failing", dry_run=True)
assert isinstance(dry, PruneResult) and dry.dry_run
report["dry"] = [item.exec_id for item in dry.executions]
pruned = executions.prune(timedelta(seconds=0), status="FAILED", flow="housekeeping_failing")
report["pruned"] = [item.exec_id for item in pruned.executions]
report["pruned_deleted"] = [item.deleted for item in pruned.executions]

deleted = executions.delete(kept[:6])
assert isinstance(deleted, DeletedExecution)
try:
    deleted.deleted = False
except dataclasses.FrozenInstanceError:
    report["frozen"] = True
report["deleted"] = [deleted.exec_id, str(deleted.status), deleted.artifacts_deleted, deleted.artifacts_kept]
for name, call in [
    ("get deleted", lambda: executions.get(kept)),
    ("negative age", lambda: executions.prune(timedelta(days=-1))),
    ("age as text", lambda: executions.prune("30d")),
    ("running status", lambda: executions.prune(timedelta(0), status="running")),
    ("unknown status", lambda: executions.prune(timedelta(0), status="exploded")),
    ("blank flow", lambda: executions.prune(timedelta(0), flow=" ")),
    ("dry_run not a bool", lambda: executions.prune(timedelta(0), dry_run="yes")),
    ("huge age", lambda: executions.prune(timedelta(days=999999999))),
]:
    try:
        call()
    except (KitaruStateError, KitaruUsageError) as exc:
        report[name] = type(exc).__name__
print(json.dumps(dict(report, kept=kept, failed=failed)))
"""


def test_client_delete_and_prune_return_typed_results(store: Store) -> None:
    result = store.python(CLIENT_SCRIPT.format(tag=uuid.uuid4().hex[:8]))
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] in report["dry"] and report["kept"] not in report["dry"]
    assert report["failed"] in report["pruned"] and all(report["pruned_deleted"])
    assert report["frozen"] is True
    assert report["deleted"] == [report["kept"], "completed", 3, 0]
    assert report["get deleted"] == "KitaruStateError"
    for name in (
        "negative age",
        "age as text",
        "running status",
        "unknown status",
        "blank flow",
        "dry_run not a bool",
        "huge age",
    ):
        assert report[name] == "KitaruUsageError", name

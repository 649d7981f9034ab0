"""Schedules: ``kitaru schedule create/list/delete/run-due`` and their Python equivalents.

The commands run as the installed console script, each in its own process,
against one store for the module; the scheduled flow is a real flow
(``tests/core/flows/schedule_flows.py``) whose checkpoint leaves a file per
run, holding the schedule's argument. Time is controlled honestly with
``run-due --now ISO_TIME`` (the option users have for backfills): each test
reads the schedule's next fire time from ``create -o json`` and evaluates
``run-due`` just before or after it, instead of sleeping until a minute turns.

Daylight saving time: the machine's zone is set with ``TZ=America/New_York``
in the child processes; ``run-due`` is called through the nights the clocks
change, and every fire starts once, none is reported missed.

Two ``run-due`` at once: the test holds the store's lock itself until both
processes signal (through the test-only ``KITARU_TEST_SCHEDULES_READY_DIR``)
that they are about to take it, then releases them together.

Engine schedules (stacks whose orchestrator runs schedules: Kubernetes,
Vertex AI, SageMaker, AzureML) cannot run here; their tests assert the exact
request Kitaru hands ZenML, with ZenML's own classes, including through a real
Kubernetes stack registered in the store, up to the image build that needs a
cluster's registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
FLOWS_DIR = REPO_ROOT / "tests" / "core" / "flows"
TARGET = "schedule_flows.py:scheduled_report"
DAILY = "0 7 * * *"
NEW_YORK = "America/New_York"
READY_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module: creating a store costs more than the runs."""
    return tmp_path_factory.mktemp("schedules-config")


@pytest.fixture(autouse=True)
def _no_schedules_left(config_dir: Path) -> Iterator[None]:
    """Each test starts without schedules (``run-due`` starts every due schedule of the store)."""
    yield
    (config_dir / "schedules.json").unlink(missing_ok=True)


def kitaru(config: Path, *args: str, cwd: Path = FLOWS_DIR, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KITARU), *args],
        cwd=cwd,
        env=subprocess_env(config, COLUMNS="200", NO_COLOR="1", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def error_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    error: dict[str, Any] = json.loads(result.stderr)["error"]
    return error


def create(
    config: Path, name: str, out: Path, *, topic: str = "sales", cron: str = DAILY, **env: str
) -> dict[str, Any]:
    args = json.dumps({"topic": topic, "out_dir": str(out)})
    payload = ok_json(
        kitaru(config, "schedule", "create", name, TARGET, "--cron", cron, "--args", args, "-o", "json", **env)
    )
    assert payload["command"] == "schedule.create"
    item: dict[str, Any] = payload["item"]
    return item


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def run_due(config: Path, now: datetime, cwd: Path, **env: str) -> dict[str, Any]:
    payload: dict[str, Any] = ok_json(
        kitaru(config, "schedule", "run-due", "--now", at(now), "-o", "json", cwd=cwd, **env)
    )
    assert payload["command"] == "schedule.run-due"
    return payload


def listed(config: Path) -> dict[str, dict[str, Any]]:
    payload = ok_json(kitaru(config, "schedule", "list", "-o", "json"))
    return {item["name"]: item for item in payload["items"]}


def reports(out: Path) -> list[str]:
    return sorted(path.read_text() for path in out.iterdir())


def test_a_due_schedule_starts_one_run_with_its_args(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    created = create(config_dir, "daily-sales", out)
    assert created["backend"] == "local" and created["last_fire_at"] is None
    fire = datetime.fromisoformat(created["next_fire_at"])

    # run-due runs from another directory (cron starts it in $HOME): the target is found where it was created.
    payload = run_due(config_dir, fire + timedelta(minutes=5), cwd=tmp_path)
    assert payload["count"] == 1, payload
    started = payload["items"][0]
    assert started["name"] == "daily-sales" and started["status"] == "completed", started
    assert datetime.fromisoformat(started["fire_at"]) == fire
    assert started["missed_count"] == 0 and started["missed"] == []
    exec_id = started["execution_id"]
    assert reports(out) == ["sales"]  # the flow body ran once, with the schedule's arguments

    execution = ok_json(kitaru(config_dir, "executions", "get", exec_id, "-o", "json"))["item"]
    assert execution["flow_name"] == "scheduled_report" and execution["status"] == "completed"

    schedule = listed(config_dir)["daily-sales"]
    assert schedule["last_execution_id"] == exec_id and schedule["last_status"] == "completed"
    assert datetime.fromisoformat(schedule["last_fire_at"]) == fire
    assert datetime.fromisoformat(schedule["next_fire_at"]) > fire
    assert schedule["missed_count"] == 0 and schedule["due_at"] is None

    again = run_due(config_dir, fire + timedelta(minutes=5), cwd=tmp_path)
    assert again["count"] == 0, again
    assert reports(out) == ["sales"]


def test_a_schedule_that_is_not_due_starts_nothing(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    created = create(config_dir, "not-yet", out)
    fire = datetime.fromisoformat(created["next_fire_at"])
    payload = run_due(config_dir, fire - timedelta(minutes=1), cwd=tmp_path)
    assert payload["count"] == 0 and payload["schedule_count"] == 1, payload
    assert reports(out) == []
    schedule = listed(config_dir)["not-yet"]
    assert schedule["last_fire_at"] is None and schedule["last_execution_id"] is None


def test_missed_fires_are_reported_and_one_run_catches_up(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    created = create(config_dir, "weekly-off", out, topic="catchup")
    first = datetime.fromisoformat(created["next_fire_at"])
    now = first + timedelta(days=3, minutes=1)  # the machine was off for three days

    before = ok_json(kitaru(config_dir, "schedule", "list", "-o", "json"))["items"][0]
    assert before["pending_missed_count"] == 0  # evaluated at the real time: nothing passed yet

    result = kitaru(config_dir, "schedule", "run-due", "--now", at(now), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Schedule 'weekly-off' missed 3 fire time(s)" in result.stdout, result.stdout
    assert "Starting one run for the latest fire time." in result.stdout
    assert "started execution" in result.stdout and "completed" in result.stdout
    assert reports(out) == ["catchup"]  # one run, not four

    schedule = listed(config_dir)["weekly-off"]
    assert schedule["missed_count"] == 3
    missed = [datetime.fromisoformat(moment) for moment in schedule["last_missed"]]
    assert len(missed) == 3 and missed[0] == first and missed == sorted(missed)
    assert datetime.fromisoformat(schedule["last_fire_at"]) > missed[-1]
    assert schedule["last_status"] == "completed"


def test_the_fire_is_recorded_before_its_run_starts(config_dir: Path, tmp_path: Path) -> None:
    """At most once: the flow body already sees its fire recorded (``starting``, no execution yet)."""
    out = tmp_path / "out"
    out.mkdir()
    args = json.dumps({"out_dir": str(out)})
    created = ok_json(
        kitaru(
            config_dir,
            "schedule",
            "create",
            "witness",
            "schedule_flows.py:store_witness",
            "--cron",
            DAILY,
            "--args",
            args,
            "-o",
            "json",
        )
    )["item"]
    fire = datetime.fromisoformat(created["next_fire_at"])
    [started] = run_due(config_dir, fire + timedelta(minutes=1), cwd=tmp_path)["items"]
    assert started["status"] == "completed", started
    [seen] = json.loads((out / "seen-store.json").read_text())["schedules"]
    assert datetime.fromisoformat(seen["last_fire_at"]) == fire
    assert (seen["last_status"], seen["last_execution_id"]) == ("starting", None)
    after = listed(config_dir)["witness"]
    assert (after["last_status"], after["last_execution_id"]) == ("completed", started["execution_id"])


def test_two_run_due_at_once_start_a_fire_once(config_dir: Path, tmp_path: Path) -> None:
    """Both processes wait on the store's lock (held here) with the fire due in what they read; one claims it."""
    from kitaru.locks import file_lock

    out = tmp_path / "out"
    out.mkdir()
    ready = tmp_path / "ready"
    ready.mkdir()
    created = create(config_dir, "overlap", out, topic="once")
    fire = datetime.fromisoformat(created["next_fire_at"])
    command = [str(KITARU), "schedule", "run-due", "--now", at(fire + timedelta(minutes=1)), "-o", "json"]
    env = subprocess_env(config_dir, KITARU_TEST_SCHEDULES_READY_DIR=str(ready))
    processes: list[subprocess.Popen[str]] = []
    try:
        with file_lock(config_dir / "schedules.json.lock"):
            processes = [
                subprocess.Popen(
                    command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(2)
            ]
            deadline = time.monotonic() + READY_TIMEOUT
            while len(list(ready.iterdir())) < len(processes):
                failed = [process for process in processes if process.poll() is not None]
                assert not failed, [process.communicate() for process in failed]
                assert time.monotonic() < deadline, "the run-due processes did not reach the claim"
                time.sleep(0.05)
        # The lock is released: both race for it now.
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [process.returncode for process in processes] == [0, 0], outputs
    payloads = [json.loads(stdout) for stdout, _ in outputs]
    started = [item for payload in payloads for item in payload["items"]]
    assert len(started) == 1, payloads
    assert datetime.fromisoformat(started[0]["fire_at"]) == fire
    taken = [item for payload in payloads for item in payload["already_taken"]]
    assert taken == [{"name": "overlap", "fire_at": at(fire)}], payloads
    assert sorted(len(payload["items"]) for payload in payloads) == [0, 1]  # the other one only reports it taken
    assert reports(out) == ["once"]
    execution = ok_json(kitaru(config_dir, "executions", "get", started[0]["execution_id"], "-o", "json"))["item"]
    assert execution["status"] == "completed"


# -- daylight saving time ---------------------------------------------------------------------


DST_SCRIPT = """
import json
from datetime import UTC, datetime, timedelta

from kitaru.schedules.due import due_fire
from kitaru.schedules.records import Schedule


def walk(cron, start, hours):
    \"\"\"run-due every 30 minutes from ``start``: the fire times started and the missed count.\"\"\"
    schedule = Schedule(name="s", target="t.py:f", cron=cron, created_at=start)
    starts, missed, now = [], 0, start
    while now < start + timedelta(hours=hours):
        now += timedelta(minutes=30)
        fire = due_fire(schedule, now)
        if fire is not None:
            starts.append(fire.fire_at.astimezone(UTC).isoformat())
            missed += fire.missed_count
            schedule = schedule.with_changes(last_fire_at=fire.fire_at)
    return {"starts": starts, "missed": missed}


print(json.dumps({
    "fall-hourly": walk("0 * * * *", datetime(2026, 11, 1, 3, 45, tzinfo=UTC), 5),
    "fall-daily": walk("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=UTC), 48),
    "spring-hourly": walk("0 * * * *", datetime(2027, 3, 14, 4, 45, tzinfo=UTC), 4),
    "spring-daily": walk("30 2 * * *", datetime(2027, 3, 13, 12, tzinfo=UTC), 48),
}))
"""

DST_EXPECTED = {
    # 01:00 EDT, 01:00 EST (the repeated hour), 02:00 EST: every hour of absolute time fires.
    "fall-hourly": ["2026-11-01T04:00", "2026-11-01T05:00", "2026-11-01T06:00", "2026-11-01T07:00", "2026-11-01T08:00"],
    # A fixed time in the repeated hour fires once, in the first pass (01:30 EDT), as cron does.
    "fall-daily": ["2026-11-01T05:30", "2026-11-02T06:30"],
    # 01:00 EST then 03:00 EDT: the skipped hour has no fire of an hourly schedule, nothing is missed.
    "spring-hourly": ["2027-03-14T05:00", "2027-03-14T06:00", "2027-03-14T07:00", "2027-03-14T08:00"],
    # 02:30 does not exist that day: it fires at the jump, 03:00 EDT, as cron does.
    "spring-daily": ["2027-03-14T07:00", "2027-03-15T06:30"],
}


@pytest.fixture(scope="module")
def dst_walks(config_dir: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", DST_SCRIPT],
        env=subprocess_env(config_dir, TZ=NEW_YORK),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    walks: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return walks


@pytest.mark.parametrize("case", sorted(DST_EXPECTED))
def test_daylight_saving_changes_start_every_fire_once_and_miss_none(dst_walks: dict[str, Any], case: str) -> None:
    walk = dst_walks[case]
    assert walk["starts"] == [f"{moment}:00+00:00" for moment in DST_EXPECTED[case]], walk
    assert walk["missed"] == 0, walk


@pytest.mark.parametrize("cron", ["*/15 * * * *", "30 1 * * *"])
def test_a_walk_past_the_count_limit_finds_the_same_latest_fires(cron: str) -> None:
    """Over ``limit`` fire times, counting stops and the latest ones are found near ``now``: the same ones."""
    from zoneinfo import ZoneInfo

    from kitaru.schedules.cron import fires_between

    zone = ZoneInfo(NEW_YORK)
    after, now = datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 1, 6, 50, tzinfo=UTC)
    full = fires_between(cron, after, now, limit=100_000, shown=3, zone=zone)
    capped = fires_between(cron, after, now, limit=5, shown=3, zone=zone)
    assert full.earlier_count > 5 and capped.earlier_count == 5
    assert (capped.latest, capped.earlier) == (full.latest, full.earlier)
    assert full.latest is not None and len(full.earlier) == 3


def test_run_due_every_hour_through_the_fall_back_night_starts_the_repeated_hour(
    config_dir: Path, tmp_path: Path
) -> None:
    """The reviewer's case, through the CLI: hourly, in New York, run-due each hour of 2027-11-07 (fall back)."""
    out = tmp_path / "out"
    out.mkdir()
    create(config_dir, "hourly-ny", out, topic="hourly", cron="0 * * * *", TZ=NEW_YORK)
    night = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT; 06:30Z is 01:30 EST, 07:30Z is 02:30 EST
    first = run_due(config_dir, night, cwd=tmp_path, TZ=NEW_YORK)["items"]
    assert [item["fire_at"] for item in first] == [at(night - timedelta(minutes=30))], first
    for hour in (1, 2):
        [started] = run_due(config_dir, night + timedelta(hours=hour), cwd=tmp_path, TZ=NEW_YORK)["items"]
        assert started["fire_at"] == at(night + timedelta(hours=hour, minutes=-30)), started
        assert (started["missed_count"], started["status"]) == (0, "completed"), started
    schedule = listed(config_dir)["hourly-ny"]
    assert datetime.fromisoformat(schedule["last_fire_at"]) == datetime(2027, 11, 7, 7, tzinfo=UTC)
    assert len(reports(out)) == 3


def test_list_and_delete_with_json(config_dir: Path, tmp_path: Path) -> None:
    assert ok_json(kitaru(config_dir, "schedule", "list", "-o", "json")) == {
        "command": "schedule.list",
        "items": [],
        "count": 0,
    }
    create(config_dir, "first", tmp_path)
    create(config_dir, "second", tmp_path)
    payload = ok_json(kitaru(config_dir, "schedule", "list", "-o", "json"))
    assert payload["count"] == 2 and [item["name"] for item in payload["items"]] == ["first", "second"]
    item = payload["items"][0]
    assert item["target"] == TARGET and item["cron"] == DAILY and item["base_dir"] == str(FLOWS_DIR)
    assert item["args"] == {"topic": "sales", "out_dir": str(tmp_path)}

    text = kitaru(config_dir, "schedule", "list")
    assert text.returncode == 0 and "Next fire" in text.stdout and "Missed" in text.stdout, text.stdout

    deleted = ok_json(kitaru(config_dir, "schedule", "delete", "first", "-o", "json"))
    assert deleted["command"] == "schedule.delete" and deleted["item"]["name"] == "first"
    assert list(listed(config_dir)) == ["second"]

    error = error_json(kitaru(config_dir, "schedule", "delete", "first", "-o", "json"))
    assert error["type"] == "KitaruUsageError"
    assert "No schedule named 'first'. Schedules: second" in error["message"]


BAD_CREATES = [
    (["bad name", TARGET, "--cron", DAILY], "Invalid schedule name 'bad name'"),
    (["ok", TARGET, "--cron", "61 7 * * *"], "Invalid cron expression '61 7 * * *': [61 7 * * *] is not acceptable"),
    (["ok", TARGET, "--cron", "0 7 * *"], "it has 4 field(s), Kitaru takes exactly 5"),
    (["ok", TARGET, "--cron", "0 7 * * * 2027"], "it has 6 field(s)"),
    (["ok", "schedule_flows.py:missing_flow", "--cron", DAILY], "has no attribute 'missing_flow'"),
    (["ok", "schedule_flows.py:not_a_flow", "--cron", DAILY], "is a value of type str, not a flow"),
    (["ok", "no_such_file.py:scheduled_report", "--cron", DAILY], "Flow file 'no_such_file.py' does not exist"),
    (["ok", TARGET, "--cron", DAILY, "--args", "[1, 2]"], "--args must be a JSON object"),
    (["ok", TARGET, "--cron", DAILY, "--args", "{"], "--args is not valid JSON"),
    (["ok", TARGET, "--cron", DAILY, "--args", '{"topic": "x"}'], "missing a required argument: 'out_dir'"),
    (
        ["ok", TARGET, "--cron", DAILY, "--args", '{"topic": "x", "out_dir": "y", "stack": "z"}'],
        "cannot be named stack",
    ),
    (
        ["taken", TARGET, "--cron", DAILY, "--args", '{"topic": "x", "out_dir": "y"}'],
        "A schedule named 'taken' already exists",
    ),
]


def test_bad_input_is_refused_with_the_reason_and_nothing_is_written(config_dir: Path, tmp_path: Path) -> None:
    create(config_dir, "taken", tmp_path)
    store = config_dir / "schedules.json"
    before = store.read_bytes()
    for args, expected in BAD_CREATES:
        error = error_json(kitaru(config_dir, "schedule", "create", *args, "-o", "json"))
        assert expected in error["message"], (args, error)
        assert error["type"] == "KitaruUsageError"
        assert store.read_bytes() == before, args
    cron_error = error_json(
        kitaru(config_dir, "schedule", "create", "ok", TARGET, "--cron", "61 7 * * *", "-o", "json")
    )
    assert 'e.g. "0 7 * * *"' in cron_error["message"]  # the reason comes with an example
    now_error = error_json(kitaru(config_dir, "schedule", "run-due", "--now", "tomorrow", "-o", "json"))
    assert "--now must be an ISO 8601 date and time" in now_error["message"]
    assert store.read_bytes() == before


# -- the Python API --------------------------------------------------------------------------


API_SCRIPT = """
import json, sys
from datetime import datetime, timedelta
from pathlib import Path

from kitaru.errors import KitaruUsageError
from kitaru.schedules import create_schedule, delete_schedule, get_schedule, list_schedules, run_due

flows, out = Path(sys.argv[1]), sys.argv[2]
errors = []
for bad in ({"cron": "every day"}, {"cron": "0 7 * * *", "args": ["x"]}):
    try:
        create_schedule("py-api", "schedule_flows.py:scheduled_report", base_dir=flows, **bad)
    except KitaruUsageError as exc:
        errors.append(str(exc))
try:
    run_due(now=datetime(2030, 1, 1))
except KitaruUsageError as exc:
    errors.append(str(exc))
create_schedule("py-api", "schedule_flows.py:scheduled_report", cron="0 7 * * *",
                args={"topic": "python", "out_dir": out}, base_dir=flows)
names = [status.schedule.name for status in list_schedules()]
fire = get_schedule("py-api").next_fire_at
report = run_due(now=fire + timedelta(days=1, minutes=1))
after = get_schedule("py-api", now=fire + timedelta(days=1, minutes=2))
deleted = delete_schedule("py-api").name
print(json.dumps({
    "errors": errors, "names": names, "fire": fire.isoformat(),
    "started": [fire.to_json() for fire in report.started],
    "last_execution_id": after.schedule.last_execution_id, "missed_count": after.schedule.missed_count,
    "due_at": after.due_at, "deleted": deleted, "left": len(list_schedules()),
}))
"""


def test_python_api_creates_lists_runs_and_deletes(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", API_SCRIPT, str(FLOWS_DIR), str(out)],
        cwd=tmp_path,
        env=subprocess_env(config_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert "Invalid cron expression 'every day'" in data["errors"][0]
    assert "must be a JSON object" in data["errors"][1]
    assert "timezone-aware" in data["errors"][2]
    assert data["names"] == ["py-api"]
    [started] = data["started"]
    assert (started["name"], started["status"], started["missed_count"]) == ("py-api", "completed", 1)
    assert [datetime.fromisoformat(moment) for moment in started["missed"]] == [datetime.fromisoformat(data["fire"])]
    assert data["last_execution_id"] == started["execution_id"] and data["missed_count"] == 1
    assert data["due_at"] is None and data["deleted"] == "py-api" and data["left"] == 0
    assert reports(out) == ["python"]


# -- engine schedules (remote orchestrators) --------------------------------------------------


def test_the_engine_request_is_a_zenml_schedule_with_the_cron() -> None:
    from zenml.config.schedule import Schedule

    from kitaru._engine.schedules import schedule_options
    from kitaru.engine.schedules import ScheduleRequest

    request = ScheduleRequest(name="nightly", cron_expression=DAILY)
    assert schedule_options(request) == {"schedule": Schedule(name="nightly", cron_expression=DAILY)}


def test_the_pipeline_is_configured_with_that_schedule_and_the_local_stack_refuses_it() -> None:
    from zenml.config.schedule import Schedule

    from kitaru._engine.schedules import schedule_options
    from kitaru.engine import get_engine
    from kitaru.engine.schedules import ScheduleRequest, SchedulesUnsupported

    sys.path.insert(0, str(FLOWS_DIR))
    try:
        import schedule_flows
    finally:
        sys.path.remove(str(FLOWS_DIR))
    request = ScheduleRequest(name="nightly", cron_expression=DAILY)
    pipeline = schedule_flows.scheduled_report.engine_flow()
    # What ZenML's pipeline keeps for its next call: the schedule, exactly (ZenML's private `_run_args`).
    configured = pipeline.with_options(**schedule_options(request))
    assert configured._run_args["schedule"] == Schedule(name="nightly", cron_expression=DAILY)
    schedules = get_engine().schedules
    assert schedules.supports_schedules() is False  # the local orchestrator runs no schedules
    with pytest.raises(SchedulesUnsupported):
        schedules.create(pipeline, {"topic": "x", "out_dir": "y"}, request)


# -- the docs ---------------------------------------------------------------------------------


def test_the_docs_python_names_exist() -> None:
    """``docs/primitives.md`` (section "Schedules"): every ``kitaru.schedules.X`` it shows exists, with its keywords."""
    import inspect
    import re

    import kitaru.schedules

    text = (REPO_ROOT / "docs" / "primitives.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Schedules\n") : text.index("\n## ", text.index("\n## Schedules\n") + 1)]
    calls = re.findall(r"kitaru\.schedules\.(\w+)\(([^)]*)\)", section)
    assert {name for name, _ in calls} == {"create_schedule", "list_schedules", "run_due", "delete_schedule"}
    for name, arguments in calls:
        parameters = inspect.signature(getattr(kitaru.schedules, name)).parameters
        assert set(re.findall(r"\b(\w+)=", arguments)) <= set(parameters), name
    for attribute in ("started", "now"):
        assert attribute in kitaru.schedules.RunDueReport.__dataclass_fields__
    for attribute in ("name", "execution_id", "status", "missed_count", "missed"):
        assert attribute in kitaru.schedules.StartedFire.__dataclass_fields__


ENGINE_SCRIPT = """
import json, sys

from kitaru._engine.schedules import schedule_options
from kitaru.engine import get_engine
from kitaru.errors import KitaruBackendError
from kitaru.schedules import create_schedule
from kitaru.schedules.store import store_path

engine = get_engine()
handed = []
real_create = engine.schedules.create

def recording(flow, params, request):  # records what Kitaru hands the engine, then lets ZenML do it
    schedule = flow.with_options(**schedule_options(request))._run_args["schedule"]  # ZenML's private field
    handed.append({"pipeline": flow.name, "params": dict(params), "request": [request.name, request.cron_expression],
                   "run_args_schedule": schedule.model_dump(mode="json")})
    return real_create(flow, params, request)

engine.schedules.create = recording
with engine.runtime.using_stack("k8s"):
    supports = engine.schedules.supports_schedules()
error = None
try:
    create_schedule("k8s-nightly", "schedule_flows.py:scheduled_report", cron="0 7 * * *",
                    args={"topic": "k8s", "out_dir": "/reports"}, base_dir=sys.argv[1])
except KitaruBackendError as exc:
    error = str(exc)
from kitaru._engine.bootstrap import client
left = [schedule.name for schedule in client().list_schedules().items]
print(json.dumps({"supports": supports, "handed": handed, "error": error, "written": store_path().exists(),
                  "engine_schedules_left": left}))
"""


def test_a_stack_that_runs_schedules_gets_the_schedule_through_the_engine(
    fresh_config_dir: Path, tmp_path: Path
) -> None:
    """A Kubernetes stack: Kitaru hands ZenML the flow's pipeline, its arguments and the schedule.

    No cluster runs here: ZenML takes the request and then needs to build the
    flow's image for the cluster, which fails without a container engine (or a
    reachable registry); Kitaru reports that and saves nothing.
    """
    stack = kitaru(
        fresh_config_dir,
        *("stack", "create", "k8s", "--type", "kubernetes", "--artifact-store", "s3://kitaru-test/artifacts"),
        *("--container-registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "--cluster", "c1"),
        *("--region", "eu-west-1", "--credentials", "aws-access-keys:AKIAKITARUTEST000000:not-a-secret"),
        *("--no-verify", "--no-activate"),
    )
    assert stack.returncode == 0, stack.stderr
    result = subprocess.run(
        [sys.executable, "-c", ENGINE_SCRIPT, str(FLOWS_DIR)],
        cwd=tmp_path,
        env=subprocess_env(fresh_config_dir, KITARU_STACK="k8s"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["supports"] is True
    [handed] = data["handed"]
    assert handed["pipeline"] == "scheduled_report"
    assert handed["params"] == {"topic": "k8s", "out_dir": "/reports"}
    assert handed["request"] == ["k8s-nightly", DAILY]
    assert handed["run_args_schedule"]["cron_expression"] == DAILY
    assert handed["run_args_schedule"]["name"] == "k8s-nightly"
    assert data["error"] is not None and data["error"].startswith("Stack 'k8s' could not create schedule 'k8s-nightly'")
    assert data["written"] is False
    assert data["engine_schedules_left"] == []  # ZenML's half-made schedule record is removed too

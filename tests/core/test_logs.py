"""Runtime logs of real executions (SPEC §7): ``get_logs``, the client, and the CLI.

The flows in :mod:`tests.core.flows.log_flows` print to stdout and stderr and
use ``logging`` from checkpoints and from the flow body. In-process tests run
them once per module on the session store and read the logs back from the
artifact store; ``--follow`` on a live execution runs the flow and the
followers in separate processes on a fresh config dir.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru import KitaruClient
from kitaru.cli.app import run as cli
from kitaru.cli.executions import logs as logs_cli
from kitaru.cli.output import OutputFormat
from kitaru.client import ExecutionStatus, LogEntry
from kitaru.engine import get_engine
from kitaru.errors import KitaruLogRetrievalError, KitaruStateError, KitaruUsageError
from kitaru.execution import ownership
from kitaru.locks import try_lock
from kitaru.logs import (
    ENGINE_SOURCE,
    ExecutionProgress,
    get_logs,
    is_engine_line,
    read_stored_logs,
    sort_entries,
    wait_for_log_export,
)
from kitaru.plugins.records import LogStoreSpec
from kitaru.testing.managers import only_plugins
from kitaru_local.log_store import read_engine_logs
from tests.conftest import subprocess_env
from tests.core.flows import log_flows

KITARU = Path(sys.executable).with_name("kitaru")
FLOWS_FILE = Path(log_flows.__file__)
LONG = log_flows.LONG_LINE_LENGTH
STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR)\s+(.*)$", re.S)

CHECKPOINT_MESSAGES = [
    ("logs_shout", "INFO", "shout: alpha"),
    ("logs_grumble", "ERROR", "grumble on stderr: ALPHA"),
    ("logs_note", "WARNING", "note via logging: alpha"),
    ("logs_note", "INFO", "L" * LONG),
    ("logs_shout_2", "INFO", "shout: ALPHA"),
]
BODY_MESSAGES = [
    ("INFO", "body: start alpha"),
    ("WARNING", "body warning: size=5"),
    ("ERROR", "body: done alpha"),
]


@dataclass(frozen=True)
class Runs:
    chatty: str
    quiet: str
    failing: str


@pytest.fixture(scope="module")
def runs() -> Runs:
    chatty = log_flows.logs_chatty.run("alpha")
    assert chatty.wait() == 5
    quiet = log_flows.logs_quiet.run("hush")
    assert quiet.wait() == "hush"
    failing = log_flows.logs_failing.run("beta")
    with pytest.raises(Exception, match="exploded on beta"):
        failing.wait()
    return Runs(chatty.exec_id, quiet.exec_id, failing.exec_id)


def triples(entries: list[LogEntry]) -> list[tuple[str | None, str | None, str]]:
    return [(entry.checkpoint_name, entry.level, entry.message) for entry in entries]


# -- get_logs ------------------------------------------------------------------------


def test_step_logs_are_exactly_what_checkpoints_printed_and_logged(runs: Runs) -> None:
    entries = get_logs(runs.chatty)
    # stdout -> INFO, stderr -> ERROR, logging keeps its level; checkpoints in start
    # order; the 12 KB line (stored in chunks) comes back whole; no engine lines.
    assert triples(entries) == CHECKPOINT_MESSAGES
    assert {entry.source for entry in entries} == {"step"}
    stamps = [datetime.fromisoformat(entry.timestamp) for entry in entries]
    assert all(stamp.tzinfo is not None for stamp in stamps)
    assert stamps == sorted(stamps)


def test_runner_logs_are_the_flow_body_output_without_engine_lines(runs: Runs) -> None:
    entries = get_logs(runs.chatty, source="runner")
    assert [(entry.level, entry.message) for entry in entries] == BODY_MESSAGES
    assert {(entry.source, entry.checkpoint_name) for entry in entries} == {("runner", None)}


def test_engine_lines_are_available_on_request(runs: Runs) -> None:
    runner = get_logs(runs.chatty, source="runner", include_engine=True)
    engine = [entry.message for entry in runner if entry.source == ENGINE_SOURCE]
    assert "Checkpoint `logs_shout` finished" in " ".join(engine)
    assert any(message.startswith("Flow `logs_chatty` completed successfully") for message in engine)
    # The body's own lines are all still there, in order, between the engine lines.
    assert [entry.message for entry in runner if entry.source == "runner"] == [m for _, m in BODY_MESSAGES]
    assert "pipeline" not in " ".join(engine).lower().replace("`", "")

    # The engine's launch lines are in the flow's stream, in order, not in a
    # stream per checkpoint attempt (kitaru/_engine/launch_logs.py).
    launch = [message for message in engine if message.startswith("Checkpoint `logs_shout` ")]
    assert launch[0] == "Checkpoint `logs_shout` has started."
    assert [message.split(" in ")[0] for message in launch[1:]] == [
        "Checkpoint `logs_shout` has finished",  # the engine's launcher
        "Checkpoint `logs_shout` finished",  # Kitaru's reporter
    ]

    steps = get_logs(runs.chatty, include_engine=True)
    assert not [e for e in steps if e.message.endswith("has started.")]
    assert triples([e for e in steps if e.source == "step"]) == CHECKPOINT_MESSAGES


def test_checkpoint_filter_matches_a_name_across_calls_or_one_call(runs: Runs) -> None:
    assert triples(get_logs(runs.chatty, checkpoint="logs_shout")) == [
        ("logs_shout", "INFO", "shout: alpha"),
        ("logs_shout_2", "INFO", "shout: ALPHA"),
    ]
    assert triples(get_logs(runs.chatty, checkpoint="logs_shout_2")) == [("logs_shout_2", "INFO", "shout: ALPHA")]
    assert get_logs(runs.chatty, checkpoint="logs_nope") == []


def test_limit_returns_the_first_entries(runs: Runs) -> None:
    assert triples(get_logs(runs.chatty, limit=2)) == CHECKPOINT_MESSAGES[:2]
    assert triples(get_logs(runs.chatty, limit=1, source="runner"))[0][2] == "body: start alpha"


def test_an_execution_without_output_has_no_entries(runs: Runs) -> None:
    assert get_logs(runs.quiet) == []


def test_failed_checkpoint_logs_include_its_traceback(runs: Runs) -> None:
    entries = get_logs(runs.failing)
    assert entries[0].message == "explode: about to fail on beta"
    assert entries[-1].level == "ERROR"
    assert "ValueError: exploded on beta" in entries[-1].message
    assert "Traceback" in entries[-1].message


def test_client_logs_and_errors(runs: Runs) -> None:
    client = KitaruClient()
    assert client.executions.logs(runs.chatty, source="runner") == get_logs(runs.chatty, source="runner")
    with pytest.raises(KitaruUsageError, match="'not-a-uuid' is not a valid execution id"):
        client.executions.logs("not-a-uuid")
    with pytest.raises(KitaruStateError, match="was not found"):
        client.executions.logs(str(uuid.uuid4()))
    with pytest.raises(KitaruUsageError, match="source='runner'"):
        client.executions.logs(runs.chatty, checkpoint="logs_shout", source="runner")
    with pytest.raises(KitaruUsageError, match="Unsupported log source"):
        get_logs(runs.chatty, source="stdout")


def test_sort_puts_entries_without_timestamp_last_and_is_stable() -> None:
    entries = [
        LogEntry("b", timestamp="2026-01-01T00:00:02+00:00"),
        LogEntry("no-time-1"),
        LogEntry("a", timestamp="2026-01-01T00:00:01+00:00"),
        LogEntry("b-again", timestamp="2026-01-01T00:00:02+00:00"),
        LogEntry("no-time-2"),
    ]
    assert [entry.message for entry in sort_entries(entries)] == ["a", "b", "b-again", "no-time-1", "no-time-2"]


@pytest.mark.parametrize(
    ("message", "engine"),
    [
        ("Step `fetch` has started.", True),
        ("Pipeline run has finished in `0.5s`.", True),
        ("Checkpoint `fetch` finished in 0.18s.", True),
        ("Execution 5888744e-7a54-48ea-b27d-d197ddc700e0 completed in 1.14s.", True),
        ("Step one of my plan has started", False),
        ("body: checkpoint `x` is my favourite", False),
        # The engine formats a ``python -c`` process's __main__, which warns from the frozen
        # import machinery when DeprecationWarnings are shown (pytest workers do).
        (
            "<frozen importlib._bootstrap>:744: DeprecationWarning: BuiltinImporter.module_repr() is deprecated",
            True,
        ),
        ("/home/me/agent.py:12: UserWarning: the model is slow today", False),
    ],
)
def test_engine_line_recognition(message: str, engine: bool) -> None:
    assert is_engine_line(message) is engine


# -- reading only through the installed log stores ------------------------------------------


class LogStorePlugin:
    """A third party's plugin that registers one log store."""

    def __init__(self, spec: LogStoreSpec) -> None:
        self.spec = spec

    @kitaru.hookimpl
    def kitaru_log_stores(self) -> Iterator[LogStoreSpec]:
        yield self.spec


@dataclass
class Spy:
    """A ``read_logs`` that records its calls and returns ``rows`` (or core's reading, if None)."""

    rows: list[dict[str, Any]] | None = None
    calls: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)

    def __call__(self, exec_id: str, *, checkpoint: str | None, source: str, limit: int | None) -> list[Any]:
        self.calls.append((exec_id, {"checkpoint": checkpoint, "source": source, "limit": limit}))
        if self.rows is None:
            return list(read_stored_logs(exec_id, checkpoint=checkpoint, source=source, limit=limit))
        return list(self.rows)


def only_log_store(spy: Spy, name: str = "artifact-store", flavor: str | None = None) -> Any:
    """A plugin manager whose only log store is a third party's ``name`` reading with ``spy``."""
    spec = LogStoreSpec(name=name, description="A third party's log store.", read_logs=spy, flavor=flavor)
    return only_plugins(thirdparty=LogStorePlugin(spec))


def test_local_log_stores_read_through_the_hook(runs: Runs) -> None:
    """kitaru-local's artifact-store and datadog records carry read_logs; otel cannot read back."""
    import kitaru_local.plugin

    with only_plugins(local=kitaru_local.plugin) as manager:
        stores = manager.log_stores()
        assert stores["artifact-store"].read_logs is read_engine_logs
        assert stores["datadog"].read_logs is read_engine_logs
        assert stores["otel"].read_logs is None
        assert triples(get_logs(runs.chatty)) == CHECKPOINT_MESSAGES


def test_without_a_log_store_for_the_artifact_store_logs_cannot_be_read(runs: Runs) -> None:
    with only_plugins(), pytest.raises(KitaruLogRetrievalError) as info:
        get_logs(runs.chatty)
    message = str(info.value)
    assert f"Cannot read the logs of execution '{runs.chatty}'" in message
    assert "no installed log store reads 'artifact-store' logs" in message
    assert "pip install kitaru-local" in message
    with only_plugins():
        assert get_logs(runs.chatty, checkpoint="logs_nope") == []  # no stream selected: nothing to read


def test_core_reads_through_the_registered_log_store_once_with_the_protocol_arguments(runs: Runs) -> None:
    spy = Spy()
    with only_log_store(spy):
        assert triples(get_logs(runs.chatty, checkpoint="logs_shout", limit=5)) == [
            ("logs_shout", "INFO", "shout: alpha"),
            ("logs_shout_2", "INFO", "shout: ALPHA"),
        ]
        assert spy.calls == [(runs.chatty, {"checkpoint": "logs_shout", "source": "step", "limit": 5})]
        # The same rows as kitaru-local's artifact-store, engine lines included on request.
        assert get_logs(runs.chatty, source="runner", include_engine=True) == get_logs_locally(
            runs.chatty, source="runner", include_engine=True
        )


def get_logs_locally(exec_id: str, **filters: Any) -> list[LogEntry]:
    import kitaru_local.plugin

    with only_plugins(local=kitaru_local.plugin):
        return get_logs(exec_id, **filters)


def test_rows_are_sorted_filtered_and_limited_by_core(runs: Runs) -> None:
    rows: list[dict[str, Any]] = [
        {"message": "third", "timestamp": "2026-01-01T00:00:03+00:00", "source": "step", "level": "INFO"},
        {"message": "engine note", "timestamp": "2026-01-01T00:00:00+00:00", "source": "engine"},
        {"message": "Step `x` has started.", "timestamp": "2026-01-01T00:00:00.5+00:00", "source": "step"},
        {"message": "first", "timestamp": datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc), "extra": 1},
        {"message": "no time"},
        {"message": "second", "timestamp": "2026-01-01T00:00:02+00:00", "checkpoint_name": "c", "lineno": 7},
    ]
    with only_log_store(Spy(rows)):
        entries = get_logs(runs.chatty)
        assert [entry.message for entry in entries] == ["first", "second", "third", "no time"]
        assert entries[0].timestamp == "2026-01-01T00:00:01+00:00"
        assert (entries[1].checkpoint_name, entries[1].lineno) == ("c", 7)
        assert [entry.message for entry in get_logs(runs.chatty, limit=2)] == ["first", "second"]
        noisy = get_logs(runs.chatty, include_engine=True)
        assert [(entry.source, entry.message) for entry in noisy[:2]] == [
            ("engine", "engine note"),
            ("engine", "Step `x` has started."),
        ]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        (RuntimeError("backend down"), "The 'artifact-store' log store of plugin 'thirdparty'"),
        (["just text"], "returned a str row"),
    ],
)
def test_a_failing_log_store_is_named(runs: Runs, rows: Any, error: str) -> None:
    def read_logs(exec_id: str, *, checkpoint: str | None, source: str, limit: int | None) -> list[Any]:
        if isinstance(rows, Exception):
            raise rows
        return list(rows)

    spec = LogStoreSpec(name="artifact-store", read_logs=read_logs)
    with only_plugins(thirdparty=LogStorePlugin(spec)), pytest.raises(KitaruLogRetrievalError, match=error) as info:
        get_logs(runs.chatty)
    assert runs.chatty in str(info.value)


def test_read_stored_logs_alone_reads_every_stream_with_the_engine_lines(runs: Runs) -> None:
    rows = read_stored_logs(runs.chatty, source="runner")
    assert [row["message"] for row in rows if row["source"] == "runner"] == [m for _, m in BODY_MESSAGES]
    assert [row["message"] for row in rows] == [
        entry.message for entry in get_logs(runs.chatty, source="runner", include_engine=True)
    ]
    assert len(read_stored_logs(runs.chatty, source="runner", limit=2)) == 2


def test_get_logs_loads_the_execution_once(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log store's read_stored_logs reuses what get_logs loaded: no second query for the run."""
    engine_runs = get_engine().runs
    calls: list[str] = []
    for name in ("get_run", "list_steps"):
        real = getattr(engine_runs, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(engine_runs, name, counted)
    assert triples(get_logs(runs.chatty)) == CHECKPOINT_MESSAGES
    assert calls == ["get_run", "list_steps"]


@pytest.fixture
def otel_component() -> Iterator[tuple[str, str]]:
    """A log-store component of the engine's ``otel`` flavor: its id and endpoint."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    endpoint = "http://127.0.0.1:4318/v1/logs"
    component = Client().create_stack_component(
        name=f"logs-otel-{uuid.uuid4().hex[:8]}",
        flavor="otel",
        component_type=StackComponentType.LOG_STORE,
        configuration={"endpoint": endpoint},
    )
    try:
        yield str(component.id), endpoint
    finally:
        Client().delete_stack_component(component.id, StackComponentType.LOG_STORE)


def keep_runner_streams_in(monkeypatch: pytest.MonkeyPatch, exec_id: str, log_store_id: str) -> None:
    """Make the execution's run-level streams look kept by the log-store component ``log_store_id``."""
    engine_runs = get_engine().runs
    real = engine_runs.get_run

    def get_run(run_id: str, **kwargs: Any) -> Any:
        run = real(run_id, **kwargs)
        if run.id != exec_id:
            return run
        streams = tuple(dataclasses.replace(stream, log_store_id=log_store_id) for stream in run.log_streams)
        return dataclasses.replace(run, log_streams=streams)

    monkeypatch.setattr(engine_runs, "get_run", get_run)


def test_otel_logs_cannot_be_read_back_and_the_error_names_the_endpoint(
    runs: Runs, otel_component: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose logs sit in an OTEL collector cannot be read back: say where they are."""
    component_id, endpoint = otel_component
    keep_runner_streams_in(monkeypatch, runs.chatty, component_id)
    with pytest.raises(KitaruLogRetrievalError, match=re.escape(endpoint)) as info:
        get_logs(runs.chatty, source="runner")
    assert "from the 'otel' log store at" in str(info.value)
    assert "it does not support reading logs back" in str(info.value)


def test_a_plugin_log_store_whose_flavor_matches_is_what_core_calls(
    runs: Runs, otel_component: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    component_id, _ = otel_component
    keep_runner_streams_in(monkeypatch, runs.chatty, component_id)
    spy = Spy([{"message": "from my OTLP backend", "source": "runner"}])
    with only_log_store(spy, name="my-otlp", flavor="otel"):
        assert [entry.message for entry in get_logs(runs.chatty, source="runner")] == ["from my OTLP backend"]
    assert spy.calls == [(runs.chatty, {"checkpoint": None, "source": "runner", "limit": None})]
    # Without it, no installed log store reads the component's flavor: say what to install.
    with only_plugins(), pytest.raises(KitaruLogRetrievalError, match="no installed log store reads 'otel' logs"):
        get_logs(runs.chatty, source="runner")


def test_docs_quote_the_real_retrieval_messages(
    runs: Runs, otel_component: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/log-stores.md quotes both messages word for word (the execution id as <id>)."""
    doc = " ".join((Path(__file__).resolve().parents[2] / "docs" / "log-stores.md").read_text().split())
    with only_plugins(), pytest.raises(KitaruLogRetrievalError) as missing:
        get_logs(runs.chatty)
    keep_runner_streams_in(monkeypatch, runs.chatty, otel_component[0])
    with pytest.raises(KitaruLogRetrievalError) as otel:
        get_logs(runs.chatty, source="runner")
    for error in (missing.value, otel.value):
        assert " ".join(str(error).replace(runs.chatty, "<id>").split()) in doc


# -- CLI (in process, same store) ------------------------------------------------------------


def kitaru(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_default_prints_messages_only(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty)
    assert code == 0, err
    assert out.splitlines() == [message for _, _, message in CHECKPOINT_MESSAGES]


def test_cli_verbose_levels(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "--source", "runner", "-v")
    assert code == 0, err
    matches = [STAMPED.match(line) for line in out.splitlines()]
    assert all(matches), out
    assert [(m.group(1), m.group(2)) for m in matches if m] == BODY_MESSAGES

    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "-vv", "--source", "runner")
    assert code == 0, err
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO\s+\[engine\] Checkpoint `logs_grumble` has started\.$", out, re.M), out

    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "-vv", "--checkpoint", "logs_grumble")
    assert code == 0, err
    lines = out.splitlines()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+\s+\[logs_grumble\] ", lines[0]), lines
    assert any(line.endswith("ERROR   [logs_grumble] grumble on stderr: ALPHA") for line in lines), lines


def test_cli_grouped_sections(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "--grouped", "--checkpoint", "logs_shout")
    assert code == 0, err
    assert out.splitlines() == [
        logs_cli.group_header("logs_shout"),
        "shout: alpha",
        "",
        logs_cli.group_header("logs_shout_2"),
        "shout: ALPHA",
    ]
    assert logs_cli.group_header("logs_shout").startswith("── checkpoint: logs_shout ───")


def test_cli_json(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "--limit", "3", "-o", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["command"] == "executions.logs"
    assert payload["count"] == 3
    assert [(i["checkpoint_name"], i["level"], i["message"]) for i in payload["items"]] == CHECKPOINT_MESSAGES[:3]
    assert set(payload["items"][0]) == {
        "message", "level", "timestamp", "source", "checkpoint_name", "module", "filename", "lineno",
    }


def test_cli_empty_output_has_a_hint(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.quiet)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"No log entries found for execution {runs.quiet}."
    assert "--source runner" in lines[1]
    code, out, _ = kitaru(capsys, "executions", "logs", runs.quiet, "-o", "json")
    assert json.loads(out) == {"command": "executions.logs", "items": [], "count": 0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grouped", "-o", "json"), "--grouped only applies to text output"),
        (("--checkpoint", "logs_shout", "--source", "runner"), "--checkpoint cannot be combined with --source runner"),
        (("--interval", "0", "--follow"), "--interval must be greater than 0"),
        (("--interval", "-1"), "--interval must be greater than 0"),
        (("--source", "stdout"), "Unsupported log source 'stdout'"),
        (("--limit", "0"), "--limit must be a positive integer"),
    ],
)
def test_cli_rejects_invalid_combinations(
    runs: Runs, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, *args)
    assert code == 1
    assert out == ""
    if "json" in args:
        assert json.loads(err)["error"]["message"].startswith(message)
        assert json.loads(err)["error"]["type"] == "KitaruUsageError"
    else:
        assert err.startswith(f"Error: {message}"), err


def test_cli_unknown_execution(capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(uuid.uuid4())
    code, out, err = kitaru(capsys, "executions", "logs", missing, "-o", "json")
    assert (code, out) == (1, "")
    assert json.loads(err)["error"]["type"] == "KitaruStateError"
    code, _, err = kitaru(capsys, "executions", "logs", missing, "--follow")
    assert code == 1
    assert err.startswith(f"Error: Execution '{missing}' was not found.")


def test_follow_a_completed_execution_ends_successfully(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.chatty, "--follow", "--source", "runner")
    assert code == 0, err
    assert out.splitlines() == [message for _, message in BODY_MESSAGES] + ["[Execution completed successfully]"]


def test_follow_a_failed_execution_exits_1_with_the_retry_command(
    runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = kitaru(capsys, "executions", "logs", runs.failing, "--follow")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "explode: about to fail on beta"
    assert re.fullmatch(r"\[Execution failed: .*exploded on beta.*\]", lines[-2]), lines[-2:]
    assert lines[-1].endswith(f"kitaru executions retry {runs.failing}")

    code, out, err = kitaru(capsys, "executions", "logs", runs.failing, "--follow", "-o", "json")
    assert code == 1, err
    events = [json.loads(line) for line in out.splitlines()]
    assert {event["command"] for event in events} == {"executions.logs"}
    assert [event["event"] for event in events][-1] == "terminal"
    assert {event["event"] for event in events[:-1]} == {"log"}
    terminal = events[-1]["item"]
    assert terminal["status"] == "failed"
    assert terminal["recovery_command"] == f"kitaru executions retry {runs.failing}"
    assert "exploded on beta" in terminal["message"]


# -- the follower's state machine (scripted store) ------------------------------------------------


def test_follower_dedups_announces_each_wait_once_and_reports_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Poll by poll: new entries only, one line per wait, the outcome last."""
    import io

    first = LogEntry("one", level="INFO", timestamp="2026-01-01T00:00:01+00:00", checkpoint_name="a")
    second = LogEntry("two", level="INFO", timestamp="2026-01-01T00:00:02+00:00", checkpoint_name="b")
    script = iter(
        [
            (ExecutionProgress(ExecutionStatus.RUNNING), [first]),
            (ExecutionProgress(ExecutionStatus.WAITING, waiting_on=("approve",)), [first]),
            (ExecutionProgress(ExecutionStatus.WAITING, waiting_on=("approve",)), [first, second]),
            (ExecutionProgress(ExecutionStatus.CANCELLED), [first, second]),
        ]
    )
    current: list[list[LogEntry]] = []

    def progress(_exec_id: str) -> ExecutionProgress:
        state, entries = next(script)
        current[:] = [entries]
        return state

    monkeypatch.setattr("kitaru.logs.execution_progress", progress)
    monkeypatch.setattr("kitaru.logs.wait_for_log_export", lambda _exec_id: True)
    monkeypatch.setattr(logs_cli, "fetch_entries", lambda *_a, **_k: current[0])
    sleeps: list[float] = []
    out = io.StringIO()
    follower = logs_cli.Follower(
        "e1", checkpoint=None, source="step", limit=None, verbose=0, grouped=True,
        fmt=OutputFormat.TEXT, out=out, interval=2.5, sleep=sleeps.append,
    )
    assert follower.run() == 1
    assert out.getvalue().splitlines() == [
        logs_cli.group_header("a"),
        "one",
        "[Execution is waiting for input on: approve]",
        "",
        logs_cli.group_header("b"),
        "two",
        "[Execution cancelled]",
    ]
    assert sleeps == [2.5, 2.5, 2.5]  # three polls apart; the last read waited for the log export instead


def test_follower_of_an_execution_that_ran_elsewhere_reads_until_its_logs_stop_growing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No process here to watch: after the end, read again a second later for as long as lines keep coming."""
    import io

    lines = [LogEntry(f"line {n}", timestamp=f"2026-01-01T00:00:0{n}+00:00") for n in range(4)]
    stored = iter([lines[:1], lines[:2], lines[:4], lines[:4]])  # two batches land after the end
    monkeypatch.setattr("kitaru.logs.execution_progress", lambda _id: ExecutionProgress(ExecutionStatus.COMPLETED))
    monkeypatch.setattr("kitaru.logs.wait_for_log_export", lambda _exec_id: None)
    monkeypatch.setattr(logs_cli, "fetch_entries", lambda *_a, **_k: next(stored))
    sleeps: list[float] = []
    out = io.StringIO()
    follower = logs_cli.Follower(
        "e1", checkpoint=None, source="step", limit=None, verbose=0, grouped=False,
        fmt=OutputFormat.TEXT, out=out, interval=2.5, sleep=sleeps.append,
    )
    assert follower.run() == 0
    assert out.getvalue().splitlines() == [
        "line 0", "line 1", "line 2", "line 3", "[Execution completed successfully]"
    ]
    assert sleeps == [logs_cli.SETTLE_SECONDS] * 3  # the third read after the end found nothing new


def test_wait_for_log_export_watches_the_lock_of_the_process_that_ran_the_execution() -> None:
    """Stored once no process here holds the execution; unknown when none ever did; bounded while one does."""
    exec_id = str(uuid.uuid4())
    assert wait_for_log_export(exec_id) is None  # never ran on this machine
    owner = try_lock(ownership.lock_path(exec_id))  # what the process running the execution holds
    assert owner is not None
    started = time.monotonic()
    assert wait_for_log_export(exec_id, timeout=0.3) is False
    assert time.monotonic() - started >= 0.3
    threading.Timer(0.5, owner.release).start()
    started = time.monotonic()
    assert wait_for_log_export(exec_id) is True
    assert 0.4 <= time.monotonic() - started < 5
    assert wait_for_log_export(exec_id, timeout=0) is True


# -- --follow on an execution running in another process ------------------------------------


class LineReader:
    """Collects a process's stdout lines in a thread so a test can wait for one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 120) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._thread.is_alive()):
                    raise AssertionError(f"no matching line; got {self.lines!r}")
                self._changed.wait(min(remaining, 0.5))

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self._thread.join(timeout=10)
        return code


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def start_flow(
    tmp_path: Path, env: dict[str, str], name: str, *, engine_hook: str | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """Run ``log_flows.FLOWS[name]`` from a project directory holding a copy of the flows.

    ``engine_hook`` is the source of a module imported first, to change how
    the engine behaves in the flow's process.
    """
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(FLOWS_FILE, project / "log_flows.py")
    prelude = ""
    if engine_hook is not None:
        (project / "engine_hook.py").write_text(engine_hook)
        prelude = "import engine_hook\n"
    (project / "run_logs.py").write_text(prelude + "import log_flows\nlog_flows.main()\n")
    markers = tmp_path / "markers"
    markers.mkdir()
    process = subprocess.Popen(
        [sys.executable, "run_logs.py", name, str(markers)],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return process, markers


def _wait_for_file(path: Path, runner: subprocess.Popen[str], timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if runner.poll() is not None:
            raise AssertionError(f"flow process exited early: {runner.stdout.read() if runner.stdout else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} was not written in {timeout}s")
        time.sleep(0.1)
    return path.read_text().strip()


@pytest.mark.slow
def test_follow_streams_a_running_execution_from_another_process(
    tmp_path: Path, fresh_config_dir: Path, processes: list[subprocess.Popen[str]]
) -> None:
    env = subprocess_env(fresh_config_dir, COLUMNS="200")
    runner, markers = start_flow(tmp_path, env, "gated")
    processes.append(runner)
    exec_id = _wait_for_file(markers / "exec_id", runner)
    # A read command first, so the followers are answered by the warm helper it leaves behind
    # (kitaru.cli.warm): Ctrl-C is passed on to the helper's fork, and the lines come from it.
    warm_up = subprocess.run([str(KITARU), "status"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert warm_up.returncode == 0, warm_up.stderr

    def follow(*extra: str) -> LineReader:
        process = subprocess.Popen(
            [str(KITARU), "executions", "logs", exec_id, "--follow", "--interval", "0.3", *extra],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        processes.append(process)
        return LineReader(process)

    text = follow()
    events = follow("-o", "json")
    interrupted = follow("--source", "runner")
    # Lines arrive while the execution is still running (the second checkpoint waits for us).
    text.wait_for(lambda line: line == "first: hello")
    events.wait_for(lambda line: '"first: hello"' in line)
    interrupted.wait_for(lambda line: line == "gated body: start")
    assert not (markers / "go").exists() and runner.poll() is None

    interrupted.process.send_signal(signal.SIGINT)
    assert interrupted.finish() == 1
    assert interrupted.lines[-1] == "[Log follow interrupted]"

    (markers / "go").write_text("go")
    assert text.finish() == 0, text.process.stderr.read() if text.process.stderr else ""
    assert text.lines == ["first: hello", "second: got go", "[Execution completed successfully]"]

    assert events.finish() == 0
    parsed = [json.loads(line) for line in events.lines]
    assert [(e["event"], e["item"].get("message")) for e in parsed] == [
        ("log", "first: hello"),
        ("log", "second: got go"),
        ("terminal", None),
    ]
    assert parsed[-1]["item"] == {"exec_id": exec_id, "status": "completed"}
    assert runner.wait(timeout=120) == 0
    assert f"EXEC {exec_id}" in (runner.stdout.read() if runner.stdout else "")


HOLD_LAST_LINES = '''
"""Engine hook: the batch holding the execution's last lines is stored well after the execution ended.

The engine exports log lines in batches from a background thread; this
makes that thread (or the final flush) wait, once it has the last lines,
until the run's status is final and then HOLD_SECONDS longer.
"""
import sys
import time
from pathlib import Path
from uuid import UUID

from zenml.client import Client
from zenml.log_stores.artifact.artifact_log_exporter import ArtifactLogExporter

LAST_LINES = ("second: got go", "gated body: done")
HOLD_SECONDS = 3.0
MARKERS = Path(sys.argv[2])
export = ArtifactLogExporter.export


def run_has_ended() -> bool:
    run_id = UUID((MARKERS / "exec_id").read_text().strip())
    return Client().zen_store.get_run(run_id, hydrate=False).status.is_finished


def held_export(self, batch):
    if any(line in str(record.log_record.body) for record in batch for line in LAST_LINES):
        deadline = time.monotonic() + 120
        while not run_has_ended() and time.monotonic() < deadline:
            time.sleep(0.05)
        (MARKERS / "run_ended").write_text("")
        time.sleep(HOLD_SECONDS)
    return export(self, batch)


ArtifactLogExporter.export = held_export
'''


@pytest.mark.slow
def test_follow_prints_the_lines_stored_after_the_execution_ended(
    tmp_path: Path, fresh_config_dir: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """The last batch of lines lands seconds after the status flips: followers still print it, before the outcome."""
    env = subprocess_env(fresh_config_dir, COLUMNS="200")
    runner, markers = start_flow(tmp_path, env, "gated", engine_hook=HOLD_LAST_LINES)
    processes.append(runner)
    exec_id = _wait_for_file(markers / "exec_id", runner)

    def follow(*extra: str) -> LineReader:
        process = subprocess.Popen(
            [str(KITARU), "executions", "logs", exec_id, "--follow", "--interval", "0.3", *extra],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        processes.append(process)
        return LineReader(process)

    text, events, body = follow(), follow("-o", "json"), follow("--source", "runner")
    text.wait_for(lambda line: line == "first: hello")
    events.wait_for(lambda line: '"first: hello"' in line)
    body.wait_for(lambda line: line == "gated body: start")
    (markers / "go").write_text("go")

    assert text.finish() == 0, text.process.stderr.read() if text.process.stderr else ""
    assert (markers / "run_ended").exists()  # the hook did hold the last lines until the execution ended
    assert text.lines == ["first: hello", "second: got go", "[Execution completed successfully]"]
    assert events.finish() == 0
    assert [(e["event"], e["item"].get("message")) for e in map(json.loads, events.lines)] == [
        ("log", "first: hello"),
        ("log", "second: got go"),
        ("terminal", None),
    ]
    assert body.finish() == 0
    assert body.lines == ["gated body: start", "gated body: done", "[Execution completed successfully]"]
    assert runner.wait(timeout=120) == 0


@pytest.mark.slow
def test_follow_announces_a_wait_once_and_continues_after_input(
    tmp_path: Path, fresh_config_dir: Path, processes: list[subprocess.Popen[str]]
) -> None:
    env = subprocess_env(fresh_config_dir, KITARU_WAIT_POLL_INTERVAL="0.3")
    runner, markers = start_flow(tmp_path, env, "waiting")
    processes.append(runner)
    exec_id = _wait_for_file(markers / "exec_id", runner)
    follower = subprocess.Popen(
        [str(KITARU), "executions", "logs", exec_id, "--follow", "--interval", "0.3", "--source", "runner"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    processes.append(follower)
    reader = LineReader(follower)
    reader.wait_for(lambda line: line == "[Execution is waiting for input on: go_ahead]")
    answered = subprocess.run(
        [sys.executable, "-c",
         f"from kitaru import KitaruClient; KitaruClient().executions.input({exec_id!r}, wait='go_ahead', value=None)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert answered.returncode == 0, answered.stderr
    assert reader.finish() == 0, (reader.lines, follower.stderr.read() if follower.stderr else "")
    assert reader.lines == [
        "[Execution is waiting for input on: go_ahead]",
        "waiting body: resumed",
        "[Execution completed successfully]",
    ]
    assert runner.wait(timeout=120) == 0

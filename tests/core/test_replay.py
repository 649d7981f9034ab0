"""Replay: a new execution that reuses a source execution up to a checkpoint (SPEC §3.5, §2.1, §4.2).

Real flows (tests/core/flows/replay_flows.py) on the real store. Checkpoint
bodies leave a file per execution in a counter directory, so each test can
prove which checkpoints a replay reused (did not run) and which ran again.
Cross-process tests copy the flows into a project directory, as a user's
module, run the source there and replay from another process in another
directory, through ``KitaruClient`` and through the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kitaru import KitaruClient
from kitaru.cli.app import run as cli_run
from kitaru.errors import (
    KitaruBackendError,
    KitaruDivergenceError,
    KitaruExecutionError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
)
from kitaru.execution.replay import replay_failure
from kitaru.execution.replay_plan import SourceCall, order_calls
from kitaru.flows import FlowHandle
from tests.core.flows import replay_flows as flows
from tests.core.flows.replay_flows import COUNTER_ENV, RELEASE_ENV, executions_of

FLOWS_FILE = Path(flows.__file__)
REPLAY_MODULE = "kitaru.cli.executions.replay"
CANONICAL_OVERRIDE = {"checkpoint.research": "edited notes for kitaru"}
CANONICAL_RESULT = "PUBLISHED: Draft from edited notes for kitaru"


@pytest.fixture
def counters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh counter directory for the checkpoints that run during one test."""
    directory = tmp_path / "counters"
    directory.mkdir()
    monkeypatch.setenv(COUNTER_ENV, str(directory))
    return directory


@pytest.fixture(scope="module")
def writer_source() -> str:
    """One completed execution of the canonical flow, shared by the module."""
    handle = flows.replay_writer.run("kitaru")
    assert handle.wait() == "PUBLISHED: Draft from notes for kitaru"
    return handle.exec_id


def _counts(directory: Path, *names: str) -> dict[str, int]:
    return {name: executions_of(directory, name) for name in names}


def _executions_of_flow(name: str) -> set[str]:
    return {execution.exec_id for execution in KitaruClient().executions.list(flow=name)}


def _call(execution: Any, name: str) -> Any:
    return next(call for call in execution.checkpoints if call.name == name)


# -- the canonical example -----------------------------------------------------------------


def test_canonical_replay_overrides_research_and_reuses_it(
    writer_source: str, counters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handle = flows.replay_writer.replay(writer_source, from_="write_draft", overrides=CANONICAL_OVERRIDE)

    assert handle.exec_id != writer_source
    assert handle.wait() == CANONICAL_RESULT
    assert FlowHandle(handle.exec_id).wait() == CANONICAL_RESULT  # read back from the store
    # research is before the frontier: reused, not executed again.
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 1}

    client = KitaruClient()
    replayed, source = client.executions.get(handle.exec_id), client.executions.get(writer_source)
    assert replayed.original_exec_id == writer_source
    assert [call.name for call in replayed.checkpoints] == ["research", "write_draft", "publish"]
    assert _call(replayed, "research").original_call_id == _call(source, "research").call_id
    assert _call(replayed, "write_draft").original_call_id is None
    assert replayed.frozen_execution_spec.resolved_execution.cache is False
    # The source is untouched.
    assert FlowHandle(writer_source).wait() == "PUBLISHED: Draft from notes for kitaru"

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Replaying execution `{writer_source}` from `write_draft`."
    assert lines[1] == f"Checkpoint `research` reused from execution {writer_source}."
    assert lines[2].startswith("Checkpoint `write_draft` finished in ")
    assert lines[3].startswith("Checkpoint `publish` finished in ")
    assert lines[4].startswith(f"Execution {handle.exec_id} completed in ")


def test_replay_without_overrides_reruns_from_the_selected_checkpoint(writer_source: str, counters: Path) -> None:
    handle = flows.replay_writer.replay(writer_source, from_="publish")
    assert handle.wait() == "PUBLISHED: Draft from notes for kitaru"
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 0, "publish": 1}
    assert KitaruClient().executions.get(handle.exec_id).original_exec_id == writer_source


def test_flow_inputs_override_the_source_inputs(writer_source: str, counters: Path) -> None:
    handle = flows.replay_writer.replay(writer_source, from_="research", topic="durable agents")
    assert handle.wait() == "PUBLISHED: Draft from notes for durable agents"
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 1, "write_draft": 1, "publish": 1}


def test_replay_of_a_replay_links_to_its_own_source(writer_source: str, counters: Path) -> None:
    first = flows.replay_writer.replay(writer_source, from_="write_draft", overrides=CANONICAL_OVERRIDE)
    # Execution.replay goes through the client, which finds the flow from the recorded module.
    second = KitaruClient().executions.get(first.exec_id).replay(from_="publish")
    assert (second.original_exec_id, str(second.status)) == (first.exec_id, "completed")
    assert FlowHandle(second.exec_id).wait() == CANONICAL_RESULT  # write_draft's edited output is reused
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 2}


def test_values_the_body_computes_from_an_overridden_output_change_too(counters: Path) -> None:
    source = flows.replay_derived.run("kitaru")
    assert source.wait() == {"draft": "Draft from notes for kitaru", "title": "NOTES FOR KITARU!", "notes_length": 16}

    edited = {"checkpoint.research": "edited"}
    handle = flows.replay_derived.replay(source.exec_id, from_="write_draft", overrides=edited)
    assert handle.wait() == {"draft": "Draft from edited", "title": "EDITED!", "notes_length": 6}
    assert executions_of(counters, "research") == 1  # only the source run
    assert _counts(counters, "write_draft", "shout") == {"write_draft": 2, "shout": 2}


def test_returning_an_overridden_output_returns_the_override(counters: Path) -> None:
    source = flows.replay_passthrough.run("t")
    assert source.wait() == "notes for t"
    edited = {"checkpoint.research": "edited"}
    handle = flows.replay_passthrough.replay(source.exec_id, from_="write_draft", overrides=edited)
    assert handle.wait() == "edited"
    assert FlowHandle(handle.exec_id).wait() == "edited"  # the recorded result, as another process reads it
    assert FlowHandle(source.exec_id).wait() == "notes for t"


def test_a_failed_execution_is_replayed_from_its_failed_checkpoint(
    counters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(flows.FAIL_ENV, "1")
    source = flows.replay_fragile.run("t")
    with pytest.raises(KitaruExecutionError, match="publishing is down"):
        source.wait()
    with pytest.raises(KitaruStateError, match="did not complete in execution .* no output to override"):
        flows.replay_fragile.replay(source.exec_id, from_="research", overrides={"checkpoint.fragile_publish": "x"})

    monkeypatch.delenv(flows.FAIL_ENV)
    handle = flows.replay_fragile.replay(source.exec_id, from_="fragile_publish")
    assert handle.wait() == "PUBLISHED: Draft from notes for t"
    assert _counts(counters, "research", "write_draft", "fragile_publish") == {
        "research": 1, "write_draft": 1, "fragile_publish": 2
    }


def test_dependency_through_a_body_value_keeps_its_order(counters: Path) -> None:
    """``alpha_use`` gets a value the body computed from ``zeta_fetch``; names sort the other way."""
    source = flows.replay_hidden.run("a")
    assert source.wait() == "used fetched a (checked)"

    rerun = flows.replay_hidden.replay(source.exec_id, from_="zeta_fetch", topic="b")
    assert rerun.wait() == "used fetched b (checked)"
    assert _counts(counters, "zeta_fetch", "alpha_use") == {"zeta_fetch": 2, "alpha_use": 2}

    # Reusing zeta_fetch (recorded for topic "a") while the body now passes "c"
    # would mix two runs: the replay stops with a divergence naming the call.
    tail = flows.replay_hidden.replay(source.exec_id, from_="alpha_use", topic="c")
    with pytest.raises(KitaruDivergenceError, match="input `topic` is now 'c' but the journal recorded 'a'"):
        tail.wait()
    assert _counts(counters, "zeta_fetch", "alpha_use") == {"zeta_fetch": 2, "alpha_use": 2}


# -- selectors ----------------------------------------------------------------------------------


def test_selector_may_be_a_call_id(writer_source: str, counters: Path) -> None:
    call_id = _call(KitaruClient().executions.get(writer_source), "write_draft").call_id
    handle = flows.replay_writer.replay(writer_source, from_=call_id)
    assert handle.wait() == "PUBLISHED: Draft from notes for kitaru"
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 1}


@pytest.mark.parametrize("selector", ["", "   "])
def test_empty_selector_is_a_usage_error(writer_source: str, selector: str) -> None:
    with pytest.raises(KitaruUsageError, match="needs a checkpoint to start from"):
        flows.replay_writer.replay(writer_source, from_=selector)


def test_unknown_selector_lists_the_checkpoints(writer_source: str) -> None:
    before = _executions_of_flow("replay_writer")
    with pytest.raises(KitaruStateError) as caught:
        flows.replay_writer.replay(writer_source, from_="nope")
    assert str(caught.value) == (
        "Unknown checkpoint selector 'nope'. Available checkpoints: research, write_draft, publish."
    )
    assert _executions_of_flow("replay_writer") == before  # nothing was created


def test_a_name_with_several_invocations_is_ambiguous(counters: Path) -> None:
    source = flows.replay_twice.run("t")
    assert source.wait() == "PUBLISHED: Draft from notes for notes for t again"
    with pytest.raises(KitaruStateError) as caught:
        flows.replay_twice.replay(source.exec_id, from_="research")
    message = str(caught.value)
    assert message.startswith("Checkpoint selector 'research' is ambiguous")
    assert "first_pass" in message and "second_pass" in message
    assert "Use a checkpoint call ID instead" in message

    handle = flows.replay_twice.replay(source.exec_id, from_="second_pass")  # an invocation id is never ambiguous
    assert handle.wait() == "PUBLISHED: Draft from notes for notes for t again"
    assert executions_of(counters, "research") == 2 + 1


def test_default_invocation_ids_select_one_call(counters: Path) -> None:
    source = flows.replay_repeated.run("t")
    expected = "PUBLISHED: Draft from notes for t / notes for t again"
    assert source.wait() == expected
    assert flows.replay_repeated.replay(source.exec_id, from_="research_2").wait() == expected
    assert executions_of(counters, "research") == 2 + 1
    assert flows.replay_repeated.replay(source.exec_id, from_="research").wait() == expected
    assert executions_of(counters, "research") == 2 + 1 + 2


def test_execution_without_checkpoints_cannot_be_replayed() -> None:
    source = flows.replay_empty.run(1)
    assert source.wait() == 2
    with pytest.raises(KitaruStateError, match="has no checkpoint calls"):
        flows.replay_empty.replay(source.exec_id, from_="anything")


def test_replay_with_another_flow_is_refused(writer_source: str) -> None:
    with pytest.raises(KitaruUsageError, match="belongs to flow 'replay_writer', not 'replay_hidden'"):
        flows.replay_hidden.replay(writer_source, from_="research")


def test_unknown_flow_input_is_refused(writer_source: str) -> None:
    message = "Unknown input 'topik' for flow 'replay_writer'. Its inputs are: topic."
    with pytest.raises(KitaruUsageError, match=re.escape(message)):
        flows.replay_writer.replay(writer_source, from_="research", topik="x")


# -- overrides ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"wait.approve": True}, KitaruUsageError, "waits cannot be pre-answered"),
        ({"research": "x"}, KitaruUsageError, "Override keys must start with `checkpoint.`"),
        ({"checkpoints.research": "x"}, KitaruUsageError, "Override keys must start with `checkpoint.`"),
        ({"checkpoint.": "x"}, KitaruUsageError, "names no checkpoint"),
        ({"checkpoint.  ": "x"}, KitaruUsageError, "names no checkpoint"),
        ({"checkpoint.nope": "x"}, KitaruStateError, "Unknown checkpoint selector 'nope'"),
        ({"checkpoint.publish": "x"}, KitaruStateError, "Checkpoint override has no downstream consumer"),
        (["checkpoint.research"], KitaruUsageError, "must be a mapping"),
    ],
)
def test_override_errors(writer_source: str, overrides: Any, error: type[Exception], message: str) -> None:
    before = _executions_of_flow("replay_writer")
    with pytest.raises(error, match=re.escape(message)):
        flows.replay_writer.replay(writer_source, from_="write_draft", overrides=overrides)
    assert _executions_of_flow("replay_writer") == before


def test_override_moves_the_start_to_its_first_consumer(writer_source: str, counters: Path) -> None:
    handle = flows.replay_writer.replay(
        writer_source, from_="publish", overrides={"checkpoint.research": "edited notes for kitaru"}
    )
    assert handle.wait() == CANONICAL_RESULT
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 1}


def test_override_of_a_rerun_checkpoint_reaches_its_consumer(writer_source: str, counters: Path) -> None:
    edited = {"checkpoint.write_draft": "Hand-written"}
    handle = flows.replay_writer.replay(writer_source, from_="research", overrides=edited)
    assert handle.wait() == "PUBLISHED: Hand-written"
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 1, "write_draft": 1, "publish": 1}


def _project(root: Path, script: str) -> Path:
    """A user's project dir: the flows module plus a script that runs one of its flows."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(FLOWS_FILE, root / "replay_flows.py")
    (root / "run.py").write_text(script)
    return root


def test_running_source_is_refused(tmp_path: Path) -> None:
    release = tmp_path / "release"
    project = _project(tmp_path / "project", "import replay_flows\nreplay_flows.main()\n")
    process = subprocess.Popen(
        [sys.executable, "run.py", "blocking"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=dict(os.environ, **{RELEASE_ENV: str(release), COUNTER_ENV: str(tmp_path)}),
    )
    try:
        announced = release.with_suffix(".exec")
        deadline = time.monotonic() + 120
        while not (announced.exists() and announced.read_text()) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        exec_id = announced.read_text()
        with pytest.raises(KitaruStateError, match=f"Execution {exec_id} is still running"):
            KitaruClient().executions.replay(exec_id, from_="hold")
        with pytest.raises(KitaruStateError, match="is still running"):
            flows.replay_blocking.replay(exec_id, from_="publish")
    finally:
        release.touch()
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"EXEC {exec_id}" in out


# -- ordering (pure) and error mapping ----------------------------------------------------------------


def _source_call(name: str, second: int, parents: tuple[str, ...] = ()) -> SourceCall:
    return SourceCall(
        invocation_id=name, checkpoint=name, call_id=name, attempt_ids=frozenset({name}),
        status="completed", successful=True, started=datetime(2026, 1, 1) + timedelta(seconds=second),
        parents=parents,
    )


def test_order_is_topological_with_ties_by_invocation_id() -> None:
    calls = [
        _source_call("merge", 1, parents=("late", "early")),  # recorded first, but consumes the others
        _source_call("late", 5),
        _source_call("early", 3),
        _source_call("side", 4),
        _source_call("b_after", 2, parents=("merge",)),
        _source_call("a_after", 9, parents=("merge",)),
    ]
    ordered = [call.invocation_id for call in order_calls(calls)]
    assert ordered == ["early", "late", "merge", "a_after", "b_after", "side"]


def test_order_without_links_is_execution_order() -> None:
    calls = [_source_call("c", 3), _source_call("a", 2), _source_call("b", 1), _source_call("0", 3)]
    assert [call.invocation_id for call in order_calls(calls)] == ["b", "a", "0", "c"]


def test_cyclic_links_are_a_runtime_error() -> None:
    calls = [_source_call("a", 1, parents=("b",)), _source_call("b", 2, parents=("a",)), _source_call("c", 0)]
    with pytest.raises(KitaruRuntimeError, match="checkpoints a, b form a cycle"):
        order_calls(calls)


def test_engine_errors_map_to_divergence_or_backend_errors() -> None:
    divergence = replay_failure("src", RuntimeError("No step run found for step `x` in original run `src`."), "new")
    assert isinstance(divergence, KitaruDivergenceError) and divergence.exec_id == "new"
    assert "Failed to replay execution src" in str(divergence)
    assert isinstance(replay_failure("src", RuntimeError("the call sequence diverged")), KitaruDivergenceError)
    backend = replay_failure("src", ConnectionError("store unreachable"))
    assert isinstance(backend, KitaruBackendError)
    assert str(backend) == "Failed to replay execution src: store unreachable"


# -- another process, another directory: client and CLI ---------------------------------------------------


@pytest.fixture(scope="module")
def project_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The canonical flow run as a user's script (``python run.py``) in its own project dir."""
    root = _project(
        tmp_path_factory.mktemp("replay-project"),
        "import replay_flows\nhandle = replay_flows.replay_writer.run('kitaru')\nprint('EXEC', handle.exec_id)\n",
    )
    done = subprocess.run([sys.executable, "run.py"], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    exec_id = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("EXEC "))
    return root, exec_id


def test_client_replays_from_another_process_and_directory(
    project_source: tuple[Path, str], tmp_path: Path
) -> None:
    _, source = project_source
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    counters = tmp_path / "counters"
    counters.mkdir()
    (elsewhere / "replay_it.py").write_text(textwrap.dedent(
        """
        import json, sys
        from kitaru import KitaruClient
        from kitaru.flows import FlowHandle

        execution = KitaruClient().executions.replay(
            sys.argv[1], from_="write_draft", overrides={"checkpoint.research": "edited notes for kitaru"}
        )
        print("JSON", json.dumps({"exec_id": execution.exec_id, "original": execution.original_exec_id,
                                  "status": str(execution.status), "result": FlowHandle(execution.exec_id).wait()}))
        """
    ))
    done = subprocess.run(
        [sys.executable, "replay_it.py", source], cwd=elsewhere, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, **{COUNTER_ENV: str(counters)}),
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(next(line[5:] for line in done.stdout.splitlines() if line.startswith("JSON ")))
    assert payload["original"] == source and payload["exec_id"] != source
    assert (payload["status"], payload["result"]) == ("completed", CANONICAL_RESULT)
    assert f"Checkpoint `research` reused from execution {source}." in done.stdout
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 1}


CLI_SHIM = (
    "import sys\n"
    "from kitaru.cli import executions\n"
    f"if {REPLAY_MODULE!r} not in executions.SUBCOMMAND_MODULES:\n"
    f"    executions.SUBCOMMAND_MODULES += ({REPLAY_MODULE!r},)\n"
    "from kitaru.cli.app import run\n"
    "sys.exit(run())\n"
)


def test_cli_replays_from_another_process(project_source: tuple[Path, str], tmp_path: Path) -> None:
    _, source = project_source
    counters = tmp_path / "counters"
    counters.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CLI_SHIM, "executions", "replay", source, "--from", "write_draft",
         "--overrides", json.dumps(CANONICAL_OVERRIDE), "-o", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, **{COUNTER_ENV: str(counters), "NO_COLOR": "1"}),
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)  # stdout holds exactly the JSON document
    assert payload["command"] == "executions.replay"
    item = payload["item"]
    assert (item["original_exec_id"], item["status"]) == (source, "completed")
    assert FlowHandle(item["exec_id"]).wait() == CANONICAL_RESULT
    assert "Replaying execution" in done.stderr  # progress lines moved off stdout
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 1, "publish": 1}


# -- CLI in this process ------------------------------------------------------------------------------


@pytest.fixture
def kitaru_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    from kitaru.cli import executions

    if REPLAY_MODULE not in executions.SUBCOMMAND_MODULES:
        monkeypatch.setattr(executions, "SUBCOMMAND_MODULES", (*executions.SUBCOMMAND_MODULES, REPLAY_MODULE))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli_run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_cli_text_output(kitaru_cli, writer_source: str, counters: Path) -> None:
    code, out, err = kitaru_cli("executions", "replay", writer_source, "--from", "publish")
    assert code == 0, err
    new_id = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("Replayed execution: "))
    assert new_id != writer_source
    assert "completed" in out and "Replay of" in out and writer_source in out
    assert _counts(counters, "research", "write_draft", "publish") == {"research": 0, "write_draft": 0, "publish": 1}


def test_cli_args_override_flow_inputs(kitaru_cli, writer_source: str, counters: Path) -> None:
    code, out, err = kitaru_cli(
        "executions", "replay", writer_source, "--from", "research", "--args", '{"topic": "cli"}', "-o", "json"
    )
    assert code == 0, err
    item = json.loads(out)["item"]
    assert FlowHandle(item["exec_id"]).wait() == "PUBLISHED: Draft from notes for cli"
    assert item["original_exec_id"] == writer_source
    assert [call["name"] for call in item["checkpoints"]] == ["research", "write_draft", "publish"]


@pytest.mark.parametrize(
    ("option", "raw", "message"),
    [
        ("--args", "[1, 2]", "--args must be a JSON object, got list"),
        ("--args", "{topic: 1}", "--args is not valid JSON"),
        ("--overrides", '"checkpoint.research"', "--overrides must be a JSON object, got str"),
        ("--overrides", '{"wait.approve": true}', "waits cannot be pre-answered"),
    ],
)
def test_cli_rejects_bad_json(kitaru_cli, writer_source: str, option: str, raw: str, message: str) -> None:
    code, out, err = kitaru_cli("executions", "replay", writer_source, "--from", "publish", option, raw, "-o", "json")
    assert code == 1 and out == ""
    error = json.loads(err)
    assert error["command"] == "executions.replay"
    assert error["error"]["type"] == "KitaruUsageError"
    assert message in error["error"]["message"]


def test_cli_unknown_selector_is_reported(kitaru_cli, writer_source: str) -> None:
    code, out, err = kitaru_cli("executions", "replay", writer_source, "--from", "nope")
    assert code == 1 and out == ""
    assert err == "Error: Unknown checkpoint selector 'nope'. Available checkpoints: research, write_draft, publish.\n"

"""``async def`` flows and checkpoints on the real engine: journaled, retried and replayed like sync ones.

Real flows (tests/core/flows/async_flows.py) run in this process on the
session store. Checkpoint bodies leave a file per execution in a counter
directory, so a test can prove which checkpoints a retry or a replay reused
(did not run) and which ran again.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import kitaru
from kitaru import KitaruClient
from kitaru.cli.app import run as cli_run
from kitaru.errors import KitaruContextError, KitaruExecutionError
from kitaru.flows import FlowHandle
from tests.core.flows import async_flows as flows
from tests.core.flows.async_flows import COUNTER_ENV, LOOPS, executions_of
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer


@pytest.fixture
def counters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh counter directory for the checkpoints that run during one test."""
    directory = tmp_path / "counters"
    directory.mkdir()
    monkeypatch.setenv(COUNTER_ENV, str(directory))
    return directory


def _counts(directory: Path, *names: str) -> dict[str, int]:
    return {name: executions_of(directory, name) for name in names}


def _call_names(exec_id: str) -> list[str]:
    return [call.name for call in KitaruClient().executions.get(exec_id).checkpoints]


def _kitaru_lines(out: str) -> list[str]:
    """Kitaru's terminal lines in ``out`` (the first engine start in a session may print warnings)."""
    return [line for line in out.splitlines() if line.startswith(("Starting flow ", "Checkpoint ", "Execution "))]


def _failed_writer(counters: Path) -> str:
    """An execution of ``async_writer`` whose second checkpoint failed."""
    (counters / "fail-write_summary").touch()
    handle = flows.async_writer.run("asyncio")
    with pytest.raises(KitaruExecutionError, match="the summary service is down"):
        handle.wait()
    (counters / "fail-write_summary").unlink()
    return handle.exec_id


def test_an_async_flow_awaits_its_checkpoints_and_records_what_it_returned(
    counters: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = flows.async_writer.run("asyncio")

    assert handle.wait() == "Summary of notes on asyncio"
    assert FlowHandle(handle.exec_id).wait() == "Summary of notes on asyncio"  # read back from the store
    assert _counts(counters, "gather_notes", "write_summary") == {"gather_notes": 1, "write_summary": 1}
    lines = _kitaru_lines(capsys.readouterr().out)
    assert lines[0] == "Starting flow `async_writer`."
    assert lines[1].startswith("Checkpoint `gather_notes` finished in ")
    assert lines[2].startswith("Checkpoint `write_summary` finished in ")
    assert lines[3].startswith(f"Execution {handle.exec_id} completed in ")

    monkeypatch.setenv("COLUMNS", "200")
    assert cli_run(["executions", "get", handle.exec_id, "-o", "json"]) == 0
    item = json.loads(capsys.readouterr().out)["item"]
    assert item["status"] == "completed"
    assert [(call["name"], call["status"]) for call in item["checkpoints"]] == [
        ("gather_notes", "completed"),
        ("write_summary", "completed"),
    ]


def test_an_async_checkpoint_runs_on_the_flow_bodys_own_loop(counters: Path) -> None:
    LOOPS.clear()
    flows.async_writer.run("loops").wait()

    flow_loop, flow_thread = LOOPS["async_writer"]
    for checkpoint in ("gather_notes", "write_summary"):
        loop, thread = LOOPS[checkpoint]
        assert loop is flow_loop
        assert thread == flow_thread
    # asyncio.run in the thread that ran the body (this one, on the local default); the loop is closed after.
    assert flow_thread == threading.get_ident()
    assert flow_loop.is_closed()


def test_a_retry_does_not_run_the_async_checkpoint_that_finished(
    counters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exec_id = _failed_writer(counters)
    assert _counts(counters, "gather_notes", "write_summary") == {"gather_notes": 1, "write_summary": 1}
    capsys.readouterr()

    retried = KitaruClient().executions.retry(exec_id)

    assert str(retried.status) == "completed"
    assert FlowHandle(exec_id).wait() == "Summary of notes on asyncio"
    assert _counts(counters, "gather_notes", "write_summary") == {"gather_notes": 1, "write_summary": 2}
    out = capsys.readouterr().out
    assert "Checkpoint `gather_notes` reused from " in out
    assert "Checkpoint `write_summary` finished in " in out


def test_an_async_checkpoint_is_retried_automatically_on_the_flow_loop(counters: Path) -> None:
    LOOPS.clear()
    handle = flows.async_flaky.run("retries")

    assert handle.wait() == "fetched retries"
    assert executions_of(counters, "flaky_fetch") == 2
    [call] = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert [str(attempt.status) for attempt in call.attempts] == ["failed", "completed"]
    assert LOOPS["flaky_fetch-1"] == LOOPS["flaky_fetch-2"] == LOOPS["async_flaky"]


def test_an_async_checkpoint_call_is_served_from_the_cache(counters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topic = uuid.uuid4().hex
    assert flows.async_cached.run(topic).wait() == f"notes on {topic}"
    capsys.readouterr()

    assert flows.async_cached.run(topic).wait() == f"notes on {topic}"

    assert executions_of(counters, "gather_notes") == 1
    assert "Checkpoint `gather_notes` cached." in _kitaru_lines(capsys.readouterr().out)


def test_a_replay_from_the_second_async_checkpoint_reuses_the_first(counters: Path) -> None:
    source = flows.async_writer.run("replays")
    assert source.wait() == "Summary of notes on replays"
    source_id = source.exec_id
    before = _counts(counters, "gather_notes", "write_summary")

    handle = flows.async_writer.replay(
        source_id, from_="write_summary", overrides={"checkpoint.gather_notes": "edited notes"}
    )

    assert handle.wait() == "Summary of edited notes"
    after = _counts(counters, "gather_notes", "write_summary")
    assert after["gather_notes"] == before["gather_notes"]  # reused, not run
    assert after["write_summary"] == before["write_summary"] + 1
    assert KitaruClient().executions.get(handle.exec_id).original_exec_id == source_id
    assert _call_names(handle.exec_id) == ["gather_notes", "write_summary"]


def test_a_sync_flow_gets_values_from_async_checkpoints_called_submitted_or_mapped(counters: Path) -> None:
    result = flows.async_in_sync_flow.run("sync bodies").wait()

    assert result == {
        "notes": "notes on sync bodies",
        "summary": "Summary of notes on sync bodies",
        "submitted": 42,
        "mapped": [2, 4, 6],
    }
    assert _counts(counters, "gather_notes", "write_summary", "double") == {
        "gather_notes": 1,
        "write_summary": 1,
        "double": 4,
    }


def test_an_async_flow_calls_a_sync_checkpoint(counters: Path) -> None:
    handle = flows.async_with_sync_checkpoint.run("mixed")
    assert handle.wait() == "NOTES ON MIXED!"
    assert _call_names(handle.exec_id) == ["gather_notes", "shout"]


async def _run_writer_directly() -> str:
    return str(flows.async_writer.run("in a loop").wait())


async def _run_writer_in_a_thread() -> str:
    return await asyncio.to_thread(lambda: str(flows.async_writer.run("in a loop").wait()))


@pytest.mark.parametrize("runner", [_run_writer_directly, _run_writer_in_a_thread], ids=["directly", "to_thread"])
def test_an_async_flow_run_from_a_running_loop_gets_a_loop_of_its_own(counters: Path, runner) -> None:
    LOOPS.clear()
    assert asyncio.run(runner()) == "Summary of notes on in a loop"
    flow_loop, flow_thread = LOOPS["async_writer"]
    assert LOOPS["write_summary"] == (flow_loop, flow_thread)
    assert flow_thread != threading.get_ident()


def test_a_sync_flow_run_from_a_running_loop_gets_values_from_async_checkpoints(counters: Path) -> None:
    async def main() -> dict:
        return dict(flows.async_in_sync_flow.run("blocked loop").wait())

    result = asyncio.run(main())
    assert result["summary"] == "Summary of notes on blocked loop"
    assert result["mapped"] == [2, 4, 6]


def test_checkpoints_awaited_together_run_together_and_a_retry_reuses_them(counters: Path) -> None:
    group = uuid.uuid4().hex
    (counters / "fail-write_summary").touch()
    handle = flows.async_gathered.run(group)
    with pytest.raises(KitaruExecutionError, match="the summary service is down"):
        handle.wait()
    # Each `meet` returns only once all three run at the same time.
    assert _counts(counters, "meet", "write_summary") == {"meet": 3, "write_summary": 1}
    # Named in the order they were called, whatever order the engine saw their launches in.
    assert _call_names(handle.exec_id)[:3] == ["meet", "meet_2", "meet_3"]

    (counters / "fail-write_summary").unlink()
    assert str(KitaruClient().executions.retry(handle.exec_id).status) == "completed"
    assert FlowHandle(handle.exec_id).wait() == "Summary of a met, b met, c met"
    assert _counts(counters, "meet", "write_summary") == {"meet": 3, "write_summary": 2}


def test_an_async_checkpoint_outside_a_flow_raises_at_the_call() -> None:
    async def main() -> None:
        flows.gather_notes("nowhere")  # raises before anything could await it

    with pytest.raises(KitaruContextError, match="Checkpoints can only run inside a @flow."):
        asyncio.run(main())


def test_an_async_checkpoint_calling_another_fails_the_execution_as_nested() -> None:
    handle = flows.async_nested.run("nested")
    with pytest.raises(KitaruExecutionError, match="Nested checkpoint calls are not supported"):
        handle.wait()


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KITARU_LLM_MOCK_RESPONSE", raising=False)
    with RecordingServer(chat_responder(text="asyncio notes")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-kitaru")
        yield server


def test_kitaru_llm_works_in_an_async_flow_body_and_an_async_checkpoint(provider: RecordingServer) -> None:
    handle = flows.async_llm.run("asyncio")

    assert handle.wait() == "asyncio notes"
    prompts = [request.json["messages"][-1]["content"] for request in provider.requests]
    assert prompts == ["Research asyncio", "Summarise: asyncio notes"]
    execution = KitaruClient().executions.get(handle.exec_id)
    by_name = {call.name: call for call in execution.checkpoints}
    assert by_name["research"].checkpoint_type == "llm_call"
    assert "summary" in by_name["summarise_with_llm"].metadata["llm_calls"]
    assert kitaru.KitaruClient().executions.get(handle.exec_id).llm_usage["calls"] == 2


def test_an_async_checkpoint_named_like_an_earlier_llm_call_gets_the_next_name(
    counters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KITARU_LLM_MOCK_RESPONSE", "mocked notes")
    handle = flows.async_llm_named_like_a_checkpoint.run("names")

    assert handle.wait() == "Summary of mocked notes"
    assert _call_names(handle.exec_id) == ["write_summary", "write_summary_2"]


@pytest.mark.timeout(180)
def test_more_gathered_calls_than_the_default_executor_has_threads_do_not_hang() -> None:
    count = 3 * ((os.cpu_count() or 1) + 4)  # the default executor has min(32, cpus + 4) threads
    assert flows.many_at_once.run(count).wait() == sum(2 * number for number in range(count))

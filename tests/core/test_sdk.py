"""The SDK on the real engine: flows, checkpoints, results, errors, journal."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from uuid import UUID

import pytest

import kitaru
from kitaru.client import ExecutionStatus
from kitaru.flows import FlowHandle
from tests.core.flows import sdk_flows


@pytest.fixture(autouse=True)
def counters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KITARU_TEST_COUNTER_DIR", str(tmp_path))
    return tmp_path


def count(counters: Path, name: str) -> int:
    path = counters / name
    return int(path.read_text()) if path.exists() else 0


def engine_client():
    from kitaru._engine.bootstrap import load_engine

    load_engine()
    from zenml.client import Client

    return Client()


def test_flow_returns_checkpoint_value_and_records_result(counters: Path) -> None:
    handle = sdk_flows.writer.run("durability")
    assert UUID(handle.exec_id)
    assert handle.wait() == "Draft: notes on durability"
    assert handle.get() == "Draft: notes on durability"
    assert handle.status is ExecutionStatus.COMPLETED
    assert count(counters, "research") == 1
    # A handle in a fresh object (no in-memory result) reads the recorded value.
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "Draft: notes on durability"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("tuple", ("Draft: notes on a", len("Draft: notes on a"), None)),
        ("none", None),
        ("computed", "DRAFT: NOTES ON C!"),
        ("parallel", 4),
        ("map", [2, 4, 6]),
        ("product", [2, 4]),
        ("dataclass", sdk_flows.Score(label="Draft", value=float(len("Draft: notes on d")))),
    ],
)
def test_wait_returns_exactly_what_the_body_returned(mode: str, expected: object) -> None:
    handle = sdk_flows.shapes.run(mode)
    assert handle.wait() == expected
    stored = FlowHandle(handle.exec_id).wait()
    assert stored == expected
    assert type(stored) is type(expected)


def test_checkpoint_retry_journals_every_attempt(counters: Path) -> None:
    handle = sdk_flows.retrying.run("retries")
    assert handle.wait() == "DRAFT: NOTES ON RETRIES"
    assert count(counters, "flaky") == 2
    steps = engine_client().list_run_steps(pipeline_run_id=UUID(handle.exec_id), size=50).items
    attempts = sorted((s for s in steps if s.name == "flaky"), key=lambda s: s.created)
    assert [str(s.status.value) for s in attempts] == ["retried", "completed"]
    assert "transient failure on first attempt" in (attempts[0].exception_info.traceback or "")


def test_failed_execution_raises_user_code_error_with_recovery_hint() -> None:
    handle = sdk_flows.failing.run("the body exploded")
    assert handle.status is ExecutionStatus.FAILED
    with pytest.raises(kitaru.KitaruUserCodeError) as caught:
        handle.wait()
    error = caught.value
    assert error.exec_id == handle.exec_id
    assert error.status == "failed"
    assert error.failure_origin is kitaru.FailureOrigin.USER_CODE
    message = str(error)
    assert message.startswith(f"Execution {handle.exec_id} finished with status 'failed'.")
    assert "ValueError: the body exploded" in message
    assert f"kitaru executions retry {handle.exec_id}" in message


def test_caching_is_on_by_default(counters: Path) -> None:
    first = sdk_flows.cached_writer.run("cache-me").wait()
    second = sdk_flows.cached_writer.run("cache-me").wait()
    assert first == second == "Draft: notes on cache-me"
    assert count(counters, "research") == 1
    sdk_flows.cached_writer.run("cache-me", cache=False).wait()
    assert count(counters, "research") == 2


def test_log_attaches_to_checkpoint_and_execution_and_spec_is_frozen() -> None:
    handle = sdk_flows.logging_flow.run()
    handle.wait()
    client = engine_client()
    run = client.get_pipeline_run(UUID(handle.exec_id))
    assert run.run_metadata["stage"] == "start"
    assert run.run_metadata["tags"] == {"a": 1}
    spec = run.run_metadata["kitaru_execution_spec"]
    assert spec["version"] == 1
    assert spec["resolved_execution"]["cache"] is False
    assert spec["resolved_execution"]["retries"] == 0
    research_step = run.steps["research"]
    assert research_step.run_metadata["source"] == "unit-test"
    assert "stage" not in research_step.run_metadata
    assert "source" not in run.run_metadata


def test_save_and_load_between_executions() -> None:
    payload = {"k": [1, 2, 3], "nested": {"x": "y"}}
    saved = sdk_flows.saver.run(payload)
    assert saved.wait() == 2
    assert sdk_flows.loader.run(saved.exec_id).wait() == payload


def test_unstorable_value_is_used_in_its_run_and_never_passed_off_as_stored() -> None:
    from kitaru.serializers.unstorable import KitaruUnstorableValueError, UnserializableValueWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handle = sdk_flows.opaque_flow.run()
        # The body of the run that produced it sees the object itself.
        assert handle.wait() == "Opaque(42)"
    assert any(issubclass(w.category, UnserializableValueWarning) for w in caught)
    # Outside that run, the stored record explains instead of standing in for the value.
    [artifact] = kitaru.KitaruClient().artifacts.list(handle.exec_id, producing_call="opaque")
    with pytest.raises(KitaruUnstorableValueError, match="Checkpoint `opaque` returned a `Opaque` that could not be stored"):
        artifact.load()


def test_call_site_rules() -> None:
    with pytest.raises(kitaru.KitaruContextError, match=r"^Checkpoints can only run inside a @flow\.$"):
        sdk_flows.draft(sdk_flows.Note(topic="x", text="y"))
    with pytest.raises(kitaru.KitaruContextError, match="Concurrent checkpoint execution is only available inside a running @flow."):
        sdk_flows.double.submit(1)
    with pytest.raises(kitaru.KitaruContextError, match="Concurrent checkpoint execution"):
        sdk_flows.double.map([1])
    with pytest.raises(kitaru.KitaruContextError, match=r"kitaru\.save\(\) can only be called inside a @checkpoint\."):
        kitaru.save("x", 1)
    with pytest.raises(kitaru.KitaruContextError, match=r"kitaru\.load\(\) can only be called inside a @checkpoint\."):
        kitaru.load("00000000-0000-0000-0000-000000000000", "x")
    with pytest.raises(kitaru.KitaruContextError, match=r"kitaru\.log\(\) can only be called inside a @flow\."):
        kitaru.log(a=1)
    with pytest.raises(kitaru.KitaruContextError, match=r"wait\(\) can only run inside a @flow\."):
        kitaru.wait()
    with pytest.raises(kitaru.KitaruContextError, match=r"kitaru\.llm\(\) can only be called inside a @flow\."):
        kitaru.llm("hi")
    with pytest.raises(kitaru.KitaruUsageError, match="Direct flow calls are not supported"):
        sdk_flows.writer("x")


def test_nested_checkpoint_and_wait_inside_checkpoint_fail_the_execution() -> None:
    handle = _nested_flow.run()
    with pytest.raises(kitaru.KitaruExecutionError) as caught:
        handle.wait()
    assert "Nested checkpoint calls are not supported in the Kitaru MVP." in str(caught.value)


@kitaru.checkpoint
def _outer() -> int:
    return sdk_flows.double(1)


@kitaru.flow(cache=False)
def _nested_flow() -> int:
    return _outer()


def test_decorator_validation() -> None:
    with pytest.raises(kitaru.KitaruUsageError, match=r"^Checkpoint retries must be >= 0\.$"):
        kitaru.checkpoint(retries=-1)(lambda: None)
    with pytest.raises(kitaru.KitaruUsageError, match=r"^Flow retries must be >= 0\.$"):
        kitaru.flow(retries=-1)(lambda: None)
    with pytest.raises(kitaru.KitaruUsageError, match="Expected one of: inline, isolated."):
        kitaru.checkpoint(runtime="gpu")(lambda: None)
    assert kitaru.checkpoint(runtime=" Inline ")(lambda: None).runtime == "inline"


def test_names_are_sanitised() -> None:
    from kitaru.execution.naming import sanitize_name

    assert sanitize_name("my-flow.v2", fallback="flow") == "my_flow_v2"
    assert sanitize_name("2fast", fallback="flow") == "flow_2fast"
    assert sanitize_name("---", fallback="checkpoint") == "checkpoint"


def test_invalid_flow_arguments_are_rejected_before_submission() -> None:
    with pytest.raises(kitaru.KitaruUsageError, match="Invalid arguments for flow 'writer'"):
        sdk_flows.writer.run("a", "b")


def test_exec_id_filter_env_is_isolated() -> None:
    # The suite never touches the user's config dir.
    assert os.environ["KITARU_CONFIG_PATH"] != str(Path.home() / ".config" / "kitaru")


def test_explicit_invocation_ids_and_after_ordering() -> None:
    handle = sdk_flows.ordered.run()
    assert handle.wait() == ["first", "second"]
    run = engine_client().get_pipeline_run(UUID(handle.exec_id))
    assert set(run.steps) == {"tag_first", "custom_second"}
    assert run.steps["tag_first"].end_time <= run.steps["custom_second"].start_time


def test_save_in_flow_body_fails_the_execution_with_the_context_message() -> None:
    handle = sdk_flows.save_in_body.run()
    with pytest.raises(kitaru.KitaruExecutionError) as caught:
        handle.wait()
    assert "kitaru.save() can only be called inside a @checkpoint." in str(caught.value)

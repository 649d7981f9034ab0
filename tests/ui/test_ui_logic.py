"""The dashboard's decisions, tested without a browser: forms, timeline, tracebacks, previews, masking, actions.

Every page of the dashboard is laid out by templates from values that plain
functions in :mod:`kitaru.ui` compute. These tests call those functions on
real inputs (client models built by hand, a real pydantic model's schema, a
real ``kitaru`` child process) and check what a user would see.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

import kitaru
from kitaru._llm.usage import summarize
from kitaru.client.models import CheckpointAttempt, CheckpointCall, Execution
from kitaru.errors import KitaruUsageError
from kitaru.execution.failures import is_machinery_frame, user_traceback
from kitaru.execution.status import ExecutionStatus
from kitaru.ui.actions import ActionRunner
from kitaru.ui.previews import PREVIEW_CHARS, render_value
from kitaru.ui.security import allowed_hosts, is_loopback, token_matches
from kitaru.ui.server import bind
from kitaru.ui.timeline import MIN_WIDTH, Gap, build_timeline
from kitaru.ui.views import llm_summary, masked, usage_cells
from kitaru.ui.wait_form import FIELD_PREFIX, JSON_FIELD, build_form, parse_answer

# -- wait forms -------------------------------------------------------------------------


class Review(BaseModel):
    """An editor's answer: two required fields and three with defaults."""

    approved: bool
    note: str
    score: int = 0
    ratio: float = 0.5
    tone: Literal["calm", "loud"] = "calm"


class Outline(BaseModel):
    """An answer with a list field, which a form of plain inputs cannot hold."""

    title: str
    sections: list[str]


def fields(**values: str) -> dict[str, str]:
    """Form data as the browser submits it: each answer field under :data:`FIELD_PREFIX`."""
    return {FIELD_PREFIX + name: value for name, value in values.items()}


def test_a_gate_has_no_fields_and_means_none() -> None:
    form = build_form(None)
    assert form.shape == "gate"
    assert form.fields == []
    assert parse_answer(form, {"csrf_token": "t"}) is None


@pytest.mark.parametrize(("submitted", "expected"), [({"": "on"}, True), ({}, False)])
def test_a_boolean_is_a_checkbox_ticked_or_not(submitted: dict[str, str], expected: bool) -> None:
    form = build_form({"type": "boolean", "title": "Approve"})
    assert [(field.kind, field.label) for field in form.fields] == [("checkbox", "Approve")]
    assert parse_answer(form, fields(**submitted)) is expected


def test_a_string_enum_is_a_select_that_refuses_other_values() -> None:
    form = build_form({"type": "string", "enum": ["publish", "hold"], "title": "Decision"})
    [select] = form.fields
    assert (select.kind, select.options) == ("select", ["publish", "hold"])
    assert parse_answer(form, fields(**{"": "hold"})) == "hold"
    with pytest.raises(KitaruUsageError, match="'Decision' must be one of publish, hold; got 'delete'"):
        parse_answer(form, fields(**{"": "delete"}))


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [("integer", " 42 ", 42), ("integer", "-3", -3), ("number", "2.5", 2.5), ("number", "1e3", 1000.0)],
)
def test_numbers_are_parsed_to_their_kind(kind: str, text: str, value: float) -> None:
    form = build_form({"type": kind, "title": "Score"})
    parsed = parse_answer(form, fields(**{"": text}))
    assert parsed == value
    assert type(parsed) is (int if kind == "integer" else float)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("integer", "2.5", "'Score' must be a whole number; got '2.5'."),
        ("integer", "many", "'Score' must be a whole number; got 'many'."),
        ("number", "high", "'Score' must be a number; got 'high'."),
        ("number", "", "'Score' is required: fill it in, then send the answer again."),
    ],
)
def test_a_bad_number_is_refused_naming_the_field(kind: str, text: str, message: str) -> None:
    form = build_form({"type": kind, "title": "Score"})
    with pytest.raises(KitaruUsageError) as refused:
        parse_answer(form, fields(**{"": text}))
    assert str(refused.value) == message


def test_a_pydantic_model_gets_one_field_per_property() -> None:
    form = build_form(Review.model_json_schema())
    assert form.shape == "object"
    shown = [(field.name, field.label, field.kind, field.required, field.default) for field in form.fields]
    assert shown == [
        ("approved", "Approved", "checkbox", False, ""),  # an unticked box is an answer (False), never missing
        ("note", "Note", "text", True, ""),
        ("score", "Score", "integer", False, "0"),
        ("ratio", "Ratio", "number", False, "0.5"),
        ("tone", "Tone", "select", False, "calm"),
    ]
    assert form.fields[-1].options == ["calm", "loud"]


def test_empty_optional_fields_are_left_out_so_the_model_defaults_apply() -> None:
    form = build_form(Review.model_json_schema())
    answer = parse_answer(form, fields(approved="on", note="ship it", score="", ratio="", tone=""))
    assert answer == {"approved": True, "note": "ship it"}
    assert Review.model_validate(answer) == Review(approved=True, note="ship it", score=0, ratio=0.5, tone="calm")


def test_filled_fields_are_typed_so_the_model_accepts_them() -> None:
    form = build_form(Review.model_json_schema())
    answer = parse_answer(form, fields(note="too long", score="7", ratio="0.25", tone="loud"))
    assert answer == {"approved": False, "note": "too long", "score": 7, "ratio": 0.25, "tone": "loud"}
    assert Review.model_validate(answer).score == 7


def test_a_missing_required_field_is_named() -> None:
    form = build_form(Review.model_json_schema())
    with pytest.raises(KitaruUsageError, match="^'Note' is required"):
        parse_answer(form, fields(approved="on", note=""))


def test_a_model_property_outside_the_form_is_a_field_error_naming_it() -> None:
    form = build_form(Review.model_json_schema())
    with pytest.raises(KitaruUsageError, match="^'Score' must be a whole number; got 'ten'"):
        parse_answer(form, fields(note="x", score="ten"))


@pytest.mark.parametrize(
    "schema",
    [
        Outline.model_json_schema(),  # a list property
        {"type": "object", "properties": {"author": {"type": "object", "properties": {"name": {"type": "string"}}}}},
        {"type": "array", "items": {"type": "integer"}},
    ],
    ids=["list-property", "nested-object", "bare-list"],
)
def test_lists_and_nested_objects_fall_back_to_one_json_field(schema: dict[str, object]) -> None:
    form = build_form(schema)
    assert form.shape == "json"
    assert [(field.name, field.kind, field.required) for field in form.fields] == [(JSON_FIELD, "json", True)]


def test_the_json_field_parses_the_whole_answer() -> None:
    form = build_form(Outline.model_json_schema())
    answer = parse_answer(form, fields(json='{"title": "Q3", "sections": ["intro", "numbers"]}'))
    assert Outline.model_validate(answer) == Outline(title="Q3", sections=["intro", "numbers"])


def test_invalid_json_is_refused_with_its_line_and_column() -> None:
    form = build_form(Outline.model_json_schema())
    with pytest.raises(KitaruUsageError) as refused:
        parse_answer(form, fields(json='{\n  "tags": ["a",]\n}'))
    assert str(refused.value) == "The answer is not valid JSON: Expecting value at line 2, column 16."


# -- timeline ---------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SPAN = 200.0
"""The executions below last 200 s, so a bar's percentages are its seconds halved."""


def at(seconds: float) -> datetime:
    """The moment ``seconds`` after the executions' start."""
    return T0 + timedelta(seconds=seconds)


def attempt(number: int, status: ExecutionStatus, start: float, end: float | None) -> CheckpointAttempt:
    return CheckpointAttempt(
        attempt_id=f"attempt-{number}", status=status, started_at=at(start), ended_at=None if end is None else at(end)
    )


def call(name: str, *attempts: CheckpointAttempt, original_call_id: str | None = None) -> CheckpointCall:
    """A call spanning its attempts, with the last attempt's status."""
    last = attempts[-1]
    return CheckpointCall(
        call_id=f"call-{name}",
        name=name,
        status=last.status,
        started_at=attempts[0].started_at,
        ended_at=last.ended_at,
        original_call_id=original_call_id,
        attempts=list(attempts),
    )


def execution(*calls: CheckpointCall, ended: float | None = SPAN, status: ExecutionStatus | None = None) -> Execution:
    return Execution(
        exec_id="0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a",
        flow_id=None,
        flow_name="report",
        status=status or (ExecutionStatus.COMPLETED if ended is not None else ExecutionStatus.RUNNING),
        started_at=T0,
        ended_at=None if ended is None else at(ended),
        stack_name="default",
        checkpoints=list(calls),
    )


COMPLETED, FAILED, RUNNING = ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.RUNNING

FINISHED = execution(
    call("research", attempt(1, COMPLETED, 20, 60)),
    call("draft", attempt(1, FAILED, 60, 80), attempt(2, COMPLETED, 90, 100)),
    call("cached_lookup", attempt(1, COMPLETED, 120, 120), original_call_id="call-lookup-of-an-earlier-execution"),
    call("publish", attempt(1, COMPLETED, 120.5, 150)),
)
"""Idle: 0-20 s, 80-90 s between the draft's attempts, 100-120 s, 0.5 s before publish, 150-200 s."""


def test_bars_are_placed_in_percent_of_the_execution() -> None:
    timeline = build_timeline(FINISHED)
    assert timeline.seconds == SPAN
    research = timeline.rows[0]
    assert [(segment.left, segment.width, segment.seconds) for segment in research.segments] == [(10.0, 20.0, 40.0)]
    assert (research.name, research.status, research.reused) == ("research", "completed", False)


def test_a_retried_call_has_one_segment_per_attempt_with_its_status() -> None:
    draft = build_timeline(FINISHED).rows[1]
    assert [(segment.left, segment.width, segment.status) for segment in draft.segments] == [
        (30.0, 10.0, "failed"),
        (45.0, 5.0, "completed"),
    ]
    assert [segment.label for segment in draft.segments] == ["attempt 1 of 2: failed", "attempt 2 of 2: completed"]
    assert draft.status == "completed"


def test_an_instant_call_keeps_the_minimum_width_and_a_reused_call_is_flagged() -> None:
    lookup = build_timeline(FINISHED).rows[2]
    [segment] = lookup.segments
    assert (segment.left, segment.width, segment.seconds) == (60.0, MIN_WIDTH, 0.0)
    assert lookup.reused is True


def test_idle_spans_of_a_second_or_more_become_gaps() -> None:
    assert build_timeline(FINISHED).gaps == [
        Gap(left=0.0, width=10.0, seconds=20.0),
        Gap(left=40.0, width=5.0, seconds=10.0),
        Gap(left=50.0, width=10.0, seconds=20.0),
        Gap(left=75.0, width=25.0, seconds=50.0),
    ]  # the 0.5 s before publish is too short to mark


def test_a_gap_of_exactly_one_second_is_marked() -> None:
    timeline = build_timeline(
        execution(call("a", attempt(1, COMPLETED, 0, 99)), call("b", attempt(1, COMPLETED, 100, 200)))
    )
    assert timeline.gaps == [Gap(left=49.5, width=0.5, seconds=1.0)]


def test_a_running_execution_ends_now() -> None:
    running = execution(call("crawl", attempt(1, RUNNING, 30, None)), ended=None)
    timeline = build_timeline(running, now=at(60))
    assert timeline.seconds == 60.0
    [segment] = timeline.rows[0].segments
    assert (segment.left, segment.width, segment.seconds, segment.status) == (50.0, 50.0, 30.0, "running")
    assert timeline.gaps == [Gap(left=0.0, width=50.0, seconds=30.0)]


def test_a_waiting_execution_shows_the_wait_so_far_as_a_gap() -> None:
    waiting = execution(call("draft", attempt(1, COMPLETED, 0, 40)), ended=None, status=ExecutionStatus.WAITING)
    assert build_timeline(waiting, now=at(100)).gaps == [Gap(left=40.0, width=60.0, seconds=60.0)]


# -- tracebacks -------------------------------------------------------------------------


def machinery_files() -> tuple[str, str, str]:
    """Real files of the installed Kitaru and engine packages."""
    kitaru_init = Path(kitaru.__file__)
    zenml_spec = importlib.util.find_spec("zenml")
    assert zenml_spec is not None and zenml_spec.origin is not None
    return str(kitaru_init), str(kitaru_init.parent / "ui" / "views.py"), zenml_spec.origin


def user_files(tmp_path: Path) -> tuple[str, str]:
    """A user's flow files, one of them in a folder that happens to be called ``kitaru``."""
    flow = tmp_path / "project" / "flow.py"
    steps = tmp_path / "project" / "kitaru" / "steps.py"
    steps.parent.mkdir(parents=True)
    flow.write_text("# the flow\n")
    steps.write_text("# the steps\n")
    return str(flow), str(steps)


def test_only_installed_kitaru_and_engine_files_are_machinery(tmp_path: Path) -> None:
    assert all(is_machinery_frame(path) for path in machinery_files())
    assert not any(is_machinery_frame(path) for path in user_files(tmp_path))
    beside_kitaru = Path(kitaru.__file__).parent.with_name("kitaru_flows") / "flow.py"
    assert not is_machinery_frame(str(beside_kitaru))


def test_machinery_frames_are_folded_and_the_user_frames_kept(tmp_path: Path) -> None:
    kitaru_init, kitaru_views, zenml_init = machinery_files()
    flow, steps = user_files(tmp_path)
    recorded = f"""Traceback (most recent call last):
  File "{kitaru_views}", line 210, in run_body
    result = body(*args)
             ^^^^^^^^^^^
  File "{zenml_init}", line 88, in __call__
    return self.entrypoint(**kwargs)
  File "{flow}", line 12, in report
    draft = summarise(notes)
  File "{kitaru_init}", line 301, in wrapper
    return func(*args)
  File "{steps}", line 4, in summarise
    raise ValueError(f"cannot summarise {{notes!r}}")
ValueError: cannot summarise 'x'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{kitaru_init}", line 330, in wrapper
    raise KitaruRuntimeError("checkpoint failed") from exc
kitaru.errors.KitaruRuntimeError: checkpoint failed
"""
    folded = f"""Traceback (most recent call last):
  [2 Kitaru/engine frames hidden]
  File "{flow}", line 12, in report
    draft = summarise(notes)
  [1 Kitaru/engine frame hidden]
  File "{steps}", line 4, in summarise
    raise ValueError(f"cannot summarise {{notes!r}}")
ValueError: cannot summarise 'x'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  [1 Kitaru/engine frame hidden]
kitaru.errors.KitaruRuntimeError: checkpoint failed"""
    assert user_traceback(recorded) == folded


def test_a_traceback_ending_in_machinery_still_says_what_was_hidden(tmp_path: Path) -> None:
    kitaru_init, _, zenml_init = machinery_files()
    flow, _ = user_files(tmp_path)
    recorded = "\n".join(
        [
            "Traceback (most recent call last):",
            f'  File "{flow}", line 3, in report',
            "    kitaru.wait(name='review')",
            f'  File "{kitaru_init}", line 40, in wait',
            "    raise",
            f'  File "{zenml_init}", line 9, in pause',
            "    ...",
        ]
    )
    folded = user_traceback(recorded)
    assert folded is not None
    assert folded.splitlines()[-3:] == [
        f'  File "{flow}", line 3, in report',
        "    kitaru.wait(name='review')",
        "  [2 Kitaru/engine frames hidden]",
    ]


def test_no_traceback_gives_none() -> None:
    assert user_traceback(None) is None


# -- previews ---------------------------------------------------------------------------


class Report(BaseModel):
    title: str
    pages: int


def test_a_string_is_shown_as_itself() -> None:
    rendered = render_value('notes about "durable" flows\nline two')
    assert (rendered.text, rendered.media_type, rendered.python_type) == (
        'notes about "durable" flows\nline two',
        "text/plain",
        "str",
    )
    assert rendered.extension == "txt"


def test_a_dict_is_indented_json() -> None:
    rendered = render_value({"title": "Q3", "words": 120, "tags": ["a"]})
    assert rendered.text == '{\n  "title": "Q3",\n  "words": 120,\n  "tags": [\n    "a"\n  ]\n}'
    assert (rendered.media_type, rendered.python_type, rendered.extension) == ("application/json", "dict", "json")


def test_a_pydantic_model_is_json_named_by_its_class() -> None:
    rendered = render_value(Report(title="Q3 — résumé", pages=4))
    assert json.loads(rendered.text) == {"title": "Q3 — résumé", "pages": 4}
    assert rendered.text.startswith('{\n  "title": "Q3 — résumé"')  # indented, non-ASCII kept
    assert rendered.media_type == "application/json"
    assert rendered.python_type == f"{Report.__module__}.Report"


def test_a_long_value_is_cut_and_says_how_much_was_left_out() -> None:
    rendered = render_value("x" * (PREVIEW_CHARS + 1234))
    assert len(rendered.text) == PREVIEW_CHARS + 1234  # the download keeps it all
    shown, note = rendered.preview.split("\n")
    assert shown == "x" * PREVIEW_CHARS
    assert "1,234 more characters" in note


def test_a_value_at_the_limit_is_shown_whole() -> None:
    text = "y" * PREVIEW_CHARS
    assert render_value(text).preview == text


# -- security ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "accepted"),
    [("s3cret-token", True), ("s3cret-tokeN", False), ("s3cret", False), ("", False), (None, False), ("é", False)],
)
def test_only_the_exact_token_is_accepted(given: str | None, accepted: bool) -> None:
    assert token_matches("s3cret-token", given) is accepted


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("dashboard.example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_on_loopback_only_loopback_host_headers_are_answered() -> None:
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    assert "attacker.example:8765" not in (allowed_hosts("localhost", 8765) or set())


def test_beyond_loopback_any_host_header_is_answered() -> None:
    assert allowed_hosts("0.0.0.0", 8765) is None
    assert allowed_hosts("10.0.0.5", 8765) is None


@pytest.mark.parametrize(
    ("host", "port", "says"),
    [
        ("", 0, "--host is empty"),
        ("   ", 0, "--host is empty"),
        (" 127.0.0.1", 0, "has spaces around it"),
        ("127.0.0.1", 70000, "--port must be between 1 and 65535"),
        ("127.0.0.1", -1, "--port must be between 1 and 65535"),
        ("no such host", 0, "Cannot serve the dashboard on no such host:0"),
    ],
)
def test_bad_addresses_are_refused_before_anything_listens(host: str, port: int, says: str) -> None:
    # An empty host would bind every interface; it must be refused, not served.
    with pytest.raises(KitaruUsageError, match=re.escape(says)):
        bind(host, port)


def test_a_taken_port_is_named_with_what_to_do() -> None:
    first = bind("127.0.0.1", 0)
    try:
        taken = first.getsockname()[1]
        with pytest.raises(KitaruUsageError, match=f"Port {taken} on 127.0.0.1 is already in use"):
            bind("127.0.0.1", taken)
    finally:
        first.close()


# -- masking and usage ------------------------------------------------------------------


def test_secret_named_values_are_masked_at_any_depth() -> None:
    metadata = {
        "api_key": "sk-live-0123456789abcdef",
        "provider": {"name": "openai", "settings": {"auth_token": "tok-123", "retries": 3}},
        "headers": [{"name": "accept", "x_api_key": "abc"}],
        "pages": 4,
    }
    assert masked(metadata) == {
        "api_key": "***",
        "provider": {"name": "openai", "settings": {"auth_token": "***", "retries": 3}},
        "headers": [{"name": "accept", "x_api_key": "***"}],
        "pages": 4,
    }


def test_a_secret_inside_a_secret_named_group_is_masked() -> None:
    shown = masked({"auth": {"token": "tok-123"}})
    assert "tok-123" not in json.dumps(shown)


def test_every_value_under_a_secret_named_key_is_masked() -> None:
    shown = masked({"credentials": {"user": "bob", "value": "hunter2"}})
    assert "hunter2" not in json.dumps(shown)


def test_url_passwords_are_hidden_and_other_values_unchanged() -> None:
    metadata = {
        "store": "mysql://kit:hunter2@db.internal:3306/kitaru",
        "source": "https://example.com/a?b=1",
        "enabled": True,
        "ratio": 0.5,
        "nothing": None,
    }
    assert masked(metadata) == {**metadata, "store": "mysql://kit:***@db.internal:3306/kitaru"}


def llm_usage(*entries: dict[str, object]) -> dict[str, object]:
    """The usage summary of one checkpoint whose attempt made these LLM calls (as the client computes it)."""
    calls = {f"call_{number}": entry for number, entry in enumerate(entries)}
    checkpoint = call(
        "ask",
        CheckpointAttempt(
            attempt_id="a", status=COMPLETED, started_at=T0, ended_at=at(1), metadata={"llm_calls": calls}
        ),
    )
    usage = summarize([checkpoint])
    assert usage is not None
    return usage


def test_usage_cells_and_summary_of_priced_calls() -> None:
    usage = llm_usage(
        {"tokens_input": 1000, "tokens_output": 234, "cost_usd": 0.000123},
        {"tokens_input": 500, "tokens_output": 66, "cost_usd": 0.0001},
    )
    assert usage_cells(usage) == ("1,800", "$0.000223")
    assert llm_summary(usage) == "2 LLM calls · 1,800 tokens (1,500 in, 300 out) · $0.000223"


def test_usage_without_token_counts_or_prices_says_so() -> None:
    usage = llm_usage({"tokens_input": None, "cost_usd": None})
    assert usage_cells(usage) == ("not reported", "unknown")
    summary = llm_summary(usage)
    assert summary is not None and summary.startswith("1 LLM call · tokens not reported · unknown")


def test_no_llm_calls_show_dashes() -> None:
    assert usage_cells(None) == ("-", "-")
    assert llm_summary(None) is None


def test_a_partly_priced_cost_cell_reads_as_a_lower_bound() -> None:
    usage = llm_usage(
        {"tokens_input": 10, "tokens_output": 5, "cost_usd": 0.0001}, {"tokens_input": 7, "cost_usd": None}
    )
    assert usage_cells(usage)[1].startswith("≥")


# -- actions ----------------------------------------------------------------------------


def cli_error_message(*argv: str) -> str:
    """Run the ``kitaru`` CLI as a user would and return its JSON error's message."""
    kitaru_cli = Path(sys.executable).with_name("kitaru")
    finished = subprocess.run([str(kitaru_cli), *argv], capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0, finished.stdout
    error_json = finished.stderr[finished.stderr.index("{") :]
    return str(json.loads(error_json)["error"]["message"])


def test_a_failing_action_reports_the_cli_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    monkeypatch.setenv("ZENML_CONFIG_PATH", str(config))
    runner = ActionRunner(cwd=tmp_path, log_dir=tmp_path)

    action = runner.start("resume", "not-a-uuid")

    assert action.done.wait(timeout=120), "the resume command did not end within 2 minutes"
    assert action.state == "failed"
    assert action.exit_code not in (None, 0)
    assert action.error == cli_error_message("executions", "resume", "not-a-uuid", "-o", "json")
    assert "not a valid execution id" in action.error
    assert runner.get(action.action_id) is action
    assert runner.for_execution("not-a-uuid") == [action]


def test_only_resume_retry_and_replay_can_be_started(tmp_path: Path) -> None:
    runner = ActionRunner(cwd=tmp_path, log_dir=tmp_path)
    with pytest.raises(ValueError, match="Unknown action 'delete'"):
        runner.start("delete", "0b6f3c1e-5a4d-4c1b-9a43-1f2e3d4c5b6a")
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_numbers_under_secret_names_are_masked_too() -> None:
    # 0 and 1 equal False and True in Python; they must not slip through as "empty" values.
    assert masked({"api_key": 1, "secret_count": 0, "token": None}) == {"api_key": "***", "secret_count": "***", "token": None}

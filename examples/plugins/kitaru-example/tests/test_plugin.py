"""What the plugin's records do, beyond the contracts: the shelf stack, notes, echo and the log store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import ComponentSpec, LlmRequest, StackComponents, StackSpec
from kitaru.testing import plugin_manager_with

import kitaru_example.plugin
from kitaru_example import Note
from kitaru_example.llm import call_echo
from kitaru_example.log_store import LOG_DIR_ENV, append_rows, read_jsonl_logs
from kitaru_example.serializers import NOTE_SERIALIZER
from kitaru_example.stacks import SHELF_STACK_PROVIDER, build_shelf_components, verify_shelf


def shelf_spec(shelf_dir: str | None, **extra: dict[str, object]) -> StackSpec:
    return StackSpec.for_provider(SHELF_STACK_PROVIDER, "notes", {"shelf_dir": shelf_dir}, extra)


# -- the shelf stack type ----------------------------------------------------------------------


def test_components_keep_artifacts_in_the_shelf_directory(tmp_path: Path) -> None:
    components = build_shelf_components(shelf_spec(str(tmp_path / "shelf")))
    assert components == StackComponents(
        orchestrator=ComponentSpec(flavor="local", name="notes"),
        artifact_store=ComponentSpec(flavor="local", configuration={"path": str(tmp_path / "shelf")}, name="notes"),
    )


def test_a_relative_or_home_directory_becomes_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    relative = build_shelf_components(shelf_spec("shelf")).artifact_store.configuration["path"]
    home = build_shelf_components(shelf_spec("~/kitaru-shelf")).artifact_store.configuration["path"]
    assert (relative, home) == (str(tmp_path / "shelf"), str(tmp_path / "home" / "kitaru-shelf"))


def test_extra_overrides_apply_except_the_artifact_path(tmp_path: Path) -> None:
    spec = shelf_spec(str(tmp_path), orchestrator={"synchronous": True})
    assert build_shelf_components(spec).orchestrator.configuration == {"synchronous": True}
    with pytest.raises(KitaruUsageError, match="drop --extra artifact_store.path.*--shelf-dir DIR"):
        build_shelf_components(shelf_spec(str(tmp_path), artifact_store={"path": "/elsewhere"}))


def test_a_missing_or_remote_shelf_directory_names_the_flag() -> None:
    with pytest.raises(KitaruUsageError, match=r"--shelf-dir.*missing"):  # core words it; it must name the flag
        build_shelf_components(shelf_spec(None))
    with pytest.raises(KitaruUsageError, match="--shelf-dir is a local directory; got the URI 's3://bucket'"):
        build_shelf_components(shelf_spec("s3://bucket"))


def test_verify_accepts_a_writable_directory_and_creates_nothing(tmp_path: Path) -> None:
    verify_shelf(shelf_spec(str(tmp_path)))
    assert list(tmp_path.iterdir()) == []  # the probe file is gone
    verify_shelf(shelf_spec(str(tmp_path / "not" / "yet")))
    assert not (tmp_path / "not").exists()


def test_verify_refuses_a_file_and_a_directory_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    is_a_file = r"'.*/file' is a file, not a directory\. Pass a directory you can write to as --shelf-dir"
    with pytest.raises(KitaruUsageError, match=is_a_file):
        verify_shelf(shelf_spec(str(tmp_path / "file")))
    with pytest.raises(KitaruUsageError, match=r"cannot be created: '.*/file' is a file"):
        verify_shelf(shelf_spec(str(tmp_path / "file" / "shelf")))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_verify_refuses_a_read_only_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(KitaruUsageError, match="is not writable.*--shelf-dir"):
            verify_shelf(shelf_spec(str(tmp_path)))
    finally:
        tmp_path.chmod(0o700)


# -- the Note serializer -----------------------------------------------------------------------


def test_notes_go_to_the_note_serializer_before_any_builtin() -> None:
    manager = plugin_manager_with(kitaru_example.plugin, name="example", builtins=True)
    assert manager.problems == []
    first = next(spec for spec in manager.artifact_serializers() if spec.can_write(Note("t", "b")))
    assert first.name == "note"
    assert not NOTE_SERIALIZER.can_write({"title": "t", "body": "b"})  # plain data stays with json


def test_notes_are_stored_as_sorted_json() -> None:
    data = NOTE_SERIALIZER.write(Note("Otters", "Hold hands.", ["sleep"]))
    assert data == b'{"body": "Hold hands.", "tags": ["sleep"], "title": "Otters"}'
    assert NOTE_SERIALIZER.read(data, None) == Note("Otters", "Hold hands.", ("sleep",))


# -- the echo/ backend -------------------------------------------------------------------------


def request(model: str, prompt: str, max_tokens: int | None = None) -> LlmRequest:
    messages = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt})
    return LlmRequest(model=model, messages=messages, max_tokens=max_tokens)


def test_echo_models_answer_from_the_last_user_message_and_count_words() -> None:
    parrot = call_echo(request("parrot", "otters hold hands"))
    assert (parrot.text, parrot.tokens_input, parrot.tokens_output, parrot.model) == (
        "otters hold hands", 5, 3, "echo-parrot",
    )
    assert call_echo(request("shout", "otters hold hands", max_tokens=2)).text == "OTTERS HOLD"
    assert call_echo(request("parrot", "   ")).text == "(nothing to echo)"


def test_an_unknown_echo_model_lists_the_models() -> None:
    with pytest.raises(KitaruUsageError, match="no model 'gpt'. Use one of: echo/parrot, echo/shout"):
        call_echo(request("gpt", "hi"))


# -- the example-jsonl log store ---------------------------------------------------------------

ROWS = [
    {"message": "starting", "source": "runner"},
    {"message": "drafting", "level": "INFO", "checkpoint_name": "draft"},
    {"message": "drafting again", "source": "step", "checkpoint_name": "draft_2"},
    {"message": "checking", "source": "step", "checkpoint_name": "draft_review"},
    {"message": "Step draft finished", "source": "engine", "checkpoint_name": "draft"},
]


def messages(rows: list[dict[str, object]]) -> list[object]:
    return [row["message"] for row in rows]


def test_read_logs_filters_by_source_checkpoint_and_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path))
    append_rows("exec-1", ROWS)

    def read(**filters: object) -> list[object]:
        arguments: dict[str, object] = {"checkpoint": None, "source": "step", "limit": None, **filters}
        return messages(read_jsonl_logs("exec-1", **arguments))  # type: ignore[arg-type]

    assert read() == ["drafting", "drafting again", "checking", "Step draft finished"]
    assert read(source="runner") == ["starting", "Step draft finished"]
    assert read(checkpoint="draft") == ["drafting", "drafting again", "Step draft finished"]
    assert read(checkpoint="draft_2") == ["drafting again"]
    assert read(limit=2) == ["drafting", "drafting again"]
    assert read_jsonl_logs("no-such-exec", checkpoint=None, source="step", limit=None) == []


def test_read_logs_leaves_a_half_written_last_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path))
    path = append_rows("exec-2", ROWS[1:2])
    with path.open("a") as file:
        file.write('{"message": "half')
    assert messages(read_jsonl_logs("exec-2", checkpoint=None, source="step", limit=None)) == ["drafting"]


def test_read_logs_names_the_variable_when_it_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_DIR_ENV, raising=False)
    with pytest.raises(KitaruUsageError, match=f"set {LOG_DIR_ENV} to the directory"):
        read_jsonl_logs("exec-1", checkpoint=None, source="step", limit=None)

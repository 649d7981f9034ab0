"""Kitaru's contract suites, run against every record this plugin registers.

Each suite is a class without a ``Test`` prefix; subclassing it in a ``Test``
class and giving it the record through its fixture runs all its checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kitaru.plugins import KitaruPluginManager
from kitaru.plugins.records import (
    ArtifactSerializerSpec,
    LlmBackendSpec,
    LogStoreSpec,
    StackProviderSpec,
    StackSpec,
)
from kitaru.testing.contracts import (
    ArtifactSerializerContract,
    LlmBackendContract,
    LogStoreContract,
    StackProviderContract,
)
from kitaru.testing.contracts.log_stores import LogStoreExecution

from kitaru_example import Note
from kitaru_example.log_store import LOG_DIR_ENV, append_rows


class TestShelfStackType(StackProviderContract):
    @pytest.fixture
    def stack_provider(self, manager: KitaruPluginManager) -> StackProviderSpec:
        return manager.stack_providers()["shelf"]

    @pytest.fixture
    def stack_spec(self, stack_provider: StackProviderSpec, tmp_path: Path) -> StackSpec:
        # The default spec uses the field's example (~/kitaru-shelf); a test keeps to tmp_path.
        return StackSpec.for_provider(stack_provider, "contract-test", {"shelf_dir": str(tmp_path / "shelf")})


class TestNoteSerializer(ArtifactSerializerContract):
    @pytest.fixture
    def serializer(self, manager: KitaruPluginManager) -> ArtifactSerializerSpec:
        [note] = manager.artifact_serializers()
        return note

    @pytest.fixture
    def serializer_samples(self) -> list[Note]:
        # Note is our own type: the suite has no sample of it, so we give some.
        return [
            Note("Otters", "They hold hands while they sleep.", ("animals", "facts")),
            Note("", ""),
            Note("Ünïcode ✓", "two\nlines", ("x",)),
        ]


class TestEchoBackend(LlmBackendContract):
    @pytest.fixture
    def llm_backend(self, manager: KitaruPluginManager) -> LlmBackendSpec:
        return manager.llm_backends()["echo"]


class TestJsonlLogStore(LogStoreContract):
    @pytest.fixture
    def log_store(self, manager: KitaruPluginManager) -> LogStoreSpec:
        return manager.log_stores()["example-jsonl"]

    @pytest.fixture(autouse=True)
    def log_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path))

    def log_store_execution(self, log_store: LogStoreSpec) -> LogStoreExecution:
        # No stack sends a run's logs here (flavor=None), so the suite cannot run a flow and
        # read it back: we give it rows written as a log shipper would, to check their shape
        # and `limit`. No step_lines: those would also be read through Kitaru, which only
        # knows the executions in its store.
        append_rows("contract-execution", [
            {"message": "starting", "source": "runner"},
            {"message": "drafting", "source": "step", "checkpoint_name": "draft"},
            {"message": "checking", "checkpoint_name": "review"},
        ])
        return LogStoreExecution("contract-execution")


def test_the_plugin_loads_without_problems(manager: KitaruPluginManager) -> None:
    assert manager.problems == []
    [info] = manager.plugins()
    assert info.hooks == (
        "kitaru_artifact_serializers", "kitaru_llm_backends", "kitaru_log_stores", "kitaru_stack_providers",
    )

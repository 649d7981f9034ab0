"""Contract for ``kitaru_log_stores()`` records."""

from __future__ import annotations

import inspect

import pytest

from kitaru.plugins.records import LogStoreSpec
from kitaru.testing.contracts._base import RecordContract, assert_one_line


class LogStoreContract(RecordContract):
    """Checks a :class:`~kitaru.plugins.LogStoreSpec`.

    Fixtures:
        log_store: The record under test (required).
    """

    record_type = LogStoreSpec
    kind = "log store"

    @pytest.fixture
    def contract_record(self, log_store: LogStoreSpec) -> LogStoreSpec:
        return log_store

    def test_description_is_one_line(self, log_store: LogStoreSpec) -> None:
        assert_one_line(log_store.description, f"Description of log store {log_store.name!r}")

    def test_requires_endpoint_is_a_bool(self, log_store: LogStoreSpec) -> None:
        assert isinstance(log_store.requires_endpoint, bool)

    def test_read_logs_takes_an_execution_id(self, log_store: LogStoreSpec) -> None:
        if log_store.read_logs is None:
            return  # reading back is optional; `executions logs` then says so
        assert callable(log_store.read_logs)
        try:
            signature = inspect.signature(log_store.read_logs)
        except ValueError:  # no signature available: trust it
            return
        try:
            signature.bind("exec-id")
        except TypeError as exc:
            pytest.fail(
                f"read_logs of {log_store.name!r} must accept the execution id as its "
                f"first argument and filters as keywords: {exc}"
            )

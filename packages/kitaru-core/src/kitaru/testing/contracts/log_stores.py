"""Contract for ``kitaru_log_stores()`` records."""

from __future__ import annotations

import inspect

import pytest

from kitaru.plugins.records import LogStoreSpec
from kitaru.stacks.log_store import engine_log_store_flavors
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

    def test_flavor_is_an_engine_log_store_flavor(self, log_store: LogStoreSpec) -> None:
        """``flavor`` must name a log-store flavor the engine knows, or be None.

        Kitaru compares it with the active stack's log-store component to warn
        when the ``kitaru log-store`` preference and the stack disagree; a
        misspelt flavor would make that warning fire on every stack.
        """
        if log_store.flavor is None:
            return
        assert isinstance(log_store.flavor, str) and log_store.flavor.strip(), (
            f"flavor of log store {log_store.name!r} must be a flavor name or None, "
            f"got {log_store.flavor!r}."
        )
        known = engine_log_store_flavors()
        assert log_store.flavor in known, (
            f"Log store {log_store.name!r} names the engine flavor {log_store.flavor!r}, but the "
            f"engine has no log-store flavor of that name (known: {', '.join(sorted(known))}). "
            "Set flavor to the flavor of the log-store component that exports to this backend "
            "(register a custom flavor first), or to None."
        )

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

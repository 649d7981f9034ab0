"""Contract for ``kitaru_log_stores()`` records.

Besides the record's fields, the suite checks ``read_logs`` against the
:class:`~kitaru.plugins.records.ReadLogs` protocol, and, for a log store
that can read logs back, reads a real execution through it. By default that
execution is one the suite runs itself (:func:`log_store_contract_flow`)
when the active stack sends its logs to the log store under test: on the
local default stack that is ``artifact-store``. Override
:meth:`LogStoreContract.log_store_execution` to give an execution of yours.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from kitaru.checkpoints import checkpoint
from kitaru.flows import flow
from kitaru.logs import ENGINE_SOURCE, LOG_SOURCES, get_logs
from kitaru.logs.backends import log_store_for_flavor
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import LogStoreSpec
from kitaru.stacks.log_store import active_stack_log_store, engine_log_store_flavors
from kitaru.testing.contracts._base import RecordContract, assert_one_line

CONTRACT_CHECKPOINT = "log_store_contract_say"
"""The checkpoint of :func:`log_store_contract_flow` that prints the line to read back."""


@checkpoint
def log_store_contract_say(line: str) -> str:
    """Print ``line``: a checkpoint's stdout, stored as a ``step`` log line."""
    print(line)
    return line


@flow
def log_store_contract_flow(line: str) -> str:
    """The flow the log-store contract runs, then reads back: one checkpoint prints ``line``."""
    return log_store_contract_say(line)


@dataclass(frozen=True)
class LogStoreExecution:
    """An execution whose logs the log store under test keeps.

    Attributes:
        exec_id: The execution id.
        step_lines: Lines its checkpoints printed, which ``read_logs`` must
            return (with ``source="step"``); empty to check only the rows' shape.
    """

    exec_id: str
    step_lines: tuple[str, ...] = ()


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
        """``read_logs`` is called as ``read_logs(exec_id, checkpoint=..., source=..., limit=...)``."""
        if log_store.read_logs is None:
            return  # reading back is optional; `executions logs` then says so
        assert callable(log_store.read_logs)
        try:
            signature = inspect.signature(log_store.read_logs)
        except ValueError:  # no signature available: trust it
            return
        try:
            signature.bind("exec-id", checkpoint=None, source="step", limit=None)
        except TypeError as exc:
            pytest.fail(
                f"read_logs of {log_store.name!r} must follow the ReadLogs protocol, "
                "read_logs(exec_id, *, checkpoint, source, limit): the execution id first, "
                f"then checkpoint, source and limit as keywords: {exc}"
            )

    def log_store_execution(self, log_store: LogStoreSpec) -> LogStoreExecution | None:
        """An execution whose logs ``log_store`` keeps, for the read-back test; None skips it.

        The default runs :func:`log_store_contract_flow` when the active stack
        sends its logs to ``log_store`` (a stack without a log-store component
        for ``artifact-store``, else one whose component has the record's
        ``flavor``), and expects the line it printed. Override it to return
        an execution of yours, for instance when your backend shows new lines
        only after a delay.
        """
        if log_store.read_logs is None:
            return None
        stack = active_stack_log_store()
        backend, _ = log_store_for_flavor(stack.flavor, get_plugin_manager().log_stores())
        if backend != log_store.name:
            return None
        line = f"kitaru log-store contract {uuid.uuid4().hex}"
        handle = log_store_contract_flow.run(line)
        assert handle.wait() == line
        return LogStoreExecution(handle.exec_id, step_lines=(line,))

    def test_read_logs_reads_an_execution(self, log_store: LogStoreSpec) -> None:
        """Rows are mappings with a text ``message``; the filters and ``limit`` are honoured."""
        read_logs = log_store.read_logs
        if read_logs is None:
            pytest.skip(f"log store {log_store.name!r} cannot read logs back (read_logs=None)")
        execution = self.log_store_execution(log_store)
        if execution is None:
            pytest.skip(
                f"no execution whose logs {log_store.name!r} keeps: the active stack sends its logs "
                "elsewhere; override log_store_execution() to give one"
            )
        rows = list(read_logs(execution.exec_id, checkpoint=None, source="step", limit=None))
        for row in rows:
            assert isinstance(row, Mapping) and isinstance(row.get("message"), str), (
                f"read_logs of {log_store.name!r} returned {row!r}; return LogRow mappings with a "
                "text 'message'."
            )
            assert row.get("source") in (None, ENGINE_SOURCE, *LOG_SOURCES), (
                f"read_logs of {log_store.name!r} returned source={row.get('source')!r}; use "
                "'step', 'runner' or 'engine' (or leave it out)."
            )
        step_lines = {row["message"] for row in rows if row.get("source") in (None, "step")}
        missing = [line for line in execution.step_lines if line not in step_lines]
        assert not missing, (
            f"read_logs of {log_store.name!r} did not return the lines execution "
            f"{execution.exec_id} printed: {missing}"
        )
        if rows:
            limited = list(read_logs(execution.exec_id, checkpoint=None, source="step", limit=1))
            assert len(limited) <= 1, f"read_logs of {log_store.name!r} ignored limit=1: {len(limited)} rows"
        if execution.step_lines:
            read_by_kitaru = [entry.message for entry in get_logs(execution.exec_id)]
            assert set(execution.step_lines) <= set(read_by_kitaru), (
                f"kitaru.logs.get_logs did not return what read_logs of {log_store.name!r} reads; "
                "is another installed log store registered under the same name or flavor?"
            )

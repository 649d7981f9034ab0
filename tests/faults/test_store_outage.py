"""The artifact store goes away mid-run, then comes back: issue 12, item 7.

A local stack's artifact store is a bucket on moto's S3 server, reached
through a relay (``harness.StoreProxy``). The flow stops after ``expand``'s
body returned its 4 MB value; the relay is armed to drop everything after
1 MB more goes upstream, and the flow continues: the upload is cut in the
middle and the store refuses connections from then on, which is what a
client sees when a real object store becomes unreachable. Stopping moto
itself would be the wrong analogue: moto keeps objects in memory, so a
restart would also lose every artifact already written, and a real outage
does not delete data (see ``docs/reliability.md``).

Then: the run fails, the failure names the store, the store of record stays
readable, and once the relay runs again on the same port ``kitaru executions
retry`` completes the execution, reusing the three outputs written before the
outage, and every output loads back as its exact value: no half-written
artifact is ever read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FaultStore, MotoServer, OutageResult, StoreProxy, outage_trial

pytestmark = pytest.mark.faults

EXIT_TIMEOUT = 120.0
"""Seconds the failed run's process gets to exit after printing its failure."""


@pytest.fixture(scope="module")
def outage(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OutageResult, FaultStore]]:
    proxy = StoreProxy(moto.port)
    proxy.start()
    try:
        store = FaultStore.s3(tmp_path_factory.mktemp("outage"), proxy.endpoint)
        yield outage_trial(store, proxy, exit_timeout=EXIT_TIMEOUT), store
    finally:
        proxy.stop()


def test_the_run_fails_and_the_store_of_record_stays_readable(outage: tuple[OutageResult, FaultStore]) -> None:
    result, store = outage
    assert result.cut_mid_upload, "the relay never cut an upload: the outage did not happen mid-write"
    assert result.run_exit_code != 0, result.run_output[-3000:]
    assert result.status_during_outage == "failed", result.run_output[-3000:]
    checks = result.checks_during_outage
    assert (checks.get("list_rc"), checks.get("get_rc"), checks.get("running")) == (0, 0, []), checks
    # Logs live in the artifact store: while it is down, `logs` may fail, but it must say why.
    if checks.get("logs_rc") != 0:
        assert result.recovery is not None
        said = (Path(result.recovery.state_dir) / "aftermath-0.log").read_text()
        assert f"Could not read the logs of execution '{result.exec_id}'" in said, said[-2000:]
        assert f"s3://{store.bucket}" in said, said[-2000:]


def test_the_failed_run_exits_promptly(outage: tuple[OutageResult, FaultStore]) -> None:
    result, _ = outage
    # The user's `python flow.py` must not hang on exit because the store is unreachable.
    assert result.run_exit_code is not None, f"still running {EXIT_TIMEOUT:g} s after reporting the failure"
    assert result.exit_lag is not None and result.exit_lag < EXIT_TIMEOUT


def test_retry_once_the_store_is_back_completes_with_exact_values(
    outage: tuple[OutageResult, FaultStore],
) -> None:
    result, _ = outage
    recovery = result.recovery
    assert recovery is not None
    assert recovery.ok and recovery.outcome == "completed", recovery.problems()
    assert recovery.exec_id == result.exec_id
    # What was stored before the outage is reused, never executed again...
    assert set(recovery.completed_before_retry) >= {"fetch", "digest", "flaky"}, recovery
    assert recovery.duplicates == 0, recovery.duplicate_names
    # ...and every output (those read back from S3 included) equals what the workload computed.
    assert recovery.mismatches == []


def test_the_failure_names_the_store_not_the_sdk(outage: tuple[OutageResult, FaultStore]) -> None:
    result, store = outage
    failure = result.failure_during_outage or ""
    origin, _, message = failure.partition(": ")
    assert f"s3://{store.bucket}" in message, failure
    assert origin != "user_code", failure
    assert not message.startswith("botocore."), failure


def test_the_log_exporter_stops_asking_an_unreachable_store(outage: tuple[OutageResult, FaultStore]) -> None:
    result, store = outage
    # Each export that meets the outage waits out the S3 client's retries (about 15 s); they used to
    # run for every batch and stream (2 to 4 failed exports per run, up to 2 min 26 s before the
    # failure was reported). Now a failure makes the exports of the next minute skip, with one warning.
    warning = f"The artifact store at s3://{store.bucket}/faults cannot be reached: log lines are not stored"
    windows = result.run_output.count(warning)
    assert windows >= 1, result.run_output[-3000:]
    assert result.run_output.count("Failed to export logs to artifact store") <= windows, result.run_output[-3000:]

"""Bulk retry: retry every failed execution that matches a filter, one after another.

::

    kitaru executions retry --status failed --flow research_agent --since 1d --dry-run
    KitaruClient().executions.retry_many(status="failed", flow="research_agent", since=timedelta(days=1))

The rules:

* **What is selected.** Executions whose status is ``failed`` (the only
  status a retry continues), of the flow asked for (every flow without
  one), that failed within ``since`` of now (any time without it), oldest
  first.
* **Child flows.** A child flow's execution continues only with its parent,
  whose flow body runs the whole tree. A failed child is never retried on its
  own: its top-level execution is retried instead (once, however many of its
  children failed), if that one failed too; its body calls the child flow
  again (a new child execution; the failed one stays as it ended). A child
  whose top-level execution did not fail (its parent caught the failure, or
  it was retried since) is left alone.
* **One after another, in this process.** Each retry runs like ``kitaru
  executions retry ID``: on the local default the flow body runs here, one
  line per checkpoint, and the next starts when it ended. A progress line
  (``Retrying 2/5: <id> (flow research_agent)``) comes first.
* **Every result reported.** A retry that fails again is reported as
  ``failed``; one that cannot start (another process is continuing the
  execution, or it is no longer failed) is reported with its error; either
  way the others still run. Each :class:`RetryOutcome` says
  the status before and the result after (the execution's new status, or
  ``not_started``; ``would_retry`` on a dry run).
* **A dry run changes nothing**: it lists what would be retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from kitaru.client import mapping, reading
from kitaru.client.models import Execution
from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.errors import KitaruUsageError
from kitaru.execution.console import say
from kitaru.execution.lifecycle import retry_execution
from kitaru.execution.runs import load_run, root_of
from kitaru.execution.status import ExecutionStatus, public_status

RETRYABLE_STATUSES = (ExecutionStatus.FAILED,)
"""The statuses a bulk retry selects: a retry continues only a failed execution."""

NOT_STARTED = "not_started"
"""The result of a retry that could not start (its ``error`` says why)."""

WOULD_RETRY = "would_retry"
"""The result of every selected execution on a dry run."""

GOOD_RESULTS = ("completed", "waiting", WOULD_RETRY)
"""Results after which a bulk retry counts as having gone well."""


@dataclass(frozen=True)
class RetryOutcome:
    """What a bulk retry did with one execution.

    Attributes:
        exec_id: The execution retried (a top-level one).
        flow: Its flow.
        status_before: Its status when it was selected (``failed``).
        result: Its status after the retry (``completed``, ``failed``,
            ``waiting``, ``cancelled``), ``not_started`` if the retry could
            not start, or ``would_retry`` on a dry run.
        error: Why the retry could not start, or None.
        failed_at: When it failed (it was selected by this time).
    """

    exec_id: str
    flow: str | None
    status_before: str
    result: str
    error: str | None = None
    failed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """Whether the retry started and ended well (completed, or waiting for input)."""
        return self.result in GOOD_RESULTS


@dataclass(frozen=True)
class BulkRetryResult:
    """The outcome of :func:`retry_many`.

    Attributes:
        dry_run: Whether nothing was retried (only listed).
        since: Only executions that failed after this time were selected (None: any time).
        outcomes: One per selected execution, oldest first.
    """

    dry_run: bool
    since: datetime | None
    outcomes: list[RetryOutcome] = field(default_factory=list)

    @property
    def not_started(self) -> list[RetryOutcome]:
        """The retries that could not start."""
        return [outcome for outcome in self.outcomes if outcome.result == NOT_STARTED]

    @property
    def ok(self) -> bool:
        """Whether every retry started and ended well."""
        return all(outcome.ok for outcome in self.outcomes)


def parse_retry_status(status: object) -> ExecutionStatus:
    """The status filter of a bulk retry: only ``failed``.

    Raises:
        KitaruUsageError: For any other status (a retry continues only failed executions).
    """
    word = str(getattr(status, "value", status)).strip().lower()
    if word not in {str(allowed) for allowed in RETRYABLE_STATUSES}:
        raise KitaruUsageError(
            f"Only failed executions can be retried: the status filter must be 'failed'; got {status!r}. "
            "A waiting execution is continued with `kitaru executions resume`; a cancelled or completed "
            "one can be run again with `kitaru executions replay`."
        )
    return ExecutionStatus.FAILED


def parse_since(since: object) -> timedelta | None:
    """The ``since`` of a bulk retry: None (any time) or a positive ``timedelta``.

    Raises:
        KitaruUsageError: For anything else.
    """
    if since is None:
        return None
    if not isinstance(since, timedelta) or since <= timedelta(0):
        raise KitaruUsageError(
            f"since must be a positive datetime.timedelta, e.g. timedelta(days=1); got {since!r}. "
            "Leave it out to retry failed executions of any age."
        )
    return since


def failed_at(execution: Execution) -> datetime | None:
    """When a failed execution failed: when it ended, or when it started if it never recorded an end."""
    return execution.ended_at or execution.started_at


def select(*, flow: str | None, since: datetime | None) -> list[Execution]:
    """The top-level failed executions to retry, oldest first (see the module docstring).

    Args:
        flow: Only executions of this flow (a child of it selects its top-level execution).
        since: Only executions that failed at or after this time.
    """
    matches = reading.list_executions(flow=flow, status=ExecutionStatus.FAILED)
    selected: dict[str, Execution] = {}
    for execution in matches:
        when = failed_at(execution)
        if since is not None and (when is None or when < since):
            continue
        if execution.parent_exec_id is not None:
            top = top_level(execution.exec_id)
            if top is None or top.exec_id in selected:
                continue
            execution = top
        selected.setdefault(execution.exec_id, execution)
    return sorted(
        selected.values(), key=lambda execution: failed_at(execution) or datetime.min.replace(tzinfo=timezone.utc)
    )


def top_level(exec_id: str) -> Execution | None:
    """The top-level execution of a child flow's execution, if it failed (else None: nothing to retry)."""
    try:
        root = root_of(get_engine().runs.get_run(exec_id))
    except RecordNotFound:
        return None
    if root.parent_run_id is not None or public_status(root.status) is not ExecutionStatus.FAILED:
        return None
    return mapping.execution(root)


def retry_one(execution: Execution) -> RetryOutcome:
    """Retry one execution in place and report how it ended; an error that kept it from starting is reported."""
    before = str(execution.status)
    try:
        retry_execution(execution.exec_id)
    except Exception as exc:  # one failing retry does not stop the others
        return RetryOutcome(
            execution.exec_id, execution.flow_name, before, NOT_STARTED, error=str(exc), failed_at=failed_at(execution)
        )
    run = load_run(execution.exec_id, action="refresh")
    after = public_status(run.status, has_active_wait=run.active_wait is not None)
    return RetryOutcome(execution.exec_id, execution.flow_name, before, str(after), failed_at=failed_at(execution))


def retry_many(*, status: ExecutionStatus, flow: str | None, since: timedelta | None, dry_run: bool) -> BulkRetryResult:
    """Retry every failed execution that matches, one after another (or list them, on a dry run).

    Args:
        status: The status filter (only ``failed``, see :func:`parse_retry_status`).
        flow: Only executions of this flow; None for every flow.
        since: Only executions that failed within this long before now; None for any time.
        dry_run: Only list what would be retried.

    Returns:
        One outcome per selected execution, oldest first.
    """
    parse_retry_status(status)
    cutoff = datetime.now(timezone.utc) - since if since is not None else None
    selected = select(flow=flow, since=cutoff)
    if dry_run:
        outcomes = [
            RetryOutcome(
                execution.exec_id,
                execution.flow_name,
                str(execution.status),
                WOULD_RETRY,
                failed_at=failed_at(execution),
            )
            for execution in selected
        ]
        return BulkRetryResult(dry_run=True, since=cutoff, outcomes=outcomes)
    outcomes = []
    for index, execution in enumerate(selected, start=1):
        say(f"Retrying {index}/{len(selected)}: {execution.exec_id} (flow {execution.flow_name}) ...")
        outcomes.append(retry_one(execution))
    return BulkRetryResult(dry_run=False, since=cutoff, outcomes=outcomes)


__all__ = [
    "GOOD_RESULTS",
    "NOT_STARTED",
    "RETRYABLE_STATUSES",
    "WOULD_RETRY",
    "BulkRetryResult",
    "RetryOutcome",
    "failed_at",
    "parse_retry_status",
    "parse_since",
    "retry_many",
    "retry_one",
    "select",
    "top_level",
]

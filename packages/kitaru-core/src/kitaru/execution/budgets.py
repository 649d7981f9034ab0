"""Durable budgets: what an execution has spent on model requests, and the check before each one.

The budget in force is run metadata (:data:`BUDGET_KEY`): ``@flow(budget=...)``
or ``.run(..., budget=...)`` record it when the execution starts (a replay
records its flow's own, so it starts a budget of its own), and
``kitaru executions retry ID --budget-usd X`` replaces the limits it names
before the execution continues (:func:`raise_budget`).

What was spent is read from the journal, never held only in memory: every
``llm_calls`` record on every attempt of every checkpoint call of the
execution (failed attempts, earlier retries and resumes included), except
calls reused from elsewhere (a replay's reused calls, cache hits), which this
execution did not pay for. So spending survives a crash: a retry after a
``kill -9`` still counts what the dead process had recorded.

Before each model request (:func:`check_request`, called by ``kitaru.llm()``
and the agent adapters before anything is sent) the journal is read once per
run of the flow body; the requests this run makes afterwards are added to
that figure in memory (:func:`charge`), so a request recorded or not yet
recorded is counted exactly once. A request is refused with
:class:`~kitaru.errors.KitaruBudgetExceededError` when, for some limit,
``spent >= limit``: at 25 tokens per request and ``Budget(tokens=60)``,
requests 1-3 are sent (0, 25 and 50 tokens spent before them) and the
fourth is refused (75 spent). A limit can therefore be overshot by the last
request sent; requests sent at the same moment from several threads are each
checked against what was spent when they started.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.budget import LIMITS, Budget
from kitaru.engine import get_engine
from kitaru.engine.runs import StepRecord
from kitaru.errors import KitaruBudgetExceededError, KitaruStateError
from kitaru.execution.scope import current_checkpoint, current_flow

BUDGET_KEY = "kitaru_budget"
"""Run metadata: the budget in force (``{"usd", "tokens", "llm_calls"}``, None where unset)."""

RETRY_FLAGS = {"usd": "--budget-usd", "tokens": "--budget-tokens", "llm_calls": "--budget-calls"}
"""The ``kitaru executions retry`` option that raises each limit."""


@dataclass
class Spending:
    """What an execution spent on model requests.

    Attributes:
        llm_calls: Model requests recorded.
        tokens: Their input plus output tokens.
        usd: Their known cost in US dollars.
        unpriced: Requests whose cost is unknown (counted as $0 in ``usd``).
    """

    llm_calls: int = 0
    tokens: int = 0
    usd: float = 0.0
    unpriced: int = 0

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one ``llm_calls`` record."""
        self.llm_calls += 1
        self.tokens += int(record.get("tokens_input") or 0) + int(record.get("tokens_output") or 0)
        if record.get("cost_usd") is None:
            self.unpriced += 1
        else:
            self.usd += float(record["cost_usd"])

    def of(self, limit: str) -> float:
        """The amount spent of one limit (``usd``, ``tokens``, ``llm_calls``)."""
        return float(getattr(self, limit))

    def as_dict(self) -> dict[str, Any]:
        """``{"usd", "tokens", "llm_calls", "calls_with_unknown_cost"}``."""
        return {
            "usd": round(self.usd, 10),
            "tokens": self.tokens,
            "llm_calls": self.llm_calls,
            "calls_with_unknown_cost": self.unpriced,
        }


def recorded_budget(metadata: Mapping[str, Any]) -> Budget | None:
    """The budget recorded in an execution's run metadata, or None."""
    return Budget.from_record(metadata.get(BUDGET_KEY))


def budget_metadata(budget: Budget | None) -> dict[str, Any]:
    """The run metadata that records ``budget`` (empty for None)."""
    return {BUDGET_KEY: budget.to_record()} if budget is not None else {}


def spending_of(steps: Iterable[StepRecord]) -> Spending:
    """Sum the ``llm_calls`` records of the attempts this execution ran itself (see the module docstring)."""
    spent = Spending()
    for step in steps:
        if step.original_id is not None:  # reused from another run (a replay's source, a cache hit)
            continue
        calls = (step.metadata or {}).get("llm_calls")
        if isinstance(calls, Mapping):
            for record in calls.values():
                if isinstance(record, Mapping):
                    spent.add(record)
    return spent


def exhausted_limit(budget: Budget, spent: Spending) -> str | None:
    """The first limit ``spent`` has reached (``spent >= limit``), or None."""
    for name, allowed in budget.limits().items():
        if spent.of(name) >= allowed:
            return name
    return None


def budget_report(metadata: Mapping[str, Any], steps: Iterable[StepRecord]) -> dict[str, Any] | None:
    """``{"limits", "spent", "exhausted"}`` for ``executions get``, or None without a budget."""
    budget = recorded_budget(metadata)
    if budget is None:
        return None
    spent = spending_of(steps)
    return {
        "limits": budget.limits(),
        "spent": spent.as_dict(),
        "exhausted": exhausted_limit(budget, spent) is not None,
    }


@dataclass
class Ledger:
    """One run of a flow body's view of its execution's budget: the journal's figure plus this run's requests."""

    exec_id: str
    budget: Budget | None
    spent: Spending = field(default_factory=Spending)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


_ledgers_lock = threading.Lock()


def _read_ledger(exec_id: str) -> Ledger:
    runs = get_engine().runs
    budget = recorded_budget(runs.get_run(exec_id).metadata)
    if budget is None:
        return Ledger(exec_id, None)
    return Ledger(exec_id, budget, spending_of(runs.list_steps([exec_id])))


def _ledger(*, create: bool) -> Ledger | None:
    """The ledger of the flow body running here, read from the store on first use (when ``create``)."""
    flow = current_flow()
    if flow is None:
        inside = current_checkpoint()
        if not create or inside is None or not inside.execution_id:
            return None
        return _read_ledger(inside.execution_id)  # no body scope to keep it in: read it each time
    if flow.budget_ledger is None and create and flow.execution_id:
        with _ledgers_lock:
            if flow.budget_ledger is None:
                flow.budget_ledger = _read_ledger(flow.execution_id)
    ledger: Ledger | None = flow.budget_ledger
    return ledger


def check_request(call: str) -> None:
    """Refuse the model request ``call`` if the execution's budget is used up; call it before sending.

    Raises:
        KitaruBudgetExceededError: When what the execution spent reached a
            limit; the message names the limit, the amount spent and the
            command that raises it.
    """
    ledger = _ledger(create=True)
    if ledger is None or ledger.budget is None:
        return
    with ledger.lock:
        limit = exhausted_limit(ledger.budget, ledger.spent)
        spent = Spending(**vars(ledger.spent))
    if limit is None:
        return
    allowed = ledger.budget.limits()[limit]
    raise KitaruBudgetExceededError(
        refusal_message(ledger.exec_id, call, limit, allowed, spent),
        limit=limit,
        allowed=float(allowed),
        spent=spent.of(limit),
        exec_id=ledger.exec_id,
    )


def charge(record: Mapping[str, Any]) -> None:
    """Add a request just made (its ``llm_calls`` record) to this run's ledger, if one was read."""
    ledger = _ledger(create=False)
    if ledger is None or ledger.budget is None:
        return
    with ledger.lock:
        ledger.spent.add(record)


def amount_text(limit: str, value: float) -> str:
    """``$0.50``, ``75 tokens`` or ``3 LLM calls``."""
    if limit == "usd":
        return f"${value:.6f}".rstrip("0").rstrip(".") if value < 1 else f"${value:.2f}"
    unit = "tokens" if limit == "tokens" else "LLM calls"
    return f"{int(value)} {unit}"


def suggested(limit: str, allowed: float, spent: float) -> str:
    """A raised value for ``limit`` to suggest: twice the limit, and more than was spent."""
    value = max(allowed * 2, spent + allowed)
    return f"{value:g}" if limit == "usd" else str(int(value))


def refusal_message(exec_id: str, call: str, limit: str, allowed: float, spent: Spending) -> str:
    """What :class:`KitaruBudgetExceededError` says (the limit, what was spent, how to continue)."""
    flag = RETRY_FLAGS[limit]
    return (
        f"LLM call '{call}' was not sent: execution {exec_id} has used its budget of "
        f"{amount_text(limit, allowed)} (spent {amount_text(limit, spent.of(limit))} in "
        f"{spent.llm_calls} LLM call{'s' if spent.llm_calls != 1 else ''}). To continue it with a higher limit, run: "
        f"kitaru executions retry {exec_id} {flag} {suggested(limit, allowed, spent.of(limit))}"
    )


def describe_budget(report: Mapping[str, Any]) -> str:
    """``75 tokens of 60; 3 LLM calls of 10 (exhausted)``: a :func:`budget_report` as one line."""
    spent, limits = report.get("spent") or {}, report.get("limits") or {}
    parts = [
        f"{amount_text(name, float(spent.get(name) or 0))} of {amount_text(name, float(limits[name]))}"
        for name in LIMITS
        if name in limits
    ]
    return "; ".join(parts) + (" (exhausted)" if report.get("exhausted") else "")


def raise_budget(exec_id: str, metadata: Mapping[str, Any], override: Budget) -> Budget:
    """Record ``override``'s limits over the execution's budget (for a retry) and return the budget now in force.

    Raises:
        KitaruStateError: If the store refuses the write.
    """
    current = recorded_budget(metadata)
    budget = current.raised_by(override) if current is not None else override
    try:
        get_engine().runs.log_run_metadata(exec_id, budget_metadata(budget))
    except Exception as exc:
        raise KitaruStateError(f"Could not record the new budget of execution {exec_id}: {exc}") from exc
    return budget


__all__ = [
    "BUDGET_KEY",
    "LIMITS",
    "RETRY_FLAGS",
    "Ledger",
    "Spending",
    "amount_text",
    "budget_metadata",
    "budget_report",
    "charge",
    "check_request",
    "describe_budget",
    "exhausted_limit",
    "raise_budget",
    "recorded_budget",
    "refusal_message",
    "spending_of",
]

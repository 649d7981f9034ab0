"""What the dashboard's pages show, computed from client models and handed to the templates.

Templates only lay things out; every decision about what to show (which
traceback frames, which metadata is secret, how a duration reads, which
actions an execution allows) is made here, in plain functions that tests can
call without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kitaru._llm.usage import describe_cost
from kitaru.client.models import ArtifactRef, CheckpointCall, Execution
from kitaru.execution.console import format_duration
from kitaru.execution.failures import user_traceback
from kitaru.masking import MASK, is_secret_name, mask_url

ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "running": ("cancel",),
    "waiting": ("resume", "cancel", "replay"),
    "completed": ("replay",),
    "failed": ("retry", "replay"),
    "cancelled": ("replay",),
}
"""Which actions the page offers for each status (the client still has the last word)."""


def format_time(moment: datetime | None) -> str:
    """``2026-12-05 12:20:30 UTC``, or ``-``."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_seconds(started: datetime | None, ended: datetime | None, *, now: datetime | None = None) -> float | None:
    """Seconds from ``started`` to ``ended`` (or to now while it has not ended); None without a start."""
    if started is None:
        return None
    start = started if started.tzinfo else started.replace(tzinfo=UTC)
    end = ended or now or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return max((end - start).total_seconds(), 0.0)


def format_seconds(seconds: float | None) -> str:
    """``0.42s``, ``1m 05s``; ``-`` when unknown."""
    return "-" if seconds is None else format_duration(seconds)


def masked(value: Any, *, key: str = "") -> Any:
    """A copy of ``value`` with everything under a secret-named key replaced and URL passwords hidden.

    A key is secret-named by :func:`kitaru.masking.is_secret_name`; the whole
    value under it is hidden, however deeply nested (``{"credentials":
    {"user": ..., "value": ...}}`` shows ``***``). Empty values stay visible,
    so a reader can tell "not set" from "hidden".
    """
    if key and is_secret_name(key) and value is not None and value != "" and not isinstance(value, bool):
        return MASK
    if isinstance(value, Mapping):
        return {name: masked(item, key=str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


@dataclass(frozen=True)
class ExecutionRow:
    """One line of the executions list."""

    exec_id: str
    flow_name: str
    status: str
    stack_name: str
    started: str
    ended: str
    duration: str
    checkpoint_count: int
    tokens: str
    cost: str
    pending_wait: str | None


def usage_cells(usage: Mapping[str, Any] | None) -> tuple[str, str]:
    """The tokens and cost cells: ``1,234`` and ``$0.000123``, or ``-`` without LLM calls."""
    if not usage:
        return "-", "-"
    tokens = f"{int(usage.get('total_tokens') or 0):,}" if usage.get("calls_with_usage") else "not reported"
    cost = usage.get("cost_usd")
    if cost is None:
        return tokens, "unknown"
    # Calls without a price are not in the sum: the cell then says it is a lower bound.
    return tokens, (f"≥ ${cost:.6f}" if usage.get("calls_with_unknown_cost") else f"${cost:.6f}")


def execution_row(execution: Execution) -> ExecutionRow:
    """An execution summary as a row of the list."""
    tokens, cost = usage_cells(execution.llm_usage)
    return ExecutionRow(
        exec_id=execution.exec_id,
        flow_name=execution.flow_name or "-",
        status=str(execution.status),
        stack_name=execution.stack_name or "-",
        started=format_time(execution.started_at),
        ended=format_time(execution.ended_at),
        duration=format_seconds(duration_seconds(execution.started_at, execution.ended_at)),
        checkpoint_count=execution.checkpoint_count,
        tokens=tokens,
        cost=cost,
        pending_wait=execution.pending_wait.name if execution.pending_wait else None,
    )


@dataclass(frozen=True)
class LlmCallView:
    """One model request recorded on a checkpoint call."""

    name: str
    model: str
    tokens_input: Any
    tokens_output: Any
    latency: str
    cost: str
    prompt: ArtifactRef | None
    response: ArtifactRef | None


@dataclass(frozen=True)
class CallView:
    """One checkpoint call on the execution page."""

    call: CheckpointCall
    kind: str
    duration: str
    started: str
    attempts: int
    reused: bool
    traceback: str | None
    outputs: list[ArtifactRef]
    saved: list[ArtifactRef]
    metadata: dict[str, Any]
    llm_calls: list[LlmCallView] = field(default_factory=list)


def _llm_calls(call: CheckpointCall) -> list[LlmCallView]:
    records = call.metadata.get("llm_calls")
    if not isinstance(records, Mapping):
        return []
    by_name = {artifact.name: artifact for artifact in call.artifacts}
    views = []
    for name, record in records.items():
        if not isinstance(record, Mapping):
            continue
        latency = record.get("latency_ms")
        cost = record.get("cost_usd")
        views.append(
            LlmCallView(
                name=str(name),
                model=str(record.get("resolved_model") or record.get("provider_model") or "-"),
                tokens_input=record.get("tokens_input", "-"),
                tokens_output=record.get("tokens_output", "-"),
                latency=f"{float(latency):.0f} ms" if latency is not None else "-",
                cost=f"${float(cost):.6f}" if cost is not None else "unknown",
                prompt=by_name.get(f"{name}_prompt"),
                response=by_name.get(f"{name}_response"),
            )
        )
    return views


def call_view(call: CheckpointCall) -> CallView:
    """A checkpoint call with what its panel shows."""
    metadata = {key: value for key, value in call.metadata.items() if key != "llm_calls"}
    return CallView(
        call=call,
        kind=call.checkpoint_type or "checkpoint",
        duration=format_seconds(duration_seconds(call.started_at, call.ended_at) if call.ended_at else None),
        started=format_time(call.started_at),
        attempts=len(call.attempts),
        reused=call.original_call_id is not None,
        traceback=user_traceback(call.failure.traceback) if call.failure else None,
        outputs=[artifact for artifact in call.artifacts if artifact.save_type == "step_output"],
        saved=[artifact for artifact in call.artifacts if artifact.save_type != "step_output"],
        metadata=masked(metadata),
        llm_calls=_llm_calls(call),
    )


@dataclass(frozen=True)
class ExecutionView:
    """Everything the execution page shows besides the timeline."""

    execution: Execution
    row: ExecutionRow
    calls: list[CallView]
    traceback: str | None
    actions: tuple[str, ...]
    llm_summary: str | None
    metadata: dict[str, Any]


def llm_summary(usage: Mapping[str, Any] | None) -> str | None:
    """``2 LLM calls · 120 tokens (100 in, 20 out) · $0.000123``, or None without LLM calls."""
    if not usage:
        return None
    calls = int(usage.get("calls") or 0)
    tokens = (
        f"{usage['total_tokens']:,} tokens ({usage['tokens_input']:,} in, {usage['tokens_output']:,} out)"
        if usage.get("calls_with_usage")
        else "tokens not reported"
    )
    return f"{calls} LLM call{'s' if calls != 1 else ''} · {tokens} · {describe_cost(usage)}"


def execution_view(execution: Execution) -> ExecutionView:
    """An execution loaded with its checkpoints, as its page shows it."""
    return ExecutionView(
        execution=execution,
        row=execution_row(execution),
        calls=[call_view(call) for call in execution.checkpoints],
        traceback=user_traceback(execution.failure.traceback) if execution.failure else None,
        actions=ACTIONS_BY_STATUS.get(str(execution.status), ()),
        llm_summary=llm_summary(execution.llm_usage),
        metadata=masked(execution.metadata),
    )


__all__ = [
    "ACTIONS_BY_STATUS",
    "CallView",
    "ExecutionRow",
    "ExecutionView",
    "LlmCallView",
    "call_view",
    "duration_seconds",
    "execution_row",
    "execution_view",
    "format_seconds",
    "format_time",
    "llm_summary",
    "masked",
    "usage_cells",
]

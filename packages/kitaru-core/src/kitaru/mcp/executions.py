"""MCP tools for executions: list, get, latest, logs, run, cancel, input, retry, resume, replay, diff.

Each tool is a plain function returning JSON-able data built with the CLI's
serializer (:func:`kitaru.jsonable.to_jsonable`), so an agent sees the
same fields as ``kitaru executions get -o json``. Lists come back as
``{"items": [...], "count": n}`` like the CLI's JSON lists. Errors are raised
and reach the MCP client as tool errors with Kitaru's message.

Tools that execute flow code in this process (run, retry, resume, replay) take
:data:`EXECUTION_LOCK`, so one flow body runs at a time here; reading tools
and ``input``/``cancel`` do not, so they work while a flow is running or
polling a wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kitaru.errors import KitaruUsageError, KitaruWaitValidationError

if TYPE_CHECKING:
    from kitaru.client.models import Execution, PendingWait
    from kitaru.targets import FlowTarget

EXECUTION_LOCK = threading.RLock()
"""Held while a tool runs flow code in this process (flows share process-wide engine state)."""

ALLOW_ANY_TARGET_FLAG = "--allow-any-target"
ALLOW_ANY_TARGET_ENV = "KITARU_MCP_ALLOW_ANY_TARGET"
DEFAULT_LOG_LIMIT = 200
NO_LOGS = "No log entries found."

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _client() -> Any:
    from kitaru.client import KitaruClient

    return KitaruClient()


def execution_item(execution: Execution) -> dict[str, Any]:
    """An execution as JSON, exactly as ``kitaru executions get -o json`` prints its item."""
    from kitaru.jsonable import to_jsonable

    return to_jsonable(execution)


def item_list(items: list[Any]) -> dict[str, Any]:
    """A list payload: ``{"items": [...], "count": n}`` (the CLI's JSON list shape)."""
    from kitaru.jsonable import to_jsonable

    data = [to_jsonable(item) for item in items]
    return {"items": data, "count": len(data)}


# -- reading ------------------------------------------------------------------------------


def _matching(status: str | None, flow: str | None, stack: str | None, limit: int | None) -> list[Execution]:
    """Executions newest first; the stack filter is applied here (the store cannot filter by it)."""
    executions = _client().executions
    if stack is None:
        return executions.list(flow=flow, status=status, limit=limit)
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise KitaruUsageError(f"limit must be a positive integer; got {limit!r}.")
    found = [item for item in executions.list(flow=flow, status=status) if item.stack_name == stack]
    return found[:limit] if limit is not None else found


def kitaru_executions_list(
    status: str | None = None, flow: str | None = None, stack: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """List executions, newest first, as summaries (`checkpoint_count`, no checkpoint details).

    Args:
        status: Only this status: running, waiting, completed, failed or cancelled.
        flow: Only executions of this flow (its name).
        stack: Only executions that ran on this stack.
        limit: At most this many.

    Returns:
        {"items": [execution, ...], "count": n}.
    """
    return item_list(_matching(status, flow, stack, limit))


def kitaru_executions_get(exec_id: str) -> dict[str, Any]:
    """Get one execution with its checkpoints, attempts, artifacts, pending wait and failure."""
    return execution_item(_client().executions.get(exec_id))


def kitaru_executions_latest(
    status: str | None = None, flow: str | None = None, stack: str | None = None
) -> dict[str, Any]:
    """Get the newest execution matching the filters (full details), or fail if there is none."""
    if stack is None:
        return execution_item(_client().executions.latest(flow=flow, status=status))
    found = _matching(status, flow, stack, 1)
    if not found:
        raise LookupError(f"No executions found for flow={flow!r}, status={status!r} and stack={stack!r}.")
    return execution_item(_client().executions.get(found[0].exec_id))


def kitaru_executions_diff(a: str, b: str) -> dict[str, Any]:
    """Compare execution `a` (the reference) with `b`: checkpoint calls, flow inputs, result, tokens and cost.

    Calls are matched by name and call order; each has a `change` (same,
    changed, added, removed) and, when changed, the fields that differ
    (inputs, output, status, attempts, model, tokens).

    Args:
        a: An execution id or a unique prefix of it (6+ characters).
        b: Another execution id or prefix (executions of different flows are allowed; `warnings` says so).

    Returns:
        The item of `kitaru executions diff A B -o json`: {"a", "b", "checkpoints": [...], "inputs",
        "result", "llm", "counts", "warnings", ...}.
    """
    from kitaru.jsonable import to_jsonable

    return to_jsonable(_client().executions.diff(a, b))


def format_log_line(entry: Any) -> str:
    """One log line: ``timestamp LEVEL [checkpoint] message`` (as ``kitaru executions logs -vv``)."""
    from kitaru.cli.executions.logs import format_entry

    return format_entry(entry, verbose=2)


def get_execution_logs(
    exec_id: str, checkpoint: str | None = None, source: str = "step", limit: int = DEFAULT_LOG_LIMIT
) -> str:
    """Read an execution's runtime logs as text lines "timestamp LEVEL [checkpoint] message".

    Args:
        exec_id: The execution id.
        checkpoint: Only lines of this checkpoint (all its invocations, or one: name_2).
        source: "step" for what checkpoints printed and logged, "runner" for the flow body.
        limit: At most this many lines (default 200).

    Returns:
        The lines, or "No log entries found." when there are none.
    """
    entries = _client().executions.logs(exec_id, checkpoint=checkpoint, source=source, limit=limit)
    if not entries:
        return NO_LOGS
    return "\n".join(format_log_line(entry) for entry in entries)


# -- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetPolicy:
    """Where ``kitaru_executions_run`` may load flow code from.

    Attributes:
        root: The server's working directory: relative targets start here,
            and unless ``allow_any`` only code under it may be loaded.
        allow_any: Set by ``--allow-any-target`` / ``KITARU_MCP_ALLOW_ANY_TARGET=1``.
    """

    root: Path
    allow_any: bool = False

    @property
    def refusal_hint(self) -> str:
        return (
            "kitaru-mcp only loads flow targets from files under the directory it was started in. "
            f"Start it in your project directory, or start it with `kitaru-mcp {ALLOW_ANY_TARGET_FLAG}` "
            f"(or set {ALLOW_ANY_TARGET_ENV}=1) to allow targets anywhere."
        )

    def load(self, target: str) -> FlowTarget:
        """Load ``target`` (freshly, so edits to the file are picked up)."""
        from kitaru.targets import load_flow_target

        return load_flow_target(
            target,
            base_dir=self.root,
            allowed_root=None if self.allow_any else self.root,
            refusal_hint=self.refusal_hint,
            fresh=True,
        )


def _run_warning(execution: Execution) -> str | None:
    wait = execution.pending_wait
    if wait is not None:
        return (
            f"Execution {execution.exec_id} is waiting for input on `{wait.name}`. Answer it with "
            "kitaru_executions_input, then continue it with kitaru_executions_resume."
        )
    if str(execution.status) == "failed":
        message = execution.failure.message if execution.failure else "no reason recorded"
        return (
            f"Execution {execution.exec_id} failed: {message}. Fix the cause, then retry it in place "
            "with kitaru_executions_retry (finished checkpoints are reused)."
        )
    return None


def run_target(
    policy: TargetPolicy,
    target: str,
    args: dict[str, Any] | None = None,
    stack: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Run a flow target; the body of the ``kitaru_executions_run`` tool.

    With ``idempotency_key`` the flow's execution for that key is returned if
    it exists, instead of starting another (see ``FlowDefinition.run``).
    """
    from kitaru.targets import run_flow_target

    with EXECUTION_LOCK:
        loaded = policy.load(target)
        handle = run_flow_target(loaded, args or {}, stack=stack, idempotency_key=idempotency_key)
    try:
        execution = _client().executions.get(handle.exec_id)
    except Exception as exc:  # the run happened; report what we know
        return {
            "exec_id": handle.exec_id,
            "target": loaded.target,
            "execution": None,
            "warning": f"Execution {handle.exec_id} was submitted but could not be read back: {exc}. "
            "Check it with kitaru_executions_get.",
        }
    return {
        "exec_id": handle.exec_id,
        "target": loaded.target,
        "execution": execution_item(execution),
        "warning": _run_warning(execution),
    }


# -- control ------------------------------------------------------------------------------


def kitaru_executions_cancel(exec_id: str) -> dict[str, Any]:
    """Cancel an execution (it stops at its next checkpoint boundary or sooner)."""
    return execution_item(_client().executions.cancel(exec_id))


def _select_wait(waits: list[PendingWait], selector: str) -> PendingWait | None:
    named = [wait for wait in waits if wait.name == selector]
    if len(named) == 1:
        return named[0]
    return next((wait for wait in waits if wait.wait_id == selector.lower()), None)


def check_schema_type(wait: PendingWait, value: Any) -> None:
    """Shallow check of ``value`` against the wait schema's top-level JSON ``type``.

    Raises:
        KitaruWaitValidationError: If the type does not match (nothing is resolved).
    """
    schema = wait.schema or {}
    expected = schema.get("type")
    if expected is None:
        return
    names = [expected] if isinstance(expected, str) else [name for name in expected if isinstance(name, str)]
    for name in names:
        types = JSON_TYPES.get(name)
        if types is None:
            return  # a type we do not know: leave it to the full validation
        if isinstance(value, types) and not (name in ("integer", "number") and isinstance(value, bool)):
            return
    from kitaru.cli.output import to_json

    raise KitaruWaitValidationError(
        f"Invalid input for wait `{wait.name}`: expected JSON type {' or '.join(names)}, got "
        f"{to_json(value)}. The wait's schema is {to_json(schema)}; it is still waiting."
    )


def kitaru_executions_input(exec_id: str, wait: str, value: Any) -> dict[str, Any]:
    """Answer a pending wait of an execution with a JSON value.

    Args:
        exec_id: The execution id.
        wait: The wait's name (e.g. "approve" or "wait_condition:0") or wait id; required.
        value: The input; its JSON type must match the wait's schema (checked before resolving).

    Returns:
        The execution afterwards. If it is still "waiting" with no pending wait
        it was paused: continue it with kitaru_executions_resume.
    """
    if not isinstance(wait, str) or not wait.strip():
        raise KitaruUsageError(
            "`wait` is required: the wait's name or id (see pending_wait in kitaru_executions_get)."
        )
    client = _client()
    target = _select_wait(client.executions.pending_waits(exec_id), wait.strip())
    if target is not None:
        check_schema_type(target, value)
    return execution_item(client.executions.input(exec_id, wait=wait.strip(), value=value))


def kitaru_executions_send(exec_id: str, topic: str, value: Any) -> dict[str, Any]:
    """Send an event (a JSON value on a topic) to a running or paused execution.

    Its flow body takes it with kitaru.receive(topic); each event is delivered once.

    Args:
        exec_id: The execution id.
        topic: The topic: 1-64 letters, digits, '_', '.', '-', starting with a letter or digit.
        value: Any JSON value.

    Returns:
        The event sent (exec_id, topic, event_id, sent_at, continued_receive,
        status, next_step). If next_step says the execution is paused, continue
        it with kitaru_executions_resume. A finished execution is refused.
    """
    from kitaru.jsonable import to_jsonable

    return dict(to_jsonable(_client().executions.send(exec_id, topic, value)))


def kitaru_executions_retry(
    exec_id: str,
    budget_usd: float | None = None,
    budget_tokens: int | None = None,
    budget_calls: int | None = None,
) -> dict[str, Any]:
    """Re-run a failed execution in place (same id); checkpoints that succeeded are reused.

    Args:
        exec_id: The execution id.
        budget_usd: Raise the execution's budget to this many US dollars first.
        budget_tokens: Raise its token budget first.
        budget_calls: Raise its budget of LLM calls first (an execution that
            failed with origin "budget" continues only with a raised budget).
    """
    from kitaru.budget import Budget

    given = (budget_usd, budget_tokens, budget_calls)
    given_any = any(value is not None for value in given)
    budget = Budget(usd=budget_usd, tokens=budget_tokens, llm_calls=budget_calls) if given_any else None
    with EXECUTION_LOCK:
        return execution_item(_client().executions.retry(exec_id, budget=budget))


def export_cassette(policy: TargetPolicy, exec_id: str, path: str, tools: bool) -> dict[str, Any]:
    """Write an execution's model calls to a cassette under the server's directory (see ``kitaru_executions_export_cassette``).

    Raises:
        KitaruUsageError: For a path outside the server's directory (unless
            it allows any target), blank, or a directory.
    """
    target = (policy.root / Path(path).expanduser()).resolve() if path.strip() else Path(path)
    if path.strip() and not policy.allow_any and not target.is_relative_to(policy.root):
        raise KitaruUsageError(
            f"Cassette path '{path}' is outside the directory kitaru-mcp was started in ({policy.root}). "
            "Give a path under it, e.g. cassettes/agent.json."
        )
    return _client().executions.export_cassette(exec_id, str(target) if path.strip() else path, tools=tools)


def kitaru_executions_resume(exec_id: str) -> dict[str, Any]:
    """Continue a paused execution after its waits were answered with kitaru_executions_input."""
    with EXECUTION_LOCK:
        return execution_item(_client().executions.resume(exec_id))


def kitaru_executions_replay(
    exec_id: str,
    from_: str,
    overrides: dict[str, Any] | None = None,
    flow_inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Replay an execution from a checkpoint into a new execution.

    Args:
        exec_id: The execution to replay (finished or waiting, not running).
        from_: Where to start: a checkpoint name, invocation id or call id.
        overrides: Edited checkpoint outputs, {"checkpoint.<name>": value}; every
            later checkpoint that consumed that output receives the value.
        flow_inputs: Flow inputs that replace the source execution's.

    Returns:
        {"available": true, "operation": "replay", "execution": <the new execution>}.
    """
    inputs = dict(flow_inputs or {})
    clashing = sorted(set(inputs) & {"exec_id", "from_", "overrides"})
    if clashing:
        raise KitaruUsageError(
            f"flow_inputs cannot set {', '.join(clashing)}: those names are taken by the replay API."
        )
    with EXECUTION_LOCK:
        execution = _client().executions.replay(exec_id, from_=from_, overrides=overrides or None, **inputs)
    return {"available": True, "operation": "replay", "execution": execution_item(execution)}


__all__ = [
    "ALLOW_ANY_TARGET_ENV",
    "ALLOW_ANY_TARGET_FLAG",
    "EXECUTION_LOCK",
    "TargetPolicy",
    "check_schema_type",
    "get_execution_logs",
    "kitaru_executions_cancel",
    "kitaru_executions_get",
    "kitaru_executions_input",
    "export_cassette",
    "kitaru_executions_send",
    "kitaru_executions_latest",
    "kitaru_executions_list",
    "kitaru_executions_replay",
    "kitaru_executions_resume",
    "kitaru_executions_retry",
    "run_target",
]

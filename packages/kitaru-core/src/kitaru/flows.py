"""The ``@flow`` decorator and the handle of a submitted execution.

A flow is the orchestration function of an agent. ``my_flow.run(...)``
submits an execution (a ZenML dynamic pipeline run) and returns a
:class:`FlowHandle`; ``handle.wait()`` returns exactly what the body returned::

    @kitaru.flow
    def agent(topic: str) -> str:
        notes = research(topic)
        return write(notes)

    handle = agent.run("durable agents")
    print(handle.exec_id, handle.wait())

Called in another flow's body, a flow runs as a *child execution* of that
flow, linked to it and journaled in it (:mod:`kitaru.execution.child_flows`)::

    @kitaru.flow
    def digest(topics: list[str]) -> list[str]:
        return [agent(topic) for topic in topics]   # or agent.run(topic).wait()

The body may be an ``async def``: Kitaru runs it on an event loop of its own
and it awaits ``async def`` checkpoints (:mod:`kitaru.checkpoints`).
``run``, ``replay`` and the handle stay synchronous; from asyncio code, call
them in a thread (``await asyncio.to_thread(agent.run, "durable agents")``)
so the caller's loop is not blocked.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from kitaru.budget import Budget, check_budget
from kitaru.checkpoints import checkpoint
from kitaru.config.timeouts import validate_timeout
from kitaru.engine.runs import RunRecord
from kitaru.errors import (
    KitaruStateError,
    KitaruUsageError,
    build_recovery_command,
    execution_error_class,
)
from kitaru.execution.child_flows import FLOW_CALL_TYPE, call_child_flow, calling_flow, child_failure, child_result
from kitaru.execution.definitions import FlowBase
from kitaru.execution.entrypoints import publish_entrypoint
from kitaru.execution.failures import build_failure
from kitaru.execution.flow_body import run_flow_body
from kitaru.execution.idempotency import CHILD_FLOW_REFUSAL
from kitaru.execution.keys import RESULT_KEY
from kitaru.execution.naming import sanitize_name
from kitaru.execution.replay import replay_flow
from kitaru.execution.results import decode_result
from kitaru.execution.runs import load_run
from kitaru.execution.status import ExecutionStatus, public_status
from kitaru.execution.submit import Submitted, submit_flow

DIRECT_CALL_MESSAGE = (
    "Direct flow calls are not supported outside a flow. Use: handle = my_flow.run(...) and then "
    "handle.wait() to get the result. (In another flow's body, my_flow(...) runs it as a child flow.)"
)
_POLL_INTERVAL_MAX = 2.0
CHILD_BUDGET_REFUSAL = (
    "budget= cannot be given to a flow run in another flow's body: a child flow runs with its own "
    "@flow(budget=...). Set the budget on the child flow's decorator."
)


class FlowHandle:
    """A submitted execution.

    Attributes:
        exec_id: The execution id (the engine run's UUID as a string).
    """

    def __init__(
        self,
        exec_id: str,
        *,
        local_result: Any = None,
        has_local_result: bool = False,
        parent_exec_id: str | None = None,
    ) -> None:
        self._exec_id = exec_id
        self._local_result = local_result
        self._has_local_result = has_local_result
        self._parent_exec_id = parent_exec_id  # a child flow's handle: failures say to retry the parent

    @property
    def exec_id(self) -> str:
        """The execution id."""
        return self._exec_id

    @classmethod
    def _of(cls, submitted: Submitted) -> FlowHandle:
        return cls(submitted.exec_id, local_result=submitted.result, has_local_result=submitted.has_result)

    def _snapshot(self) -> RunRecord:
        return load_run(self._exec_id, action="refresh")

    @staticmethod
    def _status_of(snapshot: RunRecord) -> ExecutionStatus:
        return public_status(snapshot.status, has_active_wait=snapshot.active_wait is not None)

    @property
    def status(self) -> ExecutionStatus:
        """The current public status, refreshed from the store."""
        return self._status_of(self._snapshot())

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the execution ends and return the flow's return value.

        Args:
            timeout: Seconds to wait at most; None waits forever.

        Raises:
            KitaruStateError: If ``timeout`` passes first.
            KitaruExecutionError: If the execution did not complete successfully.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 0.1
        while True:
            snapshot = self._snapshot()
            status = self._status_of(snapshot)
            if status.is_finished:
                return self._result_of(snapshot, status)
            if deadline is not None and time.monotonic() >= deadline:
                raise KitaruStateError(
                    f"Timed out after {timeout}s waiting for execution {self._exec_id} "
                    f"(status: {status})."
                )
            pause = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            interval = min(interval * 2, _POLL_INTERVAL_MAX)

    def get(self) -> Any:
        """Return the result without blocking.

        Raises:
            KitaruStateError: If the execution has not finished.
            KitaruExecutionError: If it did not complete successfully.
        """
        snapshot = self._snapshot()
        status = self._status_of(snapshot)
        if not status.is_finished:
            raise KitaruStateError(f"Execution {self._exec_id} is still running (status: {status}).")
        return self._result_of(snapshot, status)

    def _result_of(self, snapshot: RunRecord, status: ExecutionStatus) -> Any:
        if status is ExecutionStatus.COMPLETED:
            if self._has_local_result:
                return self._local_result
            return decode_result(self._exec_id, snapshot.metadata.get(RESULT_KEY))
        raise self._failure_error(snapshot, status)

    def _failure_error(self, snapshot: RunRecord, status: ExecutionStatus) -> Exception:
        if self._parent_exec_id is not None:
            return child_failure(snapshot, parent_exec_id=self._parent_exec_id)
        traceback = snapshot.exception.traceback if snapshot.exception is not None else None
        origin = build_failure(status_reason=snapshot.status_reason, exception_info=snapshot.exception, fallback="").origin
        lines = [f"Execution {self._exec_id} finished with status '{status}'."]
        if snapshot.status_reason:
            lines.append(snapshot.status_reason)
        if traceback:
            last = [line for line in traceback.strip().splitlines() if line.strip()]
            if last and last[-1] != snapshot.status_reason:
                lines.append(last[-1])
        recovery = build_recovery_command(self._exec_id, str(status))
        if recovery:
            lines.append(f"To retry this failed execution, run:\n\n  {recovery}")
        return execution_error_class(origin)(
            "\n".join(lines), exec_id=self._exec_id, status=str(status), failure_origin=origin
        )

    def __repr__(self) -> str:
        return f"<FlowHandle exec_id={self._exec_id!r}>"


class FlowDefinition(FlowBase):
    """A function decorated with ``@flow``.

    Attributes:
        name: The flow name (the sanitised function name).
        defaults: Decorator-level execution settings (stack, image, cache, retries, timeout).
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        stack: str | None,
        image: Any,
        cache: bool | None,
        retries: int | None,
        timeout: float | None = None,
        budget: Budget | None = None,
    ) -> None:
        if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool) or retries < 0):
            raise KitaruUsageError("Flow retries must be >= 0.")
        self.func = func
        self.name = sanitize_name(func.__name__, fallback="flow")
        self.defaults: dict[str, Any] = {
            "stack": stack,
            "image": image,
            "cache": cache,
            "retries": retries,
            "timeout": validate_timeout(timeout, what=f"Flow `{self.name}` timeout"),
        }
        self.budget = check_budget(budget, where=f"@flow `{self.name}`")
        self._engine_flow: Any = None
        functools.update_wrapper(self, func)
        definition = self

        def entrypoint(**params: Any) -> None:
            return run_flow_body(definition, params)

        self.entrypoint = publish_entrypoint(func, entrypoint, alias=f"__kitaru_pipeline_source_{self.name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run this flow as a child of the flow whose body calls it, and return its result.

        Same as ``my_flow.run(*args, **kwargs).wait()`` in a flow body: the
        child is its own execution, linked to its parent and journaled in it,
        so a retry of the parent returns a completed child's result without
        running it again (:mod:`kitaru.execution.child_flows`).

        Raises:
            KitaruUsageError: Outside a flow (use ``my_flow.run(...)`` there).
            KitaruContextError: Inside a checkpoint.
            KitaruExecutionError: If the child did not complete; retrying the
                parent runs it again in place.
        """
        scope = calling_flow()
        if scope is None:
            raise KitaruUsageError(DIRECT_CALL_MESSAGE)
        outcome = call_child_flow(self, scope, args, kwargs, {}, flow_call)
        if outcome.completed:
            return outcome.value
        return FlowHandle(outcome.exec_id, parent_exec_id=scope.execution_id).wait()

    def run(
        self,
        *args: Any,
        stack: str | None = None,
        image: Any = None,
        cache: bool | None = None,
        retries: int | None = None,
        idempotency_key: str | None = None,
        budget: Budget | None = None,
        **kwargs: Any,
    ) -> FlowHandle:
        """Submit an execution of this flow and return its handle.

        On the local default the flow runs in this process before ``run``
        returns; on remote stacks it runs in the background. In another
        flow's body it runs as a child execution of that flow, before ``run``
        returns (see :meth:`__call__`); ``handle.wait()`` then returns its
        result or raises its failure.

        Args:
            *args: Positional flow inputs.
            stack: Run on this stack (for this submission only).
            image: Container image settings for remote stacks.
            cache: Reuse outputs of identical earlier checkpoint calls.
            retries: Run-wide retry policy.
            idempotency_key: Start at most one execution of this flow for
                this key (``"order-42"``): if one exists, whatever its status,
                or another process starts it at the same moment, return a
                handle to it instead of starting another
                (:mod:`kitaru.execution.idempotency`). Not in a flow body.
            budget: This execution's :class:`kitaru.Budget`, in place of
                the flow's ``@flow(budget=...)``. Not in a flow body (a child
                flow has its own decorator's budget).
            **kwargs: Keyword flow inputs.

        Returns:
            The execution's handle.

        Raises:
            KitaruContextError: Inside a checkpoint.
            KitaruUsageError: For ``stack=`` or ``image=`` in a flow body (a
                child runs on its parent's stack and image), an
                ``idempotency_key`` in a flow body, or an invalid key.
        """
        overrides = {"stack": stack, "image": image, "cache": cache, "retries": retries}
        scope = calling_flow()
        if scope is not None and idempotency_key is not None:
            raise KitaruUsageError(CHILD_FLOW_REFUSAL)
        run_budget = check_budget(budget, where=f"{self.name}.run()")
        if scope is not None and run_budget is not None:
            raise KitaruUsageError(CHILD_BUDGET_REFUSAL)
        if scope is not None:
            outcome = call_child_flow(self, scope, args, kwargs, overrides, flow_call)
            return FlowHandle(
                outcome.exec_id,
                local_result=outcome.value,
                has_local_result=outcome.completed,
                parent_exec_id=scope.execution_id,
            )
        return FlowHandle._of(
            submit_flow(self, args, kwargs, overrides, idempotency_key=idempotency_key, budget=run_budget)
        )

    def replay(
        self,
        exec_id: str,
        *,
        from_: str,
        overrides: dict[str, Any] | None = None,
        stack: str | None = None,
        image: Any = None,
        cache: bool | None = None,
        retries: int | None = None,
        **flow_inputs: Any,
    ) -> FlowHandle:
        """Replay an execution of this flow from a checkpoint into a new execution.

        Every checkpoint call before ``from_`` is reused from the source
        execution without running; from ``from_`` on, the flow runs again::

            handle = writer.replay(exec_id, from_="write_draft",
                                   overrides={"checkpoint.research": "edited notes"})

        Args:
            exec_id: The execution to replay.
            from_: Where to start: a checkpoint name, invocation id or call ID.
            overrides: Edited checkpoint outputs, ``{"checkpoint.<selector>": value}``;
                every later checkpoint that consumed that output receives the
                value (and the replay starts no later than the first of them).
            stack: Run on this stack (for this replay only).
            image: Container image settings for remote stacks.
            cache: Allow cache hits for re-run checkpoints (off by default, so
                they really run again).
            retries: Run-wide retry policy.
            **flow_inputs: Flow inputs that replace the source execution's.

        Returns:
            The new execution's handle; it records the source as its original.

        Raises:
            KitaruUsageError: For an empty ``from_``, override keys that do not
                start with ``checkpoint.`` (waits cannot be overridden) or
                unknown flow inputs.
            KitaruStateError: If the source is still running, or the selector
                or an override does not fit it.
        """
        options = {"stack": stack, "image": image, "cache": cache, "retries": retries}
        submitted = replay_flow(self, exec_id, from_=from_, overrides=overrides, flow_inputs=flow_inputs, options=options)
        return FlowHandle._of(submitted)

    def __repr__(self) -> str:
        return f"<kitaru flow {self.name!r}>"


@checkpoint(type=FLOW_CALL_TYPE)
def flow_call(flow: str, exec_id: str, inputs: Any) -> Any:
    """The synthetic checkpoint that journals a child flow call in its parent's body.

    Named after the child flow (``summarize``, ``summarize_2`` ...). Its
    inputs say which flow ran with which inputs (compared with the journal
    when the parent continues or is replayed) and which execution ran it;
    its output is the child's result.

    Args:
        flow: The child flow's name.
        exec_id: The child execution's id.
        inputs: The child's inputs, by parameter name (recorded, not used here).

    Raises:
        KitaruExecutionError: If the child did not complete.
    """
    del inputs  # recorded with the call for the journal
    return child_result(flow, exec_id)


def flow(
    func: Callable[..., Any] | None = None,
    /,
    *,
    stack: str | None = None,
    image: Any = None,
    cache: bool | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    budget: Budget | None = None,
) -> Any:
    """Mark a function as a flow: the durable orchestration of checkpoints.

    Use bare (``@flow``) or with options (``@flow(cache=False)``), on a
    function or an ``async def`` function.

    Args:
        func: The function (when used bare).
        stack: Default stack for this flow's executions.
        image: Default image settings (remote stacks).
        cache: Default caching (on unless configured otherwise).
        retries: Default run-wide retries (>= 0).
        timeout: Seconds one run of the flow body may take (the first run,
            each retry and each resume gets the whole timeout). Past it the
            body is stopped and the execution fails with origin ``timeout``;
            ``kitaru executions retry`` runs it again, skipping the
            checkpoints that finished. None (the default) takes the
            configured ``timeout`` (``configure()``, ``kitaru.yaml``), if any.
        budget: The most each execution may spend on model requests, a
            :class:`kitaru.Budget` (``usd``, ``tokens``, ``llm_calls``).
            Before each request Kitaru sums what the execution spent (from
            its journal, retries and crashes included) and refuses the
            request once a limit is reached: the execution fails with origin
            ``budget`` (:class:`~kitaru.errors.KitaruBudgetExceededError`).
            ``.run(..., budget=...)`` overrides it for one execution.

    Returns:
        The flow, or a decorator producing one.

    Raises:
        KitaruUsageError: If ``retries`` is negative, ``timeout`` is not a
            positive number of seconds or ``budget`` is not a ``kitaru.Budget``.
    """

    def decorate(target: Callable[..., Any]) -> FlowDefinition:
        return FlowDefinition(
            target, stack=stack, image=image, cache=cache, retries=retries, timeout=timeout, budget=budget
        )

    if func is not None:
        return decorate(func)
    return decorate

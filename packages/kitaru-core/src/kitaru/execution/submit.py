"""One submission path for ``my_flow.run(...)`` and every replay.

Submitting an execution is the same work whether it runs a flow or replays
an execution; only what the engine is asked to start differs:

1. resolve the execution configuration (SPEC §5: defaults, stack,
   pyproject, environment, ``configure()``, decorator, call) and freeze it
   into the spec recorded with the execution, with the model alias registry
   it travels with;
2. announce it on the terminal, make the chosen stack active for this
   submission only, and let the engine start it (:func:`start`). On the local
   default the flow body runs right here, in this thread: the engine calls
   :func:`kitaru.execution.flow_body.run_flow_body`, which finds this
   submission through :func:`current_submission`;
3. record the spec if the body did not, and print how it ended (:func:`finish`).

::

    started = start(flow, lambda engine_flow: runtime.start_run(engine_flow, params),
                    call=overrides, announce=f"Starting flow `{flow.name}`.")
    if started.exec_id is None:
        raise ...   # the caller words what could not start
    submitted = finish(started, flow.name)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from kitaru._llm.registry import snapshot, with_registry_env
from kitaru.budget import Budget
from kitaru.config import ResolvedExecutionConfig, build_frozen_spec, image_for_build, resolve_execution_config
from kitaru.engine import get_engine
from kitaru.engine.runtime import FlowRuntime, RunNameTaken, RunOptions, StartedRun, UnknownStack
from kitaru.errors import KitaruRuntimeError, KitaruUsageError
from kitaru.execution import ownership
from kitaru.execution.budgets import budget_metadata
from kitaru.execution.console import format_duration, say
from kitaru.execution.definitions import FlowBase
from kitaru.execution.idempotency import IDEMPOTENCY_KEY, check_key, execution_name, reused_message
from kitaru.execution.keys import FLOW_KEY, SPEC_KEY
from kitaru.execution.lifecycle import interrupted
from kitaru.execution.runs import load_run
from kitaru.execution.sources import ensure_source_root
from kitaru.execution.status import ExecutionStatus, public_status


@dataclass
class Submission:
    """What a submission hands to the flow body running in this process.

    Attributes:
        spec: The frozen execution spec, recorded by the body.
        exec_id: The execution id, once the body started.
        result: What the body returned.
        has_result: Whether the body returned (``result`` may be None).
        spec_logged: Whether the body recorded the spec.
        supervisor: The body's supervisor (knows whether a cancel was requested).
        journal: Calls a replay reuses from its source, checked like a continuation's.
        metadata: More run metadata the body records as it starts, with the
            spec (a replay's record, so a retry after a crash still has it).
    """

    spec: dict[str, Any] | None
    exec_id: str | None = None
    result: Any = None
    has_result: bool = False
    spec_logged: bool = False
    supervisor: Any = None
    journal: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


_submission: ContextVar[Submission | None] = ContextVar("kitaru_submission", default=None)


def current_submission() -> Submission | None:
    """The submission whose flow body runs in this context (None in a continuation or remotely)."""
    return _submission.get()


@dataclass(frozen=True)
class Started:
    """What :func:`start` got from the engine.

    Attributes:
        exec_id: The execution id, or None if nothing started.
        run: The engine's answer, if it returned one.
        error: What the engine or the body raised, if anything.
        submission: What the body recorded.
        spec: The frozen execution spec.
        started_at: ``time.perf_counter()`` when the submission was announced.
    """

    exec_id: str | None
    run: StartedRun | None
    error: BaseException | None
    submission: Submission
    spec: dict[str, Any]
    started_at: float


@dataclass(frozen=True)
class Submitted:
    """A submitted execution.

    Attributes:
        exec_id: The execution id.
        status: Its public status when the submission returned.
        result: What the body returned, when it ran in this process.
        has_result: Whether ``result`` is known.
    """

    exec_id: str
    status: ExecutionStatus
    result: Any = None
    has_result: bool = False


def bind_parameters(flow: FlowBase, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Bind a call's arguments to the flow's named parameters.

    Raises:
        KitaruUsageError: If the flow takes ``*args``/``**kwargs`` (an
            execution could not be replayed) or the arguments do not fit.
    """
    signature = inspect.signature(flow.func)
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise KitaruUsageError(
                f"Flow '{flow.name}' takes *args/**kwargs; flows need named "
                "parameters so each execution can be replayed. Name every parameter."
            )
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise KitaruUsageError(f"Invalid arguments for flow '{flow.name}': {exc}") from None
    return dict(bound.arguments)


def with_model_registry(resolved: ResolvedExecutionConfig) -> tuple[ResolvedExecutionConfig, dict[str, Any] | None]:
    """Carry the model alias registry with the execution (SPEC §6 registry transport).

    Returns:
        The resolved config, whose image environment (when an image is
        configured, i.e. the run may leave this machine) gets
        ``KITARU_MODEL_REGISTRY`` unless already set there, and the registry
        snapshot for the frozen execution spec (None without aliases).
    """
    registry = snapshot()
    if registry is None or resolved.image is None:
        return resolved, registry
    environment = with_registry_env(resolved.image.environment)
    image = resolved.image.model_copy(update={"environment": environment})
    return resolved.model_copy(update={"image": image}), registry


def run_options(resolved: ResolvedExecutionConfig) -> RunOptions:
    """The engine's settings for a resolved configuration."""
    image = image_for_build(resolved.image).model_dump(exclude_none=True) if resolved.image is not None else None
    return RunOptions(cache=resolved.cache, retries=resolved.retries, image=image)


@contextmanager
def on_stack(runtime: FlowRuntime, name: str | None) -> Iterator[None]:
    """Make stack ``name`` active for one submission.

    Raises:
        KitaruUsageError: If there is no such stack.
    """
    try:
        with runtime.using_stack(name):
            yield
    except UnknownStack:
        raise KitaruUsageError(f"Stack '{name}' does not exist. List stacks with `kitaru stack list`.") from None


def start(
    flow: FlowBase,
    launch: Callable[[Any], StartedRun | None],
    *,
    call: Mapping[str, Any],
    announce: str,
    journal: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> Started:
    """Resolve the configuration, announce the submission and let ``launch`` start it.

    Args:
        flow: The flow to run.
        launch: Starts the execution, given the configured engine flow; it
            runs on the chosen stack.
        call: Settings of this call (``stack``, ``image``, ``cache``, ``retries``).
        announce: The terminal line printed before starting.
        journal: Calls the body must make as recorded (a replay's reused calls).
        metadata: More run metadata to record with the spec (see :class:`Submission`).

    Returns:
        What the engine started, or the error that kept it from starting
        (a failure of the flow body is recorded on the execution instead).

    Raises:
        KeyboardInterrupt: If this process was interrupted (Ctrl-C)
            while the body ran here; the execution is recorded interrupted.
    """
    runtime = get_engine().runtime
    ensure_source_root(flow.func)
    resolved = resolve_execution_config(active_stack=runtime.active_stack(), decorator=flow.defaults, call=call)
    resolved, registry = with_model_registry(resolved)
    spec = build_frozen_spec(
        resolved=resolved,
        flow_defaults=flow.defaults,
        server_url=None,
        project=None,
        model_registry=registry,
    ).model_dump(mode="json")
    configured = runtime.configure_flow(flow.engine_flow(), run_options(resolved))

    # The flow's own budget, unless the caller's metadata records another (a run's budget=).
    submission = Submission(spec=spec, journal=journal, metadata={**budget_metadata(flow.budget), **(metadata or {})})
    token = _submission.set(submission)
    started_at = time.perf_counter()
    say(announce)
    error: BaseException | None = None
    run: StartedRun | None = None
    try:
        with on_stack(runtime, resolved.stack):
            run = launch(configured)
    except Exception as exc:  # the failure is recorded on the execution
        error = exc
    except KeyboardInterrupt as exc:
        # The supervisor interrupts the body when the execution is cancelled
        # from elsewhere; that is a cancelled execution, not a Ctrl-C.
        if submission.supervisor is None or not submission.supervisor.cancel_requested.is_set():
            if submission.exec_id is None:
                raise
            # A Ctrl-C: end this process as interrupted, in Kitaru's words
            # (the engine's frames and signals stay out of the message).
            raise interrupted(submission.exec_id) from None
        error = exc
    finally:
        _submission.reset(token)
        if submission.exec_id is not None:  # the engine has recorded the outcome
            ownership.release_run_lock(submission.exec_id)
    exec_id = submission.exec_id or (run.id if run is not None else None)
    return Started(exec_id, run, error, submission, spec, started_at)


def finish(started: Started, flow_name: str, *, record: Callable[[str], None] | None = None) -> Submitted:
    """Record the spec if the body did not, print how the execution ended and return it.

    Args:
        started: What :func:`start` returned (with an execution id).
        flow_name: The flow's name, recorded with the spec.
        record: Records more about the execution before the last line.
    """
    exec_id = started.exec_id
    assert exec_id is not None
    runs = get_engine().runs
    if not started.submission.spec_logged:
        runs.log_run_metadata(exec_id, {SPEC_KEY: started.spec, FLOW_KEY: flow_name, **started.submission.metadata})
    if record is not None:
        record(exec_id)
    if started.run is not None:
        status = public_status(started.run.status)
    else:
        run = load_run(exec_id, action="refresh")
        status = public_status(run.status, has_active_wait=run.active_wait is not None)
    say(f"Execution {exec_id} {status} in {format_duration(time.perf_counter() - started.started_at)}.")
    submission = started.submission
    return Submitted(exec_id, status, result=submission.result, has_result=submission.has_result)


def submit_flow(
    flow: FlowBase,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    overrides: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    budget: Budget | None = None,
) -> Submitted:
    """Submit an execution of ``flow`` (``my_flow.run(...)``).

    Args:
        flow: The flow.
        args: Positional flow inputs.
        kwargs: Keyword flow inputs.
        overrides: ``stack``/``image``/``cache``/``retries`` of this call.
        idempotency_key: Start at most one execution of ``flow`` for this key
            (:mod:`kitaru.execution.idempotency`): if one exists, or another
            process creates it first, return it instead of starting another.
        budget: This execution's budget, in place of the flow's (recorded
            as run metadata; :mod:`kitaru.execution.budgets`).

    Raises:
        KitaruUsageError: For arguments that do not fit the flow, or an invalid key.
        KitaruRuntimeError: If the engine could not start the execution.
    """
    params = bind_parameters(flow, args, kwargs)
    name = execution_name(flow.name, check_key(idempotency_key)) if idempotency_key is not None else None
    runtime = get_engine().runtime
    if name is not None and idempotency_key is not None:
        existing = runtime.run_named(name)
        if existing is not None:
            return reused(existing, idempotency_key)
    started = start(
        flow,
        lambda engine_flow: runtime.start_run(engine_flow, params, name=name),
        call=overrides,
        announce=f"Starting flow `{flow.name}`.",
        metadata={
            **({IDEMPOTENCY_KEY: idempotency_key} if idempotency_key is not None else {}),
            **budget_metadata(budget),
        },
    )
    if started.exec_id is None:
        if isinstance(started.error, RunNameTaken) and idempotency_key is not None:
            # Another process created the execution of this key between our look-up and our start.
            winner = runtime.run_named(started.error.name)
            if winner is not None:
                return reused(winner, idempotency_key)
        raise KitaruRuntimeError(f"Flow '{flow.name}' could not be submitted: {started.error}") from started.error
    return finish(started, flow.name)


def reused(exec_id: str, key: str) -> Submitted:
    """The execution an idempotent start found instead of starting another, announced on the terminal."""
    say(reused_message(exec_id, key))
    run = load_run(exec_id, action="refresh")
    return Submitted(exec_id, public_status(run.status, has_active_wait=run.active_wait is not None))


__all__ = [
    "Started",
    "Submission",
    "Submitted",
    "bind_parameters",
    "current_submission",
    "finish",
    "on_stack",
    "reused",
    "run_options",
    "start",
    "submit_flow",
    "with_model_registry",
]

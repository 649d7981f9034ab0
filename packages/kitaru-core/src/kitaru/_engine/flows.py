"""Run flows as ZenML dynamic pipelines.

``submit_flow`` resolves configuration, activates the right stack for the
submission only, and starts the pipeline. The flow body itself runs in
``run_flow_body`` (called by the engine), which enters the flow scope,
journals the frozen execution spec and records the return value explicitly.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kitaru import _scope
from kitaru._console import format_duration, say
from kitaru._engine import runs
from kitaru.execution import ownership
from kitaru._engine.bootstrap import load_engine
from kitaru.client.status import public_status
from kitaru.errors import KitaruRuntimeError, KitaruStateError, KitaruUsageError

if TYPE_CHECKING:
    from kitaru.flows import FlowDefinition, FlowHandle

_stack_lock = threading.RLock()


@dataclass
class _Submission:
    """What ``submit_flow`` hands to the flow body running in this process."""

    spec: dict[str, Any] | None
    exec_id: str | None = None
    result: Any = None
    has_result: bool = False
    spec_logged: bool = False
    supervisor: Any = None
    # Calls a replay reuses from its source, checked like a continuation's.
    journal: Any = None


_submission: ContextVar[_Submission | None] = ContextVar("kitaru_submission", default=None)


def build_engine_pipeline(definition: FlowDefinition) -> Any:
    """Build the ZenML dynamic pipeline for ``definition``."""
    load_engine()
    from zenml import pipeline

    return pipeline(dynamic=True, name=definition.name)(definition.entrypoint)


def run_flow_body(definition: FlowDefinition, params: dict[str, Any]) -> None:
    """Run the user's flow body inside the engine's run (called by the engine).

    Takes ownership of the execution (lock, owner metadata, supervisor
    thread), prepares the continuation of a retried or resumed execution,
    runs the body in the flow scope and records its return value.

    Raises:
        KitaruStateError: If another live process is running this execution.
    """
    from zenml.utils import source_utils

    from kitaru._engine import continuation, ownership

    run = runs.current_run()
    exec_id = str(run.id)
    lock = ownership.RunLock(exec_id)
    if not lock.acquire():
        raise KitaruStateError(
            f"Execution {exec_id} is already being run by another live process; "
            "wait for it to finish or cancel it with `kitaru executions cancel`."
        )
    supervisor = ownership.RunSupervisor(exec_id)
    try:
        submission = _submission.get()
        metadata: dict[str, Any] = {
            "kitaru_flow": definition.name,
            runs.SOURCE_ROOT_KEY: source_utils.get_source_root(),
            ownership.OWNER_KEY: ownership.owner_record(),
            ownership.HEARTBEAT_KEY: ownership.utc_timestamp(),
        }
        if submission is not None:
            submission.exec_id = exec_id
            submission.supervisor = supervisor
            if submission.spec is not None:
                metadata[runs.SPEC_KEY] = submission.spec
                submission.spec_logged = True
        runs.log_run_metadata(exec_id, metadata)
        supervisor.start()

        scope = _scope.FlowScope(
            name=definition.name, flow_id=str(run.pipeline.id) if run.pipeline else None, execution_id=exec_id
        )
        scope.journal = continuation.install(runs.current_runner(), exec_id) or (
            submission.journal if submission is not None else None
        )
        scope.supervisor = supervisor
        with _scope.flow_scope(scope):
            value = definition.func(**params)

        entry = scope.outputs.get(id(value))
        handle = entry[1] if entry is not None and entry[0] is value else None
        record = runs.encode_result(value, checkpoint_output=handle)
        runs.log_run_metadata(exec_id, {runs.RESULT_KEY: record})
        if submission is not None:
            submission.result = value
            submission.has_result = True
    finally:
        supervisor.stop()
        # The lock stays held until the engine has recorded the outcome: see
        # ownership.release_run_lock, called by whoever started the run.


def _bind_parameters(definition: FlowDefinition, args: tuple, kwargs: dict) -> dict[str, Any]:
    signature = inspect.signature(definition.func)
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise KitaruUsageError(
                f"Flow '{definition.name}' takes *args/**kwargs; flows need named "
                "parameters so each execution can be replayed. Name every parameter."
            )
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise KitaruUsageError(f"Invalid arguments for flow '{definition.name}': {exc}") from None
    return dict(bound.arguments)


@contextlib.contextmanager
def _activated_stack(name: str | None) -> Iterator[None]:
    """Activate stack ``name`` for one submission, restoring the previous one."""
    from zenml.client import Client

    if not name:
        yield
        return
    with _stack_lock:
        client = Client()
        previous = client.active_stack_model.name
        if previous == name:
            yield
            return
        try:
            client.activate_stack(name)
        except KeyError as exc:
            raise KitaruUsageError(
                f"Stack '{name}' does not exist. List stacks with `kitaru stack list`."
            ) from exc
        try:
            yield
        finally:
            client.activate_stack(previous)


def _engine_options(resolved: Any) -> dict[str, Any]:
    from zenml.config.retry_config import StepRetryConfig

    options: dict[str, Any] = {"enable_cache": resolved.cache}
    if resolved.retries:
        options["retry"] = StepRetryConfig(max_retries=resolved.retries, delay=0, backoff=0)
    if resolved.image is not None:
        from kitaru._engine.images import ZenMLImages
        from kitaru.config import image_for_build

        image = image_for_build(resolved.image).model_dump(exclude_none=True)
        options["settings"] = {"docker": ZenMLImages().to_engine(image)}
    return options


def with_model_registry(resolved: Any) -> tuple[Any, dict[str, Any] | None]:
    """Carry the model alias registry with the execution (SPEC §6 registry transport).

    Returns:
        The resolved config, whose image environment (when an image is
        configured, i.e. the run may leave this machine) gets
        ``KITARU_MODEL_REGISTRY`` unless already set there, and the registry
        snapshot for the frozen execution spec (None without aliases).
    """
    from kitaru._llm.registry import snapshot, with_registry_env

    registry = snapshot()
    if registry is None or resolved.image is None:
        return resolved, registry
    environment = with_registry_env(resolved.image.environment)
    image = resolved.image.model_copy(update={"environment": environment})
    return resolved.model_copy(update={"image": image}), registry


def submit_flow(definition: FlowDefinition, args: tuple, kwargs: dict, overrides: dict[str, Any]) -> FlowHandle:
    """Resolve configuration, submit an execution and return its handle."""
    from kitaru.config import build_frozen_spec, resolve_execution_config
    from kitaru.flows import FlowHandle

    params = _bind_parameters(definition, args, kwargs)
    load_engine()
    from zenml.client import Client

    resolved = resolve_execution_config(
        active_stack=Client().active_stack_model.name,
        decorator=definition.defaults,
        call=overrides,
    )
    resolved, registry = with_model_registry(resolved)
    spec = build_frozen_spec(
        resolved=resolved,
        flow_defaults=definition.defaults,
        server_url=None,
        project=None,
        model_registry=registry,
    ).model_dump(mode="json")
    engine_pipeline = definition.engine_pipeline().with_options(**_engine_options(resolved))

    submission = _Submission(spec=spec)
    token = _submission.set(submission)
    started = time.perf_counter()
    say(f"Starting flow `{definition.name}`.")
    error: BaseException | None = None
    try:
        with _activated_stack(resolved.stack):
            engine_run = engine_pipeline(**params)
    except Exception as exc:  # the failure is recorded on the execution
        error = exc
        engine_run = None
    except KeyboardInterrupt as exc:
        # The supervisor interrupts the body when the execution is cancelled
        # from elsewhere; that is a cancelled execution, not a Ctrl-C.
        if submission.supervisor is None or not submission.supervisor.cancel_requested.is_set():
            raise
        error = exc
        engine_run = None
    finally:
        _submission.reset(token)
        if submission.exec_id is not None:
            ownership.release_run_lock(submission.exec_id)

    exec_id = submission.exec_id or (str(engine_run.id) if engine_run is not None else None)
    if exec_id is None:
        raise KitaruRuntimeError(
            f"Flow '{definition.name}' could not be submitted: {error}"
        ) from error
    if not submission.spec_logged:
        runs.log_run_metadata(exec_id, {runs.SPEC_KEY: spec, "kitaru_flow": definition.name})
    handle = FlowHandle(exec_id, local_result=submission.result, has_local_result=submission.has_result)
    status = public_status(engine_run.status) if engine_run is not None else handle.status
    say(f"Execution {exec_id} {status} in {format_duration(time.perf_counter() - started)}.")
    return handle

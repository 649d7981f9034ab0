"""Flows as ZenML dynamic pipelines, checkpoints as steps: the :class:`~kitaru.engine.runtime.FlowRuntime`.

Translation only. A flow becomes ``@pipeline(dynamic=True)``, a checkpoint a
``@step`` whose output ZenML stores through :class:`KitaruMaterializer`
(Kitaru's codec); a checkpoint call in the flow body is a step launched by
the dynamic runner, and the handles and futures it returns travel through
Kitaru unopened. Continuing a run (:mod:`kitaru._engine.continuation`) and
waiting (:mod:`kitaru._engine.flow_waits`) live in their own modules.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from kitaru._engine import cache_hits, child_runs, continuation, flow_waits, source_root
from kitaru._engine.bootstrap import client, load_engine
from kitaru._engine.images import ZenMLImages
from kitaru.engine.runs import StepRecord
from kitaru.engine.runtime import (
    CheckpointSpec,
    CurrentRun,
    CurrentStep,
    FlowIdentity,
    OutputInfo,
    RunNameTaken,
    RunOptions,
    StartedRun,
    UnknownStack,
)

# Checkpoint labels that are also ZenML step types.
STEP_TYPES = {"llm_call": "llm_call", "tool_call": "tool_call"}
DEFAULT_PARAMETER_LIMIT = 65536

MATERIALIZER = "kitaru._engine.materializer.KitaruMaterializer"
"""Kitaru's materializer, by the source path ZenML records and loads it from.

Loaded through ZenML's source loader (:func:`_materializer`) rather than
imported here: :mod:`kitaru._engine.materializer` imports ZenML at its top,
which may only happen once the engine is loaded.
"""

_materializer_class: Any = None

# The active stack is global to ZenML's client: one submission switches it at a time.
_stack_lock = threading.RLock()


def _materializer() -> Any:
    """The materializer class, loaded once by ZenML from :data:`MATERIALIZER`."""
    global _materializer_class
    if _materializer_class is None:
        load_engine()
        from zenml.utils import source_utils

        _materializer_class = source_utils.load(MATERIALIZER)
    return _materializer_class


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))


def _at_index(checkpoint: Any, index: int) -> Any:
    """A copy of the step that records its call index (read back by :func:`~kitaru._engine.run_store.step_record`).

    ZenML's ``extra`` is merged into the step's own and is not part of the
    cache key, so cache hits are unchanged.
    """
    return checkpoint.with_options(extra={"kitaru": {"call_index": index}})


def _started(engine_run: Any) -> StartedRun | None:
    return StartedRun(id=str(engine_run.id), status=_word(engine_run.status)) if engine_run is not None else None


class ZenMLRuntime:
    """Run Kitaru flows on ZenML's dynamic pipelines."""

    # -- definitions -------------------------------------------------------------------------

    def build_flow(self, name: str, entrypoint: Callable[..., Any]) -> Any:
        load_engine()
        from zenml import pipeline

        return pipeline(dynamic=True, name=name)(entrypoint)

    def build_checkpoint(self, spec: CheckpointSpec) -> Any:
        load_engine()
        from zenml import step
        from zenml.config.retry_config import StepRetryConfig
        from zenml.enums import StepRuntime, StepType

        step_type = STEP_TYPES.get(spec.label or "")
        decorate = step(
            name=spec.name,
            step_type=StepType(step_type) if step_type else None,
            output_materializers=_materializer(),
            retry=StepRetryConfig(max_retries=spec.retries, delay=0, backoff=0) if spec.retries else None,
            extra={"kitaru": {"boundary": "checkpoint", "type": spec.label}},
            runtime=StepRuntime(spec.runtime) if spec.runtime else None,
            enable_artifact_visualization=False,
            # The codec's header already says what the value is; skipping the
            # engine's per-artifact metadata saves several store writes per call.
            enable_artifact_metadata=False,
            enable_cache=None if spec.cacheable else False,
        )
        return decorate(spec.entrypoint)

    def configure_flow(self, flow: Any, options: RunOptions) -> Any:
        from zenml.config.retry_config import StepRetryConfig

        engine_options: dict[str, Any] = {"enable_cache": options.cache}
        if options.retries:
            engine_options["retry"] = StepRetryConfig(max_retries=options.retries, delay=0, backoff=0)
        if options.image is not None:
            engine_options["settings"] = {"docker": ZenMLImages().to_engine(options.image)}
        return flow.with_options(**engine_options)

    # -- submitting --------------------------------------------------------------------------

    def active_stack(self) -> str:
        return str(client().active_stack_model.name)

    @contextlib.contextmanager
    def using_stack(self, name: str | None) -> Iterator[None]:
        if not name:
            yield
            return
        with _stack_lock:
            engine = client()
            previous = engine.active_stack_model.name
            if previous == name:
                yield
                return
            try:
                engine.activate_stack(name)
            except KeyError:
                raise UnknownStack(name) from None
            try:
                yield
            finally:
                engine.activate_stack(previous)

    def start_run(self, flow: Any, params: Mapping[str, Any], *, name: str | None = None) -> StartedRun | None:
        if name is None:
            return _started(flow(**params))
        from zenml.exceptions import EntityExistsError

        # ZenML creates the run's placeholder record before it runs anything; the
        # store's unique constraint on run names (`unique_run_name_in_project`, a
        # database constraint on SQLite, MySQL and behind a server) lets exactly
        # one of two starts with one name create it. The other gets
        # EntityExistsError (HTTP 409 from a server) from `create_placeholder_run`.
        # The name has no `{...}` placeholders, so ZenML uses it as given.
        try:
            return _started(flow.with_options(run_name=name)(**params))
        except EntityExistsError:
            if self.run_named(name) is None:
                raise
            raise RunNameTaken(name) from None

    def run_named(self, name: str) -> str | None:
        page = client().list_pipeline_runs(name=name, size=1, hydrate=False)
        return str(page.items[0].id) if page.items else None

    def start_replay(
        self,
        flow: Any,
        *,
        source_run_id: str,
        skip: Sequence[str],
        step_inputs: Mapping[str, Mapping[str, str]],
        flow_inputs: Mapping[str, Any],
    ) -> StartedRun | None:
        overrides = {
            invocation: {name: UUID(artifact_id) for name, artifact_id in inputs.items()}
            for invocation, inputs in step_inputs.items()
        }
        engine_run = flow.replay(
            pipeline_run=UUID(source_run_id),
            skip=set(skip),
            step_input_overrides=overrides or None,
            input_overrides=dict(flow_inputs) or None,
        )
        return _started(engine_run)

    def resume_run(self, run_id: str) -> None:
        from zenml.stack import Stack

        run = client().zen_store.get_run(UUID(run_id), hydrate=True)
        stack = Stack.from_model(run.snapshot.stack)
        stack.orchestrator.resume_run(snapshot=run.snapshot, run=run, stack=stack)

    def upload(self, value: Any) -> str:
        load_engine()
        from zenml import ExternalArtifact

        artifact = ExternalArtifact(
            value=value,
            materializer=_materializer(),
            store_artifact_metadata=False,
            store_artifact_visualizations=False,
        )
        return str(artifact.upload_by_value())

    def source_root(self) -> str | None:
        load_engine()
        return source_root.current()

    def set_source_root(self, root: str) -> None:
        load_engine()
        source_root.set_root(root)

    # -- inside a flow body ------------------------------------------------------------------

    def current_run(self) -> CurrentRun | None:
        context = flow_waits.run_context()
        if context is None:
            return None
        run = context.run
        return CurrentRun(id=str(run.id), flow_id=str(run.pipeline.id) if run.pipeline else None)

    def prepare_body(self, run_id: str) -> tuple[StepRecord, ...]:
        context = flow_waits.run_context()
        if context is None:
            return ()
        cache_hits.watch(context.runner)
        return continuation.prepare(context.runner, run_id)

    def start_child(self, flow: Any, params: Mapping[str, Any], *, call_id: str, resume: str | None) -> None:
        child_runs.start(flow, params, call_id=call_id, resume=resume)

    def served_from_cache(self, invocation_id: str) -> bool:
        context = flow_waits.run_context()
        return context is not None and cache_hits.served_from_cache(context.runner, invocation_id)

    def parameter_limit(self) -> int:
        try:
            return int(os.environ.get("ZENML_PARAMETER_SIZE_THRESHOLD", str(DEFAULT_PARAMETER_LIMIT)))
        except ValueError:
            return DEFAULT_PARAMETER_LIMIT

    def input_artifact(self, value: Any) -> Any:
        from zenml import ExternalArtifact

        return ExternalArtifact(value=value, materializer=_materializer())

    def output_id(self, value: Any) -> str | None:
        # Output handles (``OutputArtifact``) are the artifacts that know their step.
        return str(value.id) if hasattr(value, "step_name") else None

    def call(
        self,
        checkpoint: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        id: str | None,
        after: Any,
        index: int,
    ) -> Any:
        return _at_index(checkpoint, index)(*args, id=id, after=after, **kwargs)

    def submit(
        self,
        checkpoint: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        id: str | None,
        after: Any,
        index: int,
    ) -> Any:
        return _at_index(checkpoint, index).submit(*args, id=id, after=after, **kwargs)

    def map(
        self,
        checkpoint: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        after: Any,
        product: bool,
        index: int,
    ) -> Any:
        step = _at_index(checkpoint, index)
        launch = step.product if product else step.map
        return launch(*args, after=after, **kwargs)

    def result(self, future: Any) -> Any:
        return future.result()

    def results(self, future: Any) -> list[Any]:
        return list(future.result())

    def describe_output(self, handle: Any) -> OutputInfo:
        return OutputInfo(artifact_id=str(handle.id), location=handle.uri, invocation_id=handle.step_name)

    def load_output(self, handle: Any) -> Any:
        return handle.load()

    def output_data_type(self, handle: Any) -> str | None:
        return getattr(getattr(handle, "data_type", None), "import_path", None)

    # -- waits and flow control --------------------------------------------------------------

    def next_wait_name(self) -> str:
        return flow_waits.next_wait_name()

    def wait(
        self,
        *,
        name: str,
        schema: Any,
        question: str | None,
        timeout: float,
        poll_interval: float,
        metadata: Mapping[str, Any],
        interactive: bool = True,
    ) -> Any:
        return flow_waits.wait(
            name=name,
            schema=schema,
            question=question,
            timeout=timeout,
            poll_interval=poll_interval,
            metadata=metadata,
            interactive=interactive,
        )

    def flow_control(self, exc: BaseException) -> str | None:
        return flow_waits.flow_control(exc)

    def halt(self, signal: BaseException, *, paused: bool) -> None:
        flow_waits.halt(signal, paused=paused)

    def halted(self) -> BaseException | None:
        return flow_waits.halted()

    # -- inside a checkpoint -----------------------------------------------------------------

    def current_step(self) -> CurrentStep:
        from zenml import get_step_context

        context = get_step_context()
        return CurrentStep(run_id=str(context.pipeline_run.id), step_id=str(context.step_run.id))

    def current_step_flow(self) -> FlowIdentity:
        from zenml import get_step_context

        pipeline = get_step_context().pipeline
        return FlowIdentity(name=pipeline.name, id=str(pipeline.id))

    def save_artifact(
        self,
        name: str,
        value: Any,
        *,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        extract_metadata: bool = True,
    ) -> str:
        load_engine()
        from zenml import save_artifact

        artifact = save_artifact(
            value,
            name=name,
            tags=list(tags) if tags is not None else None,
            user_metadata=dict(metadata) if metadata is not None else None,
            materializer=_materializer(),
            extract_metadata=extract_metadata,
            include_visualizations=False,
        )
        return str(artifact.id)


__all__ = ["STEP_TYPES", "ZenMLRuntime"]

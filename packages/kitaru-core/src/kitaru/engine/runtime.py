"""The port for running flows: what Kitaru needs from the engine while an execution runs.

Kitaru's rules for a run (one submission path for run and replay, the
journal and divergence, how a checkpoint's inputs travel, the terminal
lines, waits, retry and resume) live in :mod:`kitaru.execution`. They drive
the engine through a :class:`FlowRuntime`:

* definitions: :meth:`~FlowRuntime.build_flow` and
  :meth:`~FlowRuntime.build_checkpoint` turn a flow and a checkpoint into
  engine objects;
* submitting: :meth:`~FlowRuntime.configure_flow`, then
  :meth:`~FlowRuntime.start_run` or :meth:`~FlowRuntime.start_replay`
  (inside :meth:`~FlowRuntime.using_stack`), and
  :meth:`~FlowRuntime.resume_run` for a stored execution;
* inside a flow body: :meth:`~FlowRuntime.current_run`,
  :meth:`~FlowRuntime.prepare_body`, :meth:`~FlowRuntime.call`,
  :meth:`~FlowRuntime.submit`, :meth:`~FlowRuntime.map`,
  :meth:`~FlowRuntime.wait` and the flow-control signals;
* inside a checkpoint: :meth:`~FlowRuntime.current_step` and
  :meth:`~FlowRuntime.save_artifact`.

Engine objects that only travel through Kitaru (a built flow or checkpoint,
a checkpoint's output *handle*, a *future*) are opaque: typed ``Any``, never
inspected by the domain, only handed back to the runtime. Everything the
domain reads about them comes back as a plain record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from kitaru.engine.errors import RecordNotFound
from kitaru.engine.runs import StepRecord


class UnknownStack(RecordNotFound):
    """:meth:`FlowRuntime.using_stack` was given a stack the engine does not know."""


class WaitsUnsupported(RuntimeError):
    """This engine installation cannot record durable waits (the reason is the message)."""


class NotInFlowBody(RuntimeError):
    """A wait was started outside the flow body's own thread (in a checkpoint or a thread it started)."""


class RunNameTaken(RuntimeError):
    """:meth:`FlowRuntime.start_run` was given a name another execution already has.

    The store keeps execution names unique (one atomic check, also on a
    shared server store), so of two starts with one name exactly one
    creates the execution; the other gets this before anything runs.

    Attributes:
        name: The name that was taken.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"An execution named '{name}' already exists.")
        self.name = name


@dataclass(frozen=True)
class CheckpointSpec:
    """What the engine needs to build a checkpoint.

    Attributes:
        name: The checkpoint's name.
        entrypoint: The function the engine calls (importable by its alias).
        retries: Automatic re-executions after an exception.
        label: The ``@checkpoint(type=...)`` label (``llm_call``, ``tool_call`` ...).
        runtime: ``inline``, ``isolated`` or None for the engine's default.
        cacheable: Whether an identical call of another execution may serve
            its output (when the run's cache is on).
    """

    name: str
    entrypoint: Callable[..., Any]
    retries: int = 0
    label: str | None = None
    runtime: str | None = None
    cacheable: bool = True


@dataclass(frozen=True)
class RunOptions:
    """Execution settings for one submission (resolved by :mod:`kitaru.config`).

    Attributes:
        cache: Reuse outputs of identical checkpoint calls.
        retries: Run-wide retries of every checkpoint (0 or None: none).
        image: Kitaru image fields for building the execution's image, or None.
    """

    cache: bool | None = None
    retries: int | None = None
    image: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StartedRun:
    """An execution the engine started (and, on a local stack, finished).

    Attributes:
        id: The execution id.
        status: The engine status word when the call returned.
    """

    id: str
    status: str


@dataclass(frozen=True)
class CurrentRun:
    """The execution whose flow body runs in this context.

    Attributes:
        id: The execution id.
        flow_id: The engine's id of the flow.
    """

    id: str
    flow_id: str | None


@dataclass(frozen=True)
class CurrentStep:
    """The checkpoint attempt running in this context.

    Attributes:
        run_id: The execution id.
        step_id: The attempt's id.
    """

    run_id: str
    step_id: str


@dataclass(frozen=True)
class FlowIdentity:
    """A flow as the engine names it.

    Attributes:
        name: The flow's name.
        id: The engine's id of the flow.
    """

    name: str
    id: str | None


@dataclass(frozen=True)
class OutputInfo:
    """What Kitaru reads about a checkpoint output handle.

    Attributes:
        artifact_id: The stored artifact's id.
        location: Where the value is stored (its URI).
        invocation_id: The invocation id of the call that produced it.
    """

    artifact_id: str
    location: str
    invocation_id: str


class FlowRuntime(Protocol):
    """Run flows and checkpoints on the engine."""

    # -- definitions -------------------------------------------------------------------------

    def build_flow(self, name: str, entrypoint: Callable[..., Any]) -> Any:
        """The engine's flow for ``entrypoint`` (opaque; passed back to :meth:`configure_flow`)."""
        ...

    def build_checkpoint(self, spec: CheckpointSpec) -> Any:
        """The engine's checkpoint for ``spec`` (opaque; passed back to :meth:`call` ...)."""
        ...

    # -- submitting --------------------------------------------------------------------------

    def active_stack(self) -> str:
        """The name of the stack executions run on when none is chosen."""
        ...

    def using_stack(self, name: str | None) -> AbstractContextManager[None]:
        """Make ``name`` the active stack for the block, restoring the previous one after.

        None (or the active stack's name) changes nothing.

        Raises:
            UnknownStack: On entering, if there is no such stack.
        """
        ...

    def configure_flow(self, flow: Any, options: RunOptions) -> Any:
        """``flow`` with the execution settings of one submission (opaque, like ``flow``)."""
        ...

    def start_run(self, flow: Any, params: Mapping[str, Any], *, name: str | None = None) -> StartedRun | None:
        """Start an execution of a configured ``flow`` with ``params`` on the active stack.

        On a local stack the flow body runs in this thread before this returns.
        Exceptions of the body propagate (the engine recorded them already).

        Args:
            flow: The flow (from :meth:`configure_flow`).
            params: Its inputs.
            name: The execution's unique name (see :meth:`run_named`), or None
                for a generated one.

        Returns:
            The started execution, or None if the engine returned none.

        Raises:
            RunNameTaken: If an execution named ``name`` exists; nothing ran.
        """
        ...

    def run_named(self, name: str) -> str | None:
        """The id of the execution named ``name`` by :meth:`start_run`, or None if there is none."""
        ...

    def start_replay(
        self,
        flow: Any,
        *,
        source_run_id: str,
        skip: Sequence[str],
        step_inputs: Mapping[str, Mapping[str, str]],
        flow_inputs: Mapping[str, Any],
    ) -> StartedRun | None:
        """Start a new execution of a configured ``flow`` that replays ``source_run_id``.

        Args:
            flow: The flow (from :meth:`configure_flow`).
            source_run_id: The execution replayed.
            skip: Invocation ids reused from the source without running.
            step_inputs: Invocation id -> input name -> artifact id that
                replaces what the source passed.
            flow_inputs: Flow inputs that replace the source's.

        Returns:
            The new execution, or None if the engine returned none.
        """
        ...

    def resume_run(self, run_id: str) -> None:
        """Let the orchestrator of a stored execution run its flow body again, in place.

        The caller set the execution's status to ``resuming`` first. On a local
        stack the body runs in this thread before this returns.
        """
        ...

    def upload(self, value: Any) -> str:
        """Store ``value`` with Kitaru's codec now and return the artifact id."""
        ...

    def source_root(self) -> str | None:
        """The directory the engine records as the root of the flow's source.

        None when the engine cannot tell: nothing set it and the main module
        has no file (``python -c``, a REPL, a worker process of a test runner).
        """
        ...

    def set_source_root(self, root: str) -> None:
        """Record ``root`` as the source root of the executions this process submits next."""
        ...

    # -- inside a flow body ------------------------------------------------------------------

    def current_run(self) -> CurrentRun | None:
        """The execution whose flow body runs in this context, or None."""
        ...

    def prepare_body(self, run_id: str) -> tuple[StepRecord, ...]:
        """Prepare the engine to run the flow body of ``run_id`` (fresh, retried or resumed).

        Must run in the flow body before the first checkpoint call. From then
        on the engine notes which calls it serves from its cache (see
        :meth:`served_from_cache`). When the body continues ``run_id`` in
        place, attempts that failed or were orphaned by a dead process are
        hidden from the engine, so their calls execute again as a new attempt
        instead of re-raising the stored failure.

        Returns:
            The latest attempt of every call recorded before (empty for a
            fresh execution). The successful ones are reused by the engine.
        """
        ...

    def start_child(self, flow: Any, params: Mapping[str, Any], *, call_id: str, resume: str | None) -> None:
        """Run a configured ``flow`` as a child execution of the running one, here, until it ends.

        The child is linked to its parent in the store (its ``parent_run_id``)
        and runs on the parent's stack, in this thread; its flow body runs
        through the flow's entrypoint like any execution's.

        Args:
            flow: The child flow (from :meth:`configure_flow`).
            params: Its inputs.
            call_id: The invocation id of the call in the parent's body; the
                engine files the child under it.
            resume: A child execution of this call to continue in place (one
                that paused at a wait), or None to start a new child execution
                (a child that failed stays as it ended: the engine does not
                run a finished child again).

        Raises:
            BaseException: What the child raised, or a flow-control signal
                (:meth:`flow_control`) when it paused.
        """
        ...

    def served_from_cache(self, invocation_id: str) -> bool:
        """Whether the engine answered the finished synchronous call ``invocation_id`` from its cache.

        The engine's own record of the call, never a comparison of clocks:
        a client's clock and the store's timestamps (whole seconds on MySQL)
        cannot tell a fresh output from a cached one.
        """
        ...

    def parameter_limit(self) -> int:
        """The largest JSON text (characters) the engine stores as a plain parameter."""
        ...

    def input_artifact(self, value: Any) -> Any:
        """A checkpoint argument that the engine stores with Kitaru's codec when the call starts."""
        ...

    def output_id(self, value: Any) -> str | None:
        """The artifact id if ``value`` is a checkpoint output handle, else None."""
        ...

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
        """Run a checkpoint synchronously; returns its output handle.

        ``index`` is the call's position in the flow body (0, 1, ...), recorded
        with the call so calls are listed in the order the body made them,
        even when the store's timestamps tie (MySQL keeps whole seconds).

        Raises:
            BaseException: The checkpoint's failure, or a flow-control signal.
        """
        ...

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
        """Start a checkpoint concurrently; returns an opaque future (see :meth:`result`).

        ``index`` is the call's position in the flow body, as for :meth:`call`.
        """
        ...

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
        """Fan a checkpoint out over an output's items; returns an opaque future (see :meth:`results`).

        Every item's call records the same ``index`` (see :meth:`call`); they
        are ordered among themselves by their invocation ids.
        """
        ...

    def result(self, future: Any) -> Any:
        """Wait for a future of :meth:`submit`; returns the output handle."""
        ...

    def results(self, future: Any) -> list[Any]:
        """Wait for a future of :meth:`map`; returns the output handles in order."""
        ...

    def describe_output(self, handle: Any) -> OutputInfo:
        """What Kitaru needs to know about an output handle."""
        ...

    def load_output(self, handle: Any) -> Any:
        """Read an output handle's value (through Kitaru's codec)."""
        ...

    def output_data_type(self, handle: Any) -> str | None:
        """The stored type's import path of an output, as the engine recorded it."""
        ...

    # -- waits and flow control --------------------------------------------------------------

    def next_wait_name(self) -> str:
        """The automatic name of the next wait of this flow body (``wait_condition:0`` ...)."""
        ...

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
        """Record a wait and wait for its input (prompting on an interactive terminal).

        ``interactive=False`` never prompts, even on a terminal: a durable
        sleep or a ``receive`` is not answered by a person typing.

        Returns:
            The input validated as ``schema``, or None for a gate.

        Raises:
            WaitsUnsupported: If this engine cannot wait durably.
            NotInFlowBody: If called outside the flow body's thread.
            RecordConflict: If a wait of that name was recorded with other arguments.
            ValueError: If the recorded input no longer validates as ``schema``.
            BaseException: A flow-control signal (:meth:`flow_control`) when the
                wait pauses or is aborted.
        """
        ...

    def flow_control(self, exc: BaseException) -> str | None:
        """``paused`` or ``aborted`` if ``exc`` is the engine's signal unwinding a flow body, else None."""
        ...

    def halt(self, signal: BaseException, *, paused: bool) -> None:
        """Keep this flow body from going on after ``signal``, even if it swallows it.

        Every later checkpoint call raises the signal again; ``paused`` also
        records the execution as paused now.
        """
        ...

    def halted(self) -> BaseException | None:
        """A fresh copy of the signal this flow body was halted with, or None."""
        ...

    # -- inside a checkpoint -----------------------------------------------------------------

    def current_step(self) -> CurrentStep:
        """The checkpoint attempt running in this context (only valid inside one)."""
        ...

    def current_step_flow(self) -> FlowIdentity:
        """The flow of the checkpoint attempt running in this context (may read the store)."""
        ...

    def save_artifact(
        self,
        name: str,
        value: Any,
        *,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        extract_metadata: bool = True,
    ) -> str:
        """Store ``value`` with Kitaru's codec as a named artifact (of the running checkpoint, if any).

        Returns:
            The artifact id.
        """
        ...


__all__ = [
    "CheckpointSpec",
    "CurrentRun",
    "CurrentStep",
    "FlowIdentity",
    "FlowRuntime",
    "NotInFlowBody",
    "OutputInfo",
    "RunNameTaken",
    "RunOptions",
    "StartedRun",
    "UnknownStack",
    "WaitsUnsupported",
]

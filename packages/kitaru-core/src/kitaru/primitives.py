"""Primitives used inside flows and checkpoints: ``log``, ``save``, ``load``.

Where each may be called is fixed (SPEC §2.0): ``log`` anywhere inside a
flow, ``save``/``load`` only inside a checkpoint, ``wait`` only in the flow
body, ``llm`` anywhere inside a flow (in the flow body it runs as the
synthetic :data:`llm_call` checkpoint).
"""

from __future__ import annotations

from typing import Any

from kitaru._llm.call import LLM_CALL_TYPE, perform_call, prepare_request
from kitaru.checkpoints import checkpoint
from kitaru.engine import get_engine
from kitaru.errors import KitaruContextError, KitaruStateError, KitaruUsageError
from kitaru.execution.artifacts import load_named_artifact
from kitaru.execution.ids import parse_execution_id
from kitaru.execution.keys import ARTIFACT_TYPE_KEY
from kitaru.execution.scope import CheckpointScope, current_checkpoint, current_flow
from kitaru.execution.waits_body import is_flow_control, run_wait

SAVE_TYPES = ("prompt", "response", "context", "input", "output", "blob")


def log(**metadata: Any) -> None:
    """Attach key/values to the current checkpoint, or else to the execution.

    Repeated calls accumulate; a repeated key keeps its latest value (dicts
    merge on read).

    Raises:
        KitaruContextError: Outside a flow.
        KitaruStateError: If the current scope has no execution id.
    """
    inside = current_checkpoint()
    flow = current_flow()
    if inside is None and flow is None:
        raise KitaruContextError("kitaru.log() can only be called inside a @flow.")
    if not metadata:
        return
    if inside is not None:
        if not inside.checkpoint_id:
            raise KitaruStateError("The current checkpoint has no id; cannot attach metadata.")
        get_engine().runs.log_step_metadata(inside.checkpoint_id, metadata)
        return
    assert flow is not None
    if not flow.execution_id:
        raise KitaruStateError("The current flow has no execution id; cannot attach metadata.")
    get_engine().runs.log_run_metadata(flow.execution_id, metadata)


def _require_checkpoint(function: str) -> CheckpointScope:
    checkpoint = current_checkpoint()
    if checkpoint is None:
        raise KitaruContextError(f"kitaru.{function}() can only be called inside a @checkpoint.")
    return checkpoint


def save(name: str, value: Any, *, type: str = "output", tags: list[str] | None = None) -> None:
    """Persist ``value`` as a named artifact of the current checkpoint.

    Args:
        name: Artifact name; ``load(exec_id, name)`` finds it later.
        value: Any value a Kitaru serializer can write.
        type: One of prompt, response, context, input, output, blob.
        tags: Optional artifact tags.

    Raises:
        KitaruContextError: Outside a checkpoint.
        KitaruUsageError: If ``name`` is empty or ``type`` unknown.
    """
    _require_checkpoint("save")
    kind = str(type).strip().lower()
    if kind not in SAVE_TYPES:
        raise KitaruUsageError(
            f"Unsupported artifact type {type!r} for kitaru.save(). Expected one of: "
            f"{', '.join(SAVE_TYPES)}."
        )
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("kitaru.save() needs a non-empty artifact name.")
    get_engine().runtime.save_artifact(name.strip(), value, metadata={ARTIFACT_TYPE_KEY: kind}, tags=tags)


def load(exec_id: str, name: str) -> Any:
    """Load an artifact of another execution from inside a checkpoint.

    Matches artifacts saved with ``save`` by name, and checkpoint outputs by
    artifact name, step name or checkpoint name.

    Raises:
        KitaruContextError: Outside a checkpoint.
        KitaruUsageError: If ``exec_id`` is not a UUID.
        KitaruRuntimeError: If no artifact or several artifacts match.
    """
    _require_checkpoint("load")
    return load_named_artifact(parse_execution_id(exec_id), name)


def wait(
    *,
    schema: Any = None,
    name: str | None = None,
    question: str | None = None,
    timeout: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Wait durably for outside input (a person, another system) in the flow body.

    The wait is recorded on the execution, which shows ``waiting``. On an
    interactive local terminal Kitaru prompts inline and the body continues.
    Otherwise this process polls for input for ``timeout`` seconds (every 5
    seconds, or ``KITARU_WAIT_POLL_INTERVAL``); input given meanwhile with
    ``KitaruClient().executions.input(...)`` or ``kitaru executions input``
    continues it right here. After the timeout the execution is paused and
    the process is released; give the input later, then ``kitaru executions
    resume <id>`` re-runs the body, reuses the finished checkpoints and this
    call returns the recorded input.

    Example::

        @kitaru.flow
        def publish(topic: str) -> str:
            draft = write(topic)
            if not kitaru.wait(schema=bool, name="approve", question=f"Publish {draft!r}?"):
                return "rejected"
            return post(draft)

    Pausing and aborting unwind the body with a control-flow exception. A
    ``try/except Exception`` around ``wait()`` cannot swallow it: the
    execution is marked paused before the exception is raised, and the next
    checkpoint call or ``wait()`` of the body raises it again, so nothing is
    journaled after an unanswered wait. Re-raise it yourself in broad
    ``except`` blocks with :func:`is_flow_control` (``kitaru.primitives.is_flow_control(exc)``).

    Args:
        schema: None for a continue/abort gate (returns None). A type
            (``bool``, ``str``, ``int``, ``float``, a pydantic model, ...) for
            input that is validated against it and returned as that type.
        name: A stable name for the wait. Defaults to ``wait_condition:0``,
            ``wait_condition:1``, ... in call order; give explicit names when
            the body branches.
        question: Shown to whoever answers.
        timeout: Seconds this process keeps polling before pausing the
            execution (default 600). It does not expire the wait.
        metadata: JSON values stored with the wait.

    Returns:
        The validated input, or None for a gate.

    Raises:
        KitaruContextError: Outside a flow body or inside a checkpoint.
        KitaruUsageError: If an argument is invalid.
        KitaruFeatureNotAvailableError: If the engine lacks wait support.
    """
    if current_checkpoint() is not None:
        raise KitaruContextError(
            "wait() cannot be called inside a @checkpoint. Call wait() in the flow body instead."
        )
    if current_flow() is None:
        raise KitaruContextError("wait() can only run inside a @flow.")
    return run_wait(schema=schema, name=name, question=question, timeout=timeout, metadata=metadata)


def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
) -> str:
    """Call an LLM and return its text; the call is journaled and never paid twice.

    In the flow body the call runs as a synthetic ``llm_call`` checkpoint named
    after the call (``llm_1``, ``llm_2`` ... or ``name``), so retry, resume and
    replay reuse its recorded answer. Inside a checkpoint it runs inline and
    the checkpoint is the replay boundary. Prompt and response are stored as
    artifacts; model, credential source, latency, tokens and cost as metadata.

    Args:
        prompt: A string (one user message) or a list of ``{"role",
            "content"}`` messages.
        model: An alias (``kitaru model register``) or ``provider/model``
            (``openai/gpt-4o-mini``); default ``KITARU_DEFAULT_MODEL``, then
            the default alias.
        system: A system message put first.
        temperature: Sampling temperature (≥ 0).
        max_tokens: Output token limit (≥ 1).
        name: The call name (normalised to a word; digits get an ``llm_``
            prefix).

    Returns:
        The model's text.

    Raises:
        KitaruContextError: Outside a flow.
        KitaruUsageError: For a bad prompt, option or model, or a missing SDK
            (the message names the extra to install).
        KitaruRuntimeError: For missing credentials or an empty answer.
        KitaruBackendError: When the provider call fails.

    Example::

        @kitaru.flow
        def agent(topic: str) -> str:
            notes = kitaru.llm(f"Research {topic}", model="fast", name="research")
            return kitaru.llm(f"Write a post from: {notes}", system="Be concise.")
    """
    flow = current_flow()
    inside = current_checkpoint()
    if flow is None and inside is None:
        raise KitaruContextError("kitaru.llm() can only be called inside a @flow.")
    scope: Any = inside if inside is not None else flow
    request = prepare_request(
        scope,
        prompt,
        model=model,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        name=name,
        inside_checkpoint=inside is not None,
    )
    if inside is not None:
        return _answer(request)
    text: str = llm_call(request, id=request["name"])
    return text


@checkpoint(type=LLM_CALL_TYPE)
def llm_call(request: dict[str, Any]) -> str:
    """The synthetic checkpoint a flow-body ``kitaru.llm()`` call runs as."""
    return _answer(request)


def _answer(request: dict[str, Any]) -> str:
    """Call the model (inside a checkpoint) and record the call: prompt, response, ``llm_calls`` metadata."""
    text, record = perform_call(request)
    name = request["name"]
    save(f"{name}_prompt", list(request["messages"]), type="prompt")
    save(f"{name}_response", text, type="response")
    log(llm_calls={name: record})
    return text


__all__ = ["SAVE_TYPES", "is_flow_control", "llm", "llm_call", "load", "log", "save", "wait"]

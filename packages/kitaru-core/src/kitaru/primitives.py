"""Primitives used inside flows and checkpoints: ``log``, ``save``, ``load``.

Where each may be called is fixed (SPEC §2.0): ``log`` anywhere inside a
flow, ``save``/``load`` only inside a checkpoint, ``wait`` only in the flow
body, ``llm`` anywhere inside a flow (in the flow body it runs as the
synthetic :data:`llm_call` checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from kitaru._llm.call import LLM_CALL_TYPE, TOOL_CALL_TYPE, claim_next, perform_call, prepare_request
from kitaru._llm.call_objects import CallObjects, current, holding
from kitaru._llm.conversation import DEFAULT_MAX_TOOL_ROUNDS, check_max_tool_rounds, converse, fill_results
from kitaru._llm.structured import parse_answer
from kitaru._llm.tools import run_tool
from kitaru.checkpoints import checkpoint
from kitaru.engine import get_engine
from kitaru.errors import KitaruContextError, KitaruRuntimeError, KitaruStateError, KitaruUsageError
from kitaru.execution.artifacts import load_named_artifact
from kitaru.execution.budgets import charge, check_request
from kitaru.execution.events_body import run_receive
from kitaru.execution.ids import parse_execution_id
from kitaru.execution.keys import ARTIFACT_TYPE_KEY
from kitaru.execution.scope import CheckpointScope, FlowScope, current_checkpoint, current_flow
from kitaru.execution.sleeps import validate_moment, validate_seconds
from kitaru.execution.sleeps_body import run_sleep
from kitaru.execution.waits_body import is_flow_control, run_wait

ResponseModel = TypeVar("ResponseModel")

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


def receive(topic: str, *, timeout: float | None = None) -> Any:
    """Take the next message sent to this execution on ``topic`` (the general form of :func:`wait`).

    Messages are sent from anywhere with ``KitaruClient().executions.send(exec_id, topic, value)`` or
    ``kitaru executions send EXEC_ID TOPIC --value JSON``. A message sent before the body gets here is
    kept and taken now. Each message is delivered exactly once: the k-th ``receive(topic)`` of an
    execution returns the same message on every run of the body (retry, resume, after a crash), and
    never one an earlier call took. With no message there, the execution shows ``waiting`` and this
    process waits for up to ``timeout`` seconds (checking every ``KITARU_WAIT_POLL_INTERVAL``); a
    message sent meanwhile continues it here. After the timeout the execution pauses; send the
    message, then ``kitaru executions resume <id>`` (or send with ``--resume``).

    Example::

        @kitaru.flow
        def order(order_id: str) -> str:
            payment = kitaru.receive("payment", timeout=60)
            return ship(order_id, payment["amount"])

    Args:
        topic: 1 to 64 letters, digits, ``_``, ``.`` and ``-``, starting with a letter or digit.
        timeout: Seconds this process waits before pausing the execution (default 600).

    Returns:
        The message's JSON value.

    Raises:
        KitaruContextError: Outside a flow body or inside a checkpoint.
        KitaruUsageError: For a bad topic or timeout.
    """
    if current_checkpoint() is not None:
        raise KitaruContextError(
            "receive() cannot be called inside a @checkpoint. Call it in the flow body and pass the value in."
        )
    scope = current_flow()
    if scope is None:
        raise KitaruContextError("receive() can only run inside a @flow body.")
    return run_receive(scope, topic, timeout)


def sleep(seconds: float | timedelta) -> None:
    """Sleep durably in the flow body: a retry or resume after a crash sleeps only what is left.

    The first time the body reaches this sleep, its wake-up time is recorded
    on the execution; a retried or resumed body (sleeps are named
    ``sleep:0``, ``sleep:1`` ... in call order) sleeps until that same time,
    and not at all once it has passed. Up to ``KITARU_SLEEP_PAUSE_AFTER``
    seconds (default 60) it blocks in this process. A longer sleep *pauses*
    the execution, as ``wait()`` does: the process may exit, the execution
    shows ``waiting`` and ``kitaru executions get`` says "sleeping until ...".
    After the wake-up time, ``kitaru executions resume <id>`` or the sweep
    ``kitaru executions resume --due`` (for cron or a systemd timer)
    continues it; finished checkpoints are reused. If the process dies while
    sleeping in process, the sweep retries it after the wake-up time.

    Example::

        @kitaru.flow
        def follow_up(lead: str) -> str:
            draft = write_email(lead)
            kitaru.sleep(timedelta(days=1))
            return send_reminder(draft)

    Args:
        seconds: Seconds (int or float >= 0) or a ``datetime.timedelta``.

    Raises:
        KitaruContextError: Outside a flow body or inside a checkpoint.
        KitaruUsageError: If ``seconds`` is not a number >= 0 or a timedelta.
    """
    wanted = validate_seconds(seconds)
    run_sleep(_sleeping_flow("sleep"), seconds=wanted)


def sleep_until(when: datetime) -> None:
    """Sleep durably in the flow body until ``when`` (see :func:`sleep`).

    A naive ``datetime`` is local time (as ``datetime.astimezone()`` reads
    it); give ``tzinfo`` to be explicit. A moment in the past returns at once.

    Example::

        kitaru.sleep_until(datetime(2027, 1, 4, 7, 0, tzinfo=timezone.utc))

    Raises:
        KitaruContextError: Outside a flow body or inside a checkpoint.
        KitaruUsageError: If ``when`` is not a ``datetime.datetime``.
    """
    moment = validate_moment(when)
    run_sleep(_sleeping_flow("sleep_until"), until=moment)


def _sleeping_flow(function: str) -> FlowScope:
    if current_checkpoint() is not None:
        raise KitaruContextError(
            f"kitaru.{function}() cannot be called inside a @checkpoint. Call it in the flow body, between "
            "checkpoints."
        )
    flow = current_flow()
    if flow is None:
        raise KitaruContextError(f"kitaru.{function}() can only run inside a @flow body.")
    return flow


@overload
def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
    tools: Sequence[Callable[..., Any]] | None = None,
    response_format: None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
) -> str: ...


@overload
def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
    tools: Sequence[Callable[..., Any]] | None = None,
    response_format: type[ResponseModel],
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
) -> ResponseModel: ...


def llm(
    prompt: str | list[dict[str, Any]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
    tools: Sequence[Callable[..., Any]] | None = None,
    response_format: type[Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
) -> Any:
    """Call an LLM and return its answer; the call is journaled and never paid twice.

    In the flow body the call runs as a synthetic ``llm_call`` checkpoint named
    after the call (``llm_1``, ``llm_2`` ... or ``name``), so retry, resume and
    replay reuse its recorded answer. Inside a checkpoint it runs inline and
    the checkpoint is the replay boundary. Prompt and response are stored as
    artifacts; model, credential source, latency, tokens and cost as metadata.

    With ``tools``, Kitaru runs the model <-> tool loop: each model request is
    its own ``llm_call`` checkpoint (``research``, ``research_2`` ...) and each
    tool run a ``tool_call`` checkpoint (``research_search_web`` ...) with its
    arguments and result, so a retry after a crash neither asks the model nor
    runs a tool again, and a replay from a tool call sends the edited result
    to the model.

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
        tools: Plain functions the model may call. Their JSON schemas come
            from their signatures (pydantic) and their docstrings (summary
            and ``Args:``); results are sent back as JSON (strings as they
            are). Define them at module level.
        response_format: A pydantic model class: the final answer is
            validated into an instance and returned, using the provider's
            structured output where the backend has it.
        max_tool_rounds: How many answers asking for tools to follow (≥ 1).

    Returns:
        The model's text, or an instance of ``response_format``.

    Raises:
        KitaruContextError: Outside a flow.
        KitaruUsageError: For a bad prompt, option, tool or model, a backend
            that cannot call tools, or a missing SDK (the message names the
            extra to install).
        KitaruRuntimeError: For missing credentials, an empty answer, or a
            model still asking for tools after ``max_tool_rounds``.
        KitaruStructuredOutputError: When the answer does not fit
            ``response_format`` (the text is on the error).
        KitaruBackendError: When the provider call fails.

    Example::

        class Brief(BaseModel):
            title: str
            points: list[str]

        def search_web(query: str) -> list[str]:
            \"\"\"Search the web; return the top result titles.\"\"\"
            ...

        @kitaru.flow
        def agent(topic: str) -> Brief:
            return kitaru.llm(f"Research {topic}", tools=[search_web], response_format=Brief)
    """
    flow = current_flow()
    inside = current_checkpoint()
    if flow is None and inside is None:
        raise KitaruContextError("kitaru.llm() can only be called inside a @flow.")
    scope: Any = inside if inside is not None else flow
    rounds = check_max_tool_rounds(max_tool_rounds)
    request = prepare_request(
        scope,
        prompt,
        model=model,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        name=name,
        inside_checkpoint=inside is not None,
        tools=tools,
        response_format=response_format,
    )
    if "tools" not in request and "response_format" not in request:  # the plain call, journaled as text
        if inside is not None:
            return _answer(request)["text"]
        text: str = llm_call(request, id=request["name"])
        return text
    objects = CallObjects(
        tools={function.__name__: function for function in tools or ()}, response_format=response_format
    )
    with holding(objects):
        answer = converse(
            request,
            ask=_answer if inside is not None else _ask_in_flow,
            run=_run_tool if inside is not None else lambda call: tool_call(call, id=call["name"]),
            claim=lambda wanted: claim_next(scope, wanted),
            tools=objects.tools,
            max_tool_rounds=rounds,
        )
    if response_format is not None:
        return parse_answer(response_format, answer["text"], call=request["name"])
    return answer["text"]


@checkpoint(type=LLM_CALL_TYPE)
def llm_call(request: dict[str, Any], tool_results: Any = None) -> Any:
    """The synthetic checkpoint a flow-body model request runs as.

    Args:
        request: The request.
        tool_results: A list: the results of the tools run since the
            previous request of the conversation (see
            :mod:`kitaru._llm.conversation`). Annotated ``Any`` because the
            engine loads a list of outputs only for a plain ``list`` or
            ``Any`` annotation, not for an optional one.

    Returns:
        The text for a plain call, else the answer ``{"text", "tool_calls", "messages"}``.
    """
    answer = _answer(request, tool_results or [])
    return answer if "tools" in request or "response_format" in request else answer["text"]


@checkpoint(type=TOOL_CALL_TYPE)
def tool_call(call: dict[str, Any]) -> Any:
    """The synthetic checkpoint a tool the model asked for runs as: its arguments in, its result out."""
    return _run_tool(call)


def _answer(request: dict[str, Any], tool_results: list[Any] | None = None) -> dict[str, Any]:
    """Call the model (inside a checkpoint) and record the call: prompt, response, ``llm_calls`` metadata.

    The tools' results are filled into the conversation first. A final
    answer to a call with ``response_format`` is validated here, so an answer
    that does not fit fails this request (and is never journaled as its
    result).
    """
    messages = fill_results(list(request["messages"]), tool_results or [])
    request = {**request, "messages": messages}
    check_request(request["name"])  # the execution's budget: refuses the call before anything is sent
    answer, record = perform_call(request)
    name = request["name"]
    # Journal the paid request first: spending read by a later run (a retry after a timeout or a
    # crash in the saves below) must include it.
    log(llm_calls={name: record})
    charge(record)
    answer["messages"] = messages
    save(f"{name}_prompt", messages, type="prompt")
    save(
        f"{name}_response",
        {"text": answer["text"], "tool_calls": answer["tool_calls"]} if answer["tool_calls"] else answer["text"],
        type="response",
    )
    if "response_format" in request and not answer["tool_calls"]:
        parse_answer(current().response_format, answer["text"], call=name)
    return answer


def _ask_in_flow(turn: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """One model request of a conversation as an ``llm_call`` checkpoint; the results travel as its input."""
    answer: dict[str, Any] = llm_call(turn, results, id=turn["name"]) if results else llm_call(turn, id=turn["name"])
    return answer


def _run_tool(call: dict[str, Any]) -> Any:
    function = current().tools.get(call["tool"])
    if function is None:
        raise KitaruRuntimeError(f"Tool {call['tool']!r} is not among this kitaru.llm call's tools.")
    return run_tool(function, call["arguments"])


__all__ = [
    "SAVE_TYPES",
    "is_flow_control",
    "llm",
    "llm_call",
    "load",
    "log",
    "receive",
    "save",
    "sleep",
    "sleep_until",
    "tool_call",
    "wait",
]

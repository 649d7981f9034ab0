"""Run a flow's model requests from a cassette: record once, run offline.

With ``KITARU_CASSETTE=PATH`` (or inside ``kitaru.testing.cassette(PATH)``,
which sets it), every model request of the flows run in this process is
looked up in the cassette file (:mod:`kitaru._llm.cassette_file`) by its call
name and the fingerprint of its request:

* a ``kitaru.llm()`` request (:func:`credentials_or_cassette` and
  :func:`answer`, around the backend call in :mod:`kitaru._llm.call`);
* an agent framework's model request through an adapter (:func:`served_send`,
  around the adapter's ``send`` in :mod:`kitaru.adapters.journal`).

A request found there is answered from the file: no credential is read, no
provider contacted, and its tokens (hence its cost, priced from the same
tables) are recorded as in the original; its ``credential_source`` is
``cassette``. ``KITARU_CASSETTE_MODE`` says what happens to a request that is
not there:

* ``offline`` (the default): it fails at once with
  :class:`~kitaru.errors.KitaruCassetteMiss`, naming the call and showing how
  it differs from the closest recorded request. It never reaches the provider.
* ``record``: it goes to the provider (credentials as usual) and the answer is
  added to the file, so the next run finds it.

An execution that ran a request from a cassette is marked: its run metadata
``kitaru_cassette`` is ``{"path", "mode"}`` (``Execution.cassette``, shown by
``kitaru executions get``).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from kitaru._llm.cassette_file import CassetteFile, request_of
from kitaru.engine import get_engine
from kitaru.errors import KitaruCassetteMiss, KitaruUsageError
from kitaru.plugins.records import LlmRequest, LlmResult, LlmToolCall
from kitaru.settings import KitaruSettings, settings

CASSETTE_ENV = KitaruSettings.variable("cassette")
MODE_ENV = KitaruSettings.variable("cassette_mode")

MODES = ("offline", "record")
"""``offline``: a request not in the cassette fails; ``record``: it is sent and added to the cassette."""

CASSETTE_KEY = "kitaru_cassette"
"""The run metadata key that marks an execution run from a cassette: ``{"path", "mode"}``."""

CASSETTE_CREDENTIALS = "cassette"
"""The ``credential_source`` of a call answered from a cassette."""

MAX_DIFF_LINES = 40
"""Lines of the request difference a miss shows."""

T = TypeVar("T")

_marked: set[tuple[str, str, str]] = set()
_marking = threading.Lock()


@dataclass(frozen=True)
class ActiveCassette:
    """The cassette this process runs from, and its mode."""

    file: CassetteFile
    mode: str

    def describe(self) -> dict[str, str]:
        """``{"path", "mode"}``, as the execution is marked with."""
        return {"path": str(self.file.path), "mode": self.mode}


def check_mode(mode: str) -> str:
    """Validate a cassette mode (any case).

    Raises:
        KitaruUsageError: Naming the modes.
    """
    word = mode.strip().lower()
    if word not in MODES:
        raise KitaruUsageError(f"Unknown cassette mode {mode!r} ({MODE_ENV}). Use one of: {', '.join(MODES)}.")
    return word


def active() -> ActiveCassette | None:
    """The cassette set by ``KITARU_CASSETTE`` (read now), or None.

    Raises:
        KitaruUsageError: For a bad mode, or (``offline``) a missing or unreadable file.
    """
    config = settings()
    if config.cassette is None:
        return None
    mode = check_mode(config.cassette_mode or MODES[0])
    return ActiveCassette(CassetteFile(config.cassette, must_exist=mode == "offline"), mode)


def mark(execution_id: str | None, cassette: ActiveCassette) -> None:
    """Record on the execution (once per process) that it ran requests from ``cassette``."""
    if execution_id is None:
        return
    key = (execution_id, str(cassette.file.path), cassette.mode)
    with _marking:
        if key in _marked:
            return
        _marked.add(key)
    get_engine().runs.log_run_metadata(execution_id, {CASSETTE_KEY: cassette.describe()})


def current_execution() -> str | None:
    """The execution of the checkpoint running in this context, or None outside one."""
    try:
        return get_engine().runtime.current_step().run_id
    except Exception:  # outside a checkpoint the engine has no step context
        return None


def miss_error(cassette: ActiveCassette, kind: str, name: str, request: dict[str, Any]) -> KitaruCassetteMiss:
    """The :class:`KitaruCassetteMiss` for a request: its call, the closest recorded call, the difference."""
    miss = cassette.file.miss(kind, name, request)
    what = "LLM call" if kind == "llm" else "Agent model request"
    lines = [f"{what} '{name}' is not in cassette {cassette.file.path} (mode {cassette.mode}).", ""]
    if miss.closest is None:
        lines.append(f"The cassette has no {kind} call at all.")
    else:
        shown = miss.difference[:MAX_DIFF_LINES]
        more = len(miss.difference) - len(shown)
        lines.append(f"Closest recorded call: '{miss.closest}'. How the request differs (- recorded, + requested):")
        lines.extend(f"  {line}" for line in shown or ["  (same request under another name)"])
        if more > 0:
            lines.append(f"  ... {more} more lines")
    lines += [
        "",
        "Export the cassette again from an execution that made this request (kitaru executions export ID "
        f"--cassette {cassette.file.path}), or set {MODE_ENV}=record to send requests that are not in it "
        "to the provider and add them.",
        # The last line is what a failed execution's summary shows (handle.wait()): name the call there too,
        # without the "Type: message" shape that would make it the start of the exception for the failure parser.
        f"Cassette miss (KitaruCassetteMiss): {what} '{name}' is not in the cassette; `kitaru executions get` on this "
        "execution shows how it differs from the closest recorded call.",
    ]
    return KitaruCassetteMiss("\n".join(lines), call=name, cassette=str(cassette.file.path), closest=miss.closest)


def unserved_error(name: str, why: str) -> KitaruCassetteMiss:
    """The :class:`KitaruCassetteMiss` for a request a cassette run cannot serve, for a reason other than a miss."""
    cassette = active()
    path = str(cassette.file.path) if cassette is not None else "(none)"
    return KitaruCassetteMiss(
        f"Model request '{name}' was not served from cassette {path}: {why}. It was not sent to the provider. "
        f"Cassette miss (KitaruCassetteMiss): '{name}' could not be served.",
        call=name,
        cassette=path,
    )


def refuse_unserved_request(name: str) -> None:
    """Refuse a model request that cassettes cannot serve (an agent run in a checkpoint or outside a flow) offline.

    Offline means the provider is never reached; in ``record`` mode, or
    without a cassette, the request goes out as usual.

    Raises:
        KitaruCassetteMiss: When an ``offline`` cassette is active.
    """
    cassette = active()
    if cassette is not None and cassette.mode != "record":
        raise unserved_error(
            name,
            "an agent's model requests are served from cassettes only when the agent runs in a flow body, "
            "not inside a checkpoint or outside a flow",
        )


@contextmanager
def credentials_or_cassette(
    request: dict[str, Any], credentials: Callable[[], AbstractContextManager[str]]
) -> Iterator[str]:
    """The credentials for a ``kitaru.llm()`` request, or ``cassette`` when the cassette answers it.

    Use it in place of the credential lookup, and :func:`answer` in place of
    the backend call inside it.

    Args:
        request: The prepared request (``name``, ``model``, ``messages``,
            ``tools``, ``response_format``).
        credentials: Opens the real credential lookup (not called when the
            cassette answers, or refuses, the request).

    Yields:
        The credential source: ``cassette``, or what ``credentials`` gives.

    Raises:
        KitaruCassetteMiss: In ``offline`` mode, for a request not in the cassette.
    """
    cassette = active()
    if cassette is None:
        with credentials() as source:
            yield source
        return
    mark(current_execution(), cassette)
    if cassette.file.find("llm", request["name"], request) is not None:
        yield CASSETTE_CREDENTIALS
        return
    if cassette.mode != "record":
        raise miss_error(cassette, "llm", request["name"], request)
    with credentials() as source:
        yield source


def answer(request: dict[str, Any], source: str, call: Callable[[LlmRequest], Any], sent: LlmRequest) -> Any:
    """The backend's answer to a ``kitaru.llm()`` request: from the cassette, or ``call(sent)`` (recorded in ``record`` mode).

    Args:
        request: The prepared request.
        source: What :func:`credentials_or_cassette` yielded.
        call: The backend's ``call``; returns an ``LlmResult``.
        sent: The backend request to call it with.
    """
    cassette = active()
    if source == CASSETTE_CREDENTIALS:
        found = cassette.file.find("llm", request["name"], request) if cassette is not None else None
        if found is not None:
            return llm_result(found)
        # The cassette changed between the lookup that skipped the credentials and now: a request
        # that was to be served never falls through to the provider.
        raise unserved_error(request["name"], "the cassette no longer holds it (was the file rewritten meanwhile?)")
    result = call(sent)
    if cassette is not None and cassette.mode == "record":
        cassette.file.append(llm_entry(request, result))
    return result


def llm_result(call: dict[str, Any]) -> LlmResult:
    """The backend result a recorded ``llm`` call stands for."""
    response, usage = call.get("response") or {}, call.get("usage") or {}
    tool_calls = tuple(
        LlmToolCall(id=str(item["id"]), name=str(item["name"]), arguments=str(item["arguments"]))
        for item in response.get("tool_calls") or ()
    )
    return LlmResult(
        text=str(response.get("text") or ""),
        tokens_input=usage.get("tokens_input"),
        tokens_output=usage.get("tokens_output"),
        model=usage.get("provider_model"),
        tool_calls=tool_calls,
    )


def llm_entry(request: dict[str, Any], result: Any) -> dict[str, Any]:
    """The cassette entry of a ``kitaru.llm()`` request and the backend's result."""
    calls = [{"id": item.id, "name": item.name, "arguments": item.arguments} for item in result.tool_calls]
    usage = {"provider_model": result.model, "tokens_input": result.tokens_input, "tokens_output": result.tokens_output}
    return {
        "kind": "llm",
        "name": request["name"],
        "request": request_of("llm", request),
        "response": {"text": result.text, "tool_calls": calls},
        "usage": {key: value for key, value in usage.items() if value is not None},
    }


def served_send(
    name: str,
    request: dict[str, Any],
    send: Callable[[], Awaitable[T]],
    make: Callable[..., T],
    execution_id: str | None,
) -> Callable[[], Awaitable[T]]:
    """An adapter's ``send`` that the cassette answers when one is active.

    Args:
        name: The request's call name (``researcher_request_2``).
        request: Its identity: ``{"agent", "model", "conversation"}``.
        send: Sends it; returns an outcome with ``response``, ``prompt`` and ``usage``.
        make: Builds such an outcome from a recorded call (``ModelOutcome``).
        execution_id: The execution to mark as run from the cassette.

    Returns:
        ``send`` wrapped: from the cassette when it has the request; else a
        :class:`KitaruCassetteMiss` (``offline``) or ``send()``, recorded (``record``).
    """

    async def serve() -> T:
        cassette = active()
        if cassette is None:
            return await send()
        mark(execution_id, cassette)
        found = cassette.file.find("agent", name, request)
        if found is not None:
            return make(
                response=found.get("response"), prompt=found.get("prompt"), usage=dict(found.get("usage") or {})
            )
        if cassette.mode != "record":
            raise miss_error(cassette, "agent", name, request)
        outcome: Any = await send()
        cassette.file.append(
            {
                "kind": "agent",
                "name": name,
                "request": request_of("agent", request),
                "prompt": outcome.prompt,
                "response": outcome.response,
                "usage": {key: value for key, value in dict(outcome.usage).items() if value is not None},
            }
        )
        return outcome

    return serve


__all__ = [
    "CASSETTE_CREDENTIALS",
    "CASSETTE_ENV",
    "CASSETTE_KEY",
    "MODES",
    "MODE_ENV",
    "ActiveCassette",
    "active",
    "answer",
    "check_mode",
    "credentials_or_cassette",
    "refuse_unserved_request",
    "served_send",
    "unserved_error",
]

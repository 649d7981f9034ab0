"""What every adapter shares: model requests and tool calls of an agent run, as checkpoint calls.

An agent framework runs its loop in asyncio code: it awaits a model, then
the tools the model asked for, and so on. An adapter hands each of those
awaits to an :class:`AgentJournal`, which decides where it runs:

* **in a flow body**, it becomes a checkpoint call, launched from the
  framework's own event loop (:func:`kitaru.execution.loop_calls.call_from_loop`),
  so the request runs on that loop with the framework's clients while
  Kitaru journals it. Model requests are ``llm_call`` checkpoints named
  ``<agent>_request``, ``<agent>_request_2`` ...; tool calls are
  ``tool_call`` checkpoints named ``<agent>_<tool>``, ``<agent>_<tool>_2``
  ... in the order they are made. On a retry, a resume or a replay the
  journal answers them: nothing is sent or run again.
* **inside a checkpoint**, it runs inline; the checkpoint is the unit that
  is journaled, and the model requests' usage is recorded on it.
* **outside a flow**, it just runs (the adapter starts a flow around the
  agent run first, when it is asked to be durable on its own).

The outputs of the tool calls made since the previous model request travel
as that request's input (the engine records the lineage), which is what lets
a replay edit a tool's result: ``--overrides
'{"checkpoint.<agent>_<tool>": ...}'`` hands the edited value to the
framework as the tool's result, and the next request sends it to the model.

The calls of one agent run are launched one at a time, even when the
framework runs its tools concurrently: an :class:`AgentJournal` serves one
run and holds a lock per event loop. Two runs at once (two agents, or one
agent gathered twice) launch side by side; the flow's counters are safe for
that (:class:`~kitaru.execution.scope.FlowScope` locks them), but their calls
are named in the order they start, so give such runs agents of their own
names.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kitaru._llm.call import LLM_CALL_TYPE, TOOL_CALL_TYPE, claim_next
from kitaru._llm.cassettes import refuse_unserved_request, served_send
from kitaru._llm.records import reported_call
from kitaru.checkpoints import checkpoint
from kitaru.execution.budgets import charge, check_request
from kitaru.execution.loop_calls import call_from_loop, pending_work
from kitaru.execution.scope import current_checkpoint, current_flow
from kitaru.primitives import log, save
from kitaru.tracing import llm_request

FRAMEWORK_CREDENTIALS = "framework"
"""``credential_source`` of a request an agent framework sent with its own client and credentials."""


@dataclass(frozen=True)
class ModelOutcome:
    """What one model request gave, in journal form.

    Attributes:
        response: The framework's response as JSON (what the journal keeps and
            hands back on a retry).
        prompt: The messages sent, as JSON (stored as ``<name>_prompt``).
        usage: ``provider``, ``model``, ``reported_model``, ``tokens_input``
            and ``tokens_output`` as the framework reported them (None when unknown).
    """

    response: Any
    prompt: Any
    usage: dict[str, Any] = field(default_factory=dict)


@checkpoint(type=LLM_CALL_TYPE)
def agent_model_request(request: dict[str, Any], tool_results: Any = None) -> Any:
    """The checkpoint an agent's model request runs as: sends it (on the agent's loop) and records it.

    Args:
        request: ``{"name", "agent", "model", "conversation"}``: what
            identifies the request in the journal.
        tool_results: The outputs of the tool calls since the previous
            request (a list; ``Any`` because the engine loads a list of
            outputs only for a plain ``list`` or ``Any`` annotation). Their
            values reach the model through the framework; they are an input
            for the lineage, so a replay can edit them.
    """
    check_request(request["name"])  # the execution's budget: refuses the request before it is sent
    started = time.perf_counter()
    with llm_request(request["name"]) as traced:
        outcome: ModelOutcome = pending_work()
        traced.record(record(request["name"], outcome, latency_ms=round((time.perf_counter() - started) * 1000, 1)))
    return outcome.response


@checkpoint(type=TOOL_CALL_TYPE)
def agent_tool_call(call: dict[str, Any]) -> Any:
    """The checkpoint an agent's tool call runs as: ``{"name", "agent", "tool", "arguments"}`` in, its result out."""
    return pending_work()


def record(name: str, outcome: ModelOutcome, *, latency_ms: float | None) -> dict[str, Any]:
    """Log a request's ``llm_calls`` record on the current checkpoint, store its prompt and response, return it.

    The paid request is journaled before the values are stored, so spending
    read by a later run includes it even if storing fails.
    """
    usage = outcome.usage
    call = reported_call(
        provider=usage.get("provider"),
        model=usage.get("model"),
        reported_model=usage.get("reported_model"),
        tokens_input=usage.get("tokens_input"),
        tokens_output=usage.get("tokens_output"),
        latency_ms=latency_ms,
        credential_source=FRAMEWORK_CREDENTIALS,
    )
    log(llm_calls={name: call})
    charge(call)
    save(f"{name}_prompt", outcome.prompt, type="prompt")
    save(f"{name}_response", outcome.response, type="response")
    return call


VOLATILE_KEYS = frozenset({"timestamp", "run_id", "conversation_id", "provider_response_id", "metadata"})
"""Keys of a framework's message JSON that differ between two runs of the same conversation."""


def fingerprint(messages: Any) -> str:
    """A digest of a conversation (JSON) that is the same on every run of it: volatile keys are left out."""

    def stable(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: stable(item) for key, item in sorted(value.items()) if key not in VOLATILE_KEYS}
        if isinstance(value, list):
            return [stable(item) for item in value]
        return value

    return hashlib.sha256(json.dumps(stable(messages), sort_keys=True, default=str).encode()).hexdigest()


class AgentJournal:
    """Journals one agent run's model requests and tool calls in the current flow (see the module docstring).

    Args:
        agent: The agent's name, the prefix of its calls' names (a word).
    """

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self._results: list[Any] = []
        self._launches: dict[int, asyncio.Lock] = {}

    async def model_request(self, identity: dict[str, Any], send: Callable[[], Awaitable[ModelOutcome]]) -> Any:
        """Send a model request (or take its answer from the journal) and return the response as JSON.

        Args:
            identity: What makes the request what it is, JSON-ready: the model
                and a fingerprint of the conversation (:func:`fingerprint`).
                It is the checkpoint's input, so the journal check compares it
                and the cache serves an identical request only.
            send: Sends the request and returns its :class:`ModelOutcome`.
        """
        flow, inside = current_flow(), current_checkpoint()
        if flow is None or inside is not None:
            if inside is not None:
                check_request(f"{self.agent}_request")  # the execution's budget, before the request is sent
            refuse_unserved_request(f"{self.agent}_request")  # an offline cassette never reaches the provider
            started = time.perf_counter()
            with llm_request(f"{self.agent}_request") as traced:
                outcome = await send()
                if inside is not None:
                    name = claim_next(inside, f"{self.agent}_request")
                    latency_ms = round((time.perf_counter() - started) * 1000, 1)
                    traced.record(record(name, outcome, latency_ms=latency_ms), name=name)
            return outcome.response
        async with self._launch_lock():
            name = claim_next(flow, f"{self.agent}_request")
            request = {"name": name, "agent": self.agent, **identity}
            send = served_send(name, request, send, ModelOutcome, flow.execution_id)  # the cassette, if one is active
            results, self._results = self._results, []
            if results:
                return await call_from_loop(lambda: agent_model_request(request, results, id=name), send)
            return await call_from_loop(lambda: agent_model_request(request, id=name), send)

    async def tool_call(self, tool: str, arguments: Any, run: Callable[[], Awaitable[Any]]) -> Any:
        """Run a tool call (or take its result from the journal) and return the result.

        Args:
            tool: The tool's name.
            arguments: Its arguments, as the model gave them (JSON; part of
                the journaled input).
            run: Runs the tool and returns its result.
        """
        flow, inside = current_flow(), current_checkpoint()
        if flow is None or inside is not None:
            return await run()
        async with self._launch_lock():
            name = claim_next(flow, f"{self.agent}_{tool}")
            call = {"name": name, "agent": self.agent, "tool": tool, "arguments": arguments}
            result = await call_from_loop(lambda: agent_tool_call(call, id=name), run)
            self._results.append(result)
            return result

    def _launch_lock(self) -> asyncio.Lock:
        """One lock per event loop: checkpoint launches of one flow body go one at a time."""
        loop = asyncio.get_running_loop()
        lock = self._launches.get(id(loop))
        if lock is None:
            lock = self._launches[id(loop)] = asyncio.Lock()
        return lock

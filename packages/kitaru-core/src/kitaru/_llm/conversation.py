"""The model <-> tool loop of ``kitaru.llm(..., tools=[...])``.

Each round asks the model once. When its answer asks for tools, each call is
checked (a known tool, JSON arguments that fit its signature) and run, its
result goes back to the model as a ``tool`` message, and the next round
asks again; an answer without tool calls ends the loop. A call that cannot
run (an unknown tool, bad arguments) is not a failure: the model reads why
in place of a result, and may fix its call in the next round.

The loop does not know where it runs. In the flow body the caller passes
``ask`` and ``run`` that are checkpoints (``llm_call`` and ``tool_call``), so
every model request and every tool run is journaled: a retry or a resume
replays the loop from the journal, without asking the model or running a
tool a second time. Inside a user checkpoint they are plain calls.

The results of a round's tools reach the next request as its own input (the
very values the ``tool_call`` checkpoints returned, so the engine records the
lineage), and the request fills them into the conversation itself
(:func:`fill_results`). That is what lets a replay edit a tool's result
(``--overrides '{"checkpoint.research_search_web": ...}'``): the edited value
is what the next request receives, sends to the model, and hands on.

Names, unique in the scope: the first request is the call's name (``research``),
later ones ``research_2``, ``research_3`` ...; tool runs are
``research_<tool>``, then ``research_<tool>_2`` ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from kitaru._llm.tools import check_arguments, result_text
from kitaru.errors import KitaruRuntimeError, KitaruUsageError

RESULT_KEY = "result"
"""In a tool message waiting for its result: the index of that result among the request's ``tool_results``."""

DEFAULT_MAX_TOOL_ROUNDS = 10
"""How many answers asking for tools ``kitaru.llm`` follows before it gives up."""


def check_max_tool_rounds(value: Any) -> int:
    """Validate ``max_tool_rounds`` (an int >= 1).

    Raises:
        KitaruUsageError: Naming the bad value.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise KitaruUsageError(f"kitaru.llm(max_tool_rounds=...) must be an integer >= 1; got {value!r}.")
    return value


def converse(
    request: dict[str, Any],
    *,
    ask: Callable[[dict[str, Any], list[Any]], dict[str, Any]],
    run: Callable[[dict[str, Any]], Any],
    claim: Callable[[str], str],
    tools: Mapping[str, Callable[..., Any]],
    max_tool_rounds: int,
) -> dict[str, Any]:
    """Ask the model, run the tools it asks for, and ask again until it answers.

    Args:
        request: The prepared request (:func:`kitaru._llm.call.prepare_request`),
            with ``tools``.
        ask: Sends one request (with its own ``name`` and ``messages``) with
            the results of the tools run since the last request, and returns
            the answer ``{"text", "tool_calls", "messages"}``: ``messages``
            is the conversation as sent, results filled in
            (:func:`fill_results`). The next round builds on it, so an edited
            result (a replay's override) stays in the conversation.
        run: Runs one tool call ``{"name", "tool", "arguments", "call_id"}``
            (arguments checked) and returns its result, JSON-ready.
        claim: Takes a name for a request or a tool run in the scope.
        tools: The tool functions by name.
        max_tool_rounds: How many answers asking for tools to follow.

    Returns:
        The final answer (no tool calls).

    Raises:
        KitaruRuntimeError: When the model still asks for tools after
            ``max_tool_rounds`` rounds.
    """
    base = request["name"]
    messages = [dict(message) for message in request["messages"]]
    results: list[Any] = []
    runs: Counter[str] = Counter()
    for round_number in range(1, max_tool_rounds + 2):
        name = base if round_number == 1 else claim(f"{base}_{round_number}")
        answer = ask({**request, "name": name, "messages": messages}, results)
        calls = answer.get("tool_calls") or []
        if not calls:
            return answer
        if round_number > max_tool_rounds:
            raise KitaruRuntimeError(
                f"LLM call '{base}' still asked for tools after {max_tool_rounds} rounds "
                f"({', '.join(sorted({call['name'] for call in calls}))}). Raise "
                "kitaru.llm(max_tool_rounds=...) or tell the model when to stop."
            )
        messages = [
            *answer["messages"],
            {"role": "assistant", "content": answer.get("text") or "", "tool_calls": calls},
        ]
        results = []
        for call in calls:
            reply: dict[str, Any] = {"role": "tool", "tool_call_id": call["id"], "name": call["name"]}
            checked = check_arguments(tools.get(call["name"]), call["name"], call["arguments"])
            if isinstance(checked, str):  # the call cannot run: the model reads why
                messages.append({**reply, "content": checked})
                continue
            runs[call["name"]] += 1
            count = runs[call["name"]]
            run_name = claim(f"{base}_{call['name']}" + ("" if count == 1 else f"_{count}"))
            results.append(run({"name": run_name, "tool": call["name"], "arguments": checked, "call_id": call["id"]}))
            messages.append({**reply, "content": None, RESULT_KEY: len(results) - 1})
    raise AssertionError("unreachable: the last round returns or raises")


def fill_results(messages: list[dict[str, Any]], results: list[Any]) -> list[dict[str, Any]]:
    """The messages with each pending tool message's content taken from ``results``.

    A tool message ``{"content": None, "result": i}`` gets ``results[i]`` as
    text (:func:`~kitaru._llm.tools.result_text`); other messages are kept.
    """
    filled = []
    for message in messages:
        if RESULT_KEY in message:
            index = message[RESULT_KEY]
            message = {key: value for key, value in message.items() if key != RESULT_KEY}
            message["content"] = result_text(results[index])
        filled.append(message)
    return filled

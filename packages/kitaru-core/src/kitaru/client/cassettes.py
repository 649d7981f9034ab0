"""Export an execution's model calls as a cassette (``kitaru executions export ID --cassette PATH``).

Everything comes from the journal, nothing is asked of a provider:

* a ``kitaru.llm()`` request in the flow body is an ``llm_call`` checkpoint:
  its ``request`` input (model, tools, response format), its
  ``<name>_prompt`` artifact (the messages as sent, tool results filled in),
  its ``<name>_response`` artifact (text and tool calls) and its
  ``llm_calls`` metadata (provider model, tokens, cost);
* a ``kitaru.llm()`` request made inside a checkpoint is found in that
  checkpoint's ``llm_calls`` metadata and its ``<name>_prompt`` and
  ``<name>_response`` artifacts (the tools and response format of such a call
  are not journaled, so it is exported without them: a call that had them
  will not match);
* an adapter's model request in a flow is an ``llm_call`` checkpoint whose
  ``request`` input is its identity ``{"agent", "model", "conversation"}``
  and whose output is the framework's response;
* with ``tools=True``, each ``tool_call`` checkpoint: tool, arguments, result
  (for reading and review; tools run for real when the cassette is played).

Failed attempts are left out: only answers the execution went on with are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kitaru._llm.cassette_file import VERSION, empty, request_of, write
from kitaru.client.diff import ValueLoader, call_side
from kitaru.client.models import CheckpointCall, Execution
from kitaru.errors import KitaruUsageError

LLM_CALL = "llm_call"
TOOL_CALL = "tool_call"
FRAMEWORK = "framework"
USAGE_KEYS = ("provider_model", "tokens_input", "tokens_output", "cost_usd", "price_source")
"""What an ``llm`` call's ``usage`` keeps of its ``llm_calls`` record."""


def cassette_of(execution: Execution, *, tools: bool = False) -> dict[str, Any]:
    """The cassette of an execution (loaded with its checkpoints: ``KitaruClient().executions.get``).

    Args:
        execution: The execution.
        tools: Also list its tool calls.

    Returns:
        The cassette data (see :mod:`kitaru._llm.cassette_file`).
    """
    loader = ValueLoader()
    data = empty({"exec_id": execution.exec_id, "flow": execution.flow_name})
    for call in execution.checkpoints:
        if str(call.status) != "completed":
            continue
        if call.checkpoint_type == LLM_CALL:
            entry = checkpoint_request(call, loader)
            if entry is not None:
                data["calls"].append(entry)
        elif call.checkpoint_type == TOOL_CALL:
            if tools:
                data["tool_calls"].append(tool_entry(call, loader))
        else:
            data["calls"].extend(inline_requests(call, loader))
    return data


def cassette_path(path: str | Path) -> Path:
    """Where a cassette goes: ``path`` made absolute, checked before anything is read or written.

    Raises:
        KitaruUsageError: For a blank path, or one that is a directory.
    """
    if not str(path).strip():
        raise KitaruUsageError(
            "The cassette path is empty. Give a file to write, e.g. --cassette cassettes/agent.json."
        )
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise KitaruUsageError(
            f"The cassette path '{target}' is a directory. Give a file inside it, e.g. {target / 'agent.json'}."
        )
    return target


def export_cassette(execution: Execution, path: str | Path, *, tools: bool = False) -> dict[str, Any]:
    """Write the cassette of ``execution`` to ``path`` (replaced whole).

    Returns:
        ``{"exec_id", "path", "version", "calls", "tool_calls"}``: what was written, counted.
    """
    target = cassette_path(path)
    data = cassette_of(execution, tools=tools)
    write(target, data)
    return {
        "exec_id": execution.exec_id,
        "path": str(target),
        "version": VERSION,
        "calls": len(data["calls"]),
        "tool_calls": len(data["tool_calls"]) if tools else None,
    }


def _artifact(call: CheckpointCall, name: str, loader: ValueLoader) -> Any:
    for ref in call.artifacts:
        if ref.name == name:
            return loader.load(ref)[0]
    return None


def _record(call: CheckpointCall, name: str) -> dict[str, Any]:
    calls = call.metadata.get("llm_calls")
    entry = calls.get(name) if isinstance(calls, dict) else None
    return dict(entry) if isinstance(entry, dict) else {}


def _response(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"text": value.get("text") or "", "tool_calls": list(value.get("tool_calls") or [])}
    return {"text": "" if value is None else str(value), "tool_calls": []}


def llm_usage(record: dict[str, Any]) -> dict[str, Any]:
    """The ``usage`` of an ``llm`` entry: provider model, tokens and cost from its ``llm_calls`` record."""
    return {key: record[key] for key in USAGE_KEYS if record.get(key) is not None}


def agent_usage(record: dict[str, Any]) -> dict[str, Any]:
    """The ``usage`` of an ``agent`` entry, as the adapter reports it (provider and model split back)."""
    resolved = str(record.get("resolved_model") or "")
    provider, separator, model = resolved.partition("/")
    usage = {
        "provider": provider if separator else None,
        "model": model if separator else (resolved or None),
        "reported_model": record.get("provider_model"),
        "tokens_input": record.get("tokens_input"),
        "tokens_output": record.get("tokens_output"),
    }
    return {key: value for key, value in usage.items() if value is not None}


def checkpoint_request(call: CheckpointCall, loader: ValueLoader) -> dict[str, Any] | None:
    """The entry of an ``llm_call`` checkpoint: a ``kitaru.llm()`` request or an adapter's."""
    side = call_side(call, loader)
    request = side.inputs.get("request")
    if not isinstance(request, dict):
        return None
    name = call.name
    record = _record(call, name)
    prompt = _artifact(call, f"{name}_prompt", loader)
    if "agent" in request:
        return {
            "kind": "agent",
            "name": name,
            "request": request_of("agent", request),
            "prompt": prompt,
            "response": side.output,
            "usage": agent_usage(record),
        }
    messages = prompt if isinstance(prompt, list) else request.get("messages")
    return {
        "kind": "llm",
        "name": name,
        "request": request_of("llm", {**request, "messages": messages}),
        "response": _response(_artifact(call, f"{name}_response", loader)),
        "usage": llm_usage(record),
    }


def inline_requests(call: CheckpointCall, loader: ValueLoader) -> list[dict[str, Any]]:
    """The ``kitaru.llm()`` requests made inside a user checkpoint (adapter requests there are not exported)."""
    calls = call.metadata.get("llm_calls")
    entries = []
    for name, record in calls.items() if isinstance(calls, dict) else []:
        if not isinstance(record, dict) or record.get("credential_source") == FRAMEWORK:
            continue
        messages = _artifact(call, f"{name}_prompt", loader)
        request = {"model": record.get("resolved_model"), "messages": messages}
        entries.append(
            {
                "kind": "llm",
                "name": name,
                "request": request_of("llm", request),
                "response": _response(_artifact(call, f"{name}_response", loader)),
                "usage": llm_usage(record),
            }
        )
    return entries


def tool_entry(call: CheckpointCall, loader: ValueLoader) -> dict[str, Any]:
    """A ``tool_call`` checkpoint as ``{"name", "tool", "arguments", "result"}`` (and ``agent`` for an adapter's)."""
    side = call_side(call, loader)
    made = side.inputs.get("call")
    made = made if isinstance(made, dict) else {}
    entry = {"name": call.name, "tool": made.get("tool"), "arguments": made.get("arguments"), "result": side.output}
    if made.get("agent") is not None:
        entry["agent"] = made["agent"]
    return entry


__all__ = ["agent_usage", "cassette_of", "export_cassette", "llm_usage"]

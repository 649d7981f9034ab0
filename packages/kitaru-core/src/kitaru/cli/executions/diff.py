"""``kitaru executions diff A B``: what changed between two executions.

Renders :class:`kitaru.client.diff.ExecutionDiff` (``KitaruClient().executions.diff``)::

    kitaru executions diff 0b6f3c 7d2e91            # a summary and a table, changed calls first
    kitaru executions diff 0b6f3c 7d2e91 --full     # and every changed value in whole
    kitaru executions diff 0b6f3c 7d2e91 -o json    # the diff as JSON (the MCP tool returns the same)

Text mode prints a panel (both executions, the flow inputs and result that
differ, the LLM calls, tokens and cost side by side), then one table row per
checkpoint call: changed calls first, then added, removed and unchanged ones,
each in call order, with a one-line preview of each side's value. ``--full``
adds every changed value in whole: a unified diff for text, a key-level diff
for JSON objects (``+`` added, ``-`` removed, ``~`` changed keys) and a
unified diff of the indented JSON for anything else.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel

if TYPE_CHECKING:
    from kitaru.client.diff import CallDiff, CallSide, ExecutionDiff

PREVIEW_WIDTH = 40
"""Characters of a value the table shows."""

ROW_ORDER = ("changed", "added", "removed", "same")
"""The order of the table's rows by change kind (call order within each)."""

STYLES = {"changed": "yellow", "added": "green", "removed": "red", "same": "dim"}


def short(exec_id: str) -> str:
    """The first 8 characters of an id (every command accepts a unique prefix back)."""
    return exec_id[:8]


def preview(value: Any, width: int = PREVIEW_WIDTH) -> str:
    """A value on one line, cut at ``width``."""
    from kitaru.serializers.rendering import one_line

    return one_line(value, width)


def side_preview(call: CallDiff, side: CallSide | None) -> str:
    """What a table cell shows of one side: the changed inputs when only they changed, else the output."""
    if side is None:
        return "-"
    if "inputs" in call.changed and "output" not in call.changed and call.a is not None and call.b is not None:
        from kitaru.client.diff import differing_keys

        keys = differing_keys(call.a.inputs, call.b.inputs)
        if any(f"inputs.{key}" in side.unavailable for key in keys):
            return "(unavailable)"
        return preview({key: side.inputs[key] for key in keys if key in side.inputs})
    if any(key.startswith("output") for key in side.unavailable):
        return "(unavailable)"
    return preview(side.output)


def describe_change(call: CallDiff) -> str:
    """The table's "What changed" cell: ``inputs, output, status completed→failed, tokens 30→45``."""
    a, b = call.a, call.b
    if a is None or b is None:
        return ""
    parts = []
    for name in call.changed:
        if name == "status":
            parts.append(f"status {a.status}→{b.status}")
        elif name == "attempts":
            parts.append(f"attempts {a.attempts}→{b.attempts}")
        elif name == "model":
            parts.append(f"model {', '.join(a.model) or '-'}→{', '.join(b.model) or '-'}")
        elif name == "tokens":
            parts.append(f"tokens {(a.tokens or {}).get('total', '-')}→{(b.tokens or {}).get('total', '-')}")
        else:
            parts.append(name)
    parts += [f"{name} unknown (not loadable)" for name in call.unknown]
    return ", ".join(parts)


def calls_table(diff: ExecutionDiff) -> Any:
    """The table of checkpoint calls, changed rows first."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Checkpoint calls", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Checkpoint", no_wrap=True)
    table.add_column("Change", no_wrap=True)
    table.add_column("What changed", overflow="fold")
    table.add_column(f"A {short(diff.a)}", overflow="fold")
    table.add_column(f"B {short(diff.b)}", overflow="fold")
    for call in sorted(diff.checkpoints, key=lambda item: ROW_ORDER.index(item.change)):
        table.add_row(
            Text(call.name),
            Text(call.change, style=STYLES[call.change]),
            Text(describe_change(call)),
            Text(side_preview(call, call.a)),
            Text(side_preview(call, call.b)),
        )
    return table


def usage_text(usage: Mapping[str, Any] | None) -> str:
    """One side's LLM usage: ``3 calls, 75 tokens (60 in, 15 out), $0.000021``."""
    from kitaru._llm.usage import describe_cost

    if not usage:
        return "no LLM calls"
    tokens = (
        f"{usage['total_tokens']} tokens ({usage['tokens_input']} in, {usage['tokens_output']} out)"
        if usage.get("calls_with_usage")
        else "tokens not reported"
    )
    calls = usage["calls"]
    return f"{calls} call{'s' if calls != 1 else ''}, {tokens}, {describe_cost(usage)}"


def summary_panel(diff: ExecutionDiff) -> Any:
    """The panel above the table: both executions, inputs, result, LLM usage and the counts."""
    rows: list[tuple[str, Any]] = [
        ("A", f"{diff.a} ({diff.flows['a']}, {diff.status['a']})"),
        ("B", f"{diff.b} ({diff.flows['b']}, {diff.status['b']})"),
        ("Calls", ", ".join(f"{diff.counts[kind]} {kind}" for kind in ROW_ORDER)),
    ]
    inputs = diff.inputs
    rows.append(
        (
            "Inputs",
            "; ".join(
                f"{name}: {preview(inputs.a.get(name, '-'), 24)} → {preview(inputs.b.get(name, '-'), 24)}"
                for name in inputs.changed
            )
            or "same",
        )
    )
    result = diff.result
    if result.unknown:
        text = "; ".join(f"{side.upper()}: {why}" for side, why in result.unavailable.items())
    elif result.changed:
        a_text, b_text = (
            preview(value, 30) if value is not None else f"none ({diff.status[side]})"
            for side, value in (("a", result.a), ("b", result.b))
        )
        text = f"{a_text} → {b_text}"
    else:
        text = "same"
    rows.append(("Result", text))
    rows.append(("LLM (A)", usage_text(diff.llm.a)))
    rows.append(("LLM (B)", usage_text(diff.llm.b)))
    return panel("Kitaru diff", rows)


def key_diff(left: Mapping[str, Any], right: Mapping[str, Any], prefix: str = "") -> list[str]:
    """One line per key that differs: ``+ key: value``, ``- key: value``, ``~ key: a → b``.

    Keys whose values are objects on both sides are compared key by key,
    named with dots (``~ request.model: "a" → "b"``).
    """
    from kitaru.jsonable import dumps

    lines = []
    for key in dict.fromkeys([*left, *right]):
        name = f"{prefix}{key}"
        if key not in right:
            lines.append(f"- {name}: {dumps(left[key])}")
        elif key not in left:
            lines.append(f"+ {name}: {dumps(right[key])}")
        elif isinstance(left[key], dict) and isinstance(right[key], dict):
            lines += key_diff(left[key], right[key], f"{name}.")
        elif dumps(left[key]) != dumps(right[key]):
            lines.append(f"~ {name}: {dumps(left[key])} → {dumps(right[key])}")
    return lines


def value_diff(a: Any, b: Any, label_a: str, label_b: str) -> list[str]:
    """Two whole values as diff lines: unified for text, key-level for JSON objects, unified JSON otherwise."""
    from kitaru.jsonable import to_jsonable
    from kitaru.serializers.rendering import render_value

    if isinstance(a, str) and isinstance(b, str):
        return list(difflib.unified_diff(a.splitlines(), b.splitlines(), label_a, label_b, lineterm=""))
    left, right = to_jsonable(a), to_jsonable(b)
    if isinstance(left, dict) and isinstance(right, dict):
        return [f"--- {label_a}", f"+++ {label_b}", *key_diff(left, right)]
    return list(
        difflib.unified_diff(
            render_value(a).text.splitlines(), render_value(b).text.splitlines(), label_a, label_b, lineterm=""
        )
    )


def full_diffs(diff: ExecutionDiff) -> list[str]:
    """``--full``: every changed value in whole, one block each."""
    blocks: list[str] = []
    a_label, b_label = f"A {short(diff.a)}", f"B {short(diff.b)}"
    if diff.inputs.changed:
        lines = value_diff(diff.inputs.a, diff.inputs.b, f"{a_label} flow inputs", f"{b_label} flow inputs")
        blocks.append("\n".join(["== flow inputs ==", *lines]))
    if diff.result.changed:
        lines = value_diff(diff.result.a, diff.result.b, f"{a_label} result", f"{b_label} result")
        blocks.append("\n".join(["== result ==", *lines]))
    for call in diff.checkpoints:
        a, b = call.a, call.b
        if call.change == "added" and b is not None:
            blocks.append("\n".join([f"== {call.name} (added): output ==", preview(b.output, 10**9)]))
        if call.change == "removed" and a is not None:
            blocks.append("\n".join([f"== {call.name} (removed): output ==", preview(a.output, 10**9)]))
        if a is None or b is None:
            continue
        for name, left, right in (("inputs", a.inputs, b.inputs), ("output", a.output, b.output)):
            if name in call.changed:
                lines = value_diff(left, right, f"{a_label} {call.name} {name}", f"{b_label} {call.name} {name}")
                blocks.append("\n".join([f"== {call.name}: {name} ==", *lines]))
    return blocks or ["No value differs."]


@command("executions.diff")
def diff(
    a: Annotated[
        str, typer.Argument(metavar="A", help="The reference execution: its id or a unique prefix (6+ characters).")
    ],
    b: Annotated[str, typer.Argument(metavar="B", help="The execution to compare with it: its id or a unique prefix.")],
    full: Annotated[
        bool, typer.Option("--full", help="Also show every changed value in whole (text diff, key-level diff).")
    ] = False,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Compare two executions: checkpoint calls, flow inputs, result, tokens and cost."""
    from kitaru.client import KitaruClient
    from kitaru.jsonable import to_jsonable

    result = KitaruClient().executions.diff(a, b)

    def text() -> list[Any]:
        parts: list[Any] = [summary_panel(result), calls_table(result)]
        return parts + full_diffs(result) if full else parts

    return Item(to_jsonable(result), text=text, warnings=result.warnings)


def register(group: typer.Typer) -> None:
    """Add ``diff`` to the ``executions`` group."""
    group.command("diff")(diff)


__all__ = ["calls_table", "full_diffs", "register", "summary_panel", "value_diff"]

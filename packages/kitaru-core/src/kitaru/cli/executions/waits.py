"""``kitaru executions input``: answer or abort the pending waits of executions.

Non-interactive, for scripts and agents (the execution's single pending wait
is found automatically; ``--wait`` picks one when there are several)::

    kitaru executions input 0b6f3c1e-... --value true
    kitaru executions input 0b6f3c1e-... --value '{"approved": true, "note": "ok"}'
    kitaru executions input 0b6f3c1e-... --abort

Interactive, for people at a terminal (without an id it goes through every
execution that is waiting)::

    kitaru executions input --interactive

A wait answered while its execution is paused is recorded; continue the
execution afterwards with ``kitaru executions resume <id>``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru.cli.output import Item, OutputFormat, OutputOption, command, panel
from kitaru.errors import KitaruError, KitaruStateError, KitaruUsageError

if TYPE_CHECKING:
    from kitaru.client.models import PendingWait

ACTION_PROMPT = "Action [c=continue, a=abort, s=skip, q=quit]"
VALUE_PROMPT = "JSON value for result (empty for null)"


def parse_json_value(raw: str, *, option: str = "--value") -> Any:
    """Parse a JSON value given on the command line.

    Raises:
        KitaruUsageError: With the line and column of the syntax error.
    """
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}). "
            "Strings need JSON quotes, e.g. --value '\"yes\"'; booleans are true/false."
        ) from None


def _full_id(exec_id: str) -> str:
    """The full id of the execution ``exec_id`` names (an id or a unique prefix of 6+ characters)."""
    from kitaru.client.short_ids import resolve_execution_id

    return resolve_execution_id(exec_id)


def _is_tty() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _choose(exec_id: str, waits: list[PendingWait], selector: str | None) -> str:
    """The selector of the wait to resolve: ``--wait`` or the single pending one."""
    if selector is not None:
        if not selector.strip():
            raise KitaruUsageError("--wait needs a wait name or wait id.")
        return selector.strip()
    if not waits:
        raise KitaruStateError(f"Execution '{exec_id}' has no pending waits to resolve.")
    if len(waits) > 1:
        names = ", ".join(f"{wait.name} ({wait.wait_id})" for wait in waits)
        raise KitaruStateError(
            f"Execution '{exec_id}' has {len(waits)} pending waits: {names}. Choose one with "
            f"--wait NAME_OR_ID, or answer them one by one with `kitaru executions input "
            f"{exec_id} --interactive`."
        )
    return waits[0].wait_id


def _find(waits: list[PendingWait], selector: str) -> PendingWait | None:
    named = [wait for wait in waits if wait.name == selector]
    if len(named) == 1:
        return named[0]
    return next((wait for wait in waits if wait.wait_id == selector.lower()), None)


def _resume_hint(exec_id: str) -> str | None:
    """What happens next after a wait was answered."""
    from kitaru.execution.runs import CRASH_MARKER
    from kitaru.execution.waits import execution_state

    status, reason = execution_state(exec_id)
    if status == "paused":
        return f"The execution is paused; continue it with `kitaru executions resume {exec_id}`."
    if status == "failed":
        if reason and CRASH_MARKER in reason:
            return (
                "The process that was running the execution has died; continue it with "
                f"`kitaru executions retry {exec_id}`."
            )
        return None
    if status in ("stopping", "stopped") or status is None:
        return None
    # Running (or already finished): the process that was polling took the input.
    return "The execution continues in the process that was waiting for the input."


def _execution_item(execution: Any, exec_id: str, wait: str) -> dict[str, Any]:
    """The execution after resolving, serialized as ``executions get`` does."""
    from kitaru.jsonable import to_jsonable

    return to_jsonable(execution)


def resolve_one(exec_id: str, selector: str, *, value: Any, abort: bool) -> Any:
    """Resolve one wait through the client API and return the refreshed execution.

    A value that does not match the wait's schema raises
    :class:`~kitaru.errors.KitaruWaitValidationError` and leaves it waiting.
    """
    from kitaru.client import KitaruClient

    executions = KitaruClient().executions
    if abort:
        return executions.abort_wait(exec_id, wait=selector)
    return executions.input(exec_id, wait=selector, value=value)


@command("executions.input")
def input_(
    exec_id: Annotated[
        str | None,
        typer.Argument(
            help="The execution id, or a unique prefix of it (6+ characters). Optional with --interactive "
            "(then every waiting execution).",
            metavar="EXEC_ID",
            show_default=False,
        ),
    ] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Prompt for each pending wait (needs a terminal).")
    ] = False,
    abort: Annotated[bool, typer.Option("--abort", help="Abort the wait: the execution is cancelled.")] = False,
    value: Annotated[
        str | None,
        typer.Option("--value", help="The input as JSON (true, 42, '\"text\"', '{\"k\": 1}').", metavar="JSON"),
    ] = None,
    wait: Annotated[
        str | None,
        typer.Option(
            "--wait",
            "-w",
            help="The wait's name or id, when the execution has several pending waits.",
            metavar="NAME_OR_ID",
        ),
    ] = None,
    output: OutputOption = "text",
) -> Item | None:
    """Give input to (or abort) a pending wait of an execution."""
    if value is not None and abort:
        raise KitaruUsageError("--value and --abort cannot be combined: --value continues the wait, --abort aborts it.")
    if interactive:
        if value is not None:
            raise KitaruUsageError("--value cannot be combined with --interactive: the prompt asks for the value.")
        if abort:
            raise KitaruUsageError("--abort cannot be combined with --interactive: answer 'a' at the prompt instead.")
        if output is OutputFormat.JSON:
            raise KitaruUsageError("--interactive cannot produce JSON output; drop `-o json` or `--interactive`.")
        if not _is_tty():
            raise KitaruUsageError(
                "--interactive needs a terminal (stdin and stdout must be a TTY). Use "
                "`kitaru executions input EXEC_ID --value JSON` (or --abort) from scripts."
            )
        failures = run_interactive(_full_id(exec_id) if exec_id is not None else None, only=wait)
        if failures:
            raise typer.Exit(1)
        return None

    if exec_id is None or not exec_id.strip():
        raise KitaruUsageError(
            "An execution id is required (or use --interactive). Find waiting executions with "
            "`kitaru executions list --status waiting`."
        )
    parsed = parse_json_value(value) if value is not None else None
    exec_id = _full_id(exec_id)

    from kitaru.client import KitaruClient

    waits = KitaruClient().executions.pending_waits(exec_id)
    selector = _choose(exec_id, waits, wait)
    target = _find(waits, selector)
    if not abort and value is None and target is not None and target.schema is not None:
        raise KitaruUsageError(
            f"Wait `{target.name}` expects input matching the JSON schema "
            f"{json.dumps(target.schema)}. Give it with --value JSON, or abort it with --abort."
        )
    execution = resolve_one(exec_id, selector, value=parsed, abort=abort)
    name = target.name if target is not None else selector
    verb = "Aborted" if abort else "Resolved"
    lines = [f"{verb} wait `{name}` on execution {exec_id}."]
    if abort:
        lines.append(f"The execution does not continue past the wait (status: {execution.status}).")
    else:
        hint = _resume_hint(exec_id)
        if hint:
            lines.append(hint)
    return Item(_execution_item(execution, exec_id, name), text=lines)


# -- interactive ----------------------------------------------------------------------


def _waiting_executions(exec_id: str | None) -> list[tuple[str, list[PendingWait]]]:
    from kitaru.client.waits import all_pending_waits, pending_waits

    if exec_id is not None:
        return [(exec_id.strip(), pending_waits(exec_id.strip()))]
    return all_pending_waits()


def _describe(exec_id: str, wait: PendingWait) -> Any:
    from kitaru.client.waits import describe_execution

    flow, status = describe_execution(exec_id)
    since = wait.entered_waiting_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if wait.entered_waiting_at else None
    return panel(
        "Kitaru wait",
        [
            ("Execution", exec_id),
            ("Flow", flow),
            ("Status", status),
            ("Wait", wait.name),
            ("Wait ID", wait.wait_id),
            ("Question", wait.question),
            ("Waiting since", since),
            ("JSON schema", json.dumps(wait.schema) if wait.schema is not None else "none (continue/abort)"),
        ],
    )


def run_interactive(
    exec_id: str | None,
    *,
    only: str | None = None,
    ask: Callable[[str], str] | None = None,
    show: Callable[[Any], None] | None = None,
) -> int:
    """Prompt for every pending wait (of ``exec_id``, or of every waiting execution).

    Args:
        exec_id: One execution, or None for all waiting executions.
        only: Restrict to the wait with this name or id.
        ask: Reads one answer for a prompt (``input`` by default).
        show: Prints a renderable (stdout by default).

    Returns:
        How many resolutions failed.
    """
    from kitaru.cli.output import print_text

    ask = ask or (lambda prompt: input(f"{prompt}: "))
    show = show or print_text
    groups = _waiting_executions(exec_id)
    if not any(waits for _, waits in groups):
        where = f"Execution '{exec_id}' has" if exec_id else "No execution has"
        show(f"{where} no pending waits to resolve." if exec_id else "No executions are waiting for input.")
        return 0
    failures = 0
    for current, waits in groups:
        for pending in waits:
            if only is not None and only not in (pending.name, pending.wait_id):
                continue
            show(_describe(current, pending))
            action = _ask_action(ask)
            if action == "q":
                show("Stopped; remaining waits are untouched.")
                return failures
            if action == "s":
                show(f"Skipped wait `{pending.name}`.")
                continue
            try:
                if action == "a":
                    resolve_one(current, pending.wait_id, value=None, abort=True)
                    show(f"Aborted wait `{pending.name}` on execution {current}.")
                    continue
                result = _ask_value(ask, pending)
                resolve_one(current, pending.wait_id, value=result, abort=False)
            except (KitaruError, ValueError) as exc:
                failures += 1
                show(f"Error: {exc}")
                continue
            show(f"Resolved wait `{pending.name}` on execution {current}.")
            hint = _resume_hint(current)
            if hint:
                show(hint)
    return failures


def _ask_action(ask: Callable[[str], str]) -> str:
    while True:
        try:
            answer = ask(ACTION_PROMPT).strip().lower()
        except EOFError:
            return "q"
        if answer[:1] in ("c", "a", "s", "q") and answer in ("c", "a", "s", "q", "continue", "abort", "skip", "quit"):
            return answer[:1]
        print("Please answer c, a, s or q.")


def _ask_value(ask: Callable[[str], str], pending: PendingWait) -> Any:
    if pending.schema is None:
        return None
    while True:
        try:
            raw = ask(VALUE_PROMPT).strip()
        except EOFError:
            raise KitaruUsageError("No value given.") from None
        if not raw:
            return None
        try:
            return parse_json_value(raw, option="The value")
        except KitaruUsageError as exc:
            print(f"Error: {exc}")


def register(group: typer.Typer) -> None:
    """Add ``input`` to the ``executions`` group."""
    group.command("input")(input_)


__all__ = ["parse_json_value", "register", "run_interactive"]

"""``kitaru executions logs``: show or follow an execution's runtime logs (SPEC §7).

::

    kitaru executions logs <id>                      # what the checkpoints printed and logged
    kitaru executions logs <id> --source runner      # what the flow body printed and logged
    kitaru executions logs <id> --checkpoint think   # think, think_2, ... (or one call: think_2)
    kitaru executions logs <id> -v                   # 2026-01-31 12:00:05 INFO message
    kitaru executions logs <id> -vv                  # ... [checkpoint] message, plus engine lines
    kitaru executions logs <id> --grouped            # ── checkpoint: think ─── sections
    kitaru executions logs <id> --follow             # stream until the execution ends
    kitaru executions logs <id> --follow -o json     # JSON lines: log/waiting/terminal/interrupted

Verbosity: the default shows messages only; ``-v`` prefixes local time and
level; ``-vv`` adds ``[checkpoint]`` (or the module, or ``runner``) and also
shows the engine's own lines (checkpoint start/finish notices and, for
``--source runner``, the submitting process's summary), which are hidden
otherwise so the output is what your code printed. For the same reason,
below ``-vv`` a traceback shows your code's frames, with one line saying how
many of Kitaru's and the engine's were hidden; ``-vv`` shows every line as
stored (JSON output always does).

``--checkpoint`` names a checkpoint (every call of it) or one call; a name
that is no call of an execution that has ended is an error listing the
execution's checkpoints.

``--follow`` polls every ``--interval`` seconds, prints each entry once,
announces each wait the execution stops on, and ends with the outcome: exit 0
when it completed, 1 when it failed (with the retry command) or was cancelled,
or when interrupted with Ctrl-C. ``--limit`` caps the entries printed (in
follow mode too; the outcome is still reported).

The outcome comes after the execution's last lines: the engine stores log
lines in batches, and the last ones can land after the status flips, so once
the execution has ended the follower waits until the process that ran it has
stored them (:func:`kitaru.logs.wait_for_log_export`) before its last read.
For an execution that ran on another machine there is nothing to wait on, so
it reads again every ``SETTLE_SECONDS`` until a read finds nothing new.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from kitaru.cli.interrupts import deferred_interrupt
from kitaru.cli.output import (
    Items,
    OutputFormat,
    OutputOption,
    command,
    fail,
    parse_output,
    stdout_to_stderr,
    tolerate_closed_output,
)
from kitaru.errors import KitaruError, KitaruUsageError
from kitaru.jsonable import dumps

if TYPE_CHECKING:
    from kitaru.client.models import LogEntry

KEY = "executions.logs"
DEFAULT_INTERVAL = 3.0
SETTLE_SECONDS = 1.0
"""For an execution that ran elsewhere: after it ended, read again this long after each read that found new lines."""
SETTLE_TIMEOUT = 30.0
"""For an execution that ran elsewhere: stop reading again after this many seconds even if lines keep coming."""
GROUP_RULE_WIDTH = 60


# -- formatting -------------------------------------------------------------------


def format_timestamp(timestamp: str | None) -> str:
    """Format an ISO timestamp as local ``YYYY-MM-DD HH:MM:SS`` (``-`` padding when missing)."""
    if not timestamp:
        return "-" * 19
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp[:19]
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone()
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def entry_label(entry: LogEntry) -> str:
    """What ``-vv`` shows in brackets: the checkpoint, else the module, else the source."""
    return entry.checkpoint_name or entry.module or entry.source or "runner"


def format_entry(entry: LogEntry, verbose: int = 0) -> str:
    """Render one entry for text output at verbosity 0, 1 (``-v``) or 2+ (``-vv``)."""
    if verbose <= 0:
        return entry.message
    prefix = f"{format_timestamp(entry.timestamp)} {(entry.level or '-'):<7}"
    if verbose >= 2:
        prefix += f" [{entry_label(entry)}]"
    return f"{prefix} {entry.message}"


def group_header(name: str | None) -> str:
    """The ``── checkpoint: <name> ───`` line that opens a ``--grouped`` section."""
    title = f"── checkpoint: {name} " if name else "── runner "
    return title + "─" * max(3, GROUP_RULE_WIDTH - len(title))


def group_entries(entries: list[LogEntry]) -> list[tuple[str | None, list[LogEntry]]]:
    """Group entries by checkpoint, groups in order of first appearance."""
    groups: dict[str | None, list[LogEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.checkpoint_name, []).append(entry)
    return list(groups.items())


def shown_entries(entries: list[LogEntry], verbose: int) -> list[LogEntry]:
    """The entries as the text view shows them: below ``-vv``, tracebacks show the user's frames only.

    Kitaru's and the engine's frames are folded into one ``[N Kitaru/engine
    frames hidden]`` line (:func:`kitaru.logs.tracebacks.fold_tracebacks`);
    ``-vv`` shows every entry as stored.
    """
    if verbose >= 2:
        return entries
    from kitaru.logs.tracebacks import fold_tracebacks

    return fold_tracebacks(entries)


def render_text(entries: list[LogEntry], *, verbose: int, grouped: bool) -> list[str]:
    """Build the text lines of a (non-follow) log listing."""
    if not grouped:
        return [format_entry(entry, verbose) for entry in shown_entries(entries, verbose)]
    lines: list[str] = []
    for index, (name, members) in enumerate(group_entries(entries)):
        if index:
            lines.append("")
        lines.append(group_header(name))
        lines.extend(format_entry(entry, verbose) for entry in shown_entries(members, verbose))
    return lines


def empty_message(exec_id: str, *, source: str, checkpoint: str | None, running: bool) -> list[str]:
    """The text shown when there are no entries: the fact and a hint."""
    lines = [f"No log entries found for execution {exec_id}."]
    if running:
        lines.append(f"It is still running: follow it with `kitaru executions logs {exec_id} --follow`.")
    elif checkpoint:
        lines.append(
            f"No call of checkpoint '{checkpoint}' printed anything. Check the checkpoint names "
            f"with `kitaru executions get {exec_id}`."
        )
    elif source == "step":
        lines.append(
            "Checkpoints printed and logged nothing. For the flow body's output use "
            f"`kitaru executions logs {exec_id} --source runner`; add -vv for the engine's lines."
        )
    else:
        lines.append("The flow body printed nothing. Add -vv for the engine's lines, or drop --source runner.")
    return lines


def _write(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()


# -- options ---------------------------------------------------------------------


def validate_options(
    *, source: str, checkpoint: str | None, interval: float, grouped: bool, fmt: OutputFormat, limit: int | None
) -> str:
    """Check option combinations and return the normalised source.

    Raises:
        KitaruUsageError: On an unknown source, a blank checkpoint, an interval
            that is not a finite positive number, or an invalid combination.
    """
    normalized = (source or "").strip().lower()
    if checkpoint is not None and not checkpoint.strip():
        raise KitaruUsageError("--checkpoint needs a checkpoint name; leave it out for every checkpoint's logs.")
    if normalized not in ("step", "runner"):
        raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
    if checkpoint and normalized == "runner":
        raise KitaruUsageError(
            "--checkpoint cannot be combined with --source runner: runner logs belong to the flow "
            "body, not to a checkpoint. Drop one of them."
        )
    if grouped and fmt is OutputFormat.JSON:
        raise KitaruUsageError(
            "--grouped only applies to text output; JSON entries carry `checkpoint_name` to group by."
        )
    if not (math.isfinite(interval) and interval > 0):
        raise KitaruUsageError(f"--interval must be greater than 0 seconds (and finite); got {interval}.")
    if limit is not None and limit < 1:
        raise KitaruUsageError(f"--limit must be a positive integer; got {limit}.")
    return normalized


def check_checkpoint(exec_id: str, checkpoint: str | None) -> None:
    """Refuse a ``--checkpoint`` that names no call of an execution that has ended.

    A running (or paused) execution may still call it, so it is accepted then.

    Raises:
        KitaruUsageError: Naming the execution's checkpoints, so the next try can be right.
    """
    if not checkpoint:
        return
    from kitaru.logs.stored import checkpoint_calls

    calls = checkpoint_calls(exec_id)
    if calls.matches(checkpoint) or not calls.finished:
        return
    known = f"Its checkpoints: {calls.describe()}." if calls.calls else "It ran no checkpoints."
    raise KitaruUsageError(
        f"Execution {calls.exec_id} has no checkpoint '{checkpoint}'. {known} Pass --checkpoint a checkpoint "
        "name (every call of it) or one call (think_2), or leave it out for every checkpoint's logs."
    )


def fetch_entries(
    exec_id: str, *, checkpoint: str | None, source: str, limit: int | None, verbose: int
) -> list[LogEntry]:
    """Read entries through the client; ``-vv`` also asks the engine for its own lines."""
    if verbose >= 2:
        from kitaru.logs import get_logs

        return get_logs(exec_id, checkpoint=checkpoint, source=source, limit=limit, include_engine=True)
    from kitaru.client import KitaruClient

    return KitaruClient().executions.logs(exec_id, checkpoint=checkpoint, source=source, limit=limit)


# -- one-shot listing ---------------------------------------------------------------


@command(KEY)
def _show(
    exec_id: str,
    *,
    checkpoint: str | None,
    source: str,
    limit: int | None,
    grouped: bool,
    verbose: int,
    output: OutputFormat = OutputFormat.TEXT,
) -> Items:
    from kitaru.jsonable import to_jsonable
    from kitaru.logs import execution_progress

    entries = fetch_entries(exec_id, checkpoint=checkpoint, source=source, limit=limit, verbose=verbose)
    if not entries:
        check_checkpoint(exec_id, checkpoint)
    lines: list[str] = []
    if entries:
        lines = render_text(entries, verbose=verbose, grouped=grouped)
    elif output is OutputFormat.TEXT:
        running = not execution_progress(exec_id).status.is_finished
        lines = empty_message(exec_id, source=source, checkpoint=checkpoint, running=running)

    def text() -> None:
        for line in lines:
            _write(sys.stdout, line)

    return Items([to_jsonable(entry) for entry in entries], text=text)


# -- follow ------------------------------------------------------------------------


def entry_key(entry: LogEntry) -> tuple[Any, ...]:
    """Identity of an entry for de-duplication across polls."""
    return (
        entry.timestamp,
        entry.level,
        entry.checkpoint_name,
        entry.module,
        entry.filename,
        entry.lineno,
        entry.message,
    )


class Follower:
    """Polls an execution's logs and status and prints what is new.

    Args:
        exec_id: The execution to follow.
        checkpoint: Checkpoint filter, as for the listing.
        source: ``step`` or ``runner``.
        limit: Print at most this many entries.
        verbose: Verbosity level.
        grouped: Print a section header whenever the checkpoint changes.
        fmt: Text or JSON lines.
        out: Where to print.
        interval: Seconds between polls.
        sleep: The sleep function (tests pass a fake).
        interrupt: Set when Ctrl-C was pressed (:func:`kitaru.cli.interrupts.deferred_interrupt`):
            checked between polls, where stopping is safe.
    """

    def __init__(
        self,
        exec_id: str,
        *,
        checkpoint: str | None,
        source: str,
        limit: int | None,
        verbose: int,
        grouped: bool,
        fmt: OutputFormat,
        out: TextIO,
        interval: float,
        sleep: Callable[[float], object] = time.sleep,
        interrupt: threading.Event | None = None,
    ) -> None:
        self.exec_id = exec_id
        self.checkpoint = checkpoint
        self.source = source
        self.limit = limit
        self.verbose = verbose
        self.grouped = grouped
        self.fmt = fmt
        self.out = out
        self.interval = interval
        self.sleep = sleep
        self.interrupt = interrupt or threading.Event()
        self._seen: set[tuple[Any, ...]] = set()
        self._announced: set[str] = set()
        self._printed = 0
        self._group: Any = object()
        self._group_started = False

    def run(self) -> int:
        """Follow until the execution ends; return the exit code."""
        from kitaru.logs import execution_progress

        while True:
            self._stop_if_interrupted()
            progress = execution_progress(self.exec_id)
            finished = progress.status.is_finished
            if finished:
                self._read_last_lines()
            else:
                self._read()
            for name in progress.waiting_on:
                if name not in self._announced:
                    self._announced.add(name)
                    self._event("waiting", {"exec_id": self.exec_id, "wait": name},
                                f"[Execution is waiting for input on: {name}]")
            self._stop_if_interrupted()
            if finished:
                return self._terminal(progress)
            self.sleep(self.interval)

    def _stop_if_interrupted(self) -> None:
        if self.interrupt.is_set():
            raise KeyboardInterrupt

    def interrupted(self) -> int:
        """Report a Ctrl-C; return the exit code."""
        self._event("interrupted", {"exec_id": self.exec_id}, "[Log follow interrupted]")
        return 1

    def _read(self) -> int:
        """Print the entries not printed yet; return how many there were."""
        return self._print_new(
            fetch_entries(self.exec_id, checkpoint=self.checkpoint, source=self.source, limit=None, verbose=self.verbose)
        )

    def _read_last_lines(self) -> None:
        """Print an ended execution's remaining entries, including the batches stored after it ended.

        Waits until the process that ran it has stored its last lines, then
        reads once. When that cannot be watched (it ran on another machine,
        or still held on after the timeout), reads again every
        ``SETTLE_SECONDS`` until a read finds nothing new.
        """
        from kitaru.logs import wait_for_log_export

        if wait_for_log_export(self.exec_id):
            self._read()
            return
        deadline = time.monotonic() + SETTLE_TIMEOUT
        self._read()
        while True:
            self.sleep(SETTLE_SECONDS)
            if not self._read() or time.monotonic() >= deadline:
                return

    def _print_new(self, entries: list[LogEntry]) -> int:
        from kitaru.jsonable import to_jsonable

        new = 0
        fresh: list[LogEntry] = []
        for entry in entries:
            key = entry_key(entry)
            if key in self._seen:
                continue
            self._seen.add(key)
            new += 1
            if self.limit is not None and self._printed >= self.limit:
                continue
            self._printed += 1
            fresh.append(entry)
        if self.fmt is OutputFormat.JSON:
            for entry in fresh:
                self._json("log", to_jsonable(entry))
            return new
        for entry in shown_entries(fresh, self.verbose):
            if self.grouped and entry.checkpoint_name != self._group:
                if self._group_started:
                    _write(self.out, "")
                _write(self.out, group_header(entry.checkpoint_name))
                self._group = entry.checkpoint_name
                self._group_started = True
            _write(self.out, format_entry(entry, self.verbose))
        return new

    def _terminal(self, progress: Any) -> int:
        from kitaru.client.status import ExecutionStatus
        from kitaru.errors import build_recovery_command

        status = progress.status
        item: dict[str, Any] = {"exec_id": self.exec_id, "status": str(status)}
        if status is ExecutionStatus.COMPLETED:
            self._event("terminal", item, "[Execution completed successfully]")
            return 0
        if status is ExecutionStatus.FAILED:
            recovery = build_recovery_command(self.exec_id, str(status))
            item.update(message=progress.failure_message, recovery_command=recovery)
            self._event("terminal", item, f"[Execution failed: {progress.failure_message}]")
            if self.fmt is OutputFormat.TEXT and recovery:
                _write(self.out, f"To retry this failed execution, run: {recovery}")
            return 1
        self._event("terminal", item, "[Execution cancelled]")
        return 1

    def _event(self, event: str, item: dict[str, Any], text: str) -> None:
        if self.fmt is OutputFormat.JSON:
            self._json(event, item)
        else:
            _write(self.out, text)

    def _json(self, event: str, item: Any) -> None:
        _write(self.out, dumps({"command": KEY, "event": event, "item": item}))


@contextlib.contextmanager
def event_stream(fmt: OutputFormat) -> Iterator[TextIO]:
    """Yield where follow output goes.

    In JSON mode stdout must carry only JSON lines, so everything else written
    to stdout meanwhile (by the engine or libraries) is sent to stderr and the
    events go to a duplicate of the original stdout.
    """
    if fmt is OutputFormat.TEXT:
        yield sys.stdout
        return
    sys.stdout.flush()
    try:
        duplicate = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        real = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            yield real
        return
    with os.fdopen(duplicate, "w", encoding="utf-8", buffering=1) as events, stdout_to_stderr():
        yield events


def _follow(exec_id: str, fmt: OutputFormat, **options: Any) -> int:
    with event_stream(fmt) as out, deferred_interrupt() as interrupt:
        # Sleeping on the event ends a pause as soon as Ctrl-C is pressed.
        follower = Follower(exec_id, fmt=fmt, out=out, sleep=interrupt.wait, interrupt=interrupt, **options)
        try:
            return follower.run()
        except KeyboardInterrupt:
            return follower.interrupted()


# -- command -----------------------------------------------------------------------


def _full_id(exec_id: str) -> str:
    """The full id of the execution ``exec_id`` names; a blank one is left for the client to refuse."""
    if not exec_id.strip():
        return exec_id
    from kitaru.client.short_ids import resolve_execution_id

    return resolve_execution_id(exec_id)


def logs(
    exec_id: Annotated[
        str,
        typer.Argument(help="The execution id, or a unique prefix of it (6+ characters; see `kitaru executions list`)."),
    ],
    checkpoint: Annotated[
        str | None,
        typer.Option(
            "--checkpoint",
            help="Only this checkpoint: a name (every call: think, think_2, ...) or one call (think_2).",
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option("--source", help="step: what checkpoints printed; runner: what the flow body printed.",
                     metavar="step|runner"),
    ] = "step",
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many entries.")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new entries until the execution ends.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between polls with --follow.")
    ] = DEFAULT_INTERVAL,
    grouped: Annotated[bool, typer.Option("--grouped", help="Print a section per checkpoint (text only).")] = False,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True,
                     help="-v adds time and level; -vv adds the checkpoint and the engine's own lines."),
    ] = 0,
    output: OutputOption = "text",
) -> None:
    """Show the runtime logs of an execution: what its checkpoints (or its flow body) printed and logged."""
    tolerate_closed_output()  # `logs --follow | head` ends well when head stops reading
    try:
        fmt = parse_output(output)
    except KitaruUsageError as exc:
        raise fail(KEY, exc, OutputFormat.TEXT) from None
    try:
        source = validate_options(
            source=source, checkpoint=checkpoint, interval=interval, grouped=grouped, fmt=fmt, limit=limit
        )
    except KitaruUsageError as exc:
        raise fail(KEY, exc, fmt) from None
    options: dict[str, Any] = {
        "checkpoint": checkpoint, "source": source, "limit": limit, "grouped": grouped, "verbose": verbose,
    }
    try:
        exec_id = _full_id(exec_id)
    except (KitaruError, ValueError) as exc:
        raise fail(KEY, exc, fmt) from None
    if not follow:
        _show(exec_id, output=fmt, **options)
        return
    try:
        check_checkpoint(exec_id, checkpoint)
        code = _follow(exec_id, fmt, interval=interval, **options)
    except (KitaruError, ValueError) as exc:
        raise fail(KEY, exc, fmt) from None
    except Exception as exc:
        from kitaru.settings import settings

        if settings().debug:
            raise
        message = f"{exc} (unexpected {type(exc).__name__}; rerun with KITARU_DEBUG=1 to see the traceback)"
        raise fail(KEY, exc, fmt, message) from None
    raise typer.Exit(code)


def register(group: typer.Typer) -> None:
    """Add ``logs`` to the ``executions`` group."""
    group.command("logs")(logs)


__all__ = [
    "Follower",
    "entry_key",
    "format_entry",
    "format_timestamp",
    "group_header",
    "register",
    "render_text",
]

"""The CLI output contract (SPEC §4), shared by every command group.

Every agent-facing command takes ``--output/-o text|json`` and is wrapped by
:func:`command`, which validates the format, runs the body, and renders what
it returns:

* JSON, one item: ``{"command": "<key>", "item": {...}}`` on stdout.
* JSON, a list: ``{"command": "<key>", "items": [...], "count": n}`` plus any
  extra top-level keys the command adds.
* Errors: ``{"command": "<key>", "error": {"message": ..., "type": ...}}`` on
  stderr in JSON mode, ``Error: <message>`` on stderr in text mode; exit 1.
* Text: whatever Rich renderables the command attached (usually panels of
  label/value rows built with :func:`panel`).

A command body looks like this::

    @command("stack.current")
    def current(output: OutputOption = "text") -> Item:
        info = kitaru.current_stack()
        data = {"id": info.id, "name": info.name}
        return Item(data, text=panel("Kitaru stack", [("Name", info.name), ("ID", info.id)]))

Rich is imported only when text is rendered, so ``kitaru --version`` stays light.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from kitaru.errors import KitaruError, KitaruUsageError
from kitaru.jsonable import dumps
from kitaru.settings import settings

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

OUTPUT_FORMAT_ERROR = "`--output` must be either `text` or `json`."
NOT_SET = "not set"


class OutputFormat(StrEnum):
    """How a command prints its result."""

    TEXT = "text"
    JSON = "json"


OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Output format: text (for humans) or json (for scripts and agents).",
        metavar="text|json",
        show_default=True,
    ),
]
"""The ``--output/-o`` option every command declares as its ``output`` parameter."""


def parse_output(value: str | OutputFormat | None) -> OutputFormat:
    """Validate an ``--output`` value.

    Args:
        value: What the user passed (case-insensitive); None means text.

    Returns:
        The output format.

    Raises:
        KitaruUsageError: If the value is neither ``text`` nor ``json``.
    """
    if value is None:
        return OutputFormat.TEXT
    try:
        return OutputFormat(str(value).strip().lower())
    except ValueError:
        raise KitaruUsageError(OUTPUT_FORMAT_ERROR) from None


@dataclass(frozen=True)
class Item:
    """A command result that is one object.

    Attributes:
        data: The JSON item (JSON-serialisable; other values go through ``str``).
        text: What text mode prints: a Rich renderable or string, a sequence of
            them, or a zero-argument callable returning either (called only in
            text mode). None prints nothing.
        warnings: Printed to stderr as ``Warning: ...`` in text mode. JSON
            consumers get them only if the command also puts them in ``data``.
        exit_code: The process exit status after rendering (1 when the
            command worked but its outcome is a failure, e.g. a retried
            execution that failed again).
    """

    data: Mapping[str, Any]
    text: Any = None
    warnings: Sequence[str] = ()
    exit_code: int = 0


@dataclass(frozen=True)
class Items:
    """A command result that is a list of objects.

    Attributes:
        data: The JSON items.
        text: As for :class:`Item`.
        extra: Additional top-level JSON keys (``{"problems": [...]}``),
            written after ``items`` and ``count``.
        warnings: As for :class:`Item`.
        exit_code: As for :class:`Item` (1 when some of the listed results
            are failures, e.g. one of several executions could not be deleted).
    """

    data: Sequence[Mapping[str, Any]]
    text: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    warnings: Sequence[str] = ()
    exit_code: int = 0


Result = Item | Items | None


# -- rendering ----------------------------------------------------------------


def stdout_console() -> Console:
    """Return a Rich console for stdout."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    """Return a Rich console for stderr."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def to_json(payload: Any) -> str:
    """Serialise ``payload`` the way every command does (indented, ``str`` fallback)."""
    return dumps(payload, indent=2)


def display(value: Any) -> str:
    """Format one value for a text row.

    Args:
        value: Anything; None and empty values show as ``not set``.

    Returns:
        The text shown in the value column.
    """
    if value is None or value == "" or value == [] or value == {}:
        return NOT_SET
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={display(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(display(item) for item in value)
    return str(value)


def panel(title: str, rows: Iterable[tuple[str, Any]], *, subtitle: str | None = None) -> Any:
    """Build a Rich panel of label/value rows.

    Args:
        title: The panel title (``Kitaru status``).
        rows: ``(label, value)`` pairs; values are formatted with :func:`display`.
            Long values wrap instead of being cut, so paths stay complete.
        subtitle: Optional text under the panel.

    Returns:
        A Rich renderable.
    """
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text as RichText

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(RichText(label), RichText(display(value)))
    return Panel(
        grid,
        title=RichText(title, style="bold"),
        title_align="left",
        subtitle=subtitle,
        subtitle_align="left",
        expand=False,
    )


def print_text(text: Any, console: Console | None = None) -> None:
    """Print a command's text output (see :attr:`Item.text`).

    Args:
        text: A renderable, string, sequence of them, or callable returning one.
        console: The console to print to; stdout by default.
    """
    if callable(text):
        text = text()
    if text is None:
        return
    console = console or stdout_console()
    if isinstance(text, (list, tuple)):
        for part in text:
            print_text(part, console)
        return
    if isinstance(text, str):
        # Plain strings are printed verbatim: no markup (paths with brackets
        # survive) and no hard wrapping (long paths stay copyable).
        console.print(text, markup=False, soft_wrap=True)
        return
    console.print(text)


def warn(message: str) -> None:
    """Print ``Warning: <message>`` to stderr (text mode)."""
    print(f"Warning: {message}", file=sys.stderr)


def emit(key: str, result: Result, fmt: OutputFormat) -> None:
    """Print a command result per the contract.

    Args:
        key: The command key (``status``, ``executions.get``).
        result: What the command body returned.
        fmt: The output format.
    """
    if result is None:
        return
    if fmt is OutputFormat.JSON:
        if isinstance(result, Items):
            payload: dict[str, Any] = {
                "command": key,
                "items": [dict(item) for item in result.data],
                "count": len(result.data),
            }
            payload.update(result.extra)
        else:
            payload = {"command": key, "item": dict(result.data)}
        sys.stdout.write(to_json(payload) + "\n")
        sys.stdout.flush()
        return
    print_text(result.text)
    for message in result.warnings:
        warn(message)


def error_payload(key: str, exc: BaseException, message: str | None = None) -> dict[str, Any]:
    """Build the JSON error object for ``exc``."""
    return {
        "command": key,
        "error": {"message": message if message is not None else str(exc), "type": type(exc).__name__},
    }


def fail(key: str, exc: BaseException, fmt: OutputFormat, message: str | None = None) -> typer.Exit:
    """Print ``exc`` per the contract on stderr and return the exit to raise.

    Args:
        key: The command key.
        exc: The error.
        fmt: The output format the user asked for.
        message: Overrides ``str(exc)``.

    Returns:
        ``typer.Exit(1)``, for the caller to raise.
    """
    text = message if message is not None else str(exc)
    if fmt is OutputFormat.JSON:
        sys.stderr.write(to_json(error_payload(key, exc, text)) + "\n")
    else:
        sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()
    return typer.Exit(1)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout to stderr for the duration.

    In JSON mode stdout must carry exactly one JSON document, but the engine
    and its libraries may print (retry notices, migration messages), some
    through handles that bypass ``sys.stdout``. So file descriptor 1 itself
    is pointed at stderr while a command body runs, when it is a real file
    descriptor; otherwise only ``sys.stdout`` is redirected.
    """
    sys.stdout.flush()
    try:
        stdout_fd = sys.stdout.fileno()
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    saved = os.dup(stdout_fd)
    try:
        os.dup2(stderr_fd, stdout_fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, stdout_fd)
    finally:
        os.close(saved)


_TOLERANT_STREAMS: weakref.WeakSet[Any] = weakref.WeakSet()


def discard_output(fd: int) -> None:
    """Point descriptor ``fd`` at the null device: what is written to it from now on is dropped."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def tolerate_closed_reader(stream: Any) -> None:
    """Make writes to ``stream`` survive its reader going away: the rest of the output is dropped.

    ``kitaru executions retry ID | head -1``: ``head`` exits after one line,
    and every later write to the pipe raises ``BrokenPipeError``: in a
    checkpoint's ``print``, in Kitaru's own lines, in the final panel, or when
    Python flushes stdout at exit. Nobody reads the output any more, but the
    command's work (a retry that runs checkpoints) must not fail because of
    it. So the first broken write points the stream's descriptor at the null
    device and every write after it succeeds there; the exit status stays the
    command's own.

    ``write`` and ``flush`` of the stream object are wrapped (once per
    object), the way the engine wraps ``write`` to record output; streams
    without a descriptor (a test's capture) are left alone.
    """
    if stream in _TOLERANT_STREAMS:
        return
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    write, flush = stream.write, stream.flush

    def write_or_drop(text: str) -> Any:
        try:
            return write(text)
        except BrokenPipeError:
            discard_output(fd)
            return len(text)

    def flush_or_drop() -> None:
        try:
            flush()
        except BrokenPipeError:
            discard_output(fd)
            with contextlib.suppress(OSError):
                flush()  # what was still buffered goes to the null device

    stream.write = write_or_drop
    stream.flush = flush_or_drop
    _TOLERANT_STREAMS.add(stream)


def tolerate_closed_output() -> None:
    """Let a command finish when whoever reads its stdout or stderr stops reading (see :func:`tolerate_closed_reader`)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(TypeError):  # a stream object that cannot be weakly referenced
            tolerate_closed_reader(stream)


def _debug() -> bool:
    return settings().debug


def command(key: str) -> Callable[[F], F]:
    """Wrap a command body in the output contract.

    The body declares ``output: OutputOption = "text"`` (typer reads the
    wrapped signature), receives it as a validated :class:`OutputFormat`, and
    returns an :class:`Item`, :class:`Items` or None (it printed itself).
    ``KitaruError`` and ``ValueError`` become contract errors with exit 1. Any
    other exception is reported the same way with a hint to set
    ``KITARU_DEBUG=1``, which re-raises it for a traceback.

    Args:
        key: The command key used in JSON (``status``, ``executions.get``).

    Returns:
        The decorator.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            tolerate_closed_output()
            try:
                fmt = parse_output(kwargs.get("output"))
            except KitaruUsageError as exc:
                raise fail(key, exc, OutputFormat.TEXT) from None
            if "output" in kwargs:
                kwargs["output"] = fmt
            quiet = stdout_to_stderr() if fmt is OutputFormat.JSON else contextlib.nullcontext()
            try:
                with quiet:
                    result = func(*args, **kwargs)
            except (typer.Exit, typer.Abort, typer.TyperException):
                raise
            except (KitaruError, ValueError) as exc:
                raise fail(key, exc, fmt) from None
            except Exception as exc:
                if _debug():
                    raise
                message = (
                    f"{exc} (unexpected {type(exc).__name__}; "
                    "rerun with KITARU_DEBUG=1 to see the traceback)"
                )
                raise fail(key, exc, fmt, message) from None
            emit(key, result, fmt)
            exit_code = getattr(result, "exit_code", None)
            if exit_code:
                raise typer.Exit(exit_code)

        return wrapper  # type: ignore[return-value]

    return decorate


def command_key(command_path: str) -> str:
    """Turn a Click command path (``kitaru executions get``) into a key (``executions.get``)."""
    parts = command_path.split()
    return ".".join(parts[1:]) if len(parts) > 1 else (parts[0] if parts else "kitaru")


def json_requested(args: Sequence[str]) -> bool:
    """Whether raw CLI arguments ask for JSON output (for parse errors).

    Args:
        args: The arguments after the program name.

    Returns:
        True if ``-o json``, ``--output json``, ``--output=json`` or ``-ojson``
        appears before a ``--`` separator.
    """
    for index, arg in enumerate(args):
        if arg == "--":
            return False
        if arg in {"-o", "--output"} and index + 1 < len(args):
            if args[index + 1].strip().lower() == "json":
                return True
        elif arg.lower() in {"--output=json", "-ojson", "-o=json"}:
            return True
    return False

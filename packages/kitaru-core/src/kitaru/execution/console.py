"""Kitaru's own terminal lines during a run: one at the start, one per checkpoint, one at the end.

Engine chatter stays in the stored logs; these lines are what a user sees::

    Starting flow `agent`.
    Checkpoint `research` finished in 0.04s.
    Execution 0b6f3c1e-... completed in 0.31s.

A checkpoint that runs for a while also says so while it runs
(:func:`checkpoint_running`, around each call the flow body waits on):

* on a terminal, after :data:`STATUS_AFTER_SECONDS`, a live status line under
  the output (rich's ``Live`` with a spinner): ``⠋ Checkpoint `research`
  running (12s)``; it is erased when the checkpoint ends, and anything else
  written to the terminal meanwhile is printed above it, never over it;
* elsewhere (a pipe, a file, a CI log), one plain line after
  :data:`FIRST_NOTICE_SECONDS`, and then after twice as long each time, at
  most :data:`MAX_NOTICE_GAP_SECONDS` apart: ``Checkpoint `research` still
  running (30s).``, ``(1m 00s)``, ``(2m 00s)``, ...; a log reader sees the
  checkpoint is alive without a line every second.

``KITARU_QUIET`` (read through :func:`kitaru.settings.settings`) keeps all of
them off stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from kitaru.settings import settings

STATUS_AFTER_SECONDS = 2.0
"""On a terminal, a checkpoint that has run this long gets the live status line."""
FIRST_NOTICE_SECONDS = 30.0
"""Off a terminal, the first "still running" line comes after this many seconds of running."""
MAX_NOTICE_GAP_SECONDS = 600.0
"""Off a terminal, the longest time between two "still running" lines of one checkpoint."""
TICK_SECONDS = 0.25
"""How often the status line is redrawn (and due notices are checked)."""
CLEAR_LINE = "\r\x1b[2K"
"""Carriage return and "erase the whole line": what takes the status line off the screen."""


def say(line: str) -> None:
    """Print one Kitaru line to stdout unless ``KITARU_QUIET`` is on."""
    if settings().quiet:
        return
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def format_duration(seconds: float) -> str:
    """Format a duration the way Kitaru prints it (``0.04s``, ``2m 03s``)."""
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def format_elapsed(seconds: float) -> str:
    """Format how long something has been running, in whole seconds (``12s``, ``2m 03s``, ``1h 04m``)."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes}m {rest:02d}s"
    hours, rest = divmod(whole // 60, 60)
    return f"{hours}h {rest:02d}m"


def next_notice_after(reported: float) -> float:
    """When the next "still running" line is due, given the running time the last one reported.

    The gaps double (30 s, 1 m, 2 m, 4 m, 8 m) and stop growing at
    :data:`MAX_NOTICE_GAP_SECONDS`.

    Args:
        reported: The running time, in seconds, of the last line (0 before the first).
    """
    if reported <= 0:
        return FIRST_NOTICE_SECONDS
    return reported + min(reported, MAX_NOTICE_GAP_SECONDS)


def describe_running(running: list[tuple[str, float]]) -> str:
    """The status line's text for ``(invocation id, seconds running)`` pairs, longest running first."""
    if len(running) == 1:
        name, seconds = running[0]
        return f"Checkpoint `{name}` running ({format_elapsed(seconds)})"
    calls = ", ".join(f"`{name}` ({format_elapsed(seconds)})" for name, seconds in running)
    return f"{len(running)} checkpoints running: {calls}"


# -- the live status line (terminals) ------------------------------------------------------


class StatusLine:
    """A rich renderable: the spinner and the text on one line, cut with an ellipsis to the terminal's width."""

    def __init__(self) -> None:
        from rich.spinner import Spinner

        self.spinner = Spinner("dots")

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text

        line = self.spinner.render(console.get_time())
        if isinstance(line, Text):  # a spinner with text renders as one Text
            line.no_wrap = True
            line.overflow = "ellipsis"
        yield line


class LiveStatus:
    """The one-line live status at the bottom of a terminal, drawn with rich's ``Live``.

    It is drawn on a duplicate of stdout's descriptor, so its frames never pass
    through ``sys.stdout`` (where the engine records what a flow prints). Every
    other write to the terminal is announced with :meth:`before_write` and
    :meth:`after_write`: the status line is erased first and drawn again on
    the next tick, below what was written (not while a line is half written).
    It is always one line, so erasing it never touches other output.
    """

    def __init__(self, stdout_fd: int) -> None:
        from rich.console import Console
        from rich.live import Live

        self._stream: TextIO = os.fdopen(os.dup(stdout_fd), "w", encoding="utf-8", errors="replace")
        self._console = Console(file=self._stream, highlight=False)
        self._line = StatusLine()
        self._live = Live(
            self._line,
            console=self._console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._drawn = False
        self._writing = 0
        self._at_line_start = True

    @property
    def works(self) -> bool:
        """Whether the terminal can show it (not a "dumb" one)."""
        return self._console.is_terminal and not self._console.is_dumb_terminal

    def draw(self, text: str) -> None:
        """Show ``text`` after the spinner, unless other output is being written or a line is half written."""
        if self._writing or not self._at_line_start:
            return
        self._line.spinner.update(text=text)
        if self._live.is_started:
            self._live.refresh()
        else:
            self._live.start(refresh=True)
        self._drawn = True

    def before_write(self) -> None:
        """Erase the status line: other output is about to be written to the terminal."""
        self._writing += 1
        if self._drawn:
            self._stream.write(CLEAR_LINE)
            self._stream.flush()
            self._drawn = False

    def after_write(self, text: str) -> None:
        """Note that a write ended (a line is half written unless ``text`` ended one)."""
        self._writing = max(0, self._writing - 1)
        if text:
            self._at_line_start = text.endswith("\n")

    def close(self) -> None:
        """Erase the status line, show the cursor again and let go of the terminal."""
        if self._live.is_started:
            if not self._drawn:
                self._console.quiet = True  # stopping draws the line once more; nothing to erase here
            self._live.stop()
            if self._console.quiet:
                self._stream.write("\x1b[?25h")  # the cursor Live hid
        with contextlib.suppress(OSError):
            self._stream.close()


# -- running checkpoints ----------------------------------------------------------------


@dataclass
class RunningCall:
    """A checkpoint call the flow body is waiting on.

    Attributes:
        name: Its invocation id.
        started: When it started (``time.monotonic``).
        next_notice: Off a terminal: the running time at which its next "still running" line is due.
    """

    name: str
    started: float
    next_notice: float


class RunningCheckpoints:
    """The checkpoint calls of this process that are running, and the one display of them.

    A daemon thread ticks every :data:`TICK_SECONDS` while any call runs: on
    a terminal it draws the live status line for the calls running longer
    than :data:`STATUS_AFTER_SECONDS`; elsewhere it prints the "still running"
    lines that are due. It ends, erasing the status line, when the last call ends.

    Args:
        clock: The monotonic clock (tests pass a fake).
        terminal: Whether stdout is a terminal; None asks stdout.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, terminal: bool | None = None) -> None:
        self._clock = clock
        self._terminal = terminal
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: dict[int, RunningCall] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._status: LiveStatus | None = None
        self._guarded: set[int] = set()

    def begin(self, name: str) -> int:
        """Register a running call; return the token that ends it."""
        with self._lock:
            token = next(self._ids)
            self._calls[token] = RunningCall(name, self._clock(), next_notice_after(0))
            if self._thread is None:
                self._thread = threading.Thread(target=self._tick_until_idle, name="kitaru-running", daemon=True)
                self._thread.start()
            return token

    def end(self, token: int) -> None:
        """Unregister a call; erase the status line at once if it was the last one."""
        with self._lock:
            self._calls.pop(token, None)
            if not self._calls:
                self._close_status()
            self._changed.notify_all()

    def running(self) -> list[tuple[str, float]]:
        """``(invocation id, seconds running)`` of every running call, longest running first."""
        now = self._clock()
        with self._lock:
            calls = sorted(self._calls.values(), key=lambda call: call.started)
            return [(call.name, now - call.started) for call in calls]

    def due_notices(self) -> list[str]:
        """The "still running" lines due now (off a terminal); each is due once."""
        now = self._clock()
        lines = []
        with self._lock:
            for call in sorted(self._calls.values(), key=lambda call: call.started):
                seconds = now - call.started
                if seconds >= call.next_notice:
                    lines.append(f"Checkpoint `{call.name}` still running ({format_elapsed(seconds)}).")
                    call.next_notice = next_notice_after(seconds)
        return lines

    def close(self) -> None:
        """Forget every running call and erase the status line (at exit)."""
        with self._lock:
            self._calls.clear()
            self._close_status()
            self._changed.notify_all()

    def _tick_until_idle(self) -> None:
        with self._lock:
            try:
                while self._calls:
                    self._tick()
                    self._changed.wait(TICK_SECONDS)
            finally:
                self._close_status()
                self._thread = None

    def _tick(self) -> None:
        if not self._on_terminal():
            for line in self.due_notices():
                say(line)
            return
        shown = [(name, seconds) for name, seconds in self.running() if seconds >= STATUS_AFTER_SECONDS]
        if shown:
            status = self._open_status()
            if status is not None:
                status.draw(describe_running(shown))

    def _on_terminal(self) -> bool:
        if self._terminal is None:
            try:
                self._terminal = sys.stdout.isatty()
            except (AttributeError, OSError, ValueError):
                self._terminal = False
        return self._terminal

    def _open_status(self) -> LiveStatus | None:
        if self._status is not None:
            return self._status
        try:
            status = LiveStatus(sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):
            self._terminal = False
            return None
        if not status.works:
            status.close()
            self._terminal = False
            return None
        for stream in (sys.stdout, sys.stderr):
            self._guard(stream)
        self._status = status
        return status

    def _close_status(self) -> None:
        status, self._status = self._status, None
        if status is not None:
            status.close()

    def _guard(self, stream: Any) -> None:
        """Make every write to ``stream`` erase the status line first (once per stream object).

        Only terminals are guarded (output redirected elsewhere never shares a
        line with the status). The guard stays for the life of the process and
        does nothing while no status line is shown; the engine wraps
        ``write`` the same way to record output, and either wrapper may be outermost.
        """
        if id(stream) in self._guarded:
            return
        try:
            if not stream.isatty():
                return
        except (AttributeError, OSError, ValueError):
            return
        write = stream.write

        def write_below_status(text: str) -> Any:
            with self._lock:
                status = self._status
                if status is not None:
                    status.before_write()
            try:
                return write(text)
            finally:
                if status is not None:
                    with self._lock:
                        status.after_write(text)

        stream.write = write_below_status
        self._guarded.add(id(stream))


_registry: RunningCheckpoints | None = None
_registry_lock = threading.Lock()


def running_checkpoints() -> RunningCheckpoints:
    """The process's :class:`RunningCheckpoints` (created on first use)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = RunningCheckpoints()
            atexit.register(_registry.close)
        return _registry


@contextlib.contextmanager
def checkpoint_running(name: str) -> Iterator[None]:
    """Show that the checkpoint call ``name`` is running while the block runs (see the module docs).

    Args:
        name: The call's invocation id (``research``, ``research_2``).
    """
    if settings().quiet:
        yield
        return
    registry = running_checkpoints()
    token = registry.begin(name)
    try:
        yield
    finally:
        registry.end(token)


__all__ = [
    "FIRST_NOTICE_SECONDS",
    "MAX_NOTICE_GAP_SECONDS",
    "STATUS_AFTER_SECONDS",
    "LiveStatus",
    "RunningCheckpoints",
    "checkpoint_running",
    "describe_running",
    "format_duration",
    "format_elapsed",
    "next_notice_after",
    "running_checkpoints",
    "say",
]

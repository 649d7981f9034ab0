"""Actions that run flow code (resume, retry, replay), each in a ``kitaru`` CLI process of its own.

Resuming, retrying or replaying an execution runs the flow's body, which can
take minutes and imports the user's code. The dashboard therefore never runs
it in its own process: each action starts the same CLI command a user would
type (``kitaru executions resume ID -o json``), so it behaves exactly as the
CLI does, gives the same errors, and imports the flow's code fresh (a retry
after fixing a bug runs the fixed code).

The child writes to a log file, not a pipe, so it never blocks on a full pipe
and keeps running (the execution stays durable) if the dashboard stops. A
thread per action waits for the child's exit and then reads its JSON result
or error; the page polls :meth:`ActionRunner.get` to follow it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERBS = ("resume", "retry", "replay")
"""The ``kitaru executions`` commands the dashboard runs as actions."""

TAIL_LINES = 40
"""How many of a running action's last output lines the page shows."""


@dataclass
class Action:
    """One CLI process started from the dashboard.

    Attributes:
        action_id: The dashboard's id for it.
        verb: ``resume``, ``retry`` or ``replay``.
        exec_id: The execution it acts on.
        argv: The command line (after ``kitaru``).
        log_path: Where its stderr (progress lines and errors) goes.
        started_at: When it started.
        exit_code: Its exit status once it ended.
        item: The JSON item it printed on success (the execution).
        error: Its error message when it failed.
    """

    action_id: str
    verb: str
    exec_id: str
    argv: list[str]
    log_path: Path
    result_path: Path
    started_at: datetime
    exit_code: int | None = None
    item: dict[str, Any] | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def state(self) -> str:
        """``running``, ``succeeded`` (the command exited 0) or ``failed``."""
        if not self.done.is_set():
            return "running"
        return "succeeded" if self.exit_code == 0 else "failed"

    @property
    def result_exec_id(self) -> str | None:
        """The execution the command reported (a replay's new execution)."""
        return str(self.item["exec_id"]) if self.item and self.item.get("exec_id") else None

    def tail(self) -> list[str]:
        """The last :data:`TAIL_LINES` lines the command printed as progress (JSON errors left out)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        progress = text.split('{\n  "command"', 1)[0]
        return [line for line in progress.splitlines() if line.strip()][-TAIL_LINES:]

    def describe(self) -> dict[str, Any]:
        """The action as the page's script reads it."""
        return {
            "action_id": self.action_id,
            "verb": self.verb,
            "exec_id": self.exec_id,
            "state": self.state,
            "command": "kitaru " + " ".join(self.argv),
            "started_at": self.started_at.isoformat(),
            "exit_code": self.exit_code,
            "error": self.error,
            "result_exec_id": self.result_exec_id,
            "result_status": self.item.get("status") if self.item else None,
            "output": self.tail(),
        }


def _error_message(stderr: str, exit_code: int) -> str:
    """The ``error.message`` of the CLI's JSON error, else the last lines it printed."""
    start = stderr.find('{\n  "command"')
    if start >= 0:
        try:
            error = json.loads(stderr[start:])["error"]
            return str(error.get("message") or error)
        except (ValueError, KeyError, TypeError):
            pass
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "\n".join(lines[-5:]) or f"The command exited with status {exit_code} without a message."


class ActionRunner:
    """Start actions and keep track of them for the life of the dashboard.

    Args:
        cwd: The directory the commands run in (the dashboard's).
        log_dir: Where the commands' output goes (a new temporary directory
            by default).
    """

    def __init__(self, *, cwd: Path | None = None, log_dir: Path | None = None) -> None:
        self.cwd = cwd or Path.cwd()
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="kitaru-ui-actions-"))
        self._actions: dict[str, Action] = {}
        self._lock = threading.Lock()

    def start(self, verb: str, exec_id: str, *options: str) -> Action:
        """Start ``kitaru executions VERB EXEC_ID OPTIONS... -o json`` in a child process.

        Raises:
            ValueError: If ``verb`` is not one of :data:`VERBS`.
        """
        if verb not in VERBS:
            raise ValueError(f"Unknown action {verb!r}; expected one of {', '.join(VERBS)}.")
        action_id = uuid.uuid4().hex[:12]
        argv = ["executions", verb, exec_id, *options, "-o", "json"]
        action = Action(
            action_id=action_id,
            verb=verb,
            exec_id=exec_id,
            argv=argv,
            log_path=self.log_dir / f"{action_id}.log",
            result_path=self.log_dir / f"{action_id}.json",
            started_at=datetime.now(UTC),
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with action.log_path.open("wb") as log, action.result_path.open("wb") as result:
            process = subprocess.Popen(
                [sys.executable, "-m", "kitaru.cli", *argv],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=result,
                stderr=log,
                start_new_session=True,  # Ctrl-C on the dashboard does not interrupt the flow
            )
        with self._lock:
            self._actions[action_id] = action
        threading.Thread(target=self._finish, args=(action, process), name=f"kitaru-ui-{verb}", daemon=True).start()
        return action

    @staticmethod
    def _finish(action: Action, process: subprocess.Popen[bytes]) -> None:
        exit_code = process.wait()
        try:
            printed = action.result_path.read_text(errors="replace")
            action.item = json.loads(printed)["item"] if printed.strip() else None
        except (OSError, ValueError, KeyError, TypeError):
            action.item = None
        if exit_code != 0:
            try:
                stderr = action.log_path.read_text(errors="replace")
            except OSError:
                stderr = ""
            action.error = _error_message(stderr, exit_code)
            if action.item is not None and action.item.get("failure"):
                action.error = f"The execution is {action.item.get('status')}: {action.item['failure']['message']}"
        action.exit_code = exit_code
        action.done.set()

    def get(self, action_id: str) -> Action | None:
        """The action with this id, if this dashboard started it."""
        with self._lock:
            return self._actions.get(action_id)

    def for_execution(self, exec_id: str) -> list[Action]:
        """Actions on an execution (or that made it), newest first."""
        with self._lock:
            actions = list(self._actions.values())
        related = [action for action in actions if exec_id in (action.exec_id, action.result_exec_id)]
        return sorted(related, key=lambda action: action.started_at, reverse=True)


__all__ = ["TAIL_LINES", "VERBS", "Action", "ActionRunner"]

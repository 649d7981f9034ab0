"""The terminal tells the truth: what a person (or a CI log) sees while and after an execution runs.

Real flows (the ``FLOWS`` module below, written into a scratch project as a
user's code would be) run in child processes with a fresh config dir; every
check drives the real ``kitaru`` console script or a real flow process:

* a checkpoint that runs for a while shows a live status line with its
  elapsed time on a terminal (a real pseudo-terminal), erased when it ends and
  never written over other output; off a terminal, a few plain "still
  running" lines instead;
* ``executions get`` says which checkpoints needed more than one attempt;
* after ``executions input`` the status reads "input received, resume to
  continue" (text views; JSON keeps ``status``);
* ``executions list`` fits 80 columns without breaking a word, with ended and
  duration columns and no trailing blank lines;
* ``executions retry ID | head -1`` exits 0 when the retry completed, even
  though ``head`` stops reading early.

The gated flow's checkpoint waits for a file the test creates; the test
polls the process's output with a deadline, it never sleeps to wait.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CLEAR_LINE = "\r\x1b[2K"
DEADLINE_SECONDS = 120

FLOWS = """
import os
import sys
import time
from pathlib import Path

import kitaru
from kitaru.execution import console

GATE = Path(os.environ.get("TRUTH_GATE", "."))
COUNTS = Path(os.environ.get("TRUTH_COUNTS", "."))


@kitaru.checkpoint
def truth_quick(word: str) -> str:
    return word


@kitaru.checkpoint
def truth_slow(word: str) -> str:
    while not (GATE / "go").exists():  # the test opens the gate
        time.sleep(0.05)
    print("gate opened")
    return word


@kitaru.flow
def truth_gated(word: str) -> str:
    return truth_slow(truth_quick(word))


@kitaru.checkpoint(retries=2)
def truth_flaky(word: str) -> str:
    path = COUNTS / f"flaky-{word}"
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    if attempt == 1:
        raise RuntimeError("the first attempt fails")
    return word


@kitaru.flow
def truth_flaky_flow(word: str) -> str:
    return truth_flaky(word)


@kitaru.flow
def truth_asks(word: str) -> str:
    answer = kitaru.wait(schema=bool, question=f"Go on with {word}?", timeout=1)
    return f"{word}: {answer}"


@kitaru.checkpoint
def truth_fragile(word: str) -> int:
    if not (COUNTS / "fragile-fixed").exists():
        raise RuntimeError("not fixed yet")
    for index in range(2000):  # 200 KB: more than a pipe holds, so `| head -1` closes it mid-run
        print(f"{word} line {index:05d} " + "y" * 90)
    return 2000


@kitaru.flow
def truth_retried(word: str) -> int:
    return truth_fragile(word)


if __name__ == "__main__":
    if os.environ.get("TRUTH_FIRST_NOTICE"):  # the first "still running" line sooner, for the test
        console.FIRST_NOTICE_SECONDS = float(os.environ["TRUTH_FIRST_NOTICE"])
    for spec in sys.argv[1:]:
        name, word = spec.split(":")
        handle = globals()[name].run(word)
        print("EXEC", name, handle.exec_id, flush=True)
        if name == "truth_asks":
            continue  # paused: nothing to wait for in this process
        try:
            handle.wait()
        except Exception:
            pass
"""


@dataclass(frozen=True)
class Store:
    config_dir: Path
    project: Path
    counts: Path
    ids: dict[str, str]

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "TRUTH_COUNTS": str(self.counts),
            "KITARU_WAIT_POLL_INTERVAL": "0.2",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
        values.update(extra)
        return subprocess_env(self.config_dir, **values)

    def kitaru(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KITARU), *args],
            cwd=self.project,
            env=self.env(**env),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=180,
        )

    def run_flows(self, *specs: str, **env: str) -> dict[str, str]:
        ran = subprocess.run(
            [sys.executable, "truth_flows.py", *specs],
            cwd=self.project,
            env=self.env(**env),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        assert ran.returncode == 0, ran.stderr[-3000:]
        return exec_ids(ran.stdout)


def exec_ids(stdout: str) -> dict[str, str]:
    return {
        f"{name}:{index}": exec_id
        for index, (name, exec_id) in enumerate(re.findall(rf"^EXEC (\w+) ({UUID})$", stdout, re.M))
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("terminal-truth")
    for name in ("config", "project", "counts"):
        (root / name).mkdir()
    (root / "project" / "truth_flows.py").write_text(FLOWS)
    store = Store(root / "config", root / "project", root / "counts", {})
    ids = store.run_flows("truth_flaky_flow:one", "truth_asks:first", "truth_asks:second", "truth_retried:beta")
    store.ids.update(
        {
            "flaky": ids["truth_flaky_flow:0"],
            "asks": ids["truth_asks:1"],
            "answered": ids["truth_asks:2"],
            "retried": ids["truth_retried:3"],
        }
    )
    answered = store.kitaru("executions", "input", store.ids["answered"], "--value", "true")
    assert answered.returncode == 0, answered.stderr
    return store


# -- a checkpoint that runs a while ----------------------------------------------------------


class Terminal:
    """A process on a pseudo-terminal, and everything it wrote there."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
        os.close(slave)
        self.master = master
        self.raw = ""

    def read_until(self, done: Any, what: str, timeout: float = DEADLINE_SECONDS) -> str:
        """Read until ``done(raw)`` is true (or the process ends); fail naming ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not done(self.raw):
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {timeout:.0f}s; the terminal showed:\n{self.raw!r}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                if self.process.poll() is not None:
                    pytest.fail(f"the process ended (exit {self.process.returncode}) before {what}:\n{self.raw!r}")
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the process closed the terminal
                chunk = b""
            if not chunk:
                pytest.fail(f"the terminal closed before {what}:\n{self.raw!r}")
            self.raw += chunk.decode(errors="replace")
        return self.raw

    def close(self) -> int:
        code = self.process.wait(timeout=DEADLINE_SECONDS)
        with_rest = True
        while with_rest:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            try:
                chunk = os.read(self.master, 4096) if ready else b""
            except OSError:
                chunk = b""
            self.raw += chunk.decode(errors="replace")
            with_rest = bool(chunk)
        os.close(self.master)
        return code


STATUS = re.compile(r"Checkpoint `truth_slow` running \((\d+)s\)")


def test_a_long_checkpoint_shows_a_live_status_on_a_terminal(store: Store, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    terminal = Terminal(
        [sys.executable, "truth_flows.py", "truth_gated:tty"],
        cwd=store.project,
        env=store.env(TRUTH_GATE=str(gate), TERM="xterm", COLUMNS="100"),
    )
    try:
        # The status appears after a couple of seconds and counts up: two different elapsed times.
        terminal.read_until(lambda raw: len(set(STATUS.findall(raw))) >= 2, "live status with a growing time")
        (gate / "go").write_text("open")
        raw = terminal.read_until(lambda raw: "Execution " in raw and " completed in " in raw, "the end line")
    finally:
        code = terminal.close()
    assert code == 0, terminal.raw
    raw = terminal.raw
    assert "truth_quick` running" not in raw  # a quick checkpoint shows no status
    assert "\x1b[?25l" in raw  # rich's Live hides the cursor while it draws...
    last_status = max(match.end() for match in STATUS.finditer(raw))
    after = raw[last_status:]
    assert "\x1b[?25h" in after  # ...and shows it again
    # What the checkpoint printed comes on a line of its own: the status line is erased first.
    assert after.startswith(CLEAR_LINE + "gate opened\r\n"), after
    assert STATUS.search(after) is None  # nothing drew the status again once it ended
    lines = [line for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw[last_status:]).split("\r\n") if line.strip()]
    assert re.fullmatch(r"\s*gate opened", lines[0]), lines
    assert re.fullmatch(r"Checkpoint `truth_slow` finished in \d+\.\d\ds\.", lines[1]), lines

    # The status line is terminal decoration only: it is not in the stored logs.
    exec_id = re.search(rf"Execution ({UUID}) completed", raw).group(1)
    for source in ("step", "runner"):
        stored = store.kitaru("executions", "logs", exec_id, "--source", source, "-vv")
        assert stored.returncode == 0 and "running (" not in stored.stdout, stored


def test_a_long_checkpoint_prints_a_few_plain_lines_off_a_terminal(store: Store, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    process = subprocess.Popen(
        [sys.executable, "truth_flows.py", "truth_gated:pipe"],
        cwd=store.project,
        env=store.env(TRUTH_GATE=str(gate), TRUTH_FIRST_NOTICE="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    # Due after 1 s, then 2 s, then 4 s of running: wait for the third before opening the gate.
    while not any("still running (4s)." in line for line in lines):
        assert time.monotonic() < deadline and process.poll() is None, lines
        reader.join(0.1)
    (gate / "go").write_text("open")
    assert process.wait(timeout=DEADLINE_SECONDS) == 0, lines
    reader.join(10)
    notices = [line.rstrip("\n") for line in lines if "still running" in line]
    assert notices[:3] == [
        "Checkpoint `truth_slow` still running (1s).",
        "Checkpoint `truth_slow` still running (2s).",
        "Checkpoint `truth_slow` still running (4s).",
    ], lines
    assert len(notices) <= 4, notices  # gaps double: no line every second
    assert not [line for line in lines if "\x1b" in line or "\r" in line], lines  # no terminal codes in a log


# -- executions get, list ------------------------------------------------------------------


def test_get_says_which_checkpoints_took_several_attempts(store: Store) -> None:
    shown = store.kitaru("executions", "get", store.ids["flaky"])
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"│ Attempts\s+truth_flaky: completed after 2 attempts\s+│", shown.stdout), shown.stdout

    once = store.kitaru("executions", "get", store.ids["answered"])
    assert "Attempts" not in once.stdout  # nothing ran twice there


def test_after_input_the_status_says_resume(store: Store) -> None:
    exec_id = store.ids["asks"]
    before = store.kitaru("executions", "get", exec_id)
    assert re.search(r"│ Status\s+waiting\s+│", before.stdout), before.stdout

    answered = store.kitaru("executions", "input", exec_id, "--value", "true")
    assert answered.returncode == 0, answered.stderr

    after = store.kitaru("executions", "get", exec_id)
    assert re.search(r"│ Status\s+input received, resume to continue\s+│", after.stdout), after.stdout
    assert f"Continue it with: kitaru executions resume {exec_id}" in after.stdout
    listed = store.kitaru("executions", "list", "--flow", "truth_asks")
    row = next(line for line in listed.stdout.splitlines() if exec_id in line)
    assert "input received, resume to continue" in row

    # JSON keeps the SPEC's status; the answered wait is no longer pending.
    item = json.loads(store.kitaru("executions", "get", exec_id, "-o", "json").stdout)["item"]
    assert (item["status"], item["pending_wait"]) == ("waiting", None)

    resumed = store.kitaru("executions", "resume", exec_id)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"│ Status\s+completed\s+│", resumed.stdout), resumed.stdout


def test_list_fits_80_columns_without_breaking_words(store: Store) -> None:
    listed = store.kitaru("executions", "list", COLUMNS="80")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert out.endswith("\n") and not out.endswith("\n\n"), repr(out[-200:])
    lines = out.splitlines()
    assert lines[-1].strip(), lines  # the table ends with its last row
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    header = next(line for line in lines if line.startswith("ID"))
    assert header.split()[:3] == ["ID", "Flow", "Status"] and "Ended" in header and header.endswith("Duration")

    # Every row starts with an id prefix that `kitaru` accepts back, and no word is cut.
    rows = {exec_id: next(line for line in lines if line.startswith(exec_id[:8])) for exec_id in store.ids.values()}
    flaky = rows[store.ids["flaky"]]
    assert "truth_flaky_flow" in flaky and "completed" in flaky
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d\s+\d+\.\ds$", flaky), flaky  # ended, duration
    answered = lines.index(rows[store.ids["answered"]])
    # The long status wraps at spaces onto the next line: its words stay whole and in order.
    cells = " ".join(lines[answered : answered + 2]).split()
    status_words = [word for word in cells if word not in (store.ids["answered"][:8], "truth_asks", "-")]
    assert status_words == "input received, resume to continue".split(), lines[answered : answered + 2]
    words = set(out.split())
    for word in ("truth_flaky_flow", "truth_asks", "truth_retried", "completed"):
        assert word in words, word

    prefix = store.ids["flaky"][:8]
    shown = store.kitaru("executions", "get", prefix)
    assert shown.returncode == 0 and store.ids["flaky"] in shown.stdout, shown


# -- output read by a pipe that closes early -----------------------------------------------


def test_retry_piped_into_head_exits_0_when_the_retry_completed(store: Store) -> None:
    exec_id = store.ids["retried"]
    (store.counts / "fragile-fixed").write_text("yes")
    pipeline = f"set -o pipefail; {shlex.quote(str(KITARU))} executions retry {exec_id} | head -1"
    piped = subprocess.run(
        ["bash", "-c", pipeline],
        cwd=store.project,
        env=store.env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert piped.returncode == 0, piped
    assert piped.stdout == f"Retrying execution `{exec_id}`.\n", piped.stdout
    assert "Error" not in piped.stderr and "BrokenPipe" not in piped.stderr, piped.stderr

    after = store.kitaru("executions", "get", exec_id)
    assert re.search(r"│ Status\s+completed\s+│", after.stdout), after.stdout
    assert "truth_fragile: completed after 2 attempts" in after.stdout

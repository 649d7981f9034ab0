"""What ``kitaru executions logs`` shows: the user's code, not the machinery (SPEC §7, docs/lifecycle.md).

Real flows run once, in a child process with a fresh config dir, from a
scratch project (the flows below are a user's module); every check drives
the real ``kitaru`` console script against that store:

* ``--checkpoint`` with a name that is no call of the execution fails (exit
  1) and lists the execution's checkpoints, in text, JSON and ``--follow``;
* a traceback shows the user's frames by default, with one line saying how
  many of Kitaru's and the engine's frames were hidden; ``-vv`` shows them
  all. Both shapes a traceback is stored in are covered: one entry holding it
  all (a failed checkpoint, a failed flow body) and one entry per line
  (``traceback.print_exc()`` in a checkpoint).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

FLOWS = """
import sys
import traceback

import kitaru


@kitaru.checkpoint
def view_prepare(word: str) -> str:
    print(f"prepare {word}")
    return word


def reject(word: str) -> str:
    raise ValueError(f"cannot handle {word!r}")


@kitaru.checkpoint
def view_explode(word: str) -> str:
    print("about to explode")
    return reject(word)


@kitaru.flow
def view_failing(word: str) -> str:
    return view_explode(view_prepare(word))


@kitaru.checkpoint
def view_print_exc(word: str) -> str:
    try:
        kitaru.wait(schema=bool, name="not_here")  # raises in Kitaru's code: no wait in a checkpoint
    except Exception:
        traceback.print_exc()  # one stored entry per line
    print(f"carried on with {word}")
    return word


@kitaru.flow
def view_caught(word: str) -> str:
    return view_print_exc(word)


@kitaru.flow
def view_body_fails(word: str) -> str:
    view_prepare(word)
    return reject(word + "!")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        handle = globals()[name].run("alpha")
        print(name, handle.exec_id)
        try:
            handle.wait()
        except Exception:
            pass
"""

ENGINE_FRAMES = ("step_runner.py", "base_step.py", "site-packages/zenml", "kitaru/execution/", "kitaru/primitives.py")
"""Paths of frames the default view must not show (the engine's and Kitaru's)."""


@dataclass(frozen=True)
class Store:
    config_dir: Path
    project: Path
    failing: str
    caught: str
    body_fails: str

    def kitaru(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KITARU), *args],
            cwd=self.project,
            env=subprocess_env(self.config_dir, COLUMNS="200", NO_COLOR="1"),
            capture_output=True,
            text=True,
            timeout=180,
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("logs-view")
    config_dir, project = root / "config", root / "project"
    config_dir.mkdir()
    project.mkdir()
    (project / "view_flows.py").write_text(FLOWS)
    ran = subprocess.run(
        [sys.executable, "view_flows.py", "view_failing", "view_caught", "view_body_fails"],
        cwd=project,
        env=subprocess_env(config_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    ids = dict(re.findall(rf"^(view_\w+) ({UUID})$", ran.stdout, re.M))
    return Store(config_dir, project, ids["view_failing"], ids["view_caught"], ids["view_body_fails"])


def machinery_frames(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if line.lstrip().startswith('File "') and any(part in line for part in ENGINE_FRAMES)
    ]


# -- --checkpoint that names no call ---------------------------------------------------


def test_unknown_checkpoint_fails_and_lists_the_checkpoints(store: Store) -> None:
    text = store.kitaru("executions", "logs", store.failing, "--checkpoint", "nosuch")
    assert (text.returncode, text.stdout) == (1, ""), text
    message = text.stderr.strip()
    assert message.startswith(f"Error: Execution {store.failing} has no checkpoint 'nosuch'."), message
    assert "Its checkpoints: view_prepare, view_explode." in message

    as_json = store.kitaru("executions", "logs", store.failing, "--checkpoint", "nosuch", "-o", "json")
    assert (as_json.returncode, as_json.stdout) == (1, "")
    error = json.loads(as_json.stderr)
    assert error["command"] == "executions.logs"
    assert error["error"]["type"] == "KitaruUsageError"
    assert "Its checkpoints: view_prepare, view_explode." in error["error"]["message"]

    follow = store.kitaru("executions", "logs", store.failing, "--checkpoint", "nosuch", "--follow")
    assert (follow.returncode, follow.stdout) == (1, "")
    assert "has no checkpoint 'nosuch'" in follow.stderr

    # A checkpoint that exists still works, by name.
    known = store.kitaru("executions", "logs", store.failing, "--checkpoint", "view_prepare")
    assert (known.returncode, known.stdout) == (0, "prepare alpha\n"), known


# -- tracebacks --------------------------------------------------------------------------


def test_a_failed_checkpoint_shows_the_users_frames_by_default(store: Store) -> None:
    default = store.kitaru("executions", "logs", store.failing)
    assert default.returncode == 0, default.stderr
    out = default.stdout
    assert "about to explode" in out
    assert re.search(r'File ".*view_flows\.py", line \d+, in view_explode', out), out
    assert re.search(r'File ".*view_flows\.py", line \d+, in reject', out), out
    assert out.rstrip().endswith("ValueError: cannot handle 'alpha'"), out
    assert machinery_frames(out) == [], out
    hidden = re.findall(r"^  \[(\d+) Kitaru/engine frames? hidden\]$", out, re.M)
    assert len(hidden) == 1 and int(hidden[0]) >= 3, out

    verbose = store.kitaru("executions", "logs", store.failing, "-v")
    assert machinery_frames(verbose.stdout) == [] and "Kitaru/engine frame" in verbose.stdout

    everything = store.kitaru("executions", "logs", store.failing, "-vv")
    assert everything.returncode == 0
    for frame in ("step_runner.py", "base_step.py", "checkpoint_body.py"):
        assert frame in everything.stdout, frame
    assert "hidden]" not in everything.stdout


def test_a_traceback_printed_line_by_line_is_folded_as_one(store: Store) -> None:
    # Stored one entry per line: the header, each frame, the exception line.
    entries = json.loads(store.kitaru("executions", "logs", store.caught, "-o", "json").stdout)["items"]
    messages = [entry["message"] for entry in entries]
    header = messages.index("Traceback (most recent call last):")
    assert any("kitaru/primitives.py" in message for message in messages[header + 1 :]), messages

    out = store.kitaru("executions", "logs", store.caught).stdout
    lines = out.splitlines()
    block = lines[lines.index("Traceback (most recent call last):") : lines.index("carried on with alpha")]
    # The user's frame (with its source and caret lines), the one hidden frame, the exception.
    assert re.fullmatch(r'  File ".*view_flows\.py", line \d+, in view_print_exc', block[1]), block
    assert block[2].strip().startswith("kitaru.wait("), block
    assert all(line.startswith("    ") for line in block[3:-2]), block
    assert block[-2:] == [
        "  [1 Kitaru/engine frame hidden]",
        "kitaru.errors.KitaruContextError: wait() cannot be called inside a @checkpoint. "
        "Call wait() in the flow body instead.",
    ], block
    assert machinery_frames(out) == []

    timed = store.kitaru("executions", "logs", store.caught, "-v").stdout.splitlines()
    stamped = [line for line in timed if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line)]
    # One timestamped entry for the whole traceback, then the line printed after it.
    assert [line.split(maxsplit=3)[3] for line in stamped] == [
        "Traceback (most recent call last):",
        "carried on with alpha",
    ], timed

    grouped = store.kitaru("executions", "logs", store.caught, "--grouped").stdout
    assert "  [1 Kitaru/engine frame hidden]" in grouped and machinery_frames(grouped) == []

    everything = store.kitaru("executions", "logs", store.caught, "-vv").stdout
    assert "kitaru/primitives.py" in everything and "hidden]" not in everything


def test_a_failed_flow_body_shows_the_users_frames_in_runner_logs(store: Store) -> None:
    out = store.kitaru("executions", "logs", store.body_fails, "--source", "runner").stdout
    assert re.search(r'File ".*view_flows\.py", line \d+, in view_body_fails', out), out
    assert re.search(r'File ".*view_flows\.py", line \d+, in reject', out), out
    assert "ValueError: cannot handle 'alpha!'" in out
    assert machinery_frames(out) == [], out
    assert re.search(r"^  \[\d+ Kitaru/engine frames hidden\]$", out, re.M), out

    everything = store.kitaru("executions", "logs", store.body_fails, "--source", "runner", "-vv").stdout
    assert "site-packages/zenml" in everything and "kitaru/execution/flow_body.py" in everything


def test_follow_shows_the_same_view(store: Store) -> None:
    followed = store.kitaru("executions", "logs", store.failing, "--follow")
    assert followed.returncode == 1  # the execution failed
    out = followed.stdout
    assert re.search(r'File ".*view_flows\.py", line \d+, in reject', out), out
    assert machinery_frames(out) == [] and "Kitaru/engine frames hidden]" in out
    assert "[Execution failed: ValueError: cannot handle 'alpha']" in out

    everything = store.kitaru("executions", "logs", store.failing, "--follow", "-vv").stdout
    assert "step_runner.py" in everything

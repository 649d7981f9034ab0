"""The tutorial's commands, a shell that runs them in a fresh venv, and the tutorial's parts.

``docs/plugins/tutorial.md`` walks through ``examples/plugins/kitaru-example``.
Two tests keep it true:

* ``test_tutorial.py`` (fast, static): every code block that claims to be a
  file of the example (a caption ```src/kitaru_example/plugin.py`:``) is that
  file, every excerpt (``From `...`:``) is in it, and the commands the
  tutorial shows are exactly :data:`COMMANDS`;
* ``test_example_plugin.py`` (slow): runs every one of :data:`COMMANDS` with
  :class:`Shell` in a fresh venv, and checks the output the tutorial shows
  under each command against what it printed.

Commands are written as a user types them. Two things are filled in when one
runs: placeholders in capitals (``EXEC_ID``), and ``pip install``, which runs
as ``uv pip install`` (the same install from the same path, resolved offline
from uv's cache and the lock, see :mod:`tests.venvs`).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.venvs import ROOT, FreshVenv

EXAMPLE = ROOT / "examples" / "plugins" / "kitaru-example"
TUTORIAL = ROOT / "docs" / "plugins" / "tutorial.md"

INSTALL = "pip install ./kitaru-example"
INSTALL_FOR_TESTS = "pip install './kitaru-example[test]'"
LIST_PLUGINS = "kitaru plugins"
ENTER_EXAMPLE = "cd kitaru-example"
RUN_PLUGIN_TESTS = "pytest"
CREATE_HELP = "kitaru stack create --help"
STACK_TYPES = "kitaru stack types"
CREATE_WITHOUT_DIR = "kitaru stack create notes --type shelf"
CREATE_SHELF = "kitaru stack create notes --type shelf --shelf-dir ./shelf"
TAKE_NOTE = "python demo/notes_flow.py take otters"
RECALL = "python demo/notes_flow.py recall EXEC_ID"
SHOW_EXECUTION = "kitaru executions get EXEC_ID -o json"
SHOW_LOGS = "kitaru executions logs EXEC_ID"
SET_LOG_STORE = "kitaru log-store set example-jsonl"

COMMANDS: tuple[str, ...] = (
    INSTALL,
    LIST_PLUGINS,
    INSTALL_FOR_TESTS,
    ENTER_EXAMPLE,
    RUN_PLUGIN_TESTS,
    CREATE_HELP,
    STACK_TYPES,
    CREATE_WITHOUT_DIR,
    CREATE_SHELF,
    TAKE_NOTE,
    RECALL,
    SHOW_EXECUTION,
    SHOW_LOGS,
    SET_LOG_STORE,
)
"""Every command the tutorial shows, in its order; the e2e test runs each one."""

PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]*[A-Z]\b")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
WIDTH = "100"
"""Terminal width for rich's tables and help texts, so the output the tutorial shows is stable."""


@dataclass
class Shell:
    """Runs the tutorial's commands in a fresh venv, like a user's shell with it activated.

    Attributes:
        venv: The environment whose ``kitaru``, ``python`` and ``pytest`` run.
        cwd: The working directory; ``cd`` changes it.
        config: The Kitaru config dir of this shell (one per test).
        ran: The commands run so far, as written.
        outputs: Each command's stdout followed by its stderr.
    """

    venv: FreshVenv
    cwd: Path
    config: Path
    ran: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in self.venv.env().items() if not k.startswith(("KITARU_", "ZENML_"))}
        env.update(
            KITARU_CONFIG_PATH=str(self.config),
            ZENML_ANALYTICS_OPT_IN="false",
            KITARU_RAISE_PLUGIN_ERRORS="1",
            PYTHONUNBUFFERED="1",
            COLUMNS=WIDTH,
            TERM="dumb",
        )
        return env

    def run(self, command: str, *, returncode: int = 0, **values: str) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (one of :data:`COMMANDS`), with its placeholders filled in from ``values``.

        Raises:
            AssertionError: When the command is not a tutorial command, a
                placeholder has no value, or it exits with another code.
        """
        assert command in COMMANDS, f"{command!r} is not a tutorial command; add it to COMMANDS and the tutorial"
        missing = sorted(set(PLACEHOLDER.findall(command)) - set(values))
        assert not missing, f"{command!r} needs values for {missing}"
        words = [values.get(word, word) for word in shlex.split(command)]
        self.ran.append(command)
        if words[0] == "cd":
            self.cwd = (self.cwd / words[1]).resolve()
            assert self.cwd.is_dir(), self.cwd
            self.outputs[command] = ""
            return subprocess.CompletedProcess(words, 0, "", "")
        if words[:2] == ["pip", "install"]:
            self.venv.install(*words[2:], cwd=self.cwd)
            self.outputs[command] = ""
            return subprocess.CompletedProcess(words, 0, "", "")
        result = subprocess.run(
            [str(self.venv.bin / words[0]), *words[1:]],
            cwd=self.cwd, env=self.env(), capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == returncode, (
            f"`{command}` exited {result.returncode}, expected {returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        self.outputs[command] = result.stdout + result.stderr
        return result


# -- the tutorial's parts -----------------------------------------------------------------------

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
FILE_CAPTION = re.compile(r"^`([\w./-]+)`:$")
EXCERPT_CAPTION = re.compile(r"^From `([\w./-]+)`:$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of the tutorial.

    Attributes:
        language: The fence's language (``python``, ``toml``, ``console`` ...).
        text: The block's text, ending with a newline.
        caption: The line before the block (````src/x.py`:`` or ``From `src/x.py`:``).
        line: The block's first line in the tutorial (1-based), for messages.
    """

    language: str
    text: str
    caption: str
    line: int

    @property
    def file(self) -> tuple[str, bool] | None:
        """``(path in the example, whole file?)`` when the caption names a file of the example."""
        for pattern, whole in ((FILE_CAPTION, True), (EXCERPT_CAPTION, False)):
            match = pattern.match(self.caption)
            if match:
                return match.group(1), whole
        return None


def blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of ``markdown``, each with the non-blank line before it."""
    found = []
    for match in FENCE.finditer(markdown):
        before = markdown[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        line = markdown.count("\n", 0, match.start()) + 2
        found.append(Block(match.group(1), match.group(2), before, line))
    return found


@dataclass(frozen=True)
class Transcript:
    """One ``$ command`` of a console block and the output shown under it."""

    command: str
    output: tuple[str, ...]


def transcripts(block: Block) -> list[Transcript]:
    """The commands of a console block (``$ ...`` lines), each with the lines shown after it."""
    found: list[Transcript] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            found.append(Transcript(line[2:].strip(), ()))
        elif found:
            last = found[-1]
            found[-1] = Transcript(last.command, (*last.output, line))
        elif line.strip():
            raise AssertionError(f"tutorial.md:{block.line}: console output before any command: {line!r}")
    return found


def line_pattern(shown: str) -> re.Pattern[str]:
    """A shown output line as a pattern in which any execution id and any duration (``0.38s``) match."""
    parts = re.split(f"({UUID})", shown.rstrip())
    pattern = "".join(UUID if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(re.sub(r"\d+\\\.\d+s", r"\\d+\\.\\d+s", pattern))


def check_output(shown: tuple[str, ...], actual: str) -> None:
    """Every shown line appears, in order, among the actual lines (``...`` stands for lines left out).

    Raises:
        AssertionError: Naming the first shown line that is not there.
    """
    lines = [line.rstrip() for line in actual.splitlines()]
    position = 0
    for shown_line in shown:
        if not shown_line.strip() or shown_line.strip() == "...":
            continue
        pattern = line_pattern(shown_line)
        for index in range(position, len(lines)):
            if pattern.fullmatch(lines[index]):
                position = index + 1
                break
        else:
            raise AssertionError(f"The tutorial shows {shown_line!r}, but the output was:\n{actual}")


def tutorial_transcripts() -> list[Transcript]:
    """Every command the tutorial shows, with its output, in order."""
    return [t for block in blocks(TUTORIAL.read_text()) if block.language == "console" for t in transcripts(block)]


def copy_example(destination: Path) -> Path:
    """Copy the example as a third party has it (no caches), into ``destination/kitaru-example``."""
    target = destination / "kitaru-example"
    for source in sorted(EXAMPLE.rglob("*")):
        relative = source.relative_to(EXAMPLE)
        if any(part.startswith(".") or part in ("__pycache__", "shelf") for part in relative.parts):
            continue  # caches and what a local run left behind
        if source.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
        else:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(source.read_bytes())
    return target


__all__ = [
    "COMMANDS",
    "EXAMPLE",
    "TUTORIAL",
    "UUID",
    "Block",
    "Shell",
    "Transcript",
    "blocks",
    "check_output",
    "copy_example",
    "transcripts",
    "tutorial_transcripts",
]

"""docs/plugins/tutorial.md shows the example plugin's real code and only commands the e2e test runs.

A code block captioned ```path`:`` must be that file of
``examples/plugins/kitaru-example``; one captioned ``From `path`:`` must be
an excerpt of it (its lines appear in the file in the same order, contiguous
except where the block has a ``...`` line). Every ``python`` and ``toml``
block must be one or the other. The commands of the ``console`` blocks must
be exactly the ones ``test_example_plugin.py`` runs
(:data:`~tests.e2e.walkthrough.COMMANDS`), in the same order; that test
checks the output shown under each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.walkthrough import COMMANDS, EXAMPLE, TUTORIAL, Block, blocks, transcripts, tutorial_transcripts

CHECKED_LANGUAGES = ("python", "toml")


def tutorial_blocks() -> list[Block]:
    return blocks(TUTORIAL.read_text())


def chunks(text: str) -> list[list[str]]:
    """The block's lines, split at ``...`` lines (lines left out of an excerpt)."""
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == "...":
            parts.append([])
        else:
            parts[-1].append(line)
    return [part for part in parts if part]


def find_in_order(parts: list[list[str]], lines: list[str]) -> str | None:
    """None if each part occurs in ``lines`` as a contiguous run, after the previous one; else the first missing line."""
    position = 0
    for part in parts:
        for start in range(position, len(lines) - len(part) + 1):
            if lines[start : start + len(part)] == part:
                position = start + len(part)
                break
        else:
            return part[0]
    return None


FILE_BLOCKS = [block for block in tutorial_blocks() if block.file is not None]


@pytest.mark.parametrize("block", FILE_BLOCKS, ids=lambda block: f"line{block.line}")
def test_code_blocks_are_the_example_files(block: Block) -> None:
    assert block.file is not None
    relative, whole = block.file
    path = EXAMPLE / relative
    assert path.is_file(), f"tutorial.md:{block.line} names {relative}, which the example does not have"
    text = path.read_text()
    if whole:
        assert block.text == text, f"tutorial.md:{block.line} differs from {relative}; paste the file again"
    else:
        missing = find_in_order(chunks(block.text), text.splitlines())
        assert missing is None, f"tutorial.md:{block.line}: {missing!r} is not in {relative} (in this order)"


def test_every_code_block_is_checked() -> None:
    unchecked = [
        block.line for block in tutorial_blocks() if block.language in CHECKED_LANGUAGES and block.file is None
    ]
    assert not unchecked, (
        f"tutorial.md lines {unchecked}: caption each python/toml block with `path`: (a whole file) or "
        "From `path`: (an excerpt), so this test can check it against the example"
    )
    assert {block.file[0] for block in FILE_BLOCKS if block.file} >= {
        "pyproject.toml", "src/kitaru_example/plugin.py", "src/kitaru_example/stacks.py",
        "src/kitaru_example/serializers.py", "src/kitaru_example/llm.py", "src/kitaru_example/log_store.py",
        "tests/test_contracts.py", "demo/notes_flow.py",
    }


def test_the_commands_are_the_ones_the_e2e_test_runs() -> None:
    shown = [transcript.command for transcript in tutorial_transcripts()]
    assert shown == list(COMMANDS), (
        "The tutorial's commands differ from tests/e2e/walkthrough.py COMMANDS (which test_example_plugin.py "
        f"runs); change both together.\ntutorial: {shown}\nCOMMANDS: {list(COMMANDS)}"
    )


def test_the_readme_shows_only_tutorial_commands() -> None:
    readme = blocks((EXAMPLE / "README.md").read_text())
    shown = {t.command for block in readme if block.language == "console" for t in transcripts(block)}
    # The README runs the demo from the example's directory, as the tutorial does after `cd kitaru-example`.
    assert shown <= set(COMMANDS), sorted(shown - set(COMMANDS))


def test_the_layout_lists_the_example_files() -> None:
    [layout] = [block for block in tutorial_blocks() if block.text.startswith("kitaru-example/\n")]
    listed = set(re.findall(r"[\w.]+\.(?:py|toml|md|typed)\b", layout.text))
    files = {
        path.name for path in EXAMPLE.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(EXAMPLE).parts)
    }
    assert listed == files, f"layout lists {sorted(listed - files)} that do not exist, misses {sorted(files - listed)}"


def test_writing_a_plugin_points_to_the_tutorial() -> None:
    guide = (Path(TUTORIAL).parent / "writing-a-plugin.md").read_text()
    assert "(tutorial.md)" in guide

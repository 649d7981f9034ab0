"""The code-quality gates of DESIGN.md ("Layers"), run as tests so CI enforces them.

* ruff (lint and import order) over every Python file of the repository;
* mypy over the plugin packages' sources (configured in ``pyproject.toml``);
* import-linter: no import cycles at any depth, only the adapter imports the
  engine, the adapter knows only the port, and the layers point one way;
* ``tools/code_metrics.py --check``: no Kitaru module imported inside a
  function, no private name imported across modules, no module cycle.

Each gate is the same command a developer runs (README, "Development").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _assert_clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def test_ruff_is_clean() -> None:
    _assert_clean(_run(str(BIN / "ruff"), "check", "."), "ruff check .")


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    _assert_clean(_run(str(BIN / "mypy"), timeout=900), "mypy")


def test_import_layers_hold() -> None:
    _assert_clean(_run(str(BIN / "lint-imports")), "lint-imports")


def test_no_hidden_imports_private_imports_or_cycles() -> None:
    _assert_clean(_run(sys.executable, "tools/code_metrics.py", "--check"), "tools/code_metrics.py --check")


def test_every_package_ships_py_typed() -> None:
    packages = sorted((ROOT / "packages").glob("*/src/*/__init__.py"))
    assert packages
    missing = [str(init.parent.relative_to(ROOT)) for init in packages if not (init.parent / "py.typed").exists()]
    assert not missing, f"packages without py.typed: {missing}"

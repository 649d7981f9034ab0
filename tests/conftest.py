"""Shared test setup: every test runs against an isolated Kitaru config dir.

The engine keeps process-wide state (its global config and store client), so
in-process tests share one config dir created for the session under pytest's
temp root, never the user's. Tests that need a brand-new store run their flow
in a subprocess with the ``fresh_config_dir`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_SESSION_CONFIG = Path(tempfile.mkdtemp(prefix="kitaru-tests-"))
os.environ["KITARU_CONFIG_PATH"] = str(_SESSION_CONFIG)
os.environ["ZENML_CONFIG_PATH"] = str(_SESSION_CONFIG)
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.pop("KITARU_SERVER_URL", None)
os.environ.pop("KITARU_AUTH_TOKEN", None)


@pytest.fixture
def fresh_manager() -> Iterator[None]:
    """Load plugins from scratch, and leave no manager behind for other tests."""
    from kitaru.plugins import reset_plugin_manager

    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def fresh_config_dir(tmp_path: Path) -> Path:
    """A config dir nobody has used yet (for subprocess tests)."""
    path = tmp_path / "kitaru-config"
    path.mkdir()
    return path


def subprocess_env(config_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process using ``config_dir`` as its Kitaru config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env.update(
        KITARU_CONFIG_PATH=str(config_dir),
        ZENML_ANALYTICS_OPT_IN="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_python(script: Path | str, config_dir: Path, *args: str, cwd: Path | None = None,
               timeout: float = 300, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run a Python script in a child process with its own config dir."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd or Path(script).parent,
        env=subprocess_env(config_dir, **extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )

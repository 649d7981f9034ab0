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
# Warm CLI helpers (kitaru.cli.warm) that the tests' `kitaru` commands leave behind live in this
# process's own folder, and are stopped when the session ends (pytest_sessionfinish).
_HELPERS_RUNTIME_DIR = Path(tempfile.mkdtemp(prefix="kitaru-rt-"))
os.environ["XDG_RUNTIME_DIR"] = str(_HELPERS_RUNTIME_DIR)
HELPER_IDLE_SECONDS = "120"
"""How long a helper started by a test waits for another command (the default, 600 s, is for people)."""


def stop_helpers(runtime_dir: Path = _HELPERS_RUNTIME_DIR) -> int:
    """Stop every warm helper whose pid file is in ``runtime_dir``; return how many were running."""
    import signal

    stopped = 0
    for pid_file in (runtime_dir / "kitaru").glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
            if Path(f"/proc/{pid}/comm").read_text().strip() == "kitaru-helper":
                os.kill(pid, signal.SIGTERM)
                stopped += 1
        except (OSError, ValueError):
            continue
    return stopped


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_helpers()


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
        KITARU_DAEMON_IDLE_SECONDS=HELPER_IDLE_SECONDS,
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


# -- two workers -------------------------------------------------------------------------

SHARED_SETUP_DIRS = ("tests/server/", "tests/team/")
"""Directories whose tests share one costly session setup (a local server; MariaDB, a server and four
clients): each runs whole on one worker, so the setup happens once."""

LONGEST_FIRST = (
    "tests/lifecycle/test_lifecycle.py",
    "tests/team/",
    "tests/core/test_waits.py",
    "tests/core/test_logs.py",
    "tests/lifecycle/test_interrupts.py",
    "tests/faults/test_server_concurrency.py",
    "tests/faults/test_kills.py",
    "tests/lifecycle/test_dead_owner.py",
    "tests/e2e/test_example_plugin.py",
    "tests/core/test_stacks.py",
    "tests/server/",
)
"""The longest groups, started first so no worker is left with one of them at the end."""


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((directory for directory in SHARED_SETUP_DIRS if path.startswith(directory)), path)


def _rank(nodeid: str) -> int:
    group = _group(nodeid)
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if group.startswith(prefix)), len(LONGEST_FIRST))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n N --dist loadgroup`` (``tools/bootstrap.py test``), one worker runs each file whole.

    A file is the unit of work (its module fixtures are set up once), except
    for :data:`SHARED_SETUP_DIRS`; and the longest groups go first. The sort is
    stable, so the order within a file is the order it was written in.
    """
    # Workers collect (and get this hook); the controller was given -n.
    if not (hasattr(config, "workerinput") or getattr(config.option, "numprocesses", None)):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item.nodeid)))
    items.sort(key=lambda item: _rank(item.nodeid))

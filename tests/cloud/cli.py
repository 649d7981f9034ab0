"""Run the real ``kitaru`` console script with JSON output, as the cloud end-to-end tests do.

Each call is a subprocess (about 4-5 s) with a clean environment from
``tests.conftest.subprocess_env``: its own config dir, a wide terminal, no
colour, plus the cloud settings the test passes. :func:`created_item` and
:func:`refusal` read the two outcomes of ``kitaru stack create -o json``.

Example::

    result = run_kitaru(fresh_config_dir, "stack", "create", "s", "--artifact-store", uri,
                        env=aws_env)
    item = created_item(result)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
"""The console script installed in the test environment."""

SESSION_CONFIG = Path(os.environ["KITARU_CONFIG_PATH"])
"""The session's config dir: what this process's engine client sees (``tests/conftest.py``)."""


def run_kitaru(
    config_dir: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    hide: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``kitaru ARGS -o json`` with ``config_dir`` as its Kitaru config.

    Args:
        config_dir: The child's config dir (``fresh_config_dir`` or
            :data:`SESSION_CONFIG`); its parent is the working directory.
        *args: The command line after ``kitaru``.
        env: Variables to add (cloud endpoints, credentials).
        hide: Variables of this process the child must not inherit (a
            developer's own cloud settings); ``env`` may still set them.
    """
    environment = subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1")
    for name in hide:
        environment.pop(name, None)
    environment.update(env or {})
    return subprocess.run(
        [str(KITARU), *args, "-o", "json"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=config_dir.parent,
        timeout=300,
    )


def created_item(
    result: subprocess.CompletedProcess[str], command: str = "stack.create"
) -> dict[str, Any]:
    """The ``item`` of a successful ``-o json`` answer to ``command``."""
    assert result.returncode == 0, f"stdout={result.stdout}\nstderr={result.stderr}"
    payload = json.loads(result.stdout)
    assert payload["command"] == command
    return payload["item"]


def refusal(
    result: subprocess.CompletedProcess[str], command: str = "stack.create"
) -> dict[str, Any]:
    """The ``error`` (``type`` and ``message``) of a ``-o json`` command that failed.

    A failed command exits with 1, prints nothing on stdout and exactly
    ``{"command": ..., "error": {...}}`` on stderr.
    """
    assert result.returncode == 1, f"stdout={result.stdout}\nstderr={result.stderr}"
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert set(payload) == {"command", "error"}, payload
    assert payload["command"] == command
    return payload["error"]

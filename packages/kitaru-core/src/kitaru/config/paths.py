"""Where Kitaru keeps its files (SPEC §5.1)."""

from __future__ import annotations

import os
from pathlib import Path

from kitaru.settings import default_config_dir, settings

CONFIG_FILE_NAME = "kitaru.yaml"
PROJECT_MARKER_DIR = ".kitaru"


def config_dir() -> Path:
    """Return the Kitaru config directory.

    ``KITARU_CONFIG_PATH`` wins, then ``ZENML_CONFIG_PATH``, then the OS app
    dir for ``kitaru`` (``~/.config/kitaru`` on Linux). Not created here.
    """
    # The engine's variable counts too: a process the engine started (a step
    # on a remote pod, the local server) may only have that one.
    for value in (settings().config_path, os.environ.get("ZENML_CONFIG_PATH", "").strip()):
        if value:
            return Path(value).expanduser().resolve()
    return Path(default_config_dir())


def config_file() -> Path:
    """Return the path of ``kitaru.yaml``."""
    return config_dir() / CONFIG_FILE_NAME


def local_stores_dir() -> Path:
    """Return the directory holding the local SQLite store and artifacts."""
    return config_dir() / "local_stores"

"""Keep the engine's analytics off in the config file Kitaru's processes write.

Kitaru sends nothing anywhere: every process it starts sets
``ZENML_ANALYTICS_OPT_IN=false`` unless the user opted in. The engine,
though, writes its own ``config.yaml`` into the Kitaru config directory with
its default, ``analytics_opt_in: true``, and any process that reads that file
without Kitaru's environment (the engine's own CLI, a server started from
that config) would then send usage data. So before the engine first loads,
the file is made to say what Kitaru does:

* a config directory without ``config.yaml`` gets one holding only
  ``analytics_opt_in: false``; the engine reads it, fills in the rest and
  writes it back whole;
* an existing file saying ``true`` (written by an older Kitaru) is corrected,
  keeping every other key.

A user who opts in (``KITARU_ANALYTICS_OPT_IN=true``) is left alone.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ENGINE_CONFIG_FILE = "config.yaml"
"""The engine's configuration file in the config directory."""

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})


def opted_in() -> bool:
    """Whether this process's environment turns the engine's analytics on."""
    return os.environ.get("ZENML_ANALYTICS_OPT_IN", "false").strip().lower() in TRUE_WORDS


def keep_analytics_off(config_dir: Path) -> None:
    """Make ``config_dir/config.yaml`` say ``analytics_opt_in: false`` unless the user opted in.

    Args:
        config_dir: The Kitaru (and engine) config directory.
    """
    if opted_in():
        return
    path = config_dir / ENGINE_CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _seed(path)
        return
    except OSError:
        return  # unreadable: the engine reports it in its own words when it loads
    _correct(path, text)


def _seed(path: Path) -> None:
    """Create the file with analytics off; another process creating it first is fine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("analytics_opt_in: false\n")


def _correct(path: Path, text: str) -> None:
    """Rewrite an existing file whose ``analytics_opt_in`` is true, keeping the other keys."""
    import yaml

    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # broken: the engine reports it in its own words when it loads
    if not isinstance(values, dict) or values.get("analytics_opt_in") is not True:
        return
    values["analytics_opt_in"] = False
    replacement = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        yaml.safe_dump(values, file, sort_keys=True)
    os.replace(replacement, path)


__all__ = ["ENGINE_CONFIG_FILE", "keep_analytics_off", "opted_in"]

#!/usr/bin/env python3
"""Set up the development environment and run the quickstart or the test suite.

This script needs nothing but Python 3.11+ and pip. It creates ``.venv`` at the
repository root, installs a pinned ``uv`` into it, syncs the workspace from
``uv.lock`` (``--locked``: the lock file is the only source of versions), and
then runs what you asked for:

    python3 tools/bootstrap.py quickstart   # run examples/quickstart.py
    python3 tools/bootstrap.py test [ARGS]  # run the whole test suite (pytest ARGS);
                                            # also installs Azurite (npm) for the emulators
    python3 tools/bootstrap.py sync         # only set up .venv

Afterwards ``.venv/bin/python`` and ``.venv/bin/kitaru`` work directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def _run(*command: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(part) for part in command], cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def ensure_environment(with_dev: bool) -> None:
    """Create ``.venv`` and sync it from ``uv.lock``."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this script may be started by an older python3)
        raise SystemExit(
            f"Kitaru needs Python 3.11 or newer; this is {sys.version.split()[0]}. "
            "Run this script with a newer python3."
        )
    if not (BIN / "python").exists():
        _say(f"creating {VENV.relative_to(ROOT)} with {sys.executable}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    uv = BIN / "uv"
    if not uv.exists():
        _say(f"installing uv {UV_VERSION} into .venv")
        _run(BIN / "python", "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", f"uv=={UV_VERSION}")
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(VENV), VIRTUAL_ENV=str(VENV))
    env.pop("UV_SYSTEM_PYTHON", None)
    # Byte-compile once at install time: with PYTHONDONTWRITEBYTECODE set (as in many containers
    # and on these machines) every run would otherwise recompile the engine's sources, 2.7 s of a
    # 9 s run measured here.
    sync = [uv, "sync", "--locked", "--inexact", "--compile-bytecode", "--python", BIN / "python"]
    if with_dev:
        # Tests cover every plugin, so they need every workspace package.
        sync += ["--all-packages", "--group", "dev"]
    else:
        # The quickstart is `pip install kitaru`: core and local, no cloud SDKs.
        sync.append("--no-dev")
    _say("syncing .venv from uv.lock")
    _run(*sync, env=env)


EMULATORS = ROOT / "tools" / "emulators"


def ensure_emulators() -> None:
    """Install the npm-based emulators (Azurite) that the test suite starts.

    The S3 and GCS emulators are Python packages in the dev group; Azurite
    comes from npm, pinned by ``tools/emulators/package-lock.json``.
    """
    if not (EMULATORS / "package.json").exists():
        return
    import shutil

    npm = shutil.which("npm")
    if npm is None:
        _say("npm not found: the Azure end-to-end tests need Node.js and npm (Azurite)")
        return
    if (EMULATORS / "node_modules" / ".package-lock.json").exists():
        return
    _say("installing the npm emulators (Azurite) into tools/emulators")
    _run(npm, "ci", "--prefix", EMULATORS, "--no-audit", "--no-fund", "--loglevel=error")


def parallel(args: list[str]) -> list[str]:
    """Run the suite on workers (pytest-xdist): most tests wait on subprocesses, so a worker per core (2 to 4) pays.

    Each test file runs whole on one worker (see ``tests/conftest.py``).
    ``-n 0`` in ``args`` runs everything in this process; ``-n N`` chooses.
    """
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in args):
        return []
    workers = min(4, max(2, os.cpu_count() or 1))
    return ["-n", str(workers), "--dist", "loadgroup", "--no-loadscope-reorder"]


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "quickstart"
    if action not in {"quickstart", "test", "sync"}:
        print(__doc__)
        return 2
    ensure_environment(with_dev=action != "quickstart")
    python = str(BIN / "python")
    if action == "quickstart":
        return subprocess.call([python, str(ROOT / "examples" / "quickstart.py")], cwd=ROOT)
    if action == "test":
        ensure_emulators()
        return subprocess.call([python, "-m", "pytest", *parallel(argv[1:]), *argv[1:]], cwd=ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

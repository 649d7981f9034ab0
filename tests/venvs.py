"""Fresh virtual environments with Kitaru installed the way a user installs it, offline from the lock.

Our packages are not on an index, so the workspace members are installed from
their directories, and every third-party package at the version ``uv.lock``
pins (``uv export``); uv links them from its cache, so an environment takes
seconds. ``tests/meta/test_extras_install.py`` (``kitaru`` with and without
``[aws]``) and ``tests/e2e`` (a third-party plugin) build theirs here.

    venv = FreshVenv.create(tmp_path / "venv", extras=("mcp",))
    venv.install("./kitaru-example[test]", cwd=tmp_path)   # as `pip install ./kitaru-example[test]`

Anything else installed later (a plugin and its ``[test]`` extra) is held to
the lock's versions too, through a constraints file covering the dev group.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
MEMBERS = ("kitaru-core", "kitaru-local")
"""The workspace members ``pip install kitaru`` brings; an extra naming a member (``aws``) adds it."""

EXPORT = ("export", "--frozen", "--no-hashes", "--no-emit-project", "--no-emit-workspace", "--quiet")


def uv(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run uv; return its stdout, or fail the test with its stderr."""
    result = subprocess.run(
        [str(UV), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )
    if result.returncode != 0:
        raise AssertionError(f"uv {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class FreshVenv:
    """A virtual environment holding Kitaru (and the extras asked for) and nothing from this repo's venv.

    Attributes:
        path: The environment's directory.
        constraints: The lock's versions of every third-party package, dev group included.
    """

    path: Path
    constraints: Path

    @classmethod
    def create(cls, path: Path, extras: tuple[str, ...] = ()) -> FreshVenv:
        """Create the environment and install ``kitaru[extras]`` as ``pip install`` would."""
        uv("venv", "--quiet", "--python", sys.executable, str(path))
        extra_args = [arg for extra in extras for arg in ("--extra", extra)]
        requirements = path / "kitaru-requirements.txt"
        requirements.write_text(uv(*EXPORT, "--no-dev", *extra_args))
        constraints = path / "kitaru-constraints.txt"
        constraints.write_text(uv(*EXPORT, *extra_args))
        venv = cls(path, constraints)
        root = f".[{','.join(extras)}]" if extras else "."
        members = [*MEMBERS, *(f"kitaru-{extra}" for extra in extras if (ROOT / "packages" / f"kitaru-{extra}").is_dir())]
        venv.install("-r", str(requirements), root, *(f"./packages/{member}" for member in members), cwd=ROOT)
        return venv

    def env(self) -> dict[str, str]:
        """The environment variables of a shell with this venv activated."""
        env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["VIRTUAL_ENV"] = str(self.path)
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        return env

    @property
    def bin(self) -> Path:
        """The directory of its scripts (``python``, ``kitaru``, ``pytest`` ...)."""
        return self.path / "bin"

    def install(self, *requirements: str, cwd: Path) -> None:
        """``pip install REQUIREMENTS`` into this venv, run in ``cwd``, held to the lock's versions."""
        uv("pip", "install", "--quiet", "-c", str(self.constraints), *requirements, cwd=cwd, env=self.env())

#!/usr/bin/env python3
"""Later-run section of the bench: the README's example flow in an existing store, against bare ZenML's import.

    .venv/bin/python bench/later_run.py [--rounds 5] [--quickstart-python PATH | --make-quickstart-env DIR]

``bench/run.py`` runs it as its ``later`` section; alone it prints the same table.

For each environment (the ``--python`` interpreter, and optionally a
quickstart environment that holds only kitaru core + local, as
``python3 tools/bootstrap.py quickstart`` makes):

1. a fresh config dir (``KITARU_CONFIG_PATH``) and one untimed run of
   ``python examples/quickstart.py`` (cwd = repository root), which creates
   the store;
2. ``rounds`` rounds, each timing the process wall time (spawn to exit) of
   ``python examples/quickstart.py`` in that existing store and of bare
   ``python -c "import zenml"``, in an order that flips every round.

"Bare": Kitaru registers a ``zenml.init_hooks`` entry point, so in these
environments a plain ``import zenml`` imports Kitaru as well. The reference
command filters that one hook out while ZenML is imported, as
``workloads/zenml_chain.py`` does, and reports whether ``kitaru`` was imported
anyway (``kitaru_imported``). Every child runs with the parent's environment
minus every ``KITARU_*`` / ``ZENML_*`` variable, plus
``ZENML_ANALYTICS_OPT_IN=false`` and its own temporary config dir.

Ratio = median(later run) / median(import zenml); the median of per-round
ratios and the CPU-time ratio are cross-checks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
EXAMPLE = Path("examples") / "quickstart.py"
BUDGET_RATIO = 1.5
"""The later run: at most this times bare ``python -c "import zenml"`` (issue 13)."""
CHILD_TIMEOUT_S = 600
KITARU_MARK = "KITARU_IMPORTED="

BARE_IMPORT_ZENML = """\
import importlib.metadata as m, sys
original = m.entry_points
def keep(ep):
    return not (ep.group == "zenml.init_hooks" and ep.value.startswith("kitaru"))
class Filtered:
    def __init__(self, inner):
        self.inner = inner
    def select(self, **params):
        return m.EntryPoints(ep for ep in self.inner.select(**params) if keep(ep))
    def __getattr__(self, name):
        return getattr(self.inner, name)
def entry_points(**params):
    if params:
        return m.EntryPoints(ep for ep in original(**params) if keep(ep))
    return Filtered(original())
m.entry_points = entry_points
try:
    import zenml
finally:
    m.entry_points = original
sys.stderr.write("KITARU_IMPORTED=%s\\n" % ("kitaru" in sys.modules))
"""
"""``python -c "import zenml"`` without Kitaru's init hook (see ``workloads/zenml_chain.py``)."""

ENVIRONMENT_LABELS = {
    "python": "--python interpreter",
    "quickstart": "quickstart env (core + local)",
}


def isolated_env(variable: str, config_dir: Path) -> dict[str, str]:
    """The parent's environment without any KITARU_*/ZENML_* variable, plus isolation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env["ZENML_ANALYTICS_OPT_IN"] = "false"
    env[variable] = str(config_dir)
    env.pop("PYTHONPATH", None)
    return env


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def spawn_timed(
    argv: list[str], env: dict[str, str], cwd: Path, logs: Path, timeout: float
) -> tuple[int, float, Any]:
    """Run ``argv`` in ``cwd``, its output in ``logs``/stdout.txt and stderr.txt, killed after ``timeout`` s.

    Returns:
        The exit code, the wall time from spawn to exit, and the child's own ``rusage``.
    """
    with open(logs / "stdout.txt", "wb") as out, open(logs / "stderr.txt", "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), wall, usage


def run_timed(argv: list[str], env: dict[str, str], logs: Path) -> dict[str, Any]:
    """Run ``argv`` with cwd = repository root: wall time spawn to exit, and the child's CPU time.

    Output goes to ``logs`` (a directory of the trial tree), never to the repository.
    """
    logs.mkdir(parents=True)
    returncode, wall, usage = spawn_timed(argv, env, ROOT, logs, CHILD_TIMEOUT_S)
    stdout = (logs / "stdout.txt").read_text(errors="replace")
    stderr = (logs / "stderr.txt").read_text(errors="replace")
    result: dict[str, Any] = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rc": returncode,
        "_stdout": stdout,
        "_stderr": stderr,
    }
    if returncode != 0:
        result["stdout_tail"] = stdout[-1500:]
        result["stderr_tail"] = stderr[-1500:]
    return result


def measure_environment(
    python: str, rounds: int, workdir: Path, log: Callable[[str], None] = print, name: str = "python"
) -> dict[str, Any]:
    """Setup run, then ``rounds`` interleaved rounds of later run / bare import zenml in one environment."""
    if os.sep in python:
        python = os.path.abspath(python)  # the children run in the repository root
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config"
    kitaru_env = isolated_env("KITARU_CONFIG_PATH", config)
    zenml_env = isolated_env("ZENML_CONFIG_PATH", workdir / "zenml-config")
    later_argv = [python, str(EXAMPLE)]
    import_argv = [python, "-c", BARE_IMPORT_ZENML]
    out: dict[str, Any] = {
        "python": python,
        "label": ENVIRONMENT_LABELS.get(name, name),
        "rounds": rounds,
        "later_run": [],
        "import_zenml": [],
        "problems": [],
    }
    setup = run_timed(later_argv, kitaru_env, workdir / "000-setup")
    out["setup"] = _public(setup)
    if setup["rc"] != 0 or "Execution id:" not in setup["_stdout"]:
        out["problems"].append(f"the untimed setup run exited {setup['rc']}: {setup.get('stderr_tail', '')[-600:]}")
        log(f"  ! {name}: the setup run failed (rc={setup['rc']})")
        return out
    out["store_created"] = config.is_dir() and any(config.iterdir())
    log(f"  {name}: setup run (creates the store) {setup['wall_s']:.2f} s")
    for i in range(rounds):
        order = ("later_run", "import_zenml") if i % 2 == 0 else ("import_zenml", "later_run")
        for kind in order:
            logs = workdir / f"{i + 1:03d}-{kind}"
            if kind == "later_run":
                child = run_timed(later_argv, kitaru_env, logs)
                if child["rc"] != 0 or "Execution id:" not in child["_stdout"]:
                    out["problems"].append(f"later run {i + 1} exited {child['rc']}: {child.get('stderr_tail', '')}")
            else:
                child = run_timed(import_argv, zenml_env, logs)
                marks = [line for line in child["_stderr"].splitlines() if line.startswith(KITARU_MARK)]
                child["kitaru_imported"] = bool(marks) and marks[-1] == f"{KITARU_MARK}True"
                if child["rc"] != 0 or not marks:
                    out["problems"].append(f"import zenml {i + 1} exited {child['rc']}: {child.get('stderr_tail', '')}")
            out[kind].append(_public(child))
        later, ref = out["later_run"][-1], out["import_zenml"][-1]
        log(f"  {name}: round {i + 1}/{rounds}: later run {later['wall_s']:.2f} s, import zenml {ref['wall_s']:.2f} s")
    return out


def _public(child: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in child.items() if not k.startswith("_")}


def measure(
    environments: dict[str, str], rounds: int, workdir: Path, log: Callable[[str], None] = print
) -> dict[str, dict[str, Any]]:
    """Measure every environment (name -> interpreter) in turn; return the raw samples by environment."""
    return {
        name: measure_environment(python, rounds, workdir / name, log=log, name=name)
        for name, python in environments.items()
    }


def analyse(raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Medians, ratios and problems per environment."""
    out: dict[str, Any] = {"budget_ratio": BUDGET_RATIO, "environments": {}}
    for name, data in raw.items():
        rows = [
            (a, b)
            for a, b in zip(data["later_run"], data["import_zenml"], strict=False)
            if a["rc"] == 0 and b["rc"] == 0
        ]
        later_s = median([a["wall_s"] for a, _ in rows])
        import_s = median([b["wall_s"] for _, b in rows])
        later_cpu = median([a["cpu_s"] for a, _ in rows])
        import_cpu = median([b["cpu_s"] for _, b in rows])
        per_round = [a["wall_s"] / b["wall_s"] for a, b in rows if b["wall_s"] > 0]
        out["environments"][name] = {
            "label": data["label"],
            "python": data["python"],
            "samples": len(rows),
            "setup_s": data.get("setup", {}).get("wall_s"),
            "later_run_s": later_s,
            "import_zenml_s": import_s,
            "ratio": None if later_s is None or not import_s else later_s / import_s,
            "ratio_per_round_samples": per_round,
            "ratio_per_round_median": median(per_round),
            "later_run_cpu_s": later_cpu,
            "import_zenml_cpu_s": import_cpu,
            "cpu_ratio": None if later_cpu is None or not import_cpu else later_cpu / import_cpu,
            "kitaru_imported": any(b.get("kitaru_imported") for b in data["import_zenml"]),
            "problems": data["problems"],
        }
    return out


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else f"{value:{spec}}"


def render(summary: dict[str, Any], rounds: int) -> list[str]:
    budget = summary["budget_ratio"]
    lines = [
        'Later run: `python examples/quickstart.py` in an existing store versus bare `python -c "import zenml"`,',
        f"process wall, spawn to exit (medians of {rounds} interleaved rounds; cwd = repo root)",
        f"  {'environment':32s} {'later s':>8s} {'import s':>9s} {'ratio':>6s} {'(per round)':>11s} {'CPU ratio':>9s}"
        f" {'setup s':>8s}",
    ]
    for env in summary["environments"].values():
        lines.append(
            f"  {env['label']:32s} {_fmt(env['later_run_s']):>8s} {_fmt(env['import_zenml_s']):>9s}"
            f" {_fmt(env['ratio'], '.2f'):>6s} {_fmt(env['ratio_per_round_median'], '.2f'):>11s}"
            f" {_fmt(env['cpu_ratio'], '.2f'):>9s} {_fmt(env['setup_s'], '.2f'):>8s}"
        )
    for env in summary["environments"].values():
        value = env["ratio"]
        if env["problems"]:
            verdict = "FAIL"
        elif value is None:
            verdict = "N/A"
        else:
            verdict = "PASS" if value <= budget else "MISS"
        lines.append(
            f"  {verdict:4s}  {env['label']}: later run / import zenml {_fmt(value, '.2f')} (budget <= {budget});"
            f" bare import zenml imported kitaru: {'YES (not bare!)' if env['kitaru_imported'] else 'no'}"
        )
        lines += [f"  ! {problem[:300]}" for problem in env["problems"]]
    return lines


# -- the quickstart environment -------------------------------------------------------


def _bootstrap_module() -> ModuleType:
    """``tools/bootstrap.py``, imported for its pinned ``UV_VERSION``."""
    spec = importlib.util.spec_from_file_location("kitaru_tools_bootstrap", ROOT / "tools" / "bootstrap.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {ROOT / 'tools' / 'bootstrap.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_quickstart_env(target: Path, log: Callable[[str], None] = print) -> str:
    """Create (or update) a venv at ``target`` holding only kitaru core + local, from ``uv.lock``.

    The same steps as ``tools/bootstrap.py``'s ``ensure_environment(with_dev=False)``,
    whose functions always target the repository's ``.venv``: a venv with pip, the
    pinned ``uv`` installed into it, then ``uv sync --locked --inexact
    --compile-bytecode --no-dev`` with ``UV_PROJECT_ENVIRONMENT=target``.

    Returns:
        The path of the new environment's interpreter.
    """
    uv_version = _bootstrap_module().UV_VERSION
    target = target.resolve()
    bin_dir = target / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    if not python.exists():
        log(f"  creating the quickstart env {target} with {sys.executable}")
        venv.EnvBuilder(with_pip=True).create(target)
    uv = bin_dir / "uv"
    if not uv.exists():
        log(f"  installing uv {uv_version} into {target}")
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={uv_version}"],
            cwd=ROOT,
            check=True,
            stdout=sys.stderr,
        )
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(target), VIRTUAL_ENV=str(target))
    env.pop("UV_SYSTEM_PYTHON", None)
    log(f"  syncing {target} from uv.lock (--no-dev: kitaru core + local)")
    subprocess.run(
        [str(uv), "sync", "--locked", "--inexact", "--compile-bytecode", "--python", str(python), "--no-dev"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=sys.stderr,
    )
    return str(python)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quickstart-python", default=None, help="interpreter of a core + local venv")
    group.add_argument("--make-quickstart-env", default=None, metavar="DIR", help="create that venv here first")
    parser.add_argument("--out", default=None, help="also write the section as JSON here")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    environments = {"python": args.python}
    if args.make_quickstart_env:
        environments["quickstart"] = make_quickstart_env(Path(args.make_quickstart_env), log)
    elif args.quickstart_python:
        environments["quickstart"] = args.quickstart_python
    workdir = Path(tempfile.mkdtemp(prefix="kitaru-bench-later-"))
    try:
        raw = measure(environments, args.rounds, workdir, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = analyse(raw)
    print("\n".join(render(summary, args.rounds)))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "samples": raw}, indent=2))
    return 1 if any(env["problems"] for env in summary["environments"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""CLI section of the bench: read commands against bare ``python -c "import zenml"``, in the same run.

    .venv/bin/python bench/cli_reads.py [--rounds 7] [--cold-rounds 3] [--executions 21]

``bench/run.py`` runs it as its CLI section; alone it prints the same table.

Setup: a fresh config dir holding ``--executions`` completed executions of a
two-checkpoint flow (the README's example shape), made by one process. Then,
for each read command (``executions list``, ``executions get ID``,
``executions logs ID``, ``status``, ``stack list``; text and ``-o json``):

* **warm**: the console script as a user runs it, after one warm-up call, so
  the warm helper (``kitaru.cli.warm``) answers it; rounds interleave every
  command with one bare ``python -c "import zenml"`` (the reference, with
  Kitaru's engine hook filtered out as in :mod:`later_run`), so each
  command's ratio is median(command) / median(import zenml), and the median
  of per-round ratios is shown beside it;
* **cold**: the same with ``KITARU_NO_DAEMON=1`` (every command loads the
  engine in its own process, as before the helper).

Every command must exit 0, and each warm answer must be byte-for-byte the
cold one (stdout), or the section fails. The helper is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from later_run import BARE_IMPORT_ZENML

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BUDGET_RATIO = 0.35
"""Each warm read command: at most this times ``python -c "import zenml"`` (issue 13)."""

FLOW = textwrap.dedent(
    """
    import sys
    import kitaru

    @kitaru.checkpoint
    def fetch(n: int) -> int:
        print(f"fetched {n}")
        return n + 1

    @kitaru.checkpoint
    def answer(n: int) -> str:
        return f"answer={n}"

    @kitaru.flow
    def example(n: int) -> str:
        return answer(fetch(n))

    if __name__ == "__main__":
        for n in range(int(sys.argv[1])):
            handle = example.run(n)
            handle.wait()
        print("LAST", handle.exec_id)
    """
)


def commands(exec_id: str) -> dict[str, list[str]]:
    base = {
        "executions list": ["executions", "list"],
        "executions get": ["executions", "get", exec_id],
        "executions logs": ["executions", "logs", exec_id],
        "status": ["status"],
        "stack list": ["stack", "list"],
    }
    out: dict[str, list[str]] = {}
    for name, args in base.items():
        out[name] = args
        out[f"{name} -o json"] = [*args, "-o", "json"]
    return out


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    return time.perf_counter() - started, result


def isolated_env(config: Path, helpers: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env.update(KITARU_CONFIG_PATH=str(config), KITARU_DAEMON_DIR=str(helpers), ZENML_ANALYTICS_OPT_IN="false")
    env["COLUMNS"] = "160"
    env.pop("PYTHONPATH", None)
    return env


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def stop_helpers(helpers: Path) -> None:
    for pid_file in helpers.glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            continue


def measure(python: str, rounds: int, cold_rounds: int, executions: int, log: Any = print) -> dict[str, Any]:
    """Run the CLI section; return samples, medians, ratios and problems (see the module docstring)."""
    kitaru = str(Path(python).parent / "kitaru")
    root = Path(tempfile.mkdtemp(prefix="kitaru-bench-cli-"))
    helpers = root / "helpers"
    helpers.mkdir(mode=0o700)
    project = root / "project"
    project.mkdir()
    (project / "example.py").write_text(FLOW)
    env = isolated_env(root / "config", helpers)
    zenml_env = {**{k: v for k, v in env.items() if not k.startswith("KITARU_")}, "ZENML_CONFIG_PATH": str(root / "z")}
    problems: list[str] = []
    log(f"  making {executions} executions")
    made = subprocess.run(
        [python, "example.py", str(executions)], env=env, cwd=project, capture_output=True, text=True, timeout=1800
    )
    if made.returncode != 0:
        raise RuntimeError(f"could not make the executions: {made.stdout[-1500:]}{made.stderr[-1500:]}")
    exec_id = made.stdout.split("LAST ")[1].split()[0]
    chosen = commands(exec_id)
    reference = [python, "-c", BARE_IMPORT_ZENML]
    warm: dict[str, list[float]] = {name: [] for name in chosen}
    cold: dict[str, list[float]] = {name: [] for name in chosen}
    zenml: list[float] = []
    per_round: dict[str, list[float]] = {name: [] for name in chosen}
    answers: dict[str, bytes] = {}
    try:
        cold_env = {**env, "KITARU_NO_DAEMON": "1"}
        for round_index in range(cold_rounds):
            for name, args in chosen.items():
                seconds, result = timed([kitaru, *args], cold_env, project)
                if result.returncode != 0:
                    problems.append(
                        f"cold `kitaru {' '.join(args)}` exited {result.returncode}: {result.stderr[-300:]!r}"
                    )
                cold[name].append(seconds)
                answers[name] = result.stdout
            log(f"  cold round {round_index + 1}/{cold_rounds}")
        for args in chosen.values():  # warm-up: the first call births the helper, the second uses it
            timed([kitaru, *args], env, project)
        for round_index in range(rounds):
            seconds, result = timed(reference, zenml_env, project)
            zenml.append(seconds)
            for name, args in chosen.items():
                seconds, result = timed([kitaru, *args], env, project)
                if result.returncode != 0:
                    problems.append(
                        f"warm `kitaru {' '.join(args)}` exited {result.returncode}: {result.stderr[-300:]!r}"
                    )
                elif result.stdout != answers.get(name) and name.startswith(("executions", "stack")):
                    problems.append(f"warm `kitaru {' '.join(args)}` answered differently from the in-process CLI")
                warm[name].append(seconds)
                per_round[name].append(seconds / zenml[-1])
            log(f"  warm round {round_index + 1}/{rounds}: import zenml {zenml[-1]:.2f} s")
    finally:
        stop_helpers(helpers)
    zenml_median = median(zenml)
    rows = []
    for name in chosen:
        warm_median, cold_median = median(warm[name]), median(cold[name])
        rows.append(
            {
                "command": f"kitaru {name}",
                "warm_s": warm_median,
                "cold_s": cold_median,
                "warm_ratio": None if warm_median is None or not zenml_median else warm_median / zenml_median,
                "cold_ratio": None if cold_median is None or not zenml_median else cold_median / zenml_median,
                "warm_ratio_per_round_median": median(per_round[name]),
            }
        )
    return {
        "executions": executions,
        "rounds": rounds,
        "cold_rounds": cold_rounds,
        "import_zenml_s": zenml_median,
        "rows": rows,
        "samples": {"warm": warm, "cold": cold, "import_zenml": zenml},
        "budget_ratio": BUDGET_RATIO,
        "worst_warm_ratio": max((row["warm_ratio"] for row in rows if row["warm_ratio"] is not None), default=None),
        "problems": problems,
    }


def render(section: dict[str, Any]) -> list[str]:
    lines = [
        f"CLI read commands ({section['executions']} executions in the store; medians of {section['rounds']} warm and "
        f"{section['cold_rounds']} cold runs)",
        f'  bare python -c "import zenml": {section["import_zenml_s"]:.3f} s (the reference, same run)',
        f"  {'command':32s} {'warm s':>7s} {'ratio':>6s} {'(per round)':>11s} {'cold s':>7s} {'ratio':>6s}",
    ]
    for row in section["rows"]:
        lines.append(
            f"  {row['command']:32s} {row['warm_s']:7.3f} {row['warm_ratio']:6.3f} "
            f"{row['warm_ratio_per_round_median']:11.3f} {row['cold_s']:7.3f} {row['cold_ratio']:6.3f}"
        )
    worst = section["worst_warm_ratio"]
    verdict = "PASS" if worst is not None and worst <= section["budget_ratio"] and not section["problems"] else "MISS"
    lines.append(f"  {verdict}  worst warm ratio {worst:.3f} (budget <= {section['budget_ratio']})")
    lines += [f"  ! {problem}" for problem in section["problems"]]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cold-rounds", type=int, default=3)
    parser.add_argument("--executions", type=int, default=21)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--out", default=None, help="also write the section as JSON here")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    section = measure(
        args.python, args.rounds, args.cold_rounds, args.executions, log=lambda m: print(m, file=sys.stderr)
    )
    section["loadavg_end"] = os.getloadavg()
    print("\n".join(render(section)))
    print(f"load average at end: {section['loadavg_end']}")
    if args.out:
        Path(args.out).write_text(json.dumps(section, indent=2))
    return 0 if not section["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Kitaru performance bench: Kitaru versus bare ZenML, measured in one run.

    .venv/bin/python bench/run.py [--quick] [--out bench/results/latest.json] [--only SECTION[,SECTION]]

Every measurement runs in a fresh subprocess with its own temporary config
directory (``KITARU_CONFIG_PATH`` for Kitaru, ``ZENML_CONFIG_PATH`` for bare
ZenML, ``ZENML_ANALYTICS_OPT_IN=false`` for both) and a fresh working
directory. Kitaru and bare-ZenML trials are interleaved (the order alternates
per pair) and summarised by medians; ratios always compare numbers taken in
this same run. See ``bench/README.md`` for what each number means.

Measured:

1. ``import kitaru`` wall time, and ``python -c pass`` (subtracted: net);
2. ``kitaru --help`` wall time (reported as missing if the CLI is absent);
3. first run in a brand-new config dir, process start to exit: a 1-checkpoint
   flow versus the same 1-step bare-ZenML dynamic pipeline, as the ratio
   kitaru / zenml (the difference in seconds is shown too);
4. W(N) for N = 1, 10, 100 chained checkpoints / steps, caching off, timing
   the run call only in a warm process; per-checkpoint overhead
   (W(100) - W(1)) / 99 and the Kitaru/ZenML ratios;
5. peak RSS (``ru_maxrss`` of the child) of the W(N) processes;
6. resume: ``KitaruClient().executions.retry`` of a 100-checkpoint execution
   that failed at checkpoint 50, versus a fresh run of a 50-checkpoint chain,
   interleaved in warm processes, with checks that the succeeded checkpoints
   were not executed again (the bench fails if they were);
7. a cProfile of W(100) summarised into per-checkpoint cost buckets, and a
   cProfile of one resume split into setup / reused calls / executed calls;
8. CLI read commands, warm (answered by the warm helper) and cold, each as a
   ratio to ``python -c "import zenml"`` in the same run (``cli_reads.py``);
9. later run: ``python examples/quickstart.py`` in an existing store versus bare
   ``python -c "import zenml"``, process wall, interleaved, in the ``--python``
   interpreter and optionally in a quickstart environment holding only kitaru
   core + local (``later_run.py``).

``--only`` picks sections (startup, first, wn, profile, resume, cli, later).

It prints a plain-text table with PASS/MISS against the budgets and writes
JSON with machine info, timestamps, every sample, medians, ratios and verdicts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORKLOADS = BENCH_DIR / "workloads"
HARNESS = WORKLOADS / "_bench_harness.py"
WORKLOAD_FILES = {"kitaru": WORKLOADS / "kitaru_chain.py", "zenml": WORKLOADS / "zenml_chain.py"}
RESUME_WORKLOAD = WORKLOADS / "kitaru_resume.py"
FRAMEWORKS = ("kitaru", "zenml")

sys.path.insert(0, str(BENCH_DIR))
import cli_reads  # noqa: E402
import later_run  # noqa: E402
import profile_summary  # noqa: E402

BUDGETS = {
    "import_kitaru_net_s": 0.3,
    "kitaru_help_s": 0.5,
    "per_checkpoint_ratio": 0.5,
    "first_run_ratio": 0.5,
    "resume_ratio": 1.2,
    "later_run_ratio": later_run.BUDGET_RATIO,
}
SECTIONS = ("startup", "first", "wn", "profile", "resume", "cli", "later")

# (startup rounds, first-run pairs, W(N) pairs, warm-up schedule, W(N) schedule, profile N, profiled frameworks)
MODES: dict[str, dict[str, Any]] = {
    "full": {
        "startup_rounds": 15,
        "first_run_pairs": 3,
        "wn_pairs": 5,
        "warmup": [2],
        "schedule": [1, 10, 1, 10, 1, 100],
        "profile_n": 100,
        "profile_frameworks": ["kitaru", "zenml"],
        # resume: failed execution of n checkpoints (checkpoint fail_at raised), retried,
        # versus a fresh run of `fresh` checkpoints; `processes` x `rounds` samples each
        "resume": {"n": 100, "fail_at": 50, "fresh": 50, "processes": 4, "rounds": 2, "warmup": 2},
        "cli": {"rounds": 7, "cold_rounds": 3, "executions": 21},
        "later_rounds": 5,
    },
    "quick": {
        "startup_rounds": 7,
        "first_run_pairs": 1,
        "wn_pairs": 2,
        "warmup": [2],
        "schedule": [1, 10, 1, 10],
        "profile_n": 10,
        "profile_frameworks": ["kitaru", "zenml"],
        "resume": {"n": 20, "fail_at": 10, "fresh": 10, "processes": 1, "rounds": 3, "warmup": 2},
        "cli": {"rounds": 3, "cold_rounds": 1, "executions": 21},
        "later_rounds": 2,
    },
}
CHILD_TIMEOUT_S = 900


# -- subprocesses -----------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clean_env(framework: str, config_dir: Path) -> dict[str, str]:
    """The parent's environment without any KITARU_*/ZENML_* variable, plus isolation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env["ZENML_ANALYTICS_OPT_IN"] = "false"
    if framework == "kitaru":
        env["KITARU_CONFIG_PATH"] = str(config_dir)
    else:
        env["ZENML_CONFIG_PATH"] = str(config_dir)
    env.pop("PYTHONPATH", None)
    return env


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def run_child(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """Run ``argv`` and return its wall time (spawn to exit) and the child's own rusage."""
    stdout_path, stderr_path = cwd / "stdout.txt", cwd / "stderr.txt"
    returncode, wall, usage = later_run.spawn_timed(argv, env, cwd, cwd, timeout)
    result: dict[str, Any] = {
        "wall_s": wall,
        "rc": returncode,
        "maxrss_kib": int(usage.ru_maxrss),
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
    }
    if returncode != 0:
        result["stdout_tail"] = _tail(stdout_path)
        result["stderr_tail"] = _tail(stderr_path)
    return result


class Sandbox:
    """A temporary tree holding one directory per trial."""

    def __init__(self, keep: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kitaru-bench-"))
        self.keep = keep
        self._count = 0

    def trial_dir(self, label: str) -> Path:
        self._count += 1
        path = self.root / f"{self._count:03d}-{label}"
        path.mkdir()
        return path

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def run_workload(
    sandbox: Sandbox, python: str, framework: str, args: list[str], label: str, workload: Path | None = None
) -> dict[str, Any]:
    """Run a workload script in a fresh directory with a brand-new config dir."""
    trial = sandbox.trial_dir(f"{label}-{framework}")
    shutil.copy2(HARNESS, trial / HARNESS.name)
    source = workload or WORKLOAD_FILES[framework]
    script = trial / source.name
    shutil.copy2(source, script)
    result_file = trial / "result.json"
    env = clean_env(framework, trial / "config")
    child = run_child([python, script.name, "--result", str(result_file), *args], env=env, cwd=trial)
    child["framework"] = framework
    if child["rc"] == 0 and result_file.exists():
        child["result"] = json.loads(result_file.read_text())
    else:
        child["error"] = f"{framework} {label} trial failed (rc={child['rc']})"
        check = [line for line in child.get("stderr_tail", "").splitlines() if "CHECK FAILED" in line]
        if check:
            child["check_failed"] = check[-1]
        log(f"  ! {child['error']}:\n{child.get('stderr_tail', '')[-800:]}")
    return child


def pair_order(i: int) -> tuple[str, str]:
    return FRAMEWORKS if i % 2 == 0 else tuple(reversed(FRAMEWORKS))  # type: ignore[return-value]


# -- measurements -----------------------------------------------------------------


def measure_startup(sandbox: Sandbox, python: str, rounds: int) -> dict[str, Any]:
    """``python -c pass``, ``python -c 'import kitaru'`` and ``kitaru --help``, interleaved."""
    kitaru_bin = Path(python).parent / "kitaru"
    commands: dict[str, list[str]] = {
        "python_pass": [python, "-c", "pass"],
        "import_kitaru": [python, "-c", "import kitaru"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    out: dict[str, Any] = {"samples": samples}
    help_state = "ok"
    if not kitaru_bin.exists():
        help_state = "missing"
        out["kitaru_help_error"] = f"{kitaru_bin} does not exist (the CLI is not installed yet)"
    else:
        commands["kitaru_help"] = [str(kitaru_bin), "--help"]
        samples["kitaru_help"] = []
    names = list(commands)
    for i in range(rounds):
        trial = sandbox.trial_dir("startup")
        env = clean_env("kitaru", trial / "config")
        for name in names[i % len(names):] + names[: i % len(names)]:
            if name == "kitaru_help" and help_state != "ok":
                continue
            child = run_child(commands[name], env=env, cwd=trial, timeout=120)
            if child["rc"] != 0:
                if name == "kitaru_help":
                    help_state = "error"
                    out["kitaru_help_error"] = (
                        f"`kitaru --help` exited with {child['rc']}: {child.get('stderr_tail', '')[-600:]}"
                    )
                    continue
                raise RuntimeError(f"{' '.join(commands[name])} failed: {child.get('stderr_tail')}")
            samples[name].append(child["wall_s"])
    out["kitaru_help_state"] = help_state

    # Does either of them load the engine? (DESIGN: neither may import ZenML.)
    trial = sandbox.trial_dir("engine-check")
    env = clean_env("kitaru", trial / "config")
    check = (
        "import sys, atexit\n"
        "atexit.register(lambda: sys.stderr.write('ENGINE_LOADED=%s\\n' % ('zenml' in sys.modules)))\n"
    )
    loaded: dict[str, Any] = {}
    child = run_child([python, "-c", check + "import kitaru"], env=env, cwd=trial, timeout=120)
    loaded["import_kitaru"] = "ENGINE_LOADED=True" in _tail(trial / "stderr.txt")
    if help_state == "ok":
        child = run_child(
            [python, "-c", check + "sys.argv = ['kitaru', '--help']\nfrom kitaru.cli import main\nmain()"],
            env=env,
            cwd=trial,
            timeout=120,
        )
        loaded["kitaru_help"] = "ENGINE_LOADED=True" in _tail(trial / "stderr.txt")
    out["engine_loaded"] = loaded
    return out


def measure_first_run(sandbox: Sandbox, python: str, pairs: int) -> dict[str, list[dict[str, Any]]]:
    trials: dict[str, list[dict[str, Any]]] = {fw: [] for fw in FRAMEWORKS}
    for i in range(pairs):
        for framework in pair_order(i):
            child = run_workload(sandbox, python, framework, ["--mode", "first"], "first")
            trials[framework].append(child)
            log(f"  first run {i + 1}/{pairs} {framework:6s} {child['wall_s']:6.2f} s")
    return trials


def measure_wn(
    sandbox: Sandbox, python: str, pairs: int, warmup: list[int], schedule: list[int]
) -> dict[str, list[dict[str, Any]]]:
    trials: dict[str, list[dict[str, Any]]] = {fw: [] for fw in FRAMEWORKS}
    args = [
        "--mode", "wn",
        "--warmup", ",".join(map(str, warmup)),
        "--schedule", ",".join(map(str, schedule)),
    ]  # fmt: skip
    for i in range(pairs):
        for framework in pair_order(i):
            child = run_workload(sandbox, python, framework, args, "wn")
            trials[framework].append(child)
            runs = child.get("result", {}).get("runs", [])
            top = max((r for r in runs), key=lambda r: r["n"], default=None)
            extra = f"W({top['n']}) {top['wall_s']:6.2f} s" if top else "failed"
            log(f"  W(N) trial {i + 1}/{pairs} {framework:6s} process {child['wall_s']:6.1f} s, {extra}")
    return trials


def measure_profiles(
    sandbox: Sandbox, python: str, n: int, frameworks: list[str], warmup: list[int], out_base: Path
) -> dict[str, Any]:
    paths: dict[str, str] = {}
    runs: dict[str, Any] = {}
    for framework in frameworks:
        prof = out_base.parent / f"{out_base.name}.{framework}.prof"
        args = ["--mode", "profile", "--n", str(n), "--warmup", ",".join(map(str, warmup)), "--prof", str(prof)]
        child = run_workload(sandbox, python, framework, args, "profile")
        runs[framework] = child
        if "result" in child:
            paths[framework] = str(prof)
            log(f"  profile {framework:6s} W({n}) under cProfile {child['result']['profiled_wall_s']:6.2f} s")
    out: dict[str, Any] = {"n": n, "files": paths, "children": runs, "summaries": {}}
    for framework, path in paths.items():
        out["summaries"][framework] = profile_summary.summarize(path, n, framework)
    if "kitaru" in paths and "zenml" in paths:
        out["diff"] = profile_summary.diff(paths["kitaru"], paths["zenml"], n)
    return out


def _resume_args(rc: dict[str, Any]) -> list[str]:
    return [
        "--n", str(rc["n"]), "--fail-at", str(rc["fail_at"]), "--fresh", str(rc["fresh"]),
        "--warmup", str(rc["warmup"]),
    ]  # fmt: skip


def measure_resume(sandbox: Sandbox, python: str, rc: dict[str, Any]) -> list[dict[str, Any]]:
    """Retry of a failed execution versus a fresh run, ``processes`` warm processes."""
    children = []
    args = ["--mode", "resume", "--rounds", str(rc["rounds"]), *_resume_args(rc)]
    for i in range(rc["processes"]):
        child = run_workload(sandbox, python, "kitaru", args, "resume", workload=RESUME_WORKLOAD)
        children.append(child)
        rounds = child.get("result", {}).get("rounds", [])
        text = ", ".join(
            f"resume {r['resume']['wall_s']:.2f} s / fresh {r['fresh']['wall_s']:.2f} s" for r in rounds
        )
        log(f"  resume process {i + 1}/{rc['processes']} {child['wall_s']:6.1f} s: {text or 'FAILED'}")
    return children


def measure_resume_profile(sandbox: Sandbox, python: str, rc: dict[str, Any], out_base: Path) -> dict[str, Any]:
    prefix = out_base.parent / f"{out_base.name}.resume"
    args = ["--mode", "profile", "--prof", str(prefix), *_resume_args(rc)]
    child = run_workload(sandbox, python, "kitaru", args, "resume-profile", workload=RESUME_WORKLOAD)
    out: dict[str, Any] = {"child": child}
    result = child.get("result")
    if result:
        out["files"] = result["files"]
        out["body_in_main_thread"] = result["body_in_main_thread"]
        log(f"  profile resume under cProfile {result['profiled_wall_s']:6.2f} s")
        if not result["body_in_main_thread"]:
            log("  ! the flow body ran outside the main thread: the setup profile may be incomplete")
        out["summary"] = profile_summary.summarize_resume(result["files"], rc["n"], rc["fail_at"])
    return out


# -- analysis ----------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def analyse_startup(data: dict[str, Any]) -> dict[str, Any]:
    samples = data["samples"]
    pass_med = median(samples["python_pass"])
    import_med = median(samples["import_kitaru"])
    help_med = median(samples.get("kitaru_help", []))
    return {
        "python_pass_s": pass_med,
        "import_kitaru_s": import_med,
        "import_kitaru_net_s": None if import_med is None or pass_med is None else import_med - pass_med,
        "kitaru_help_s": help_med,
        "kitaru_help_net_s": None if help_med is None or pass_med is None else help_med - pass_med,
        "kitaru_help_state": data["kitaru_help_state"],
        "engine_loaded": data.get("engine_loaded", {}),
    }


def analyse_first_run(trials: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for framework, children in trials.items():
        ok = [c for c in children if "result" in c]
        out[framework] = {
            "wall_s": median([c["wall_s"] for c in ok]),
            "in_process_import_s": median([c["result"]["import_s"] for c in ok]),
            "in_process_run_s": median([c["result"]["run_s"] for c in ok]),
            "samples_s": [c["wall_s"] for c in ok],
            "failures": len(children) - len(ok),
        }
    k, z = out["kitaru"]["wall_s"], out["zenml"]["wall_s"]
    out["kitaru_minus_zenml_s"] = None if k is None or z is None else k - z
    pairs = [
        a["wall_s"] - b["wall_s"]
        for a, b in zip(trials["kitaru"], trials["zenml"], strict=False)
        if "result" in a and "result" in b
    ]
    out["paired_kitaru_minus_zenml_s"] = median(pairs)
    out["ratio"] = ratio(k, z)
    out["ratio_paired_samples"] = [
        a["wall_s"] / b["wall_s"]
        for a, b in zip(trials["kitaru"], trials["zenml"], strict=False)
        if "result" in a and "result" in b and b["wall_s"] > 0
    ]
    out["ratio_paired_median"] = median(out["ratio_paired_samples"])
    return out


def _runs_by_n(child: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    by_n: dict[int, list[dict[str, Any]]] = {}
    for run in child.get("result", {}).get("runs", []):
        by_n.setdefault(run["n"], []).append(run)
    return by_n


def analyse_wn(trials: dict[str, list[dict[str, Any]]], schedule: list[int]) -> dict[str, Any]:
    ns = sorted(set(schedule))
    n_lo, n_hi = ns[0], ns[-1]
    out: dict[str, Any] = {"n_values": ns, "overhead_formula": f"(W({n_hi}) - W({n_lo})) / {n_hi - n_lo}"}
    per_trial: dict[str, list[dict[str, float]]] = {}
    for framework, children in trials.items():
        fw: dict[str, Any] = {"W": {}, "W_cpu": {}}
        for n in ns:
            walls = [r["wall_s"] for c in children for r in _runs_by_n(c).get(n, [])]
            cpus = [r["cpu_s"] for c in children for r in _runs_by_n(c).get(n, [])]
            fw["W"][str(n)] = {"median_s": median(walls), "samples_s": walls}
            fw["W_cpu"][str(n)] = {"median_s": median(cpus), "samples_s": cpus}
        lo, hi = fw["W"][str(n_lo)]["median_s"], fw["W"][str(n_hi)]["median_s"]
        fw["per_checkpoint_s"] = None if lo is None or hi is None else (hi - lo) / (n_hi - n_lo)
        clo, chi = fw["W_cpu"][str(n_lo)]["median_s"], fw["W_cpu"][str(n_hi)]["median_s"]
        fw["per_checkpoint_cpu_s"] = None if clo is None or chi is None else (chi - clo) / (n_hi - n_lo)
        rows = []
        for child in children:
            by_n = _runs_by_n(child)
            if n_lo in by_n and n_hi in by_n:
                w_lo = median([r["wall_s"] for r in by_n[n_lo]])
                w_hi = median([r["wall_s"] for r in by_n[n_hi]])
                c_lo = median([r["cpu_s"] for r in by_n[n_lo]])
                c_hi = median([r["cpu_s"] for r in by_n[n_hi]])
                rows.append(
                    {
                        "wall": (w_hi - w_lo) / (n_hi - n_lo),  # type: ignore[operator]
                        "cpu": (c_hi - c_lo) / (n_hi - n_lo),  # type: ignore[operator]
                        # peak of the process that ran W(n_hi) last; and the peak just before it
                        "maxrss_mib": child["maxrss_kib"] / 1024,
                        "maxrss_before_top_mib": _rss_before_top(child, n_hi) / 1024,
                    }
                )
            else:
                rows.append({})
        per_trial[framework] = rows
        fw["per_trial_per_checkpoint_s"] = [r.get("wall") for r in rows]
        fw["peak_rss_mib"] = median([r["maxrss_mib"] for r in rows if r])
        fw["peak_rss_samples_mib"] = [r["maxrss_mib"] for r in rows if r]
        fw["rss_before_top_mib"] = median([r["maxrss_before_top_mib"] for r in rows if r])
        fw["failures"] = sum(1 for c in children if "result" not in c)
        out[framework] = fw
    k, z = out["kitaru"], out["zenml"]
    out["W_ratio"] = {str(n): ratio(k["W"][str(n)]["median_s"], z["W"][str(n)]["median_s"]) for n in ns}
    out["W_cpu_ratio"] = {str(n): ratio(k["W_cpu"][str(n)]["median_s"], z["W_cpu"][str(n)]["median_s"]) for n in ns}
    out["per_checkpoint_ratio"] = ratio(k["per_checkpoint_s"], z["per_checkpoint_s"])
    out["per_checkpoint_cpu_ratio"] = ratio(k["per_checkpoint_cpu_s"], z["per_checkpoint_cpu_s"])
    paired = [
        a["wall"] / b["wall"]
        for a, b in zip(per_trial["kitaru"], per_trial["zenml"], strict=False)
        if a and b and b["wall"] > 0
    ]
    out["per_checkpoint_ratio_paired_median"] = median(paired)
    out["per_checkpoint_ratio_paired_samples"] = paired
    out["peak_rss_ratio"] = ratio(k["peak_rss_mib"], z["peak_rss_mib"])
    return out


def _rss_before_top(child: dict[str, Any], n_hi: int) -> float:
    runs = child.get("result", {}).get("runs", [])
    before = [r["maxrss_kib_after"] for r in runs[:-1]] if runs and runs[-1]["n"] == n_hi else []
    warm = child.get("result", {}).get("warmup", [])
    values = before or [r["maxrss_kib_after"] for r in warm] or [0]
    return float(max(values))


def analyse_resume(children: list[dict[str, Any]], rc: dict[str, Any]) -> dict[str, Any]:
    rounds = [r for c in children for r in c.get("result", {}).get("rounds", [])]
    failures = [c for c in children if "result" not in c]
    out: dict[str, Any] = {
        "n": rc["n"],
        "fail_at": rc["fail_at"],
        "fresh_n": rc["fresh"],
        "samples": len(rounds),
        "failures": len(failures),
        "check_failures": [c["check_failed"] for c in failures if "check_failed" in c],
        "verified": bool(rounds) and not failures,
    }
    for kind in ("resume", "fresh"):
        runs = [r[kind] for r in rounds]
        entry: dict[str, Any] = {"samples_s": [r["wall_s"] for r in runs]}
        for key in (
            "wall_s", "cpu_s", "setup_s", "body_s", "finish_s",
            "reused_call_median_ms", "reused_calls_total_s", "executed_call_median_ms", "executed_calls_total_s",
        ):  # fmt: skip
            entry[key] = median([r[key] for r in runs if r.get(key) is not None])
        out[kind] = entry
    r, f = out["resume"], out["fresh"]
    out["ratio"] = ratio(r["wall_s"], f["wall_s"])
    out["cpu_ratio"] = ratio(r["cpu_s"], f["cpu_s"])
    out["ratio_per_round_samples"] = [x["ratio"] for x in rounds]
    out["ratio_per_round_median"] = median(out["ratio_per_round_samples"])
    # where resume - fresh comes from (medians of the parts, so they need not add up exactly)
    if rounds:
        out["difference_s"] = {
            "total": r["wall_s"] - f["wall_s"],
            "setup": r["setup_s"] - f["setup_s"],
            "reused_calls": r["reused_calls_total_s"],
            "executed_calls_minus_fresh_calls": r["executed_calls_total_s"] - f["executed_calls_total_s"],
            "finish": r["finish_s"] - f["finish_s"],
        }
    return out


def verdicts(
    startup: dict[str, Any] | None,
    first: dict[str, Any] | None,
    wn: dict[str, Any] | None,
    resume: dict[str, Any] | None = None,
    cli: dict[str, Any] | None = None,
    later: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """PASS/MISS per budget; sections that were not measured (``--resume-only``, ``--only``) are left out."""
    out = []

    def add(name: str, value: float | None, budget: float, unit: str, note: str = "") -> None:
        if value is None:
            out.append({"name": name, "value": None, "budget": budget, "verdict": "N/A", "margin": None, "note": note})
            return
        margin = budget - value
        out.append(
            {
                "name": name,
                "value": value,
                "budget": budget,
                "unit": unit,
                "verdict": "PASS" if value <= budget else "MISS",
                "margin": margin,
                "note": note,
            }
        )

    if startup is not None:
        add("import kitaru (net of python -c pass)", startup["import_kitaru_net_s"], BUDGETS["import_kitaru_net_s"], "s")
        help_note = "" if startup["kitaru_help_state"] == "ok" else f"kitaru --help {startup['kitaru_help_state']}"
        add("kitaru --help (wall)", startup["kitaru_help_s"], BUDGETS["kitaru_help_s"], "s", help_note)
    if wn is not None:
        add(
            "per-checkpoint overhead ratio kitaru/zenml",
            wn["per_checkpoint_ratio"],
            BUDGETS["per_checkpoint_ratio"],
            "x",
            f"{wn['overhead_formula']}, medians",
        )
    if first is not None:
        add(
            "first run: kitaru / zenml",
            first["ratio"],
            BUDGETS["first_run_ratio"],
            "x",
            "process start to exit, fresh config dir, medians",
        )
    if resume is not None:
        name = f"resume of {resume['n']} checkpoints failed at {resume['fail_at']} / fresh run of {resume['fresh_n']}"
        if not resume["verified"]:
            why = "; ".join(resume["check_failures"]) or f"{resume['failures']} resume trial(s) failed"
            out.append(
                {"name": name, "value": resume["ratio"], "budget": BUDGETS["resume_ratio"], "unit": "x",
                 "verdict": "FAIL", "margin": None, "note": f"verification failed: {why}"}
            )  # fmt: skip
        else:
            add(name, resume["ratio"], BUDGETS["resume_ratio"], "x", "medians of the retry call and the run call")
    if cli is not None:
        if cli["problems"]:
            out.append(
                {"name": "warm CLI read command / import zenml (worst)", "value": cli["worst_warm_ratio"],
                 "budget": cli["budget_ratio"], "unit": "x", "verdict": "FAIL", "margin": None,
                 "note": "; ".join(cli["problems"])[:500]}
            )  # fmt: skip
        else:
            add(
                "warm CLI read command / import zenml (worst)",
                cli["worst_warm_ratio"],
                cli["budget_ratio"],
                "x",
                "medians, same run",
            )
    for env in (later or {}).get("environments", {}).values():
        name = f"later run / import zenml, {env['label']}"
        if env["problems"]:
            out.append(
                {"name": name, "value": env["ratio"], "budget": BUDGETS["later_run_ratio"], "unit": "x",
                 "verdict": "FAIL", "margin": None, "note": "; ".join(env["problems"])[:500]}
            )  # fmt: skip
        else:
            add(name, env["ratio"], BUDGETS["later_run_ratio"], "x", "process wall, medians, same run")
    return out


# -- report ------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def render(report: dict[str, Any]) -> str:
    meta, cfg = report["meta"], report["config"]
    s, f, w = report["summary"]["startup"], report["summary"]["first_run"], report["summary"]["wn"]
    lines = [
        f"Kitaru bench, {cfg['mode']} mode{_scope(cfg)}, {meta['started_at']} ({meta['duration_s']:.0f} s)",
        f"machine: {meta['cpu_count']} cores, {meta['cpu_model']}, {meta['mem_total_gib']} GiB, "
        f"{meta['platform']}; load avg at start/end {meta['loadavg_start']} / {meta['loadavg_end']}",
        f"python {meta['python']}, zenml {meta['zenml_version']}, kitaru-core {meta['kitaru_version']}, "
        f"git {meta['git']}; bare-ZenML children imported kitaru: "
        f"{'YES (baseline not bare!)' if report['summary'].get('bare_zenml_imported_kitaru') else 'no'}",
    ]
    if s is not None:
        lines += _render_startup(cfg, s)
    if f is not None:
        lines += _render_first_run(cfg, f)
    later = report["summary"].get("later_run")
    if later is not None:
        lines += [""] + later_run.render(later, cfg["later_rounds"])
    if w is not None:
        lines += _render_wn(cfg, w)
    res = report["summary"].get("resume")
    if res:
        lines += [""] + render_resume(res, cfg["resume"])
    if report["summary"].get("cli"):
        lines += [""] + cli_reads.render(report["summary"]["cli"])
    lines += _render_rest(report)
    return "\n".join(lines)


def _scope(cfg: dict[str, Any]) -> str:
    if cfg.get("resume_only"):
        return " (resume only)"
    sections = cfg.get("sections", list(SECTIONS))
    return "" if list(sections) == list(SECTIONS) else f" (only {', '.join(sections)})"


def _verdict(value: float | None, budget: float) -> str:
    return "N/A" if value is None else ("PASS" if value <= budget else "MISS")


def _render_startup(cfg: dict[str, Any], s: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Startup (median of {cfg['startup_rounds']} runs each)      wall s     net s",
        f"  python -c pass                       {fmt(s['python_pass_s']):>8}",
        f"  import kitaru                        {fmt(s['import_kitaru_s']):>8}  {fmt(s['import_kitaru_net_s']):>8}",
    ]
    if s["kitaru_help_state"] == "ok":
        lines.append(f"  kitaru --help                        {fmt(s['kitaru_help_s']):>8}  {fmt(s['kitaru_help_net_s']):>8}")
    else:
        lines.append(f"  kitaru --help                        {s['kitaru_help_state'].upper()}")
    loaded = s.get("engine_loaded", {})
    lines.append(
        "  engine (zenml) imported by: "
        + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in loaded.items())
    )
    return lines


def _render_first_run(cfg: dict[str, Any], f: dict[str, Any]) -> list[str]:
    budget = BUDGETS["first_run_ratio"]
    return [
        "",
        f"First run in a fresh config dir, process start to exit (median of {cfg['first_run_pairs']})",
        f"  kitaru  {fmt(f['kitaru']['wall_s'], '.2f')} s   (in process: import {fmt(f['kitaru']['in_process_import_s'], '.2f')} s,"
        f" run {fmt(f['kitaru']['in_process_run_s'], '.2f')} s)",
        f"  zenml   {fmt(f['zenml']['wall_s'], '.2f')} s   (in process: import {fmt(f['zenml']['in_process_import_s'], '.2f')} s,"
        f" run {fmt(f['zenml']['in_process_run_s'], '.2f')} s)",
        f"  kitaru - zenml  {fmt(f['kitaru_minus_zenml_s'], '+.2f')} s (paired median {fmt(f['paired_kitaru_minus_zenml_s'], '+.2f')} s;"
        " information, not budgeted)",
        f"  kitaru / zenml  {fmt(f['ratio'], '.2f')} (median of per-pair ratios {fmt(f['ratio_paired_median'], '.2f')};"
        f" pairs: {', '.join(f'{x:.2f}' for x in f['ratio_paired_samples'])})",
        f"  {_verdict(f['ratio'], budget):4s}  first run kitaru / zenml {fmt(f['ratio'], '.2f')} (budget <= {budget})",
    ]


def _render_wn(cfg: dict[str, Any], w: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"W(N): run call only, warm process, caching off ({cfg['wn_pairs']} interleaved process pairs)",
        "                               kitaru      zenml    ratio   | CPU: kitaru    zenml    ratio",
    ]
    for n in w["n_values"]:
        key = str(n)
        kw, zw = w["kitaru"]["W"][key], w["zenml"]["W"][key]
        kc, zc = w["kitaru"]["W_cpu"][key], w["zenml"]["W_cpu"][key]
        lines.append(
            f"  W({n:<3}) s [{len(kw['samples_s'])}+{len(zw['samples_s'])} samples]".ljust(29)
            + f"{fmt(kw['median_s']):>8}   {fmt(zw['median_s']):>8}   {fmt(w['W_ratio'][key], '.2f'):>6}"
            + f"   |    {fmt(kc['median_s']):>8} {fmt(zc['median_s']):>8}   {fmt(w['W_cpu_ratio'][key], '.2f'):>6}"
        )
    kpc, zpc = w["kitaru"]["per_checkpoint_s"], w["zenml"]["per_checkpoint_s"]
    kcc, zcc = w["kitaru"]["per_checkpoint_cpu_s"], w["zenml"]["per_checkpoint_cpu_s"]
    lines += [
        f"  per checkpoint ms {w['overhead_formula']}".ljust(29)
        + f"{fmt(None if kpc is None else kpc * 1000, '.1f'):>8}   {fmt(None if zpc is None else zpc * 1000, '.1f'):>8}"
        + f"   {fmt(w['per_checkpoint_ratio'], '.2f'):>6}"
        + f"   |    {fmt(None if kcc is None else kcc * 1000, '.1f'):>8} {fmt(None if zcc is None else zcc * 1000, '.1f'):>8}"
        + f"   {fmt(w['per_checkpoint_cpu_ratio'], '.2f'):>6}",
        f"  per-checkpoint ratio, median of per-pair ratios: {fmt(w['per_checkpoint_ratio_paired_median'], '.2f')}"
        f"  (pairs: {', '.join(f'{x:.2f}' for x in w['per_checkpoint_ratio_paired_samples'])})",
        "  peak RSS of the W(N) process (ru_maxrss) MiB".ljust(29)
        + f"{fmt(w['kitaru']['peak_rss_mib'], '.0f'):>8}   {fmt(w['zenml']['peak_rss_mib'], '.0f'):>8}   {fmt(w['peak_rss_ratio'], '.2f'):>6}"
        + f"   (before W({w['n_values'][-1]}): {fmt(w['kitaru']['rss_before_top_mib'], '.0f')} / {fmt(w['zenml']['rss_before_top_mib'], '.0f')})",
    ]
    return lines


def _render_rest(report: dict[str, Any]) -> list[str]:
    cfg = report["config"]
    lines = ["", "Budgets (medians)"]
    for v in report["verdicts"]:
        unit = v.get("unit", "")
        if v["verdict"] == "N/A":
            lines.append(f"  N/A   {v['name']}: not measured {v['note']}")
            continue
        if v["verdict"] == "FAIL":
            lines.append(f"  FAIL  {v['name']}: {v['note']}")
            continue
        margin = v["margin"]
        how = f"{abs(margin):.3f}{unit} to spare" if margin >= 0 else f"over by {abs(margin):.3f}{unit}"
        lines.append(f"  {v['verdict']:4}  {v['name']}: {v['value']:.3f}{unit} (budget <= {v['budget']}{unit}; {how})")
    rprof = (report.get("profile") or {}).get("resume")
    if rprof and rprof.get("summary"):
        lines += [
            "",
            f"Where a resume's time goes: cProfile of one retry ({cfg['resume']['n']} checkpoints, failed at "
            f"{cfg['resume']['fail_at']}; profiler-inflated, read as shares)",
            profile_summary.format_resume(rprof["summary"]),
        ]
    prof = report.get("profile")
    if prof and prof.get("summaries"):
        summaries = [prof["summaries"][fw] for fw in FRAMEWORKS if fw in prof["summaries"]]
        lines += ["", f"Where a checkpoint's time goes: cProfile of W({prof['n']}) (profiler-inflated; read as shares)"]
        lines.append(profile_summary.format_summary(summaries))
        if "diff" in prof:
            lines += ["", profile_summary.format_diff(prof["diff"], top=8)]
    return lines


def render_resume(res: dict[str, Any], rc: dict[str, Any]) -> list[str]:
    def ms(value: float | None, spec: str = ".1f") -> str:
        return fmt(None if value is None else value * 1000, spec)

    r, f = res["resume"], res["fresh"]
    k, e = res["fail_at"] - 1, res["n"] - res["fail_at"] + 1
    lines = [
        f"Resume: retry of a {res['n']}-checkpoint execution that failed at checkpoint {res['fail_at']}, versus a",
        f"fresh run of {res['fresh_n']} checkpoints ({rc['processes']} warm processes x {rc['rounds']} interleaved rounds,"
        f" {res['samples']} samples each; verified: {'yes' if res['verified'] else 'NO'})",
        "                                         resume      fresh   ratio  | CPU: resume    fresh  ratio",
        "  run call s (retry / run().wait())".ljust(39)
        + f"{fmt(r['wall_s']):>8}   {fmt(f['wall_s']):>8}   {fmt(res['ratio'], '.2f'):>5}"
        + f"  |    {fmt(r['cpu_s']):>8} {fmt(f['cpu_s']):>8}  {fmt(res['cpu_ratio'], '.2f'):>5}",
        f"  ratio, median of per-round ratios: {fmt(res['ratio_per_round_median'], '.2f')}"
        f"  (rounds: {', '.join(f'{x:.2f}' for x in res['ratio_per_round_samples'])})",
        "  split of the call, ms (from marks in the flow body)   resume      fresh",
        "    setup: call until the body reaches checkpoint 1".ljust(55) + f"{ms(r['setup_s']):>8}   {ms(f['setup_s']):>8}",
        f"    reused checkpoints 1..{k} (total)".ljust(55) + f"{ms(r['reused_calls_total_s']):>8}   {'-':>8}",
        f"    executed checkpoints (total; resume {e}, fresh {res['fresh_n']})".ljust(55)
        + f"{ms(r['executed_calls_total_s']):>8}   {ms(f['executed_calls_total_s']):>8}",
        "    finish: last checkpoint until the call returns".ljust(55) + f"{ms(r['finish_s']):>8}   {ms(f['finish_s']):>8}",
        "  per call, median ms: reused".ljust(55) + f"{fmt(r['reused_call_median_ms'], '.2f'):>8}   {'-':>8}",
        "  per call, median ms: executed".ljust(55)
        + f"{fmt(r['executed_call_median_ms'], '.1f'):>8}   {fmt(f['executed_call_median_ms'], '.1f'):>8}",
    ]
    return lines


# -- main --------------------------------------------------------------------------


def interpreter_versions(python: str) -> dict[str, str | None]:
    """Python, zenml and kitaru-core versions of the interpreter ``python``."""
    probe = (
        "import importlib.metadata as m, sys, json\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except Exception: return None\n"
        "print(json.dumps({'python': sys.version.split()[0], 'zenml': v('zenml'), 'kitaru': v('kitaru-core')}))"
    )
    try:
        return dict(json.loads(subprocess.check_output([python, "-c", probe], text=True)))
    except Exception:
        return {"python": None, "zenml": None, "kitaru": None}


def machine_info(python: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
    }
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu_model"] = model
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        info["mem_total_gib"] = None
    versions = interpreter_versions(python)
    info["python"] = versions["python"]
    info["zenml_version"] = versions["zenml"]
    info["kitaru_version"] = versions["kitaru"]
    try:
        rev = subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], text=True).strip()
        dirty = subprocess.check_output(["git", "-C", str(ROOT), "status", "--porcelain"], text=True).strip()
        info["git"] = rev + ("+dirty" if dirty else "")
    except Exception:
        info["git"] = "unknown"
    return info


def select_sections(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The sections to run, in ``SECTIONS`` order, from ``--only`` / ``--resume-only`` / ``--no-*``."""
    if args.only and args.resume_only:
        parser.error("--only and --resume-only exclude each other (--resume-only is --only resume,profile)")
    if args.quickstart_python and args.make_quickstart_env:
        parser.error("--quickstart-python and --make-quickstart-env exclude each other")
    if args.resume_only:
        chosen = {"resume", "profile"}
    elif args.only:
        chosen = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = sorted(chosen - set(SECTIONS))
        if unknown or not chosen:
            parser.error(
                f"--only: unknown section(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SECTIONS)}"
            )
    else:
        chosen = set(SECTIONS)
    if args.no_profile:
        chosen.discard("profile")
    if args.no_cli:
        chosen.discard("cli")
    if (args.quickstart_python or args.make_quickstart_env) and "later" not in chosen:
        parser.error("--quickstart-python / --make-quickstart-env are for the later section, which is not selected")
    return [name for name in SECTIONS if name in chosen]


def main() -> int:
    parser = argparse.ArgumentParser(description="Kitaru versus bare ZenML performance bench.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, N up to 10 (~90 s)")
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "latest.json"), help="JSON output path")
    parser.add_argument("--python", default=None, help="interpreter with kitaru and zenml (default: .venv/bin/python)")
    parser.add_argument("--wn-pairs", type=int, default=None, help="override the number of W(N) process pairs")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile section")
    parser.add_argument("--resume-processes", type=int, default=None, help="override the number of resume processes")
    parser.add_argument(
        "--resume-only",
        action="store_true",
        help="only the resume section (and its profile); default output becomes results/resume.json",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary trial directories")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI read-command section")
    parser.add_argument(
        "--only",
        default=None,
        metavar="SECTION[,SECTION]",
        help=f"run only these sections ({', '.join(SECTIONS)}); default output becomes results/only-SECTIONS.json",
    )
    parser.add_argument(
        "--quickstart-python",
        default=None,
        metavar="PATH",
        help="also measure the later run with this interpreter (a venv with only kitaru core + local)",
    )
    parser.add_argument(
        "--make-quickstart-env",
        default=None,
        metavar="DIR",
        help="create that venv at DIR from uv.lock (as tools/bootstrap.py quickstart does), then use it",
    )
    args = parser.parse_args()
    sections = select_sections(parser, args)

    venv_python = ROOT / ".venv" / "bin" / "python"
    python = args.python or (str(venv_python) if venv_python.exists() else sys.executable)
    mode = "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    if args.wn_pairs:
        cfg["wn_pairs"] = args.wn_pairs
    cfg["resume"] = dict(cfg["resume"])
    if args.resume_processes:
        cfg["resume"]["processes"] = args.resume_processes
    cfg["resume_only"] = args.resume_only
    cfg["sections"] = sections
    if args.out == parser.get_default("out"):  # keep latest.json a complete run
        if args.resume_only:
            args.out = str(BENCH_DIR / "results" / "resume.json")
        elif args.only:
            args.out = str(BENCH_DIR / "results" / f"only-{'-'.join(sections)}.json")
    out_path = Path(args.out).resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_base = out_path.with_suffix("")

    started = time.time()
    meta = machine_info(python)
    meta["started_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    meta["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    meta["python_executable"] = python
    log(f"Kitaru bench ({mode}) with {python}; sections: {', '.join(sections)}")
    order: list[str] = [
        name for name in ("startup", "first", "later", "wn", "resume", "profile", "cli") if name in sections
    ]

    def step(name: str, text: str) -> None:
        log(f"[{order.index(name) + 1}/{len(order)}] {text}")

    sandbox = Sandbox(keep=args.keep)
    try:
        rc = cfg["resume"]
        startup: dict[str, Any] | None = None
        first: dict[str, Any] | None = None
        later: dict[str, Any] | None = None
        wn: dict[str, Any] | None = None
        resume: list[dict[str, Any]] | None = None
        if "startup" in sections:
            step("startup", "startup: python -c pass / import kitaru / kitaru --help")
            startup = measure_startup(sandbox, python, cfg["startup_rounds"])
        if "first" in sections:
            step("first", "first run in a fresh config dir")
            first = measure_first_run(sandbox, python, cfg["first_run_pairs"])
        if "later" in sections:
            step("later", "later run: examples/quickstart.py in an existing store vs bare python -c 'import zenml'")
            environments = {"python": python}
            if args.make_quickstart_env:
                made = time.time()
                environments["quickstart"] = later_run.make_quickstart_env(Path(args.make_quickstart_env), log)
                meta["quickstart_env_made_s"] = time.time() - made
            elif args.quickstart_python:
                environments["quickstart"] = os.path.abspath(args.quickstart_python)
            if "quickstart" in environments:
                meta["quickstart_python"] = environments["quickstart"]
                meta["quickstart_versions"] = interpreter_versions(environments["quickstart"])
            later = later_run.measure(environments, cfg["later_rounds"], sandbox.trial_dir("later"), log)
        if "wn" in sections:
            step("wn", f"W(N), schedule {cfg['schedule']} after warm-up {cfg['warmup']}")
            wn = measure_wn(sandbox, python, cfg["wn_pairs"], cfg["warmup"], cfg["schedule"])
        if "resume" in sections:
            step(
                "resume",
                f"resume: retry of {rc['n']} checkpoints failed at {rc['fail_at']} vs fresh run of {rc['fresh']}",
            )
            resume = measure_resume(sandbox, python, rc)
        profile: dict[str, Any] | None = None
        if "profile" in sections:
            what = "one resume" if args.resume_only else f"W({cfg['profile_n']}) and of one resume"
            step("profile", f"cProfile of {what}")
            profile = {}
            if not args.resume_only:
                profile = measure_profiles(
                    sandbox, python, cfg["profile_n"], cfg["profile_frameworks"], cfg["warmup"], out_base
                )
            profile["resume"] = measure_resume_profile(sandbox, python, rc, out_base)
        cli: dict[str, Any] | None = None
        if "cli" in sections:
            step("cli", "CLI read commands, warm and cold, against python -c 'import zenml'")
            cli = cli_reads.measure(python, **cfg["cli"], log=log)
    finally:
        sandbox.close()

    zenml_children = [c for group in (first, wn) if group is not None for c in group["zenml"]]
    zenml_children += [c for fw, c in (profile or {}).get("children", {}).items() if fw == "zenml"]
    later_summary = later_run.analyse(later) if later is not None else None
    bare_zenml_imported_kitaru = any(c.get("result", {}).get("kitaru_imported") for c in zenml_children) or any(
        env["kitaru_imported"] for env in (later_summary or {}).get("environments", {}).values()
    )
    if bare_zenml_imported_kitaru:
        log("  ! a bare-ZenML child imported kitaru: the baseline is not bare")
    summary: dict[str, Any] = {
        "bare_zenml_imported_kitaru": bare_zenml_imported_kitaru,
        "startup": analyse_startup(startup) if startup is not None else None,
        "first_run": analyse_first_run(first) if first is not None else None,
        "later_run": later_summary,
        "wn": analyse_wn(wn, cfg["schedule"]) if wn is not None else None,
        "resume": analyse_resume(resume, rc) if resume is not None else None,
        "cli": cli,
    }
    meta["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    meta["duration_s"] = time.time() - started
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report = {
        "meta": meta,
        "config": {"mode": mode, **cfg, "budgets": BUDGETS},
        "summary": summary,
        "verdicts": verdicts(
            summary["startup"],
            summary["first_run"],
            summary["wn"],
            summary["resume"],
            summary["cli"],
            summary["later_run"],
        ),
        "samples": {"startup": startup, "first_run": first, "later_run": later, "wn": wn, "resume": resume},
        "profile": profile,
    }
    out_path.write_text(json.dumps(report, indent=2, default=str))
    print(render(report))
    print(f"\nJSON written to {out_path}")
    if summary["resume"] is not None and not summary["resume"]["verified"]:
        reasons = summary["resume"]["check_failures"] or ["a resume trial failed; see its stderr above"]
        log("\n" + "!" * 78 + "\nRESUME VERIFICATION FAILED: " + "\n  ".join(reasons) + "\n" + "!" * 78)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

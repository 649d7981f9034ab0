#!/usr/bin/env python3
"""Kill -9 trials at scale: figures for ``docs/reliability.md``.

    .venv/bin/python bench/faults.py --trials 120 --store local
    .venv/bin/python bench/faults.py --trials 100 --store both --out bench/results/faults.json

Each trial (``tests/faults/harness.py``, the same harness the CI tests use)
runs a five-checkpoint flow with two multi-MB outputs and a checkpoint retry,
kills its process group with SIGKILL at a seeded random moment (a random time
within a measured run, a large-output write, a small output and its status
update, the flow-result write, inside the checkpoint's retry, or inside the
``kitaru executions retry`` of a first kill), then retries it from another
directory until it completes and checks the store. Moments rotate, so 120
trials give 20 of each.

Stores: ``local`` (the local default: SQLite + local artifact store) and
``s3`` (a local stack whose artifact store is a bucket on moto's S3 server).
With ``both`` the two stores run one after the other.

Prints a table per store and moment, and writes JSON (default
``bench/results/faults-latest.json``, rewritten after every trial so a long
run that is stopped still leaves its figures) with machine info, load
averages, the git revision, every trial and the figures. Exit code 2 when any
trial broke a guarantee (a duplicate, a lost or stuck execution, a wrong
value, an unreadable store), else 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

sys.path.insert(0, str(ROOT))
from tests.faults import harness  # noqa: E402

COLUMNS = (
    "trials",
    "kills",
    "executions_to_recover",
    "completed",
    "nothing_to_retry",
    "duplicates",
    "lost",
    "wrong_values",
    "stuck",
    "unreadable",
    "errors",
    "seconds",
)
HEADERS = (
    "trials",
    "kills",
    "to recover",
    "completed",
    "nothing",
    "dupl",
    "lost",
    "wrong",
    "stuck",
    "unread",
    "errors",
    "time s",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=120, help="kill trials per store (default 120)")
    parser.add_argument("--store", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--seed", type=int, default=20261203, help="seed of the trial plan")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "faults-latest.json")
    parser.add_argument(
        "--fresh-interpreters",
        action="store_true",
        help="start every process as a new interpreter instead of a fork of a "
        "preloaded one (slower: 5-15 s more per process on a loaded machine)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the trial directories")
    args = parser.parse_args()

    stores = ("local", "s3") if args.store == "both" else (args.store,)
    report: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": os.getloadavg(),
        "seed": args.seed,
        "launcher": "fresh interpreters" if args.fresh_interpreters else "fork server",
        "stores": {},
    }
    root = Path(tempfile.mkdtemp(prefix="kitaru-faults-"))
    print(
        f"Kitaru fault bench: {args.trials} trials per store on {', '.join(stores)}; "
        f"load average {fmt_load(os.getloadavg())}; trial files under {root}",
        flush=True,
    )
    broken = False
    try:
        for name in stores:
            results = run_store(name, root / name, args, report)
            broken |= any(not r.ok for r in results)
    finally:
        report["load_after"] = os.getloadavg()
        report["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        write(args.out, report)
        if not args.keep and not broken:
            shutil.rmtree(root, ignore_errors=True)
    print_table(report)
    print(f"\nload average before {fmt_load(report['load_before'])}, after {fmt_load(report['load_after'])}")
    print(f"JSON: {args.out}" + (f"; failing trials kept under {root}" if broken else ""))
    return 2 if broken else 0


def run_store(name: str, root: Path, args: argparse.Namespace, report: dict[str, Any]) -> list[harness.TrialResult]:
    rng = random.Random(f"{args.seed}:{name}")
    moto = harness.MotoServer(root / "moto") if name == "s3" else None
    results: list[harness.TrialResult] = []
    entry: dict[str, Any] = {"trials": [], "figures": {}, "by_moment": {}}
    report["stores"][name] = entry
    started = time.monotonic()
    try:
        if moto is not None:
            moto.start()
            store = harness.FaultStore.s3(root, moto.endpoint)
        else:
            store = harness.FaultStore.local(root)
        if not args.fresh_interpreters:
            store.start_fork_server()
        calibration = store.calibrate()
        entry["calibration"] = {
            "first_enter": calibration.first_enter,
            "exit": calibration.exit,
            "gaps": calibration.gaps,
        }
        print(
            f"[{name}] calibrated: first checkpoint {calibration.first_enter:.1f} s after start, "
            f"exit {calibration.exit:.1f} s",
            flush=True,
        )
        for index in range(args.trials):
            moment = harness.MOMENTS[index % len(harness.MOMENTS)]
            result = harness.run_trial(store, moment, rng, calibration)
            results.append(result)
            entry["trials"].append(harness.as_dict(result))
            verdict = "ok" if result.ok else "BROKEN: " + "; ".join(result.problems())
            print(
                f"[{name}] {index + 1:3d}/{args.trials} {moment:14s} kills={result.kills} "
                f"{result.outcome:16s} {result.kill_after:34s} {result.seconds:5.1f}s {verdict}",
                flush=True,
            )
            summarise(entry, results, time.monotonic() - started)
            write(args.out, report)
        store.close()
    finally:
        if moto is not None:
            moto.stop()
        summarise(entry, results, time.monotonic() - started)
    return results


def summarise(entry: dict[str, Any], results: list[harness.TrialResult], seconds: float) -> None:
    entry["figures"] = harness.figures(results, seconds)
    entry["by_moment"] = {
        moment: harness.figures([r for r in results if r.moment == moment])
        for moment in harness.MOMENTS
        if any(r.moment == moment for r in results)
    }


def print_table(report: dict[str, Any]) -> None:
    print("\n" + f"{'store':6s} {'moment':15s} " + " ".join(f"{h:>10s}" for h in HEADERS))
    totals: list[dict[str, Any]] = []
    for name, entry in report["stores"].items():
        for moment, figures in entry["by_moment"].items():
            print(f"{name:6s} {moment:15s} " + " ".join(f"{figures[c]:>10}" for c in COLUMNS))
        print(f"{name:6s} {'ALL':15s} " + " ".join(f"{entry['figures'][c]:>10}" for c in COLUMNS))
        totals.append(entry["figures"])
    if len(totals) > 1:
        summed = {c: round(sum(t[c] for t in totals), 1) for c in COLUMNS}
        print(f"{'both':6s} {'ALL':15s} " + " ".join(f"{summed[c]:>10}" for c in COLUMNS))
        report["figures"] = summed
    elif totals:
        report["figures"] = totals[0]
    print("\nJSON figures: " + json.dumps(report.get("figures", {})))


def machine() -> dict[str, Any]:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        revision = ""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "git": revision,
    }


def fmt_load(load: Any) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=2, default=str))
    temporary.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())

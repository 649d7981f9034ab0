"""Child-process harness shared by the bench workloads.

``bench/run.py`` copies this file and one workload script (``kitaru_chain.py``
or ``zenml_chain.py``) into a fresh temporary directory and runs the workload
there as ``__main__``, so each trial starts from a new interpreter, an empty
config directory and a working directory without any repository marker.

A workload script only defines ``run_once(n)`` (one complete execution with
``n`` chained checkpoints or steps) and calls :func:`main`. The harness parses
the arguments, runs the requested schedule and writes a JSON result file:

* ``--mode first``: one run with ``n=1`` and exit (the parent times the whole
  process, from start to exit, for "first run in a fresh config dir").
* ``--mode wn``: warm-up runs (``--warmup``), then every ``n`` of
  ``--schedule`` in order, timing only the run call of each.
* ``--mode profile``: warm-up runs, then one run of ``--n`` under cProfile,
  the stats dumped to ``--prof``.

The resume workload (``kitaru_resume.py``) has its own modes and only uses
:data:`PROBE`, the process-global state its flow body and checkpoint body
write to (see there).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


class Probe:
    """Process-global state of the resume workload, shared by every copy of its module.

    When an execution is retried, the engine loads the flow from its recorded
    source, which may import the workload file a second time (under its module
    name, next to ``__main__``). Checkpoint and flow bodies therefore record
    into this object, which lives in the harness module, imported only once.

    Attributes:
        fail_at: 1-based checkpoint index that raises (None: none raises).
        body_calls: Executions of the checkpoint body, by checkpoint index.
        marks: ``(index, perf_counter)`` taken in the flow body just before
            each checkpoint call, plus ``(0, t)`` after the last one.
        on_call: Optional hook called with the index before each call (the
            profile mode switches profilers there).
    """

    def __init__(self) -> None:
        self.fail_at: int | None = None
        self.body_calls: collections.Counter[int] = collections.Counter()
        self.marks: list[tuple[int, float]] = []
        self.on_call: Callable[[int], None] | None = None

    def mark(self, index: int) -> None:
        if self.on_call is not None:
            self.on_call(index)
        self.marks.append((index, time.perf_counter()))

    def reset(self, fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.body_calls.clear()
        self.marks.clear()


PROBE = Probe()


def _maxrss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _timed(run_once: Callable[[int], Any], n: int) -> dict[str, Any]:
    gc.collect()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    run_once(n)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {"n": n, "wall_s": wall, "cpu_s": cpu, "maxrss_kib_after": _maxrss_kib()}


def main(run_once: Callable[[int], Any], *, framework: str, import_seconds: float) -> None:
    """Run the schedule given on the command line and write the result file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("first", "wn", "profile"), required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--warmup", default="2", help="comma-separated n values")
    parser.add_argument("--schedule", default="1", help="comma-separated n values (wn)")
    parser.add_argument("--n", type=int, default=100, help="n for --mode profile")
    parser.add_argument("--prof", default=None, help="where to dump cProfile stats")
    args = parser.parse_args()

    result: dict[str, Any] = {
        "framework": framework,
        "mode": args.mode,
        "import_s": import_seconds,
        "python": sys.version.split()[0],
        "kitaru_imported": "kitaru" in sys.modules,
    }
    if args.mode == "first":
        t0 = time.perf_counter()
        run_once(1)
        result["run_s"] = time.perf_counter() - t0
    else:
        warmups = [int(v) for v in args.warmup.split(",") if v.strip()]
        result["warmup"] = [_timed(run_once, n) for n in warmups]
        if args.mode == "wn":
            schedule = [int(v) for v in args.schedule.split(",") if v.strip()]
            result["runs"] = [_timed(run_once, n) for n in schedule]
        else:
            gc.collect()
            profiler = cProfile.Profile()
            t0 = time.perf_counter()
            profiler.enable()
            run_once(args.n)
            profiler.disable()
            result["profiled_wall_s"] = time.perf_counter() - t0
            result["n"] = args.n
            profiler.dump_stats(args.prof)
    result["maxrss_kib"] = _maxrss_kib()
    result["kitaru_imported"] = "kitaru" in sys.modules
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)

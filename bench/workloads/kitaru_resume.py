"""Kitaru workload: resume a failed execution in place versus a fresh run.

A flow of ``n`` chained tiny checkpoints (the same ``inc`` as
``kitaru_chain.py``, caching off). Checkpoint number ``--fail-at`` raises
while :data:`_bench_harness.PROBE` says so, which makes an execution that
fails there. ``KitaruClient().executions.retry(exec_id)`` then continues it in
place: checkpoints 1 .. fail_at-1 come back from the journal, fail_at .. n
execute. That retry call is timed against a fresh run of a ``--fresh``-long
chain (``chain.run(fresh).wait()``), in this same warm process.

Modes (``bench/run.py`` runs this file in a fresh directory with an empty
``KITARU_CONFIG_PATH``):

* ``--mode resume``: warm-up (a fresh run, and a small failed execution that is
  retried, so the retry path's imports and first store reads are paid
  before timing), then ``--rounds`` rounds of: make a failed execution
  (untimed), then time the retry and a fresh run, in alternating order.
* ``--mode profile``: warm-up, one failed execution, then its retry under
  cProfile with three profilers switched inside the flow body: ``setup``
  (retry call until the body reaches checkpoint 1), ``reused`` (checkpoints
  1 .. fail_at-1, i.e. only journal-reused calls) and ``rest`` (fail_at .. n,
  which execute, plus the end of the retry call). Dumped as
  ``<prof>.setup.prof``, ``<prof>.reused.prof``, ``<prof>.rest.prof``.

Every round checks that the retry did not execute checkpoints 1 .. fail_at-1
again, executed fail_at .. n exactly once, kept the execution id, completed,
and returned ``n``; any mismatch exits non-zero with the reason.
"""

import time

_t0 = time.perf_counter()
import kitaru  # noqa: E402

_IMPORT_S = time.perf_counter() - _t0

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from typing import Any  # noqa: E402

from _bench_harness import PROBE, _maxrss_kib  # noqa: E402


@kitaru.checkpoint
def inc(x: int) -> int:
    index = x + 1  # checkpoint k receives k - 1
    PROBE.body_calls[index] += 1
    if PROBE.fail_at == index:
        raise RuntimeError(f"bench: checkpoint {index} fails on purpose")
    return x + 1


@kitaru.flow(cache=False)
def chain(n: int) -> int:
    value = 0
    for index in range(1, n + 1):
        PROBE.mark(index)
        value = inc(value)
    PROBE.mark(0)
    return value


class BenchFailure(SystemExit):
    pass


def _fail(message: str) -> None:
    raise BenchFailure(f"RESUME BENCH CHECK FAILED: {message}")


def _status(exec_id: str) -> str:
    from kitaru.flows import FlowHandle

    return str(FlowHandle(exec_id).status)


def make_failed(n: int, fail_at: int) -> str:
    """Run the chain with checkpoint ``fail_at`` raising; return the failed execution id."""
    PROBE.reset(fail_at)
    handle = chain.run(n)
    status = _status(handle.exec_id)
    if status != "failed":
        _fail(f"chain({n}) with checkpoint {fail_at} raising ended {status!r}, expected 'failed'")
    expected = {index: 1 for index in range(1, fail_at + 1)}
    if dict(PROBE.body_calls) != expected:
        _fail(f"the failing run executed {dict(PROBE.body_calls)}, expected checkpoints 1..{fail_at} once each")
    PROBE.reset(None)
    return handle.exec_id


def _split(marks: list[tuple[int, float]], t0: float, t1: float, fail_at: int) -> dict[str, Any]:
    """Setup / body / finish times and per-call times from the body's marks."""
    if not marks or marks[-1][0] != 0:
        return {}
    times = [t for _, t in marks]
    per_call = {marks[i][0]: times[i + 1] - times[i] for i in range(len(marks) - 1)}
    reused = [per_call[i] for i in per_call if i < fail_at]
    executed = [per_call[i] for i in per_call if i >= fail_at]
    return {
        "setup_s": times[0] - t0,
        "body_s": times[-1] - times[0],
        "finish_s": t1 - times[-1],
        "reused_calls": len(reused),
        "reused_call_median_ms": 1000 * statistics.median(reused) if reused else None,
        "reused_calls_total_s": sum(reused),
        "executed_calls": len(executed),
        "executed_call_median_ms": 1000 * statistics.median(executed) if executed else None,
        "executed_calls_total_s": sum(executed),
    }


def timed_resume(exec_id: str, n: int, fail_at: int) -> dict[str, Any]:
    """Time ``KitaruClient().executions.retry(exec_id)``, then verify what it did."""
    from kitaru import KitaruClient
    from kitaru.flows import FlowHandle

    PROBE.reset(None)
    gc.collect()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    execution = KitaruClient().executions.retry(exec_id)
    t1 = time.perf_counter()
    cpu = time.process_time() - cpu0
    marks = list(PROBE.marks)
    calls = dict(PROBE.body_calls)

    if execution.exec_id != exec_id:
        _fail(f"retry returned execution {execution.exec_id}, expected the same id {exec_id}")
    if str(execution.status) != "completed":
        _fail(f"retry of {exec_id} ended {execution.status!r} ({execution.status_reason}), expected completed")
    again = sorted(index for index in calls if index < fail_at)
    if again:
        _fail(f"retry executed checkpoints {again} again; 1..{fail_at - 1} succeeded and must be reused")
    expected = {index: 1 for index in range(fail_at, n + 1)}
    if calls != expected:
        _fail(f"retry executed {calls}, expected checkpoints {fail_at}..{n} once each")
    result = FlowHandle(exec_id).get()
    if result != n:
        _fail(f"retried chain({n}) returned {result!r}, expected {n}")
    if len(execution.checkpoints) != n:
        _fail(f"retried execution lists {len(execution.checkpoints)} checkpoint calls, expected {n}")
    return {"kind": "resume", "wall_s": t1 - t0, "cpu_s": cpu, **_split(marks, t0, t1, fail_at)}


def timed_fresh(n: int) -> dict[str, Any]:
    PROBE.reset(None)
    gc.collect()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = chain.run(n).wait()
    t1 = time.perf_counter()
    cpu = time.process_time() - cpu0
    if result != n:
        _fail(f"fresh chain({n}) returned {result!r}, expected {n}")
    if dict(PROBE.body_calls) != {index: 1 for index in range(1, n + 1)}:
        _fail(f"fresh chain({n}) executed {dict(PROBE.body_calls)}")
    return {"kind": "fresh", "n": n, "wall_s": t1 - t0, "cpu_s": cpu, **_split(PROBE.marks, t0, t1, 1)}


def warm_up(n: int) -> dict[str, Any]:
    """A fresh run, then a small failed execution retried: imports and first reads paid here."""
    t0 = time.perf_counter()
    timed_fresh(n)
    small_fail_at = max(2, n // 2)
    exec_id = make_failed(n + 2, small_fail_at)
    timed_resume(exec_id, n + 2, small_fail_at)
    return {"warmup_s": time.perf_counter() - t0}


def profile_resume(exec_id: str, fail_at: int, prefix: str) -> dict[str, Any]:
    from kitaru import KitaruClient

    profilers = {name: cProfile.Profile() for name in ("setup", "reused", "rest")}
    state = {"active": "setup", "threads": set()}
    main_thread = threading.get_ident()

    def switch(index: int) -> None:
        state["threads"].add(threading.get_ident())
        target = "reused" if 1 <= index < fail_at else "rest"
        if index == 1 and fail_at == 1:
            target = "rest"
        if target != state["active"]:
            profilers[state["active"]].disable()
            profilers[target].enable()
            state["active"] = target

    PROBE.reset(None)
    PROBE.on_call = switch
    gc.collect()
    t0 = time.perf_counter()
    profilers["setup"].enable()
    try:
        execution = KitaruClient().executions.retry(exec_id)
    finally:
        profilers[state["active"]].disable()
        PROBE.on_call = None
    wall = time.perf_counter() - t0
    if str(execution.status) != "completed" or any(index < fail_at for index in PROBE.body_calls):
        _fail(f"profiled retry: status {execution.status!r}, executed {dict(PROBE.body_calls)}")
    files = {}
    for name, profiler in profilers.items():
        files[name] = f"{prefix}.{name}.prof"
        profiler.dump_stats(files[name])
    return {
        "profiled_wall_s": wall,
        "files": files,
        "body_in_main_thread": state["threads"] == {main_thread},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("resume", "profile"), required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--n", type=int, default=100, help="checkpoints in the failed execution")
    parser.add_argument("--fail-at", type=int, default=50, help="1-based checkpoint that fails")
    parser.add_argument("--fresh", type=int, default=50, help="checkpoints in the fresh run compared")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--prof", default=None, help="prefix of the profile dumps (--mode profile)")
    args = parser.parse_args()
    if not 1 <= args.fail_at <= args.n:
        parser.error("--fail-at must be within 1..n")

    result: dict[str, Any] = {
        "framework": "kitaru",
        "mode": args.mode,
        "import_s": _IMPORT_S,
        "n": args.n,
        "fail_at": args.fail_at,
        "fresh": args.fresh,
        "python": sys.version.split()[0],
    }
    result["warmup"] = warm_up(args.warmup)
    if args.mode == "resume":
        rounds = []
        for i in range(args.rounds):
            t0 = time.perf_counter()
            exec_id = make_failed(args.n, args.fail_at)
            setup_s = time.perf_counter() - t0
            order = ("resume", "fresh") if i % 2 == 0 else ("fresh", "resume")
            entry: dict[str, Any] = {"order": list(order), "failed_run_s": setup_s, "exec_id": exec_id}
            for kind in order:
                entry[kind] = timed_resume(exec_id, args.n, args.fail_at) if kind == "resume" else timed_fresh(args.fresh)
            entry["ratio"] = entry["resume"]["wall_s"] / entry["fresh"]["wall_s"]
            rounds.append(entry)
            print(
                f"round {i + 1}: resume {entry['resume']['wall_s']:.3f} s, fresh({args.fresh}) "
                f"{entry['fresh']['wall_s']:.3f} s, ratio {entry['ratio']:.3f}",
                file=sys.stderr,
                flush=True,
            )
        result["rounds"] = rounds
    else:
        if not args.prof:
            parser.error("--prof is required with --mode profile")
        exec_id = make_failed(args.n, args.fail_at)
        result.update(profile_resume(exec_id, args.fail_at, args.prof))
    result["maxrss_kib"] = _maxrss_kib()
    result["verified"] = True
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()

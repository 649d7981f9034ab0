"""Kitaru workload: a flow of ``n`` chained tiny checkpoints.

Each checkpoint takes an int and returns int + 1; the flow feeds each output
into the next call, so every checkpoint after the first receives the previous
checkpoint's output (lineage, no upload). Caching is off. ``bench/run.py``
runs this file in a fresh directory with ``KITARU_CONFIG_PATH`` set to an empty
temporary directory; see ``_bench_harness.py`` for the modes.
"""

import time

_t0 = time.perf_counter()
import kitaru  # noqa: E402

_IMPORT_S = time.perf_counter() - _t0

from _bench_harness import main  # noqa: E402


@kitaru.checkpoint
def inc(x: int) -> int:
    return x + 1


@kitaru.flow(cache=False)
def chain(n: int) -> int:
    value = 0
    for _ in range(n):
        value = inc(value)
    return value


def run_once(n: int) -> None:
    result = chain.run(n).wait()
    if result != n:
        raise SystemExit(f"kitaru chain({n}) returned {result!r}, expected {n}")


if __name__ == "__main__":
    main(run_once, framework="kitaru", import_seconds=_IMPORT_S)

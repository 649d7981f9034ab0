"""Bare-ZenML workload: the same chain as ``kitaru_chain.py``.

A dynamic pipeline (``@pipeline(dynamic=True)``) launching ``n`` chained
``@step`` calls, each taking an int and returning int + 1, the output of one
step passed to the next. Caching is off (``enable_cache=False``).

Kitaru registers a ``zenml.init_hooks`` entry point, so in this workspace a
plain ``import zenml`` would also import Kitaru and apply Kitaru's engine
defaults. To measure *bare* ZenML, the hook is filtered out of the entry
points ZenML sees while it is imported; the harness records that ``kitaru``
was never imported.
"""

import importlib.metadata as _metadata
import time

_original_entry_points = _metadata.entry_points


def _is_kitaru_hook(ep) -> bool:
    return ep.group == "zenml.init_hooks" and ep.value.startswith("kitaru")


class _WithoutKitaruHook:
    """``entry_points()`` result whose ``select`` drops Kitaru's init hook."""

    def __init__(self, inner):
        self._inner = inner

    def select(self, **params):
        return _metadata.EntryPoints(ep for ep in self._inner.select(**params) if not _is_kitaru_hook(ep))

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _entry_points_without_kitaru(**params):
    if params:
        return _metadata.EntryPoints(ep for ep in _original_entry_points(**params) if not _is_kitaru_hook(ep))
    return _WithoutKitaruHook(_original_entry_points())


_t0 = time.perf_counter()
_metadata.entry_points = _entry_points_without_kitaru
try:
    from zenml import pipeline, step
    from zenml.enums import ExecutionStatus
finally:
    _metadata.entry_points = _original_entry_points
_IMPORT_S = time.perf_counter() - _t0

from _bench_harness import main  # noqa: E402


@step(enable_cache=False)
def inc(x: int) -> int:
    return x + 1


@pipeline(dynamic=True, enable_cache=False)
def chain(n: int) -> None:
    value = inc(0)
    for _ in range(n - 1):
        value = inc(value)


def run_once(n: int) -> None:
    run = chain(n=n)
    if run.status != ExecutionStatus.COMPLETED:
        raise SystemExit(f"zenml chain({n}) finished with status {run.status}")


if __name__ == "__main__":
    main(run_once, framework="zenml", import_seconds=_IMPORT_S)

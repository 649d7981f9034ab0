"""Summarise a cProfile dump of W(N) into per-checkpoint cost buckets.

Used by ``bench/run.py``; also runnable on saved dumps::

    python bench/profile_summary.py results/latest.kitaru.prof results/latest.zenml.prof --n 100
    python bench/profile_summary.py --resume results/latest.resume --n 100 --fail-at 50

A bucket is the cumulative time of one engine or Kitaru function (matched by
file suffix and function name, optionally only when called from a given
function), divided by N. The buckets are chosen so that they do not nest in
each other; whatever is left of the per-checkpoint total is "other". Times are
cProfile times: inflated by the profiler (roughly 1.5-2x here), so read them as
shares, not as absolute costs. Counts (SQL statements, commits, calls) are
exact.
"""

from __future__ import annotations

import argparse
import pstats
import re
from dataclasses import dataclass
from typing import Any

Key = tuple[str, int, str]


@dataclass(frozen=True)
class Fn:
    """A profiled function: file path suffix + function name (+ optional caller)."""

    file: str
    name: str
    caller: Fn | None = None

    def label(self) -> str:
        text = f"{self.file.rsplit('/', 1)[-1]}:{self.name}"
        return f"{text} (from {self.caller.name})" if self.caller else text


# Per-checkpoint entry points.
KITARU_CALL = Fn("kitaru/execution/checkpoint_calls.py", "call_checkpoint")
ENGINE_STEP_CALL = Fn("zenml/steps/base_step.py", "__call__")

# (bucket label, functions whose cumulative time forms it). Disjoint by construction:
# each is called from a different point of one step launch (checked against the
# call graph of ZenML 0.98's dynamic runner, step launcher and step runner).
BUCKETS: list[tuple[str, list[Fn]]] = [
    ("Kitaru: load output back into the flow body", [Fn("kitaru/execution/outputs.py", "receive_output")]),
    ("Kitaru: translate inputs (param/lineage/upload)", [Fn("kitaru/execution/checkpoint_calls.py", "engine_arguments")]),
    ("compile invocation (config, spec, source hash)", [Fn("zenml/execution/pipeline/dynamic/runner.py", "_compile_or_reuse")]),
    ("upload plain inputs as artifacts", [Fn("zenml/artifacts/external_artifact.py", "upload_by_value")]),
    ("prepare step-run request", [Fn("zenml/orchestrators/step_run_utils.py", "populate_request")]),
    ("create step run (SQL)", [Fn("zenml/zen_stores/sql_zen_store.py", "create_run_step")]),
    (
        "step log capture (log records, SQL)",
        [Fn("zenml/utils/logging_utils.py", "setup_logging_context"), Fn("zenml/utils/logging_utils.py", "update")],
    ),
    (
        "load step, inputs, materializers",
        [
            Fn("zenml/orchestrators/step_runner.py", "_load_step"),
            Fn("zenml/orchestrators/step_runner.py", "_parse_inputs"),
            Fn("zenml/orchestrators/step_runner.py", "_load_output_materializers"),
        ],
    ),
    ("user function (+ Kitaru scope)", [Fn("zenml/steps/base_step.py", "call_entrypoint")]),
    ("write output data (materializer)", [Fn("zenml/artifacts/utils.py", "_store_artifact_data_and_prepare_request")]),
    (
        "artifact-version rows (SQL, excl. metadata)",
        [Fn("zenml/zen_stores/sql_zen_store.py", "batch_create_artifact_versions")],
    ),
    (
        "artifact metadata rows (SQL, 2 commits/key)",
        [
            Fn(
                "zenml/zen_stores/sql_zen_store.py",
                "create_run_metadata",
                caller=Fn("zenml/zen_stores/sql_zen_store.py", "create_artifact_version"),
            )
        ],
    ),
    ("publish step run (SQL)", [Fn("zenml/orchestrators/publish_utils.py", "publish_successful_step_run")]),
]
# Used when a bucket's functions are absent (renamed in Kitaru).
FALLBACKS: dict[str, list[Fn]] = {
    "Kitaru: load output back into the flow body": [Fn("zenml/models/v2/core/artifact_version.py", "load")],
}
# Buckets that contain another bucket: the inner one is subtracted.
NESTED = {"artifact-version rows (SQL, excl. metadata)": "artifact metadata rows (SQL, 2 commits/key)"}

COUNTERS: list[tuple[str, Fn, str]] = [
    ("SQL statements", Fn("~", "<method 'execute' of 'sqlite3.Cursor' objects>"), "calls"),
    ("SQLite commits", Fn("~", "<method 'commit' of 'sqlite3.Connection' objects>"), "calls"),
    ("SQLite commit time (ms)", Fn("~", "<method 'commit' of 'sqlite3.Connection' objects>"), "tottime"),
    (
        "metadata keys written (artifact + step)",
        Fn(
            "sqlalchemy/orm/session.py",
            "add",
            caller=Fn("zenml/zen_stores/sql_zen_store.py", "create_run_metadata"),
        ),
        "half-calls",
    ),
    ("Client repository lookups (find_repository)", Fn("zenml/client.py", "find_repository"), "calls"),
    ("source loads (source_utils.load)", Fn("zenml/utils/source_utils.py", "load"), "calls"),
    ("inspect.getsource calls", Fn("/inspect.py", "getsource"), "calls"),
]


def _matches(key: Key, fn: Fn) -> bool:
    filename, _line, name = key
    if fn.file == "~":
        return filename == "~" and name == fn.name
    return name == fn.name and filename.replace("\\", "/").endswith(fn.file)


class Profile:
    """A loaded cProfile dump with helpers to query it."""

    def __init__(self, path: str) -> None:
        self.stats: dict[Key, Any] = pstats.Stats(path).stats  # type: ignore[attr-defined]

    def keys(self, fn: Fn) -> list[Key]:
        return [key for key in self.stats if _matches(key, fn)]

    def cumtime(self, fn: Fn) -> float:
        total = 0.0
        for key in self.keys(fn):
            if fn.caller is None:
                total += self.stats[key][3]
            else:
                for caller, edge in self.stats[key][4].items():
                    if _matches(caller, fn.caller):
                        total += edge[3]
        return total

    def calls(self, fn: Fn) -> int:
        if fn.caller is None:
            return sum(self.stats[key][1] for key in self.keys(fn))
        return sum(
            edge[1]
            for key in self.keys(fn)
            for caller, edge in self.stats[key][4].items()
            if _matches(caller, fn.caller)
        )

    def tottime(self, fn: Fn) -> float:
        return sum(self.stats[key][2] for key in self.keys(fn))

    def own_time(self, path_fragments: tuple[str, ...]) -> float:
        """Exclusive time spent in functions whose file contains a fragment."""
        return sum(
            value[2]
            for (filename, _line, _name), value in self.stats.items()
            if any(fragment in filename.replace("\\", "/") for fragment in path_fragments)
        )

    def total(self) -> float:
        return max((value[3] for value in self.stats.values()), default=0.0)


KITARU_PATHS = ("/kitaru-core/src/kitaru/", "/kitaru-local/src/kitaru_local/", "/site-packages/kitaru/")


def summarize(path: str, n: int, framework: str) -> dict[str, Any]:
    """Return per-checkpoint buckets (ms), counters and totals for one dump."""
    profile = Profile(path)
    step_total = profile.cumtime(ENGINE_STEP_CALL)
    checkpoint_total = profile.cumtime(KITARU_CALL) if framework == "kitaru" else step_total
    if checkpoint_total == 0.0:  # the Kitaru function was renamed: fall back to the step call
        checkpoint_total = step_total
    buckets: dict[str, float] = {}
    missing: list[str] = []
    for label, fns in BUCKETS:
        if not any(profile.keys(fn) for fn in fns) and label in FALLBACKS:
            fns = FALLBACKS[label]
        missing += [fn.label() for fn in fns if not profile.keys(fn)]
        buckets[label] = sum(profile.cumtime(fn) for fn in fns)
    for outer, inner in NESTED.items():
        buckets[outer] -= buckets[inner]
    kitaru_wrapper = checkpoint_total - step_total
    accounted = sum(buckets.values())
    if framework == "kitaru":
        # the two "Kitaru:" buckets are part of the wrapper, not of the step call
        wrapper_buckets = sum(v for k, v in buckets.items() if k.startswith("Kitaru:"))
        buckets["Kitaru: rest of call_checkpoint (console line, bookkeeping)"] = kitaru_wrapper - wrapper_buckets
        accounted = sum(buckets.values())
    buckets["other engine work (dispatch, pydantic, logging...)"] = checkpoint_total - accounted
    per_ms = {label: 1000.0 * value / n for label, value in buckets.items()}
    counters: dict[str, float] = {}
    for label, fn, what in COUNTERS:
        if what == "calls":
            counters[label] = profile.calls(fn) / n
        elif what == "half-calls":  # create_run_metadata adds a row and a link per key
            counters[label] = profile.calls(fn) / 2 / n
        else:
            counters[label] = 1000.0 * profile.tottime(fn) / n
    counters["Kitaru own code, exclusive (ms)"] = 1000.0 * profile.own_time(KITARU_PATHS) / n
    return {
        "framework": framework,
        "n": n,
        "profiled_total_s": profile.total(),
        "per_checkpoint_ms": 1000.0 * checkpoint_total / n,
        "buckets_ms": per_ms,
        "counters_per_checkpoint": counters,
        "per_run": _per_run(profile, checkpoint_total, framework),
        "missing_functions": missing,
    }


# Per-run (not per-checkpoint) work: the run call outside the checkpoints.
RUN_CALL = Fn("_chain.py", "run_once")
PER_RUN: list[tuple[str, Fn]] = [
    ("Kitaru: load_run (status, wait)", Fn("kitaru/execution/runs.py", "load_run")),
    ("Kitaru: log_run_metadata (spec, flow, result)", Fn("kitaru/_engine/run_store.py", "log_run_metadata")),
    ("Kitaru: resolve config + frozen spec", Fn("kitaru/config/resolve.py", "resolve_execution_config")),
    ("engine: create snapshot", Fn("zenml/pipelines/pipeline_definition.py", "_create_snapshot")),
    ("engine: create placeholder run", Fn("zenml/pipelines/run_utils.py", "create_placeholder_run")),
    ("engine: store get_run", Fn("zenml/zen_stores/sql_zen_store.py", "get_run")),
]


def _per_run(profile: Profile, checkpoint_total: float, framework: str) -> dict[str, Any]:
    """Time of the run call outside its checkpoints, and a few per-run functions (ms, calls)."""
    run_total = profile.cumtime(RUN_CALL)
    out: dict[str, Any] = {
        "run_call_ms": 1000.0 * run_total,
        "outside_checkpoints_ms": 1000.0 * (run_total - checkpoint_total) if run_total else None,
        "functions": {},
    }
    for label, fn in PER_RUN:
        if label.startswith("Kitaru") and framework != "kitaru":
            continue
        if profile.keys(fn):
            out["functions"][label] = {"ms": 1000.0 * profile.cumtime(fn), "calls": profile.calls(fn)}
    return out


def _short(key: Key) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    filename = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/src/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    else:
        filename = re.sub(r"^.*/lib/python3\.\d+/", "", filename)
    return f"{filename}:{line}({name})"


def _normalized(stats: dict[Key, Any]) -> dict[Key, Any]:
    """Merge built-in entries whose names differ only by an object address."""
    merged: dict[Key, Any] = {}
    for (filename, line, name), value in stats.items():
        key = (filename, line, re.sub(r" at 0x[0-9a-f]+", "", name))
        if key in merged:
            old = merged[key]
            value = (old[0] + value[0], old[1] + value[1], old[2] + value[2], old[3] + value[3], {})
        merged[key] = value
    return merged


def diff(kitaru_path: str, zenml_path: str, n: int, top: int = 15) -> dict[str, Any]:
    """Functions where Kitaru spends more (exclusive time, calls) than bare ZenML, per checkpoint."""
    k = _normalized(Profile(kitaru_path).stats)
    z = _normalized(Profile(zenml_path).stats)
    rows = []
    for key in set(k) | set(z):
        kv = k.get(key, (0, 0, 0.0, 0.0, {}))
        zv = z.get(key, (0, 0, 0.0, 0.0, {}))
        rows.append(
            {
                "function": _short(key),
                "extra_calls": (kv[1] - zv[1]) / n,
                "extra_own_ms": 1000.0 * (kv[2] - zv[2]) / n,
                "extra_cum_ms": 1000.0 * (kv[3] - zv[3]) / n,
                "kitaru_calls": kv[1] / n,
                "zenml_calls": zv[1] / n,
            }
        )
    python_rows = [row for row in rows if not row["function"].startswith("<")]
    return {
        "by_extra_own_ms": sorted(rows, key=lambda r: -r["extra_own_ms"])[:top],
        "by_extra_calls": sorted(python_rows, key=lambda r: -r["extra_calls"])[:top],
        "only_in_kitaru_by_cum_ms": sorted(
            (r for r in python_rows if r["zenml_calls"] == 0 and r["kitaru_calls"] >= 1),
            key=lambda r: -r["extra_cum_ms"],
        )[:top],
    }


def format_summary(summaries: list[dict[str, Any]]) -> str:
    """Render one or two summaries side by side as a plain-text table."""
    names = [s["framework"] for s in summaries]
    labels: list[str] = []
    for summary in summaries:
        for label in summary["buckets_ms"]:
            if label not in labels:
                labels.append(label)
    width = max(len(label) for label in labels + list(summaries[0]["counters_per_checkpoint"])) + 2
    header = "per checkpoint (cProfile ms)".ljust(width) + "".join(f"{name:>10}" for name in names)
    lines = [header, "-" * len(header)]
    for label in labels:
        values = [s["buckets_ms"].get(label) for s in summaries]
        if all(v is None or abs(v) < 0.05 for v in values):
            continue
        lines.append(label.ljust(width) + "".join(f"{v:>10.1f}" if v is not None else f"{'-':>10}" for v in values))
    lines.append("total per checkpoint".ljust(width) + "".join(f"{s['per_checkpoint_ms']:>10.1f}" for s in summaries))
    lines.append("")
    lines.append("counters per checkpoint".ljust(width) + "".join(f"{name:>10}" for name in names))
    lines.append("-" * len(header))
    for label in summaries[0]["counters_per_checkpoint"]:
        lines.append(
            label.ljust(width)
            + "".join(f"{s['counters_per_checkpoint'].get(label, 0.0):>10.2f}" for s in summaries)
        )
    lines.append("")
    lines.append("per run, outside the checkpoints (ms)".ljust(width) + "".join(f"{name:>10}" for name in names))
    lines.append("-" * len(header))
    lines.append(
        "run call minus its checkpoints".ljust(width)
        + "".join(f"{(s['per_run']['outside_checkpoints_ms'] or 0.0):>10.1f}" for s in summaries)
    )
    run_labels: list[str] = []
    for summary in summaries:
        run_labels += [label for label in summary["per_run"]["functions"] if label not in run_labels]
    for label in run_labels:
        cells = []
        for summary in summaries:
            entry = summary["per_run"]["functions"].get(label)
            cells.append(f"{entry['ms']:>6.1f} ({entry['calls']})" if entry else "-")
        lines.append(f"  {label}".ljust(width) + "".join(f"{cell:>10}" for cell in cells))
    return "\n".join(lines)


def format_diff(result: dict[str, Any], top: int = 10) -> str:
    lines = ["Kitaru minus bare ZenML, per checkpoint (largest extra exclusive time):"]
    for row in result["by_extra_own_ms"][:top]:
        lines.append(f"  {row['extra_own_ms']:+7.2f} ms  {row['extra_calls']:+6.1f} calls  {row['function']}")
    lines.append("Largest extra call counts (Python functions):")
    for row in result["by_extra_calls"][:top]:
        lines.append(f"  {row['extra_calls']:+6.1f} calls  {row['extra_cum_ms']:+7.2f} ms cum  {row['function']}")
    return "\n".join(lines)


# -- resume of a failed execution (kitaru_resume.py --mode profile) ---------------------------

# Per reused checkpoint call: the journal hands back a recorded output. Buckets are disjoint
# children of call_checkpoint; "of which" rows are parts of the bucket above them.
RESUME_CALL = KITARU_CALL
RESUME_BUCKETS: list[tuple[str, Fn, list[tuple[str, Fn]]]] = [
    (
        "engine: step call -> launch_step, existing successful step",
        ENGINE_STEP_CALL,
        [
            ("of which BaseStep.copy() (deepcopy of the step)", Fn("zenml/steps/base_step.py", "copy")),
            ("of which load_step_run_outputs (output handles)", Fn("zenml/execution/pipeline/dynamic/utils.py", "load_step_run_outputs")),
            ("of which snapshot docker_settings (for get_step_runtime)", Fn("zenml/config/pipeline_configurations.py", "docker_settings")),
        ],
    ),
    (
        "Kitaru: load the output value (receive_output)",
        Fn("kitaru/execution/outputs.py", "receive_output"),
        [
            ("of which source_utils.load (materializer + data type)", Fn("zenml/utils/source_utils.py", "load")),
            ("of which KitaruMaterializer.load (read data.bin + kitaru.json)", Fn("kitaru/_engine/materializer.py", "load")),
        ],
    ),
    (
        "Kitaru: journal / divergence check (check_journal)",
        Fn("kitaru/execution/checkpoint_calls.py", "check_journal"),
        [("of which call_inputs (inspect.signature + bind)", Fn("kitaru/execution/checkpoint_calls.py", "call_inputs"))],
    ),
    ("Kitaru: translate inputs (engine_arguments)", Fn("kitaru/execution/checkpoint_calls.py", "engine_arguments"), []),
    (
        "console line (kitaru.execution.console.say)",
        Fn("kitaru/execution/console.py", "say"),
        [("of which ZenML stdout wrapper + log record export", Fn("zenml/logger.py", "wrapped_write"))],
    ),
]
RESUME_SETUP: list[tuple[str, Fn]] = [
    ("load_run (read + crash check)", Fn("kitaru/execution/runs.py", "load_run")),
    ("set status resuming (update_run)", Fn("zenml/zen_stores/sql_zen_store.py", "update_run")),
    ("engine runner init (DynamicPipelineRunner + 2 helpers)", Fn("zenml/execution/pipeline/dynamic/runner.py", "__init__")),
    ("Kitaru: owner/source metadata (log_run_metadata)", Fn("kitaru/_engine/run_store.py", "log_run_metadata")),
    ("Kitaru: build the journal (runtime.prepare_body)", Fn("kitaru/_engine/continuation.py", "prepare")),
    ("  of which hydrate step runs (store get_run_step)", Fn("zenml/zen_stores/sql_zen_store.py", "get_run_step")),
]
RESUME_FINISH: list[tuple[str, Fn]] = [
    ("client returns Execution (executions.get)", Fn("kitaru/client/client.py", "get")),
    ("store get_run (final status line)", Fn("zenml/zen_stores/sql_zen_store.py", "get_run")),
    ("engine publishes run status", Fn("zenml/execution/pipeline/dynamic/runner.py", "_publish_run_status")),
    ("Kitaru: record the result (log_run_metadata)", Fn("kitaru/_engine/run_store.py", "log_run_metadata")),
]
RESUME_COUNTERS: list[tuple[str, Fn]] = [
    ("SQL statements", Fn("~", "<method 'execute' of 'sqlite3.Cursor' objects>")),
    ("SQLite commits", Fn("~", "<method 'commit' of 'sqlite3.Connection' objects>")),
    ("copy.deepcopy calls (incl. recursive)", Fn("/copy.py", "deepcopy")),
    ("source loads (source_utils.load)", Fn("zenml/utils/source_utils.py", "load")),
    ("path resolves (pathlib resolve)", Fn("/pathlib.py", "resolve")),
    ("Client repository lookups (find_repository)", Fn("zenml/client.py", "find_repository")),
]


def _own_top(profile: Profile, per: int, top: int) -> list[dict[str, Any]]:
    rows = sorted(profile.stats.items(), key=lambda kv: -kv[1][2])[:top]
    return [
        {"function": _short(key), "own_ms": 1000.0 * value[2] / per, "calls": value[1] / per}
        for key, value in rows
    ]


def _cum_top(profile: Profile, top: int, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows = []
    for key, value in profile.stats.items():
        name = _short(key)
        if name.startswith("<") or name.startswith("{") or any(part in name for part in exclude):
            continue
        rows.append({"function": name, "cum_ms": 1000.0 * value[3], "calls": value[1]})
    return sorted(rows, key=lambda r: -r["cum_ms"])[:top]


def summarize_resume(files: dict[str, str], n: int, fail_at: int) -> dict[str, Any]:
    """Per-phase and per-reused-call costs of one profiled retry (ms, cProfile-inflated).

    ``files`` holds the three dumps of ``kitaru_resume.py --mode profile``:
    ``setup`` (retry call until the body reaches checkpoint 1), ``reused``
    (checkpoints 1 .. fail_at-1, all reused from the journal) and ``rest``
    (checkpoints fail_at .. n, executed, plus the end of the retry call).
    """
    reused_n = fail_at - 1
    executed_n = n - fail_at + 1
    setup, reused, rest = (Profile(files[name]) for name in ("setup", "reused", "rest"))
    out: dict[str, Any] = {"n": n, "fail_at": fail_at, "reused_calls": reused_n, "executed_calls": executed_n}

    # setup: the retry call is the only root while the setup profiler runs
    setup_total = setup.cumtime(Fn("kitaru/client/client.py", "retry"))
    out["setup_ms"] = 1000.0 * setup_total
    out["setup_parts_ms"] = {label: 1000.0 * setup.cumtime(fn) for label, fn in RESUME_SETUP}
    out["setup_parts_calls"] = {label: setup.calls(fn) for label, fn in RESUME_SETUP}
    out["setup_top_cum"] = _cum_top(setup, 12, exclude=("sqlalchemy/", "client.py:91(retry)"))

    # reused calls
    total = reused.cumtime(RESUME_CALL)
    per = max(reused_n, 1)
    buckets: dict[str, float] = {}
    parts: dict[str, dict[str, float]] = {}
    for label, fn, subs in RESUME_BUCKETS:
        buckets[label] = 1000.0 * reused.cumtime(fn) / per
        parts[label] = {sub: 1000.0 * reused.cumtime(sub_fn) / per for sub, sub_fn in subs}
    buckets["Kitaru: rest of call_checkpoint"] = 1000.0 * total / per - sum(buckets.values())
    out["reused_per_call_ms"] = 1000.0 * total / per
    out["reused_buckets_ms"] = buckets
    out["reused_bucket_parts_ms"] = parts
    out["reused_counters_per_call"] = {label: reused.calls(fn) / per for label, fn in RESUME_COUNTERS}
    out["reused_top_own"] = _own_top(reused, per, 12)
    out["reused_profile_total_ms"] = 1000.0 * reused.total()
    hydration = setup.cumtime(Fn("zenml/zen_stores/sql_zen_store.py", "get_run_step"))
    out["journal_hydration_per_reused_ms"] = 1000.0 * hydration / per
    out["effective_per_reused_ms"] = out["reused_per_call_ms"] + out["journal_hydration_per_reused_ms"]

    # executed calls and the end of the retry call
    executed_total = rest.cumtime(RESUME_CALL)
    out["executed_per_call_ms"] = 1000.0 * executed_total / max(executed_n, 1)
    rest_roots = sum(value[3] for value in rest.stats.values() if not value[4])
    out["finish_ms"] = 1000.0 * (rest_roots - executed_total)
    out["finish_parts_ms"] = {label: 1000.0 * rest.cumtime(fn) for label, fn in RESUME_FINISH}
    out["missing_functions"] = sorted(
        {fn.label() for _, fn, subs in RESUME_BUCKETS for fn in [fn, *(s for _, s in subs)] if not reused.keys(fn)}
        | {fn.label() for _, fn in RESUME_SETUP if not setup.keys(fn)}
    )
    return out


def format_resume(summary: dict[str, Any], top: int = 8) -> str:
    """Render :func:`summarize_resume` as plain text."""
    k, e = summary["reused_calls"], summary["executed_calls"]
    width = 66
    lines = [
        "phases of the profiled retry (cProfile ms)".ljust(width) + f"{'ms':>9}",
        "-" * (width + 9),
        "setup: retry call until the body reaches checkpoint 1".ljust(width) + f"{summary['setup_ms']:>9.1f}",
    ]
    for label, value in summary["setup_parts_ms"].items():
        calls = summary["setup_parts_calls"][label]
        lines.append(f"  {label} [{calls}x]".ljust(width) + f"{value:>9.1f}")
    lines.append(
        f"reused calls 1..{k} ({k} x {summary['reused_per_call_ms']:.2f} ms)".ljust(width)
        + f"{summary['reused_per_call_ms'] * k:>9.1f}"
    )
    lines.append(
        f"executed calls {summary['fail_at']}..{summary['n']} ({e} x {summary['executed_per_call_ms']:.1f} ms)".ljust(width)
        + f"{summary['executed_per_call_ms'] * e:>9.1f}"
    )
    lines.append("finish: after the last checkpoint until retry returns".ljust(width) + f"{summary['finish_ms']:>9.1f}")
    for label, value in summary["finish_parts_ms"].items():
        lines.append(f"  {label}".ljust(width) + f"{value:>9.1f}")
    lines += ["", "per reused checkpoint call (cProfile ms)".ljust(width) + f"{'ms':>9}", "-" * (width + 9)]
    for label, value in summary["reused_buckets_ms"].items():
        lines.append(label.ljust(width) + f"{value:>9.3f}")
        for sub, sub_value in summary["reused_bucket_parts_ms"].get(label, {}).items():
            lines.append(f"  {sub}".ljust(width) + f"{sub_value:>9.3f}")
    lines.append("total per reused call (call_checkpoint)".ljust(width) + f"{summary['reused_per_call_ms']:>9.3f}")
    lines.append(
        "+ its share of the journal hydration in setup (get_run_step)".ljust(width)
        + f"{summary['journal_hydration_per_reused_ms']:>9.3f}"
    )
    lines.append("= effective cost per reused checkpoint".ljust(width) + f"{summary['effective_per_reused_ms']:>9.3f}")
    lines += ["", "counters per reused call".ljust(width) + f"{'calls':>9}", "-" * (width + 9)]
    for label, value in summary["reused_counters_per_call"].items():
        lines.append(label.ljust(width) + f"{value:>9.2f}")
    lines += ["", "top exclusive time per reused call:"]
    for row in summary["reused_top_own"][:top]:
        lines.append(f"  {row['own_ms']:6.3f} ms {row['calls']:7.1f} calls  {row['function']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kitaru_prof", nargs="?", help="W(N) dump of Kitaru")
    parser.add_argument("zenml_prof", nargs="?", help="W(N) dump of bare ZenML")
    parser.add_argument("--n", type=int, default=100, help="N of W(N), or checkpoints of the failed execution")
    parser.add_argument("--resume", metavar="PREFIX", help="summarise PREFIX.{setup,reused,rest}.prof instead")
    parser.add_argument("--fail-at", type=int, default=50, help="checkpoint that failed (with --resume)")
    args = parser.parse_args()
    if args.resume:
        files = {name: f"{args.resume}.{name}.prof" for name in ("setup", "reused", "rest")}
        print(format_resume(summarize_resume(files, args.n, args.fail_at)))
        return
    if not args.kitaru_prof:
        parser.error("give a W(N) dump, or --resume PREFIX")
    summaries = [summarize(args.kitaru_prof, args.n, "kitaru")]
    if args.zenml_prof:
        summaries.append(summarize(args.zenml_prof, args.n, "zenml"))
    print(format_summary(summaries))
    if args.zenml_prof:
        print()
        print(format_diff(diff(args.kitaru_prof, args.zenml_prof, args.n)))


if __name__ == "__main__":
    main()

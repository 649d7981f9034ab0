"""Work the engine does per checkpoint that Kitaru removes, and what must stay exactly as it was.

Each shortcut lives in ``kitaru/_engine`` (``launch_logs``, ``fixed_source_root``,
``model_versions``); their gains are measured in ``bench/`` as ratios. These
tests check what each one skips and that the engine's own answers are
unchanged: a root set explicitly wins, a pipeline that configures a model
still gets its model version.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kitaru._engine.patches import replace_once
from tests.conftest import run_python

SCRIPT = textwrap.dedent(
    '''
    """Counts engine work during a Kitaru run, then runs a bare engine pipeline with a model."""
    import json
    import sys

    import kitaru
    from kitaru._engine.bootstrap import load_engine


    @kitaru.checkpoint
    def inc(x: int) -> int:
        return x + 1


    @kitaru.checkpoint
    def root_seen() -> str:
        from zenml.utils import source_utils

        return source_utils.get_source_root()


    @kitaru.flow(cache=False)
    def chain(n: int, explicit_root: str) -> list:
        from zenml.utils import source_utils

        value = 0
        for _ in range(n):
            value = inc(value)
        before = root_seen()
        source_utils.set_custom_source_root(explicit_root)
        after = root_seen()
        source_utils.set_custom_source_root(None)  # the script's own folder again
        return [value, before, after]


    load_engine()
    from zenml import Model, pipeline, step
    from zenml.client import Client
    from zenml.zen_stores.schemas import StepRunSchema

    counts = {"find_repository": 0, "model_lookups": 0}
    find_repository = Client.find_repository


    def counted_find_repository(*args, **kwargs):
        counts["find_repository"] += 1
        return find_repository(*args, **kwargs)


    Client.find_repository = staticmethod(counted_find_repository)
    to_model = StepRunSchema.to_model


    def counted_to_model(self, *args, **kwargs):
        if sys._getframe(1).f_code.co_name == "_get_or_create_model_version_for_run":
            counts["model_lookups"] += 1
        return to_model(self, *args, **kwargs)


    StepRunSchema.to_model = counted_to_model
    chain.run(1, sys.argv[1]).wait()  # warm-up: the store and the engine's first reads
    counts = dict.fromkeys(counts, 0)
    handle = chain.run(5, sys.argv[1])
    value, before, after = handle.wait()
    kitaru_counts = dict(counts)


    @step(model=Model(name="overhead-model"))
    def modelled() -> int:
        return 1


    @pipeline(dynamic=True, enable_cache=False)
    def with_model() -> None:
        modelled()


    run = with_model()
    steps = Client().get_pipeline_run(run.id).steps
    print("RESULT " + json.dumps({
        "value": value,
        "before": before,
        "after": after,
        "counts": kitaru_counts,
        "modelled_version": str(steps["modelled"].model_version.name) if steps["modelled"].model_version else None,
    }))
    '''
)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("overhead")
    config = folder / "config"
    config.mkdir()
    explicit_root = folder.parent  # a root must contain the flow's file
    script = folder / "overhead_run.py"
    script.write_text(SCRIPT)
    done = run_python(script, config, str(explicit_root), timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["script_dir"] = str(folder)
    result["explicit_root"] = str(explicit_root)
    return result


def test_a_running_flow_looks_its_source_root_up_once(measured: dict[str, Any]) -> None:
    # The engine looked it up 17 times per checkpoint call: 110 times for this run of 7 calls.
    # What is left is the submission's own lookups and one after the body sets a root.
    assert measured["value"] == 5
    assert measured["counts"]["find_repository"] < 14, measured["counts"]
    assert Path(measured["before"]) == Path(measured["script_dir"])


def test_a_root_set_while_a_flow_runs_is_the_one_used(measured: dict[str, Any]) -> None:
    assert Path(measured["after"]) == Path(measured["explicit_root"])


def test_checkpoints_without_a_model_skip_the_model_version_lookup(measured: dict[str, Any]) -> None:
    # The lookup built each new step run's response with its metadata to read
    # ``config.model``: once per checkpoint call (7 here).
    assert measured["counts"]["model_lookups"] == 0, measured["counts"]


def test_a_step_that_configures_a_model_still_gets_its_model_version(measured: dict[str, Any]) -> None:
    assert measured["modelled_version"] is not None


def test_replace_once_stacks_wrappers_from_different_factories_and_applies_each_once() -> None:
    class Owner:
        @staticmethod
        def call() -> list[str]:
            return ["engine"]

    def outer(call: Any) -> Any:
        return lambda: ["outer", *call()]

    def inner(call: Any) -> Any:
        return lambda: ["inner", *call()]

    for make in (inner, outer, inner, outer):
        replace_once(Owner, "call", make)
    assert Owner.call() == ["outer", "inner", "engine"]

"""Calls are listed in the order the flow body made them, and "cached" comes from the engine's record.

Issue 19 defects 1 and 2: on MySQL the store keeps whole-second timestamps, so
neither the order of calls nor whether a call was a cache hit may be read
from timestamps. These tests run on the local default (SQLite) and check the
records themselves; tests/team checks the same on MariaDB.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kitaru.client import KitaruClient
from kitaru.engine import get_engine
from kitaru.engine.runs import StepRecord
from kitaru.execution.call_order import attempts_by_call, in_call_order
from tests.core.flows import order_flows


def test_every_call_records_its_position_in_the_body_and_a_map_shares_one() -> None:
    handle = order_flows.mixed.run(3)
    assert handle.wait() == 0 + 1 + 4 + 4 + 9
    steps = get_engine().runs.list_steps([handle.exec_id])
    index_of = {step.name: step.call_index for step in steps}
    assert index_of.pop("numbers") == 0
    assert index_of.pop("square") == 1
    assert index_of.pop("square_2") == 2
    assert index_of.pop("total") == 4
    assert sorted(index_of.values()) == [3, 3, 3], index_of  # the map's three items

    listed = [call.name for call in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert listed[:3] == ["numbers", "square", "square_2"]
    assert sorted(listed[3:6]) == sorted(name for name in index_of) and listed[6] == "total"


def test_cache_hits_are_named_by_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    n = datetime.now().microsecond + 10  # an input no earlier execution used
    order_flows.repeated.run(n).wait()
    first = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Checkpoint ")]
    order_flows.repeated.run(n).wait()
    second = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Checkpoint ")]
    assert [line.split(" ", 2)[2].split(" ")[0] for line in first] == ["finished", "finished"], first
    assert second == ["Checkpoint `numbers` cached.", "Checkpoint `total` cached."]


# -- the order itself, on records as the store returns them --------------------------------

T0 = datetime(2026, 12, 3, 12, 0, 0)


def step(name: str, index: int | None, *, attempt: int = 1, at: datetime = T0, id: str | None = None) -> StepRecord:
    return StepRecord(
        id=id or f"{name}-{attempt}",
        run_id="run",
        name=name,
        checkpoint=name.split("_")[0],
        status="completed",
        successful=True,
        finished=True,
        attempt=attempt,
        created=at,
        started=at,
        call_index=index,
    )


def test_whole_second_timestamps_and_random_ids_do_not_change_the_order() -> None:
    # All in the same second, ids in reverse of the call order, map items numbered past 9.
    steps = [
        step("b_10", 2, id="a"),
        step("b_2", 2, id="b"),
        step("c", 3, id="c"),
        step("b", 1, attempt=2, id="d"),
        step("b", 1, attempt=1, id="e"),
        step("a", 0, id="f"),
    ]
    assert [(s.name, s.attempt) for s in in_call_order(steps)] == [
        ("a", 1),
        ("b", 1),
        ("b", 2),
        ("b_2", 1),
        ("b_10", 1),
        ("c", 1),
    ]
    assert {name: [s.attempt for s in attempts] for name, attempts in attempts_by_call(steps).items()} == {
        "a": [1],
        "b": [1, 2],
        "b_2": [1],
        "b_10": [1],
        "c": [1],
    }
    assert list(attempts_by_call(steps)) == ["a", "b", "b_2", "b_10", "c"]


def test_calls_recorded_before_the_index_existed_keep_their_start_order() -> None:
    steps = [
        step("late", None, at=T0 + timedelta(seconds=2)),
        step("early", None, at=T0),
        step("new", 0, at=T0 + timedelta(seconds=1)),
    ]
    assert [s.name for s in in_call_order(steps)] == ["early", "new", "late"]

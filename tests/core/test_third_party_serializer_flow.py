"""A third-party serializer is used end to end by a real flow.

A throwaway distribution installs a plugin whose serializer (priority 90)
handles ``Point``, a plain class defined in the plugin module that no built-in
serializer can write. A flow, run in a fresh interpreter through the public
API, builds a ``Point`` in one checkpoint and passes it to another. The value
must come back intact, the plugin's ``write`` must have written both outputs
and its ``read`` must have loaded the second checkpoint's input: an engine
that silently fell back to pickling would round-trip the value too, but would
never call them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kitaru.testing.distributions import make_distribution

pytestmark = pytest.mark.slow

POINT_PLUGIN = """
    import json
    import os

    import kitaru
    from kitaru.plugins import ArtifactSerializerSpec


    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __eq__(self, other):
            return type(other) is Point and (self.x, self.y) == (other.x, other.y)

        def __hash__(self):
            return hash((self.x, self.y))

        def __repr__(self):
            return f"Point({self.x}, {self.y})"


    def _record(variable, value):
        path = os.environ.get(variable)
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"{value.x},{value.y}\\n")


    def _write(value):
        _record("POINTY_WRITE_LOG", value)
        return json.dumps({"x": value.x, "y": value.y}).encode()


    def _read(data, python_type):
        fields = json.loads(data)
        point = Point(fields["x"], fields["y"])
        _record("POINTY_READ_LOG", point)
        return point


    @kitaru.hookimpl
    def kitaru_artifact_serializers():
        yield ArtifactSerializerSpec(
            name="point",
            content_type="application/vnd.pointy+json",
            can_write=lambda value: isinstance(value, Point),
            write=_write,
            read=_read,
            python_types=(Point,),
            priority=90,
        )
"""

FLOW_SCRIPT = """
    import json

    import kitaru
    from pointy_plugin import Point


    @kitaru.checkpoint
    def make_point(x: int, y: int) -> Point:
        return Point(x, y)


    @kitaru.checkpoint
    def shift(point: Point) -> Point:
        return Point(point.x + 1, point.y + 10)


    @kitaru.flow
    def point_flow(x: int, y: int) -> Point:
        return shift(make_point(x, y))


    if __name__ == "__main__":
        result = point_flow.run(2, 3).wait()
        print("RESULT=" + json.dumps({
            "module": type(result).__module__,
            "type": type(result).__qualname__,
            "x": result.x,
            "y": result.y,
        }))
"""


def test_flow_round_trips_a_value_through_a_plugin_serializer(tmp_path: Path) -> None:
    dist = make_distribution(
        tmp_path / "site",
        "pointy-plugin",
        version="1.0",
        modules={"pointy_plugin": POINT_PLUGIN},
        entry_points={"pointy": "pointy_plugin"},
    )
    project = tmp_path / "project"
    project.mkdir()
    script = project / "point_flow.py"
    script.write_text(textwrap.dedent(FLOW_SCRIPT).lstrip())
    write_log = tmp_path / "writes.log"

    # A fresh config dir and none of this process's KITARU_*/ZENML_* settings.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
    env = dist.env(base)
    env.update(
        KITARU_CONFIG_PATH=str(tmp_path / "config"),
        ZENML_ANALYTICS_OPT_IN="false",
        POINTY_WRITE_LOG=str(write_log),
        POINTY_READ_LOG=str(tmp_path / "reads.log"),
        KITARU_RAISE_PLUGIN_ERRORS="1",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"

    [line] = [line for line in result.stdout.splitlines() if line.startswith("RESULT=")]
    value = json.loads(line.removeprefix("RESULT="))
    assert value == {"module": "pointy_plugin", "type": "Point", "x": 3, "y": 13}

    assert write_log.exists(), "the plugin's write() was never called: its serializer was bypassed"
    written = write_log.read_text().splitlines()
    assert "2,3" in written, f"make_point's output was not written by the plugin: {written}"
    assert "3,13" in written, f"shift's output was not written by the plugin: {written}"

    reads_log = tmp_path / "reads.log"
    reads = reads_log.read_text().splitlines() if reads_log.exists() else []
    assert "2,3" in reads, f"shift's input was not read back by the plugin: {reads}"

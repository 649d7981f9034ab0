"""A flow started where there is no main script (``python -c``, a REPL, a test worker) still runs."""

from __future__ import annotations

import sys
from pathlib import Path

from kitaru.execution.sources import module_root
from tests.conftest import REPO_ROOT, subprocess_env
from tests.core.flows import order_flows


def test_the_root_of_a_module_is_where_its_dotted_name_starts() -> None:
    assert module_root(order_flows.total) == REPO_ROOT  # tests.core.flows.order_flows
    assert module_root(Path.home) == Path(sys.modules["pathlib"].__file__).resolve().parent  # type: ignore[arg-type]
    assert module_root(lambda: None) == REPO_ROOT  # defined in tests.core.test_source_root


def test_python_dash_c_runs_a_flow(fresh_config_dir: Path) -> None:
    import subprocess

    code = (
        "from tests.core.flows import order_flows\n"
        "handle = order_flows.mixed.run(2)\n"
        "print('RESULT', handle.wait())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=subprocess_env(fresh_config_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RESULT 14" in done.stdout, done.stdout[-2000:]

"""``import kitaru`` and the cheap CLI paths must not load the engine (DESIGN "Performance").

Each check runs in a fresh interpreter, because this test process may already
have imported ZenML for other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kitaru

# SPEC §2: the exact public surface of ``kitaru``.
SPEC_EXPORTS = {
    "flow",
    "checkpoint",
    "FlowHandle",
    "log",
    "save",
    "load",
    "wait",
    "llm",
    "configure",
    "connect",
    "KitaruConfig",
    "ImageSettings",
    "StackInfo",
    "list_stacks",
    "current_stack",
    "use_stack",
    "create_stack",
    "delete_stack",
    "KitaruClient",
    "FailureOrigin",
    "KitaruError",
    "KitaruUsageError",
    "KitaruContextError",
    "KitaruStateError",
    "KitaruRuntimeError",
    "KitaruExecutionError",
    "KitaruUserCodeError",
    "KitaruDivergenceError",
    "KitaruBackendError",
    "KitaruLogRetrievalError",
    "KitaruWaitValidationError",
    "KitaruFeatureNotAvailableError",
    # Beyond the reference (issue 14): raised by kitaru.llm(response_format=...).
    "KitaruStructuredOutputError",
    # Beyond the reference (issue 16, docs/primitives.md): durable sleep, events, timeouts.
    "sleep",
    "sleep_until",
    "receive",
    "KitaruTimeoutError",
    # Beyond the reference (issue 17): durable budgets and offline cassettes.
    "Budget",
    "KitaruBudgetExceededError",
    "KitaruCassetteMiss",
}

HEAVY_PREFIXES = ("zenml",)
CLI_ONLY_PREFIXES = ("typer", "rich", "click")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KITARU_", "ZENML_"))
    }
    env["KITARU_CONFIG_PATH"] = str(tmp_path / "config")
    return env


def _loaded_modules(code: str, tmp_path: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter and return what it reports.

    ``code`` runs with ``report`` bound to a dict; afterwards the child adds the
    top-level names of every loaded module under ``"modules"``.
    """
    script = (
        "import json, sys\n"
        "report = {}\n"
        + textwrap.dedent(code)
        + "\nreport['modules'] = sorted({name.split('.')[0] for name in sys.modules})\n"
        "sys.__stderr__.write('REPORT' + json.dumps(report) + '\\n')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    lines = [line for line in completed.stderr.splitlines() if line.startswith("REPORT")]
    assert lines, f"child failed: rc={completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(lines[-1][len("REPORT") :])
    report["stdout"] = completed.stdout
    return report


def _run_cli_code(argv: list[str]) -> str:
    return f"""
from kitaru.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    report['exit_code'] = exc.code
"""


def test_import_kitaru_loads_neither_engine_nor_cli_libraries(tmp_path: Path) -> None:
    report = _loaded_modules("import kitaru\nreport['version'] = kitaru.__version__", tmp_path)
    modules = set(report["modules"])
    assert not modules & set(HEAVY_PREFIXES), "import kitaru imported the engine"
    assert not modules & set(CLI_ONLY_PREFIXES), (
        f"import kitaru imported CLI libraries: {sorted(modules & set(CLI_ONLY_PREFIXES))}"
    )


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"], ["-V"], [], ["status", "--help"]])
def test_cheap_cli_paths_do_not_import_the_engine(tmp_path: Path, argv: list[str]) -> None:
    report = _loaded_modules(_run_cli_code(argv), tmp_path)
    assert report["exit_code"] == 0
    assert "zenml" not in report["modules"], f"kitaru {' '.join(argv)} imported zenml"
    if argv in (["--version"], ["-V"]):
        assert report["stdout"].startswith("kitaru ")
    else:
        assert "Usage: kitaru" in report["stdout"]


def test_init_does_not_import_the_engine(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    report = _loaded_modules(_run_cli_code(["init", str(project), "-o", "json"]), tmp_path)
    assert report["exit_code"] == 0
    assert (project / ".kitaru").is_dir()
    assert "zenml" not in report["modules"]


def test_console_script_help_does_not_import_the_engine(tmp_path: Path) -> None:
    """The installed ``kitaru`` script, checked with ``-X importtime``."""
    script = Path(sys.executable).with_name("kitaru")
    if not script.exists():
        pytest.fail(f"console script not installed next to {sys.executable}; run `uv sync`")
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), "--help"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Usage: kitaru" in completed.stdout
    imported = [line for line in completed.stderr.splitlines() if line.startswith("import time:")]
    assert imported, "-X importtime produced no report"
    assert not [line for line in imported if line.rstrip().split("|")[-1].strip().startswith("zenml")]


def test_public_api_is_exactly_the_spec_surface() -> None:
    assert len(kitaru.__all__) == len(set(kitaru.__all__)), "duplicates in kitaru.__all__"
    assert set(kitaru.__all__) == SPEC_EXPORTS

"""Every use of ZenML lives in kitaru/_engine/ (the engine adapter).

Import statements are one way in; naming an engine module in a string is the
other (``sys.modules["zenml.config.docker_settings"]``,
``importlib.import_module("zenml...")``), so both are checked. import-linter
(``tests/meta/test_code_quality.py``) checks the layers on top of this.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE_ROOTS = sorted((Path(__file__).resolve().parents[2] / "packages").glob("*/src"))


def _zenml_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name == "zenml" or name.startswith("zenml.") for name in names):
            lines.append(node.lineno)
    return lines


def _zenml_module_strings(path: Path) -> list[int]:
    """Lines where a string names an engine module (``"zenml.x"``), a lookup behind the import system's back."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("zenml.")
    ]


def test_no_engine_module_is_named_outside_the_adapter() -> None:
    offenders = []
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            relative = path.relative_to(root)
            if relative.parts[:2] == ("kitaru", "_engine"):
                continue
            offenders += [f"{relative}:{line}" for line in _zenml_module_strings(path)]
    assert offenders == [], f"engine modules named outside kitaru/_engine: {offenders}"


def test_zenml_is_imported_only_by_the_engine_adapter() -> None:
    offenders = []
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            relative = path.relative_to(root)
            if relative.parts[:2] == ("kitaru", "_engine"):
                continue
            offenders += [f"{relative}:{line}" for line in _zenml_imports(path)]
    assert SOURCE_ROOTS, "no packages found"
    assert offenders == [], f"ZenML imported outside kitaru/_engine: {offenders}"


def test_the_check_detects_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom zenml.client import Client\n")
    assert _zenml_imports(sample) == [2]


def test_the_check_detects_a_module_named_in_a_string(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('import sys\nsys.modules.get("zenml.config.docker_settings")\n')
    assert _zenml_module_strings(sample) == [2]

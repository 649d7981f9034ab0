"""Every ZenML import lives in kitaru/_engine/ (the engine adapter)."""

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

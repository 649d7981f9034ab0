#!/usr/bin/env python3
"""Count what the layering rules of DESIGN.md ("Layers") care about, and check them.

    .venv/bin/python tools/code_metrics.py           # print the counts
    .venv/bin/python tools/code_metrics.py --check   # exit 1 if a rule is broken

Counts, over the plugin packages' sources (``packages/*/src``):

* ``engine_lines``: lines of the engine adapter (``kitaru/_engine``);
* ``function_imports``: import statements inside functions, and how many of
  them import Kitaru itself (``kitaru``/``kitaru_*``). An import inside a
  function is for loading a heavy dependency lazily, never to hide a cycle:
  outside the CLI and MCP command modules (see :data:`PRESENTATION`) Kitaru's
  own modules are imported at module top;
* ``private_imports``: private names (``_x``) imported from another module,
  and private modules (``a.b._c``) imported from outside their parent package
  ``a.b`` (import-linter's rule). A justified one carries ``# private-import:``
  and the reason on its line;
* ``cycles``: cycles in the import graph between modules, imports inside
  functions included (import-linter checks the same at every package depth).

Only the standard library is used, so it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "packages").glob("*/src"))
OWN_PACKAGES = ("kitaru", "kitaru_local", "kitaru_aws", "kitaru_gcp", "kitaru_azure")
JUSTIFIED = "# private-import:"
#: Entry points whose command modules import the layers below on first use, so
#: that ``kitaru --help`` and ``kitaru-mcp`` start without loading pydantic and
#: the domain. Their lazy imports are counted but allowed: a cycle they would
#: hide is still caught, because the cycle check includes imports inside functions.
PRESENTATION = ("kitaru.cli", "kitaru.mcp")


@dataclass
class Metrics:
    """What one scan found."""

    engine_lines: int = 0
    function_imports: int = 0
    own_function_imports: list[str] = field(default_factory=list)
    presentation_function_imports: int = 0
    private_imports: list[str] = field(default_factory=list)
    justified_private_imports: list[str] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)


def _modules() -> Iterator[tuple[str, Path]]:
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            parts = list(path.relative_to(source).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _is_own(name: str) -> bool:
    return name.split(".")[0] in OWN_PACKAGES


def _private_name(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _may_import(importer: str, imported: str) -> bool:
    """import-linter's rule: a private module (``a.b._c``) is for its parent package (``a.b``) only."""
    parts = imported.split(".")
    for depth, part in enumerate(parts):
        if _private_name(part):
            parent = ".".join(parts[:depth])
            if importer != parent and not importer.startswith(parent + "."):
                return False
    return True


def _inside_function(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    ids.add(id(inner))
    return ids


def _type_checking_only(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    ids.add(id(inner))
    return ids


def scan() -> Metrics:
    """Scan the sources and return the counts."""
    metrics = Metrics()
    modules = dict(_modules())
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        text = path.read_text()
        lines = text.splitlines()
        if module == "kitaru._engine" or module.startswith("kitaru._engine."):
            metrics.engine_lines += len(lines)
        tree = ast.parse(text, str(path))
        in_function = _inside_function(tree)
        typing_only = _type_checking_only(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
                names: list[tuple[str, str]] = [(alias.name, "") for alias in node.names]
            else:
                base = _resolve(module, path, node)
                names = [(base, alias.name) for alias in node.names]
                # ``from kitaru.plugins import hookspecs`` depends on the module
                # ``hookspecs``, not on the package's ``__init__`` (as grimp reads it).
                submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
                targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
            own = [target for target in targets if _is_own(target)]
            if id(node) in in_function:
                metrics.function_imports += 1
                if own and module.startswith(PRESENTATION):
                    metrics.presentation_function_imports += 1
                elif own:
                    metrics.own_function_imports.append(f"{where} {', '.join(own)}")
            if id(node) not in typing_only:
                for target in own:
                    imported = target if target in modules else target.rpartition(".")[0]
                    if imported in graph and imported != module:
                        graph[module].add(imported)
            for base, name in names:
                if not _is_own(base):
                    continue
                full = f"{base}.{name}" if name else base
                imported_module = full if full in modules else base
                # ``from kitaru import _scope`` imports a module: the module rule applies.
                private = (_private_name(name) and full not in modules) or not _may_import(module, imported_module)
                if private:
                    entry = f"{where} {full}"
                    line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
                    if JUSTIFIED in line:
                        metrics.justified_private_imports.append(entry)
                    else:
                        metrics.private_imports.append(entry)
    metrics.cycles = _cycles(graph)
    return metrics


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a layering rule is broken")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every finding")
    args = parser.parse_args(argv)
    metrics = scan()
    print(f"engine adapter lines (kitaru/_engine): {metrics.engine_lines}")
    own = len(metrics.own_function_imports) + metrics.presentation_function_imports
    print(
        f"imports inside functions: {metrics.function_imports} ({own} of Kitaru itself, "
        f"{metrics.presentation_function_imports} of them in cli/mcp command modules)"
    )
    print(
        f"private names imported across modules: {len(metrics.private_imports)} "
        f"(+{len(metrics.justified_private_imports)} justified)"
    )
    print(f"import cycles (modules, imports inside functions included): {len(metrics.cycles)}")
    broken = bool(metrics.own_function_imports or metrics.private_imports or metrics.cycles)
    if args.verbose or (args.check and broken):
        for title, items in (
            ("Kitaru imported inside a function", metrics.own_function_imports),
            ("private import across modules", metrics.private_imports),
            ("justified private import", metrics.justified_private_imports),
        ):
            for item in items:
                print(f"  {title}: {item}")
        for cycle in metrics.cycles:
            print(f"  cycle: {' <-> '.join(cycle)}")
    return 1 if args.check and broken else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

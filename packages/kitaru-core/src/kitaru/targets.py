"""Find a flow from a ``<module_or_file.py>:<flow>`` target string.

``kitaru run`` and the MCP server's ``kitaru_executions_run`` tool name the
flow to run the same way, and both load it here::

    kitaru run agents/research.py:research_agent --args '{"topic": "durability"}'
    kitaru run my_package.flows:research_agent

* A **file target** (``path/to/flows.py:my_flow``; a path is anything ending in
  ``.py`` or containing a path separator) is resolved against the working
  directory and imported under a module name relative to its *source root*:
  the nearest directory at or above the file that holds a ``.kitaru/``
  project marker (``kitaru init``), else the file's own directory. That is
  the name the engine records, so ``kitaru executions retry/resume/replay``
  can import the flow again later from any directory.
* A **module target** (``package.module:my_flow``) is imported by name with
  the working directory first on ``sys.path`` (like ``python -m``).

Every problem is a :class:`~kitaru.errors.KitaruUsageError` saying what is
wrong and what to do: a malformed target, a missing file, a syntax error or
failing import, a missing attribute (listing the module's flows), or an
object that is not a flow. The MCP server passes ``allowed_root``: code
outside it (symlinks followed; a module target whose file is elsewhere,
checked before any of its code runs) raises :class:`TargetNotAllowedError`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from kitaru.checkpoints import CheckpointDefinition
from kitaru.config.paths import PROJECT_MARKER_DIR
from kitaru.errors import KitaruUsageError
from kitaru.execution.sources import use_source_root
from kitaru.flows import FlowDefinition, FlowHandle

TARGET_FORMAT = "<module_or_file.py>:<flow>"
EXAMPLES = "e.g. flows.py:my_flow or my_package.flows:my_flow"
INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})
RUN_OPTION_NAMES: tuple[str, ...] = ("stack", "image", "cache", "retries", "idempotency_key", "budget")
"""Keyword names ``FlowDefinition.run`` keeps for itself; flow inputs cannot use them."""


_LOADED: dict[str, Path] = {}
"""Modules this loader imported from files (name -> file): a later file target may replace them."""


class TargetNotAllowedError(KitaruUsageError):
    """A flow target lies outside the directory targets are restricted to."""


@dataclass(frozen=True)
class FlowTarget:
    """A loaded flow target.

    Attributes:
        target: The target string as given.
        kind: ``file`` or ``module``.
        module_name: The name the flow's module was imported under.
        attribute: The flow's attribute name in that module.
        path: The module's file (resolved).
        source_root: The directory the module name is relative to; the engine
            records it so other processes can import the flow again. None
            for a module of an installed package (importable everywhere).
        flow: The flow object.
    """

    target: str
    kind: str
    module_name: str
    attribute: str
    path: Path
    source_root: Path | None
    flow: FlowDefinition


def split_target(target: str) -> tuple[str, str]:
    """Split ``flows.py:my_flow`` into the module/file part and the flow attribute.

    Raises:
        KitaruUsageError: If the target is empty, has no ``:<flow>`` part, or
            the flow part is not a Python identifier.
    """
    if not isinstance(target, str) or not target.strip():
        raise KitaruUsageError(f"A flow target is required: {TARGET_FORMAT}, {EXAMPLES}.")
    text = target.strip()
    reference, sep, attribute = text.rpartition(":")
    if not sep or not reference.strip():
        raise KitaruUsageError(
            f"Invalid flow target '{text}': use {TARGET_FORMAT}, {EXAMPLES}. "
            "Name the flow after a colon."
        )
    attribute = attribute.strip()
    if not attribute.isidentifier():
        raise KitaruUsageError(
            f"Invalid flow target '{text}': '{attribute}' after the colon is not a Python name. "
            f"Use {TARGET_FORMAT}, {EXAMPLES}."
        )
    return reference.strip(), attribute


def is_file_reference(reference: str) -> bool:
    """Whether the part before the colon names a file (``.py`` or a path) rather than a module."""
    return reference.endswith(".py") or "/" in reference or "\\" in reference


def load_flow_target(
    target: str,
    *,
    base_dir: Path | None = None,
    allowed_root: Path | None = None,
    refusal_hint: str = "",
    fresh: bool = False,
) -> FlowTarget:
    """Import the module a target names and return its flow.

    Args:
        target: ``<module_or_file.py>:<flow>``.
        base_dir: Where relative files and top-level modules are looked up;
            the current directory by default.
        allowed_root: If set, only code under this directory may be loaded
            (raises :class:`TargetNotAllowedError` otherwise).
        refusal_hint: Appended to the refusal message: how to allow more.
        fresh: Import the module again even if it is already imported (a
            long-lived process such as the MCP server picks up edits).

    Returns:
        The loaded target.

    Raises:
        TargetNotAllowedError: If the target is outside ``allowed_root``.
        KitaruUsageError: For every other problem with the target.
    """
    reference, attribute = split_target(target)
    base = (base_dir or Path.cwd()).resolve()
    root = allowed_root.resolve() if allowed_root is not None else None
    kind = "file" if is_file_reference(reference) else "module"
    load = _load_file if kind == "file" else _load_module
    module, source_root, path = load(reference, base, root, refusal_hint, fresh)
    flow = _flow_attribute(module, attribute, reference)
    return FlowTarget(target.strip(), kind, module.__name__, attribute, path, source_root, flow)


def run_flow_target(
    loaded: FlowTarget,
    args: Mapping[str, Any] | None = None,
    *,
    stack: str | None = None,
    idempotency_key: str | None = None,
) -> FlowHandle:
    """Run a loaded flow (in this process, on the local default) after recording its source root.

    Args:
        loaded: What :func:`load_flow_target` returned.
        args: The flow's inputs by parameter name.
        stack: Run on this stack (for this execution only).
        idempotency_key: Return the flow's execution for this key if there
            is one instead of starting another (see ``FlowDefinition.run``).

    Returns:
        The execution's handle.

    Raises:
        KitaruUsageError: If ``args`` is not a mapping or uses a name that
            ``run()`` reserves (``stack``, ``image``, ``cache``, ``retries``,
            ``idempotency_key``).
    """
    inputs = dict(_check_args(args, loaded.flow.name))
    if loaded.source_root is not None:
        use_source_root(loaded.source_root)
    return loaded.flow.run(stack=stack, idempotency_key=idempotency_key, **inputs)


def _check_allowed(path: Path, root: Path | None, what: str, hint: str) -> None:
    if root is not None and path != root and root not in path.parents:
        raise TargetNotAllowedError(f"Refusing to load {what}: {path} is outside {root}. {hint}".strip())


def find_source_root(path: Path) -> Path:
    """The source root of a flow file: the nearest ``.kitaru`` project, else its directory."""
    for directory in path.parents:
        if (directory / PROJECT_MARKER_DIR).is_dir():
            return directory
    return path.parent


def _load_file(
    reference: str, base: Path, root: Path | None, hint: str, fresh: bool
) -> tuple[ModuleType, Path, Path]:
    given = Path(reference).expanduser()
    path = (given if given.is_absolute() else base / given).resolve()
    _check_allowed(path, root, f"flow file '{reference}'", hint)
    if path.is_dir():
        raise KitaruUsageError(
            f"Flow file '{reference}' is a directory ({path}). Name a .py file: {TARGET_FORMAT}."
        )
    if not path.is_file():
        raise KitaruUsageError(
            f"Flow file '{reference}' does not exist (looked for {path}). Check the path; "
            "relative paths start at the current directory."
        )
    if path.suffix != ".py":
        raise KitaruUsageError(f"Flow file '{reference}' is not a Python file (.py): {path}.")
    source_root = find_source_root(path)
    parts = path.relative_to(source_root).with_suffix("").parts
    if any("." in part or not part for part in parts):
        raise KitaruUsageError(
            f"Flow file '{reference}' cannot be imported as a module: '{'/'.join(parts)}' has a dot "
            "in a directory or file name. Rename it (e.g. my_flows.py)."
        )
    module_name = ".".join(parts)
    existing = sys.modules.get(module_name)
    if existing is not None:
        existing_file = getattr(existing, "__file__", None)
        same = existing_file is not None and Path(existing_file).resolve() == path
        if same and not fresh:
            return existing, source_root, path
        if not same and module_name not in _LOADED:
            raise KitaruUsageError(
                f"Flow file '{reference}' would be imported as module '{module_name}', but a module "
                f"of that name is already loaded from {existing_file or 'a built-in'}. Rename the file."
            )
    _ensure_on_path(source_root)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have a loader
        raise KitaruUsageError(f"Flow file '{reference}' cannot be imported ({path}).")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        if existing is not None:
            sys.modules[module_name] = existing
        else:
            sys.modules.pop(module_name, None)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _import_error(f"flow file '{reference}'", path, exc) from exc
    _LOADED[module_name] = path
    return module, source_root, path


def _ensure_on_path(directory: Path) -> None:
    """Put ``directory`` first on ``sys.path`` so its modules win over same-named ones."""
    entry = str(directory)
    if sys.path[:1] != [entry]:
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)


def _import_error(what: str, path: Path | None, exc: BaseException) -> KitaruUsageError:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename or path}, line {exc.lineno}" if exc.lineno else str(exc.filename or path)
        return KitaruUsageError(f"Cannot load {what}: invalid syntax in {where}: {exc.msg}. Fix the file.")
    detail = f"{type(exc).__name__}: {exc}"
    return KitaruUsageError(
        f"Cannot load {what}: importing it raised {detail}. Fix the error (run the file with "
        "`python` to see the traceback)."
    )


def _module_file_under(name: str, directory: Path) -> Path | None:
    """Where ``name`` would be found under ``directory`` (a module file or package ``__init__``)."""
    parts = name.split(".")
    candidate = directory.joinpath(*parts)
    for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        if path.is_file():
            return path.resolve()
    return None


def _load_module(
    reference: str, base: Path, root: Path | None, hint: str, fresh: bool
) -> tuple[ModuleType, Path | None, Path]:
    parts = reference.split(".")
    if not all(part.isidentifier() for part in parts):
        raise KitaruUsageError(
            f"Invalid flow target '{reference}': neither a .py file nor a module name. "
            f"Use {TARGET_FORMAT}, {EXAMPLES}."
        )
    what = f"module '{reference}'"
    if root is not None:
        _check_module_allowed(reference, base, root, hint)
    _ensure_on_path(base)
    if fresh:
        sys.modules.pop(reference, None)
    try:
        module = importlib.import_module(reference)
    except ModuleNotFoundError as exc:
        if exc.name and (reference == exc.name or reference.startswith(exc.name + ".")):
            raise KitaruUsageError(
                f"No module named '{exc.name}' (looked in {base} and on the Python path). "
                f"Check the name, or give a file instead: {TARGET_FORMAT}."
            ) from exc
        raise _import_error(what, None, exc) from exc
    except Exception as exc:  # SyntaxError is an Exception too
        raise _import_error(what, None, exc) from exc
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        raise KitaruUsageError(f"Module '{reference}' is not a Python source file; name a .py module.")
    path = Path(file).resolve()
    if root is not None:
        _check_allowed(path, root, f"module '{reference}'", hint)
    if INSTALLED_DIRS & set(path.parts):
        return module, None, path  # an installed package: the engine imports it by name
    depth = len(parts) if path.name == "__init__.py" else len(parts) - 1
    return module, path.parents[depth], path


def _module_locations(module: ModuleType) -> list[Path]:
    """Where a loaded module lives: its file, or a (namespace) package's directories."""
    file = getattr(module, "__file__", None)
    if file:
        return [Path(file).resolve()]
    return [Path(entry).resolve() for entry in getattr(module, "__path__", None) or ()]


def _check_module_allowed(reference: str, base: Path, root: Path, hint: str) -> None:
    """Refuse a module target unless it resolves to a file under ``root``, before importing it."""
    top = sys.modules.get(reference.split(".")[0])
    if top is not None:
        locations = _module_locations(top)
        if not any(location == root or root in location.parents for location in locations):
            where = ", ".join(str(location) for location in locations) or "a built-in"
            raise TargetNotAllowedError(
                f"Refusing to load module '{reference}': its package is already loaded from "
                f"{where}, outside {root}. {hint}".strip()
            )
    found = _module_file_under(reference, base)
    if found is None:
        raise TargetNotAllowedError(
            f"Refusing to load module '{reference}': it is not a module under {root} (only modules "
            f"whose file is under that directory may be loaded). {hint}".strip()
        )
    _check_allowed(found, root, f"module '{reference}'", hint)


def _flow_attribute(module: ModuleType, attribute: str, reference: str) -> FlowDefinition:
    flows = sorted(name for name, value in vars(module).items() if isinstance(value, FlowDefinition))
    available = f"Flows in it: {', '.join(flows)}." if flows else (
        "It defines no flows (functions decorated with @kitaru.flow).")
    if not hasattr(module, attribute):
        raise KitaruUsageError(f"'{reference}' has no attribute '{attribute}'. {available}")
    value = getattr(module, attribute)
    if isinstance(value, FlowDefinition):
        return value
    raise KitaruUsageError(
        f"'{reference}:{attribute}' is {_describe(value)}, not a flow. Decorate the orchestration "
        f"function with @kitaru.flow. {available}"
    )


def _describe(value: Any) -> str:
    if isinstance(value, CheckpointDefinition):
        return "a checkpoint (checkpoints run inside a flow)"
    if isinstance(value, type):
        return f"a class ({value.__name__})"
    if callable(value):
        return "a plain function" if hasattr(value, "__code__") else f"a callable {type(value).__name__}"
    return f"a value of type {type(value).__name__}"


def _check_args(args: Mapping[str, Any] | None, flow_name: str) -> Mapping[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, Mapping):
        raise KitaruUsageError(
            f"Flow inputs must be a JSON object of parameter names to values; got {type(args).__name__}."
        )
    bad = sorted(str(key) for key in args if not isinstance(key, str))
    if bad:
        raise KitaruUsageError(f"Flow input names must be strings; got {', '.join(bad)}.")
    reserved = sorted(set(args) & set(RUN_OPTION_NAMES))
    if reserved:
        raise KitaruUsageError(
            f"Flow inputs cannot be named {', '.join(reserved)}: run() uses those names for its own "
            f"options. Rename the parameter of flow '{flow_name}' or run it from Python."
        )
    return args


__all__ = [
    "TARGET_FORMAT",
    "FlowTarget",
    "TargetNotAllowedError",
    "find_source_root",
    "load_flow_target",
    "run_flow_target",
    "split_target",
]

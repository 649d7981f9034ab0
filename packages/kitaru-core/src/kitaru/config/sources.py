"""Configuration sources: ``[tool.kitaru]``, ``KITARU_*`` variables and ``kitaru.yaml``.

Each reader returns a precedence layer: a dict holding only the execution
fields (``stack``, ``image``, ``cache``, ``retries``) that the source sets.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kitaru.config.diagnostics import toml_syntax_problem, warn_unknown_keys, yaml_syntax_problem
from kitaru.config.models import EXECUTION_FIELDS, validate_execution_layer
from kitaru.config.paths import config_file
from kitaru.config.timeouts import global_timeouts
from kitaru.errors import KitaruUsageError
from kitaru.locks import file_lock
from kitaru.settings import KitaruSettings, parse_bool, seconds_or_none, settings

PYPROJECT_NAME = "pyproject.toml"
GLOBAL_CONFIG_VERSION = 1

GLOBAL_CONFIG_KEYS = ("version", "log_store", "model_registry", "llm_prices", "execution")
"""The top-level keys of ``kitaru.yaml``. Each section's owner checks the keys inside it:
:mod:`kitaru.config.log_store`, :mod:`kitaru._llm.registry_store`, :mod:`kitaru._llm.pricing`,
:mod:`kitaru.config.timeouts`."""



# --- pyproject.toml -------------------------------------------------------


def find_pyproject(start: Path | None = None) -> Path | None:
    """Return the nearest ``pyproject.toml`` in ``start`` (default cwd) or above.

    Args:
        start: Directory to start from; defaults to the current directory.

    Returns:
        The file's path, or ``None`` when no ancestor has one.
    """
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        path = candidate / PYPROJECT_NAME
        if path.is_file():
            return path
    return None


def read_pyproject_table(path: Path) -> dict[str, Any]:
    """Return the raw ``[tool.kitaru]`` table of ``path`` (empty if absent).

    Raises:
        KitaruUsageError: If the file is not valid TOML or the table is not a table.
    """
    import tomllib

    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise KitaruUsageError(
            f"Could not parse {path}: {toml_syntax_problem(exc)}. Fix the TOML syntax and try again."
        ) from None
    except UnicodeDecodeError as exc:
        raise KitaruUsageError(
            f"Could not parse {path}: it is not UTF-8 text (byte {exc.start}). Save it as UTF-8 and try again."
        ) from None
    tool = document.get("tool")
    table = tool.get("kitaru") if isinstance(tool, dict) else None
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise KitaruUsageError(f"[tool.kitaru] in {path} must be a table, got {table!r}.")
    return table


def read_pyproject_config(start: Path | None = None) -> dict[str, Any]:
    """Read the execution layer from ``[tool.kitaru]`` in the nearest pyproject.

    Unknown keys are ignored with a warning (:class:`~kitaru.config.diagnostics.UnknownConfigKeyWarning`)
    that suggests the closest valid key (``cahce`` -> ``cache``). The legacy
    ``runner`` key is an error.

    Args:
        start: Directory to search from; defaults to the current directory.

    Returns:
        The validated layer (empty when there is no pyproject or no table).

    Raises:
        KitaruUsageError: For invalid TOML, the ``runner`` key or bad values.
    """
    path = find_pyproject(start)
    if path is None:
        return {}
    table = read_pyproject_table(path)
    source = f"[tool.kitaru] in {path}"
    if "runner" in table:
        raise KitaruUsageError(
            f"{source}: the 'runner' key was renamed to 'stack'. "
            f"Replace runner = {table['runner']!r} with stack = {table['runner']!r}."
        )
    warn_unknown_keys(source, table, EXECUTION_FIELDS)
    return validate_execution_layer({key: table[key] for key in EXECUTION_FIELDS if key in table}, source=source)


# --- environment ----------------------------------------------------------


def read_env_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the execution layer from ``KITARU_STACK/CACHE/RETRIES/IMAGE``.

    Blank variables count as unset. ``KITARU_IMAGE`` is either a JSON object of
    image settings or a plain image name.

    Args:
        environ: Variables to read; defaults to ``os.environ``.

    Returns:
        The validated layer.

    Raises:
        KitaruUsageError: For ``KITARU_RUNNER`` or an invalid value, naming the variable.
    """
    env = settings(environ)
    runner = env.runner
    if runner is not None:
        raise KitaruUsageError(
            f"KITARU_RUNNER was renamed to KITARU_STACK. Set KITARU_STACK={runner} and unset KITARU_RUNNER."
        )
    layer: dict[str, Any] = {}
    if env.stack is not None:
        layer["stack"] = env.stack
    if env.cache is not None:
        layer["cache"] = parse_bool(env.cache, variable="KITARU_CACHE")
    if env.retries is not None:
        layer["retries"] = _parse_env_retries(env.retries)
    for name in ("timeout", "checkpoint_timeout"):
        text = getattr(env, name)
        if text is not None:
            layer[name] = _parse_env_seconds(text, variable=KitaruSettings.variable(name))
    layer = validate_execution_layer(layer, source="Environment")
    image = env.image
    if image is not None:
        layer.update(validate_execution_layer({"image": _parse_env_image(image)}, source="KITARU_IMAGE"))
    return layer


def _parse_env_retries(text: str) -> int:
    value = int(text) if text.lstrip("+").isdecimal() else -1
    if value < 0:
        raise KitaruUsageError(
            f"Invalid KITARU_RETRIES value {text!r}. Use a whole number >= 0, for example KITARU_RETRIES=2."
        )
    return value


def _parse_env_seconds(text: str, *, variable: str) -> float:
    value = seconds_or_none(text)
    if value is None:
        raise KitaruUsageError(
            f"Invalid {variable} value {text!r}. Use a positive number of seconds, for example {variable}=30, "
            "or unset it for no timeout."
        )
    return value


def _parse_env_image(text: str) -> Any:
    if not text.startswith("{"):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"Invalid KITARU_IMAGE value: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
            'Use a JSON object such as {"base_image": "python:3.12-slim"} or a plain image name.'
        ) from None
    if not isinstance(value, dict):
        raise KitaruUsageError(f"Invalid KITARU_IMAGE value {text!r}: expected a JSON object or an image name.")
    return value


# --- kitaru.yaml -------------------------------------------------------------


INVALID_GLOBAL_CONFIG = "The Kitaru global config file is invalid. Fix or delete {path} and try again."
"""SPEC §5.1's message for a ``kitaru.yaml`` that cannot be read; the problem follows it."""


def invalid_global_config(path: Path, problem: str | None = None) -> KitaruUsageError:
    """The error for an unreadable ``kitaru.yaml``: SPEC §5.1's sentence, then what is wrong.

    Args:
        path: The file.
        problem: What is wrong, as a sentence without its final period
            (``YAML syntax error at line 2, column 1: ...``).
    """
    message = INVALID_GLOBAL_CONFIG.format(path=path)
    return KitaruUsageError(f"{message} {problem}." if problem else message)


def _parse_global_config(path: Path) -> tuple[dict[str, Any], str | None]:
    """``(contents, None)``, or ``({}, problem)`` when ``path`` is not a readable YAML mapping.

    A missing or empty file is an empty mapping. Unknown top-level keys are
    kept (writers preserve them) and warned about.
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except IsADirectoryError:
        return {}, "It is a directory, not a file"
    except UnicodeDecodeError as exc:
        return {}, f"It is not UTF-8 text (byte {exc.start})"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return {}, f"YAML syntax error at {yaml_syntax_problem(exc)}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        held = "a list" if isinstance(data, list) else f"the single value {data!r}"[:60]
        return {}, (
            f"It holds {held}, but must be a mapping of settings "
            "(version: 1, log_store: ..., model_registry: ..., llm_prices: ...)"
        )
    warn_unknown_keys(str(path), data, GLOBAL_CONFIG_KEYS, stacklevel=4)
    return data, None


def _load_global_config(path: Path) -> dict[str, Any]:
    data, problem = _parse_global_config(path)
    if problem is not None:
        raise invalid_global_config(path, problem)
    return data


def read_global_config() -> dict[str, Any]:
    """Read ``kitaru.yaml`` from the config directory.

    Unknown top-level keys are kept, with a warning naming the file and the
    closest valid key.

    Returns:
        Its contents, or an empty dict when the file does not exist.

    Raises:
        KitaruUsageError: If the file is not a YAML mapping; the message names
            the file and, for a syntax error, the line, the column and the
            parser's message.
    """
    return _load_global_config(config_file())


def read_global_execution_config() -> dict[str, Any]:
    """Read the execution layer of ``kitaru.yaml``: its ``execution`` section (the timeouts).

    Returns:
        ``timeout`` and ``checkpoint_timeout`` when the file sets them.

    Raises:
        KitaruUsageError: If the file cannot be read, or a timeout is invalid
            (naming the file, the key and its line).
    """
    path = config_file()
    if not path.is_file():
        return {}
    return global_timeouts(path, _load_global_config(path))


def _keep_invalid_copy(path: Path) -> Path:
    """Copy an unreadable ``kitaru.yaml`` next to it before it is replaced; return the copy's path.

    The copy is owner-only, like the file (it may hold an API key), and never
    overwrites an earlier copy.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"{path.name}.invalid-{stamp}-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(path.read_bytes())
    return Path(name)


def update_global_config(mutator: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read, change and atomically rewrite ``kitaru.yaml``.

    Fields the mutator does not touch are preserved, unknown keys included.
    A malformed file is replaced by a fresh one (SPEC §5.1: writers recover by
    starting fresh), but not silently: a copy of it is kept next to it as
    ``kitaru.yaml.invalid-<time>-<random>`` and a warning says where and why.
    The config directory is created when needed, the
    write goes through a temporary file and ``os.replace``, and concurrent
    writers in other processes are serialised with a lock file (POSIX).

    Args:
        mutator: Called with the current contents; changes them in place.

    Returns:
        The contents written.
    """
    import yaml

    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(path.name + ".lock")):
        data, problem = _parse_global_config(path)
        mutator(data)
        ordered = {"version": data.pop("version", GLOBAL_CONFIG_VERSION), **data}
        text = yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False)
        fd, temp_name = tempfile.mkstemp(prefix=".kitaru-", suffix=".yaml.tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            if problem is not None and path.is_file():
                _warn_started_fresh(path, problem, _keep_invalid_copy(path))
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
    return ordered


def _warn_started_fresh(path: Path, problem: str, copy: Path) -> None:
    warnings.warn(
        f"{path} could not be read. {problem}. Kitaru replaced it with a fresh file holding only this "
        f"change and kept the old one as {copy}: copy what you need from it.",
        UserWarning,
        stacklevel=4,
    )

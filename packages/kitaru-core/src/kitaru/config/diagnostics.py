"""Config file problems, told so they can be fixed: the file, the key, the line, a suggestion.

Every reader of a file Kitaru owns (``[tool.kitaru]`` in ``pyproject.toml``,
``kitaru.yaml``, a stack file for ``kitaru stack create --file``) words its
problems with these helpers, so they all read alike:

* an unknown key is a warning (the run goes on) that names the file and the
  dotted key and suggests the closest known key::

      [tool.kitaru] in /home/me/proj/pyproject.toml: ignoring unknown key(s) cahce
      (did you mean `cache`?). Valid keys are: stack, image, cache, retries.

* a syntax error names the line and column and quotes the parser::

      line 2, column 1: could not find expected ':' (while scanning a simple key
      from line 1, column 1)

This module imports neither PyYAML nor the engine: the parsers' exceptions are
read through their public attributes.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class UnknownConfigKeyWarning(UserWarning):
    """A config file holds a key Kitaru does not know; the key is ignored.

    Filter it like any warning, e.g.
    ``warnings.filterwarnings("ignore", category=UnknownConfigKeyWarning)``.
    """


SUGGESTION_CUTOFF = 0.65
"""How alike a key must be to a known one to be suggested (``difflib`` ratio, 0-1): ``retry`` -> ``retries``
(0.67) is suggested, ``colour`` -> ``cluster`` (0.62) is not."""

_TOML_POSITION = re.compile(r"^(?P<problem>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$", re.S)
"""``tomllib`` ends its messages with ``(at line L, column C)``."""


def closest_key(key: Any, known: Iterable[str]) -> str | None:
    """The known key most like ``key`` (``cahce`` -> ``cache``), or ``None`` when none is close.

    Matching ignores case and treats ``-`` as ``_`` (``Base-Image`` -> ``base_image``).
    """
    candidates = {name.lower().replace("-", "_"): name for name in known}
    typed = str(key).lower().replace("-", "_")
    matches = difflib.get_close_matches(typed, list(candidates), n=1, cutoff=SUGGESTION_CUTOFF)
    return candidates[matches[0]] if matches else None


def describe_key(key: Any, known: Iterable[str], *, prefix: str = "") -> str:
    """``prefix + key``, followed by ``(did you mean `<closest>`?)`` when a known key is close."""
    suggestion = closest_key(key, known)
    hint = f" (did you mean `{suggestion}`?)" if suggestion is not None else ""
    return f"{prefix}{key}{hint}"


def unknown_keys(data: Mapping[Any, Any], known: Sequence[str]) -> list[Any]:
    """The keys of ``data`` that are not in ``known``, in file order."""
    return [key for key in data if key not in known]


def unknown_keys_message(where: str, keys: Sequence[Any], known: Sequence[str], *, prefix: str = "") -> str:
    """The warning text for ``keys`` found at ``where`` (a file, or a file and a table).

    Args:
        where: Names the file, e.g. ``/home/me/.config/kitaru/kitaru.yaml``.
        keys: The unknown keys.
        known: The keys allowed there.
        prefix: The dotted path of the section holding them (``model_registry.aliases.fast.``).
    """
    described = ", ".join(describe_key(key, known, prefix=prefix) for key in keys)
    return f"{where}: ignoring unknown key(s) {described}. Valid keys are: {', '.join(known)}."


def warn_unknown_keys(
    where: str, data: Mapping[Any, Any], known: Sequence[str], *, prefix: str = "", stacklevel: int = 3
) -> None:
    """Warn (:class:`UnknownConfigKeyWarning`) about every key of ``data`` not in ``known``.

    The run goes on: the keys are ignored. Nothing happens when all keys are known.

    Args:
        where: Names the file (and table) for the message.
        data: The mapping read from the file.
        known: The keys allowed in ``data``.
        prefix: The dotted path of ``data`` in the file, ending in ``.`` (empty at the top).
        stacklevel: Passed to :func:`warnings.warn` (the default points at the reader's caller).
    """
    extra = unknown_keys(data, known)
    if extra:
        message = unknown_keys_message(where, extra, known, prefix=prefix)
        warnings.warn(message, UnknownConfigKeyWarning, stacklevel=stacklevel)


def _position(mark: Any) -> str:
    """``line L, column C`` of a PyYAML mark (its numbers count from 0)."""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def yaml_syntax_problem(exc: Exception) -> str:
    """Where and why PyYAML could not parse a document, on one line.

    PyYAML's ``MarkedYAMLError`` carries the problem, its position
    (``problem_mark``) and what the parser was doing (``context``, with its own
    position), for example::

        line 2, column 1: could not find expected ':' (while scanning a simple key from line 1, column 1)

    Args:
        exc: The ``yaml.YAMLError`` raised by ``yaml.safe_load``.

    Returns:
        The text above, or the error's own text (on one line) when it has no position.
    """
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None or mark is None:
        return " ".join(str(exc).split())
    text = f"{_position(mark)}: {problem}"
    context = getattr(exc, "context", None)
    if context:
        context_mark = getattr(exc, "context_mark", None)
        where = f" from {_position(context_mark)}" if context_mark is not None else ""
        text += f" ({context}{where})"
    return text


def toml_syntax_problem(exc: Exception) -> str:
    """Where and why ``tomllib`` could not parse a document: ``line L, column C: <problem>``.

    ``tomllib`` puts the position at the end of its message; this moves it to
    the front so every syntax error in Kitaru reads the same way.
    """
    text = str(exc)
    match = _TOML_POSITION.match(text)
    if match is None:
        return text
    return f"line {match['line']}, column {match['column']}: {match['problem']}"


__all__ = [
    "SUGGESTION_CUTOFF",
    "UnknownConfigKeyWarning",
    "closest_key",
    "describe_key",
    "toml_syntax_problem",
    "unknown_keys",
    "unknown_keys_message",
    "warn_unknown_keys",
    "yaml_syntax_problem",
]

"""Timeout settings: what a valid timeout is, and the ``execution`` section of ``kitaru.yaml``.

Two execution settings bound how long code runs, set like ``retries`` in
every precedence layer (SPEC §5.2) and recorded in the frozen spec:

* ``timeout``: how long one run of a flow body may take (the first run, each
  retry, each resume: every run gets the whole timeout);
* ``checkpoint_timeout``: the timeout of every checkpoint attempt whose
  ``@checkpoint`` sets none.

Both are a positive, finite number of seconds, or None for no timeout
(:func:`validate_timeout`). Besides ``configure()``, ``[tool.kitaru]`` and the
decorators, they can be set for every project of a user in ``kitaru.yaml``
(the lowest layer above the defaults)::

    version: 1
    execution:
      timeout: 3600            # flow bodies
      checkpoint_timeout: 300  # checkpoints that set no timeout

A bad value there is an error naming the file, the key and its line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kitaru.config.diagnostics import warn_unknown_keys
from kitaru.errors import KitaruUsageError

TIMEOUT_FIELDS = ("timeout", "checkpoint_timeout")
"""The execution settings that are timeouts."""

SECTION = "execution"
"""The ``kitaru.yaml`` section holding the timeouts."""

TIMEOUT_EXPECTED = "a positive number of seconds (for example 30 or 2.5), or None (null in YAML) for no timeout"
"""What a timeout setting takes, for messages."""


def validate_timeout(value: Any, *, what: str) -> float | None:
    """Check a timeout: a positive, finite number of seconds, or None for no timeout.

    Args:
        value: The value given.
        what: What it is, for the message (``@checkpoint(timeout=...)``).

    Returns:
        The timeout as a float, or None.

    Raises:
        KitaruUsageError: For anything else (a bool, a string, zero, a
            negative number, ``inf``, ``nan``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise KitaruUsageError(
            f"{what} must be a positive number of seconds (for example 30 or 2.5) or None for no timeout; "
            f"got {value!r}."
        )
    return float(value)


def seconds_text(seconds: float) -> str:
    """``2s``, ``2.5s``, ``0.01s``: a timeout as messages show it."""
    return f"{seconds:g}s"


def _key_line(text: str, *keys: str) -> int | None:
    """The line (from 1) of the nested key ``keys`` in a YAML document, or None."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return None
    return line


def global_timeouts(path: Path, data: dict[str, Any]) -> dict[str, float]:
    """The timeouts the ``execution`` section of ``kitaru.yaml`` sets, as a precedence layer.

    Unknown keys in the section are ignored with a warning that suggests the
    closest valid key.

    Args:
        path: The file (for messages).
        data: Its contents, as read by :func:`kitaru.config.sources.read_global_config`.

    Raises:
        KitaruUsageError: If the section is not a mapping or a value is not a
            valid timeout; the message names the file, the key and its line.
    """
    section = data.get(SECTION)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise KitaruUsageError(
            f"{path}{_at_line(path, SECTION)}: '{SECTION}' must be a mapping of settings "
            f"({', '.join(f'{key}: ...' for key in TIMEOUT_FIELDS)}); got {section!r}."
        )
    warn_unknown_keys(str(path), section, TIMEOUT_FIELDS, prefix=f"{SECTION}.", stacklevel=5)
    layer: dict[str, float] = {}
    for key in TIMEOUT_FIELDS:
        if section.get(key) is None:
            continue
        try:
            seconds = validate_timeout(section[key], what=key)
        except KitaruUsageError:
            raise KitaruUsageError(
                f"{path}{_at_line(path, SECTION, key)}: '{SECTION}.{key}' must be {TIMEOUT_EXPECTED}; "
                f"got {section[key]!r}."
            ) from None
        if seconds is not None:
            layer[key] = seconds
    return layer


def _at_line(path: Path, *keys: str) -> str:
    try:
        line = _key_line(path.read_text(encoding="utf-8"), *keys)
    except OSError:
        line = None
    return f", line {line}" if line is not None else ""


__all__ = [
    "SECTION",
    "TIMEOUT_EXPECTED",
    "TIMEOUT_FIELDS",
    "global_timeouts",
    "seconds_text",
    "validate_timeout",
]

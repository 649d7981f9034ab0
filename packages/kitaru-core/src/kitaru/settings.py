"""Every ``KITARU_*`` environment variable, read in one place.

Kitaru reads its environment through :func:`settings`, which returns a fresh
:class:`KitaruSettings` each time, so a variable
changed at run time (tests do this) is seen by the next read::

    from kitaru.settings import settings

    if settings().quiet:
        ...

Blank variables count as unset. Switches such as ``KITARU_QUIET`` are parsed
leniently by :func:`is_true` (an unknown word is false); settings whose bad
values deserve a clear error (``KITARU_CACHE``, ``KITARU_RETRIES``,
``KITARU_WAIT_POLL_INTERVAL`` ...) are kept as text here and parsed, with a
message naming the variable, by the module that owns the rule
(:func:`parse_bool` for the yes/no ones).

The engine's own variables (``ZENML_*``) are not Kitaru settings; only the
engine adapter reads them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kitaru.errors import KitaruUsageError

PREFIX = "KITARU_"
TRUE_WORDS = ("true", "1", "yes", "on", "t", "y")
FALSE_WORDS = ("false", "0", "no", "off", "f", "n")
BOOL_WORDS = tuple(word for pair in zip(TRUE_WORDS, FALSE_WORDS, strict=True) for word in pair)
"""Every accepted word, in pairs: ``true, false, 1, 0, yes, no ...``."""


def is_true(value: Any) -> bool:
    """Whether a switch is on: one of :data:`TRUE_WORDS` (any case, spaces ignored).

    Anything else, unset included, is off.
    """
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def parse_bool(value: str, *, variable: str) -> bool:
    """Parse a yes/no word strictly, for settings where a typo must not pass silently.

    Args:
        value: The text (true/false/1/0/yes/no/on/off/t/f/y/n, any case).
        variable: The setting's name, for the message.

    Raises:
        KitaruUsageError: If ``value`` is not one of :data:`BOOL_WORDS`.
    """
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise KitaruUsageError(f"Invalid {variable} value {value!r}. Use one of: {', '.join(BOOL_WORDS)} (any case).")


def seconds_or_none(text: str, *, allow_zero: bool = False) -> float | None:
    """``text`` as a finite number of seconds above 0 (or >= 0 with ``allow_zero``), else None.

    The callers word their own error for None: each setting names itself
    and its default.
    """
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        return None
    return value


def _text(value: str | None) -> str | None:
    """Blank counts as unset."""
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class KitaruSettings:
    """Kitaru's environment, one field per ``KITARU_<FIELD>`` variable.

    A plain dataclass rather than a pydantic-settings model: ``import kitaru``
    reads no settings, but the CLI and the plugin manager do on every start,
    and pydantic-settings alone takes longer to import (about 0.14 s here)
    than all of ``import kitaru``.

    Attributes:
        config_path: Where Kitaru keeps its files (``KITARU_CONFIG_PATH``).
        server_url: The server to connect to.
        auth_token: The API key or token for ``server_url``.
        project: The engine project to use.
        debug: Show tracebacks and engine debug output.
        quiet: Keep Kitaru's per-checkpoint terminal lines off stdout.
        analytics_opt_in: Passed to the engine (Kitaru itself sends nothing).
        default_analytics_source: Passed to the engine.
        stack: The stack executions run on (execution configuration).
        cache: Reuse outputs of identical checkpoint calls (yes/no word).
        retries: Run-wide retries (a whole number).
        timeout: Seconds each run of a flow body may take (``@flow(timeout=...)``).
        checkpoint_timeout: Seconds each checkpoint attempt may take, for
            checkpoints without their own ``timeout=``.
        image: Image settings for remote stacks (JSON object or image name).
        runner: The old name of ``stack``; refused with a hint.
        log_store_backend: Log store preference: backend.
        log_store_endpoint: Log store preference: endpoint.
        log_store_api_key: Log store preference: API key.
        default_model: The model ``kitaru.llm()`` uses when none is given.
        model_registry: The model aliases travelling with a remote execution.
        llm_mock_response: Answer every ``kitaru.llm()`` call with this text
            (kept as given: spaces count).
        cassette: A cassette file that answers the model requests of the
            flows run in this process (:mod:`kitaru._llm.cassettes`).
        cassette_mode: ``offline`` (the default: a request not in the
            cassette fails) or ``record`` (it goes to the provider and is
            added to the cassette).
        wait_poll_interval: Seconds between two checks for wait input.
        sleep_pause_after: Seconds of ``kitaru.sleep()`` above which the
            execution pauses instead of sleeping in its process (default 60).
        heartbeat_timeout: Seconds without a heartbeat after which a remote
            execution's process counts as dead.
        server_retry_seconds: Seconds a request to an unreachable or
            unavailable server keeps being retried.
        raise_plugin_errors: Make a plugin that fails to load fatal.
        mcp_allow_any_target: Let the MCP server run flows outside its directory.
        no_daemon: Run every CLI command in its own process, without the
            warm helper (:mod:`kitaru.cli.warm`).
        daemon_idle_seconds: Seconds the warm helper waits for a command
            before it exits (default 600).
        daemon_dir: The owner-only folder for the warm helper's sockets
            (default ``$XDG_RUNTIME_DIR/kitaru`` or ``/tmp/kitaru-<uid>``).
        test_schedules_ready_dir: Test hook only: a folder where ``schedule
            run-due`` signals it is about to take the schedules lock
            (:mod:`kitaru.schedules.runner`).
    """

    config_path: str | None = None
    server_url: str | None = None
    auth_token: str | None = None
    project: str | None = None
    debug: bool = False
    quiet: bool = False
    analytics_opt_in: str | None = None
    default_analytics_source: str | None = None
    stack: str | None = None
    cache: str | None = None
    retries: str | None = None
    timeout: str | None = None
    checkpoint_timeout: str | None = None
    image: str | None = None
    runner: str | None = None
    log_store_backend: str | None = None
    log_store_endpoint: str | None = None
    log_store_api_key: str | None = None
    default_model: str | None = None
    model_registry: str | None = None
    llm_mock_response: str | None = None
    cassette: str | None = None
    cassette_mode: str | None = None
    wait_poll_interval: str | None = None
    sleep_pause_after: str | None = None
    heartbeat_timeout: str | None = None
    server_retry_seconds: str | None = None
    raise_plugin_errors: bool = False
    mcp_allow_any_target: bool = False
    no_daemon: bool = False
    daemon_idle_seconds: str | None = None
    daemon_dir: str | None = None
    test_schedules_ready_dir: str | None = None

    @classmethod
    def variable(cls, field_name: str) -> str:
        """The environment variable behind a field (``quiet`` -> ``KITARU_QUIET``).

        Raises:
            KeyError: If there is no such setting.
        """
        if field_name not in _FIELDS:
            raise KeyError(field_name)
        return PREFIX + field_name.upper()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> KitaruSettings:
        """Read the settings from ``environ`` (``os.environ`` or a test's mapping)."""
        values: dict[str, Any] = {}
        for name, kind in _FIELDS.items():
            raw = environ.get(PREFIX + name.upper())
            if kind == "bool":
                values[name] = is_true(raw)
            elif kind == "raw":
                values[name] = raw if raw else None
            else:
                values[name] = _text(raw)
        return cls(**values)


#: Field name -> how its text is read: ``bool`` (a switch), ``raw`` (kept as given), ``text`` (stripped).
_FIELDS: dict[str, str] = {
    item.name: "bool" if item.type == "bool" else ("raw" if item.name == "llm_mock_response" else "text")
    for item in fields(KitaruSettings)
}


def settings(environ: Mapping[str, str] | None = None) -> KitaruSettings:
    """Read Kitaru's settings now (cheap: no caching, so changes are seen at once).

    Args:
        environ: Variables to read instead of ``os.environ`` (tests, previews).

    Returns:
        A fresh :class:`KitaruSettings`.
    """
    return KitaruSettings.from_environ(os.environ if environ is None else environ)


def default_config_dir() -> str:
    """The config directory when no variable chooses one: the OS app dir for ``kitaru`` (``~/.config/kitaru``)."""
    import click

    return click.get_app_dir("kitaru")


def variables() -> tuple[str, ...]:
    """Every ``KITARU_*`` variable Kitaru reads, in field order."""
    return tuple(KitaruSettings.variable(name) for name in _FIELDS)


__all__ = [
    "BOOL_WORDS",
    "FALSE_WORDS",
    "KitaruSettings",
    "TRUE_WORDS",
    "default_config_dir",
    "is_true",
    "parse_bool",
    "settings",
    "variables",
]

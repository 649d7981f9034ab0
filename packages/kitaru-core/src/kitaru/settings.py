"""Every ``KITARU_*`` environment variable, read in one place.

Kitaru reads its environment through :func:`settings`, which returns a fresh
:class:`KitaruSettings` (a pydantic-settings model) each time, so a variable
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

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kitaru.errors import KitaruUsageError

PREFIX = "KITARU_"
TRUE_WORDS = ("true", "1", "yes", "on", "t", "y")
FALSE_WORDS = ("false", "0", "no", "off", "f", "n")
BOOL_WORDS = TRUE_WORDS + FALSE_WORDS


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


def _blank_is_unset(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


Text = Annotated[str | None, BeforeValidator(_blank_is_unset)]
Switch = Annotated[bool, BeforeValidator(is_true)]


class KitaruSettings(BaseSettings):
    """Kitaru's environment, one field per ``KITARU_<FIELD>`` variable.

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
        image: Image settings for remote stacks (JSON object or image name).
        runner: The old name of ``stack``; refused with a hint.
        log_store_backend: Log store preference: backend.
        log_store_endpoint: Log store preference: endpoint.
        log_store_api_key: Log store preference: API key.
        default_model: The model ``kitaru.llm()`` uses when none is given.
        model_registry: The model aliases travelling with a remote execution.
        llm_mock_response: Answer every ``kitaru.llm()`` call with this text.
        wait_poll_interval: Seconds between two checks for wait input.
        heartbeat_timeout: Seconds without a heartbeat after which a remote
            execution's process counts as dead.
        raise_plugin_errors: Make a plugin that fails to load fatal.
        mcp_allow_any_target: Let the MCP server run flows outside its directory.
    """

    model_config = SettingsConfigDict(env_prefix=PREFIX, case_sensitive=False, extra="ignore")

    config_path: Text = None
    server_url: Text = None
    auth_token: Text = None
    project: Text = None
    debug: Switch = False
    quiet: Switch = False
    analytics_opt_in: Text = None
    default_analytics_source: Text = None
    stack: Text = None
    cache: Text = None
    retries: Text = None
    image: Text = None
    runner: Text = None
    log_store_backend: Text = None
    log_store_endpoint: Text = None
    log_store_api_key: Text = None
    default_model: Text = None
    model_registry: Text = None
    llm_mock_response: Annotated[str | None, BeforeValidator(lambda v: v if v != "" else None)] = None
    wait_poll_interval: Text = None
    heartbeat_timeout: Text = None
    raise_plugin_errors: Switch = False
    mcp_allow_any_target: Switch = False

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable behind ``field`` (``quiet`` -> ``KITARU_QUIET``)."""
        if field not in cls.model_fields:
            raise KeyError(field)
        return PREFIX + field.upper()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> KitaruSettings:
        """Read the settings from ``environ`` instead of the process environment."""
        values = {
            name[len(PREFIX) :].lower(): value
            for name, value in environ.items()
            if name.startswith(PREFIX) and name[len(PREFIX) :].lower() in cls.model_fields
        }
        return cls.model_validate(values)


def settings(environ: Mapping[str, str] | None = None) -> KitaruSettings:
    """Read Kitaru's settings now.

    Args:
        environ: Variables to read instead of ``os.environ`` (tests, previews).

    Returns:
        A fresh :class:`KitaruSettings`.
    """
    if environ is not None:
        return KitaruSettings.from_environ(environ)
    return KitaruSettings()


def variables() -> tuple[str, ...]:
    """Every ``KITARU_*`` variable Kitaru reads, in field order."""
    return tuple(KitaruSettings.variable(name) for name in KitaruSettings.model_fields)


__all__ = [
    "BOOL_WORDS",
    "FALSE_WORDS",
    "KitaruSettings",
    "TRUE_WORDS",
    "is_true",
    "parse_bool",
    "settings",
    "variables",
]

"""Read ``kitaru stack create --file stack.yaml`` (SPEC §5.4).

A stack file holds the same settings as the command-line options, so a team
can keep its stack definition in the repository::

    name: team
    type: sagemaker
    artifact_store: s3://team-bucket/kitaru
    container_registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
    region: eu-west-1
    execution_role: arn:aws:iam::123456789012:role/kitaru
    extra:
      orchestrator:
        instance_type: ml.m5.xlarge

Besides ``name``, ``type``, ``activate``, ``verify``, ``async`` and ``extra``,
the keys are the fields of the installed stack types (``kitaru stack types``),
so a plugin's type brings its own keys. Keys may be spelled with underscores or
dashes (``artifact-store``), but not both for one key. Unknown keys and wrong
value types are errors; options given on the command line override the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kitaru.config.diagnostics import closest_key, yaml_syntax_problem
from kitaru.errors import KitaruUsageError
from kitaru.plugins import catalog

STRING_KEYS: tuple[str, ...] = ("name", "type")
"""The file's own keys whose value is a string (every stack field is one too)."""

BOOL_KEYS: tuple[str, ...] = ("activate", "verify", "async")
"""Keys whose value is true or false."""

MAPPING_KEYS: tuple[str, ...] = ("extra",)
"""Keys whose value is a mapping (``extra``: target → settings)."""

FIELDS_KEY = "fields"
"""Where :func:`read_stack_file` puts the stack fields' values (``{"region": ...}``)."""


def file_keys() -> tuple[str, ...]:
    """Every key a stack file may hold: its own, then each known stack field's."""
    return (*STRING_KEYS, *BOOL_KEYS, *MAPPING_KEYS, *catalog.known_fields())


def read_stack_file(path: str | Path) -> dict[str, Any]:
    """Load and check a stack file.

    Args:
        path: The YAML file.

    Returns:
        The settings with canonical (underscore) keys; the stack fields'
        values are under :data:`FIELDS_KEY`. ``extra`` is a mapping of target
        to settings; dotted keys in it (``artifact_store.path``) are expanded.

    Raises:
        KitaruUsageError: When the path is blank, the file is missing or not
            UTF-8 text, not YAML, not a mapping,
            or has unknown keys, duplicate spellings or wrong value types.
    """
    import yaml

    if not str(path).strip():
        raise KitaruUsageError("--file needs the path of a YAML file (stack.yaml).")
    file = Path(path).expanduser()
    where = f"Stack file '{file}'"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KitaruUsageError(f"{where} does not exist. Pass the path of a YAML file.") from None
    except OSError as exc:
        raise KitaruUsageError(f"{where} cannot be read: {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        raise KitaruUsageError(
            f"{where} is not UTF-8 text (byte {exc.start}). Pass a YAML file saved as UTF-8."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KitaruUsageError(f"{where} is not valid YAML: {yaml_syntax_problem(exc)}.") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise KitaruUsageError(f"{where} must hold a mapping of settings (name: ..., type: ...).")

    settings: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    known = file_keys()
    for raw_key, value in data.items():
        if not isinstance(raw_key, str):
            raise KitaruUsageError(f"{where}: keys must be strings; got {raw_key!r}.")
        key = raw_key.strip().replace("-", "_")
        if key not in known:
            suggestion = closest_key(key, known)
            hint = f" Did you mean `{suggestion}`?" if suggestion is not None else ""
            raise KitaruUsageError(
                f"{where}: unknown key '{raw_key}'.{hint} Known keys: {', '.join(known)}."
            )
        if key in spelled:
            raise KitaruUsageError(
                f"{where}: '{spelled[key]}' and '{raw_key}' are the same setting; keep one."
            )
        spelled[key] = raw_key
        if key in (*STRING_KEYS, *BOOL_KEYS, *MAPPING_KEYS):
            settings[key] = _checked(where, raw_key, key, value)
        else:
            fields[key] = _checked(where, raw_key, key, value)
    if fields:
        settings[FIELDS_KEY] = fields
    return settings


def _checked(where: str, raw_key: str, key: str, value: Any) -> Any:
    if value is None:
        return None
    if key not in (*BOOL_KEYS, *MAPPING_KEYS):
        if not isinstance(value, str):
            raise KitaruUsageError(
                f"{where}: '{raw_key}' must be a string; got {type(value).__name__} {value!r}."
            )
        return value
    if key in BOOL_KEYS:
        if not isinstance(value, bool):
            raise KitaruUsageError(
                f"{where}: '{raw_key}' must be true or false; got {value!r}."
            )
        return value
    if not isinstance(value, Mapping):
        raise KitaruUsageError(
            f"{where}: 'extra' must map targets to settings, e.g. "
            "extra: {orchestrator: {synchronous: false}}."
        )
    return _expanded_extra(where, value)


def _expanded_extra(where: str, extra: Mapping[Any, Any]) -> dict[str, Any]:
    """Turn ``{"artifact_store.path": x, "orchestrator": {...}}`` into nested mappings."""
    from kitaru.plugins.stack_helpers import deep_merge

    result: dict[str, Any] = {}
    for raw_key, value in extra.items():
        if not isinstance(raw_key, str) or not raw_key.strip():
            raise KitaruUsageError(f"{where}: keys under 'extra' must be strings; got {raw_key!r}.")
        parts = [part.strip() for part in raw_key.split(".")]
        if not all(parts):
            raise KitaruUsageError(f"{where}: invalid key '{raw_key}' under 'extra'.")
        if len(parts) == 1 and not isinstance(value, Mapping):
            raise KitaruUsageError(
                f"{where}: 'extra.{raw_key}' must be a mapping of settings, or use a dotted key "
                f"such as '{raw_key}.FIELD: VALUE'."
            )
        nested: Any = dict(value) if isinstance(value, Mapping) else value
        for part in reversed(parts[1:]):
            nested = {part: nested}
        result = deep_merge(result, {parts[0]: nested})
    return result

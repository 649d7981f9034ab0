"""The process-local ``kitaru.configure()`` layer (SPEC §2.8).

``configure()`` sits between environment variables and ``@flow(...)`` options
in the execution precedence (SPEC §5.2). Its ``project`` argument goes into a
separate connection layer (SPEC §5.3), read with :func:`get_connection_overrides`.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from kitaru.config.models import EXECUTION_FIELDS, ImageSettings, KitaruConfig


class _Unset:
    """Marker for "argument not given" (``None`` means "clear the field")."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

_lock = threading.Lock()
_execution_layer = KitaruConfig()
_connection_layer = KitaruConfig()


def configure(
    *,
    stack: str | None | _Unset = UNSET,
    image: ImageSettings | str | dict[str, Any] | Any | None | _Unset = UNSET,
    cache: bool | None | _Unset = UNSET,
    retries: int | None | _Unset = UNSET,
    timeout: float | None | _Unset = UNSET,
    checkpoint_timeout: float | None | _Unset = UNSET,
    project: str | None | _Unset = UNSET,
) -> KitaruConfig:
    """Set process-wide execution defaults for flows started from this process.

    Omitted arguments leave the current value unchanged and ``None`` clears it.
    The new values are validated before the layer is replaced, so a bad value
    changes nothing. These settings override ``[tool.kitaru]`` and ``KITARU_*``
    variables and are overridden by ``@flow(...)`` and ``.run(...)`` options.

    Example::

        kitaru.configure(stack="gpu", retries=2)
        kitaru.configure(retries=None)  # back to the lower layers' value
        kitaru.configure(timeout=3600, checkpoint_timeout=120)

    Args:
        stack: Name or ID of the stack to run on.
        image: Image name, mapping of image settings, ``ImageSettings`` or
            ZenML ``DockerSettings``. Replaces the whole image of this layer.
        cache: Whether checkpoint results may be reused.
        retries: How often a failing checkpoint is retried (``>= 0``).
        timeout: Seconds one run of a flow body may take (a positive number).
        checkpoint_timeout: Seconds a checkpoint attempt may take when its
            ``@checkpoint`` sets no ``timeout`` (a positive number).
        project: Server project for this process (internal/testing; a
            connection setting, not part of the returned config).

    Returns:
        The execution layer after the update (``stack``, ``image``, ``cache``,
        ``retries``, ``timeout``, ``checkpoint_timeout``).

    Raises:
        KitaruUsageError: If a value is invalid; the layer is then unchanged.
    """
    global _execution_layer, _connection_layer
    updates = {
        "stack": stack,
        "image": image,
        "cache": cache,
        "retries": retries,
        "timeout": timeout,
        "checkpoint_timeout": checkpoint_timeout,
    }
    with _lock:
        execution = _execution_layer.execution_layer()
        for name, value in updates.items():
            if value is UNSET:
                continue
            if value is None:
                execution.pop(name, None)
            else:
                execution[name] = value
        new_execution = KitaruConfig(**execution)
        new_connection = _connection_layer
        if not isinstance(project, _Unset):
            new_connection = KitaruConfig(project=project)
        _execution_layer, _connection_layer = new_execution, new_connection
        return new_execution


def get_runtime_config() -> KitaruConfig:
    """Return the current ``configure()`` execution layer."""
    return _execution_layer


def get_runtime_layer() -> dict[str, Any]:
    """Return the set fields of the ``configure()`` layer as a precedence layer."""
    layer = _execution_layer.execution_layer()
    return {name: layer[name] for name in EXECUTION_FIELDS if name in layer}


def get_connection_overrides() -> dict[str, str]:
    """Return connection values set with ``configure()`` (only ``project`` today)."""
    project = _connection_layer.project
    return {"project": project} if project is not None else {}


def reset_configure() -> None:
    """Clear everything set with ``configure()``; meant for tests."""
    global _execution_layer, _connection_layer
    with _lock:
        _execution_layer = KitaruConfig()
        _connection_layer = KitaruConfig()

"""Build the plain entrypoint functions the engine imports by name.

The engine records a flow or checkpoint by the import path of its entrypoint
so that a later process (a retry, a remote pod) can import it again. Kitaru
wraps the user's function in an entrypoint that carries the user's signature
(with resolved annotations and a single ``Any`` output) and publishes it in the
user's module under an alias such as ``__kitaru_checkpoint_source_<name>``,
because the user's own name is taken by the Kitaru object.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any


def engine_signature(func: Callable[..., Any]) -> inspect.Signature:
    """Return ``func``'s signature with resolved annotations and an ``Any`` return."""
    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    parameters = [
        parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in signature.parameters.values()
    ]
    return signature.replace(parameters=parameters, return_annotation=Any)


def publish_entrypoint(
    func: Callable[..., Any], body: Callable[..., Any], alias: str
) -> Callable[..., Any]:
    """Give ``body`` the identity of ``alias`` in ``func``'s module and publish it.

    Args:
        func: The user's function (its module receives the alias).
        body: The entrypoint to publish; it is called with the user's arguments.
        alias: Module attribute name under which the engine finds ``body``.

    Returns:
        ``body``, renamed and carrying the user's signature.
    """
    signature = engine_signature(func)
    body.__name__ = alias
    body.__qualname__ = alias
    body.__module__ = func.__module__
    body.__doc__ = func.__doc__
    body.__signature__ = signature  # type: ignore[attr-defined]
    body.__annotations__ = {
        name: parameter.annotation
        for name, parameter in signature.parameters.items()
        if parameter.annotation is not inspect.Parameter.empty
    } | {"return": Any}
    module = sys.modules.get(func.__module__)
    if module is not None:
        setattr(module, alias, body)
    return body

__all__ = ["engine_signature", "publish_entrypoint"]

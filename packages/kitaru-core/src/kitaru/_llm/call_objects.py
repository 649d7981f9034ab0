"""The Python objects one ``kitaru.llm`` call needs in its checkpoints: tool functions and the response model.

A checkpoint's inputs are stored and compared with the journal on retry, so
they must be data that is the same in every process: the tools' names and
schemas, the response format's name and schema. The objects behind them
(the functions to run, the pydantic class to validate with) travel beside
the inputs instead, in a context variable the flow body sets for the call
(:func:`holding`). The engine runs a checkpoint in a copy of the body's
context, so the synthetic ``llm_call`` and ``tool_call`` checkpoints find
them with :func:`current`; a retry or a replay runs the flow body again,
which sets them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from kitaru.errors import KitaruRuntimeError


@dataclass(frozen=True)
class CallObjects:
    """What a call's checkpoints run and validate with.

    Attributes:
        tools: Tool functions by the name the model calls them.
        response_format: The pydantic model the final answer must fit, or None.
    """

    tools: Mapping[str, Callable[..., Any]]
    response_format: Any = None


_CURRENT: ContextVar[CallObjects | None] = ContextVar("kitaru_llm_call_objects", default=None)


@contextmanager
def holding(objects: CallObjects) -> Iterator[None]:
    """Make ``objects`` the current call's, for the duration of the call."""
    token = _CURRENT.set(objects)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> CallObjects:
    """The current call's objects.

    Raises:
        KitaruRuntimeError: Outside a ``kitaru.llm`` call's checkpoints (a
            checkpoint run where the flow body's context did not reach).
    """
    objects = _CURRENT.get()
    if objects is None:
        raise KitaruRuntimeError(
            "A kitaru.llm tool call or structured answer ran outside the kitaru.llm call that "
            "started it, so its tools and response model are not known here."
        )
    return objects

"""``kitaru.Budget``: how much one execution may spend on model requests.

A budget caps an execution's LLM spending in US dollars, tokens or model
requests (any of the three, at least one)::

    @kitaru.flow(budget=kitaru.Budget(usd=0.50, tokens=20_000, llm_calls=40))
    def agent(topic: str) -> str: ...

    agent.run("durable agents", budget=kitaru.Budget(tokens=5_000))   # this run only

Kitaru checks it before every model request and refuses the request once a
limit is reached (:mod:`kitaru.execution.budgets` enforces it). The record
here only holds and validates the limits; it is cheap to import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kitaru.errors import KitaruUsageError

LIMITS = ("usd", "tokens", "llm_calls")
"""The limits a budget may set, in the order they are checked and shown."""


def _check_limit(name: str, value: Any) -> None:
    if value is None:
        return
    whole = name != "usd"
    if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not isinstance(value, int)):
        kind = "a whole number" if whole else "a number of US dollars"
        raise KitaruUsageError(f"Budget({name}={value!r}): {name} must be {kind} greater than 0.")
    if not math.isfinite(value) or value <= 0:
        raise KitaruUsageError(
            f"Budget({name}={value!r}): {name} must be greater than 0 (leave it out for no {name} limit)."
        )


@dataclass(frozen=True)
class Budget:
    """The most one execution may spend on model requests.

    Each limit is optional; a request is refused when what the execution has
    already spent reaches a limit (spent >= limit).

    Attributes:
        usd: US dollars, summed from the recorded cost of each request
            (requests whose price is unknown count as $0).
        tokens: Input plus output tokens of every request.
        llm_calls: Model requests.

    Raises:
        KitaruUsageError: When a limit is not a positive number (``tokens``
            and ``llm_calls`` whole numbers) or no limit is given.
    """

    usd: float | None = None
    tokens: int | None = None
    llm_calls: int | None = None

    def __post_init__(self) -> None:
        for name in LIMITS:
            _check_limit(name, getattr(self, name))
        if all(getattr(self, name) is None for name in LIMITS):
            raise KitaruUsageError(
                "Budget() needs at least one limit: Budget(usd=0.5), Budget(tokens=20000) or Budget(llm_calls=40)."
            )

    def limits(self) -> dict[str, float | int]:
        """The limits that are set, ``{"tokens": 60}``."""
        return {name: getattr(self, name) for name in LIMITS if getattr(self, name) is not None}

    def to_record(self) -> dict[str, float | int | None]:
        """The budget as run metadata: every limit, None where unset."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_record(cls, raw: Any) -> Budget | None:
        """The budget recorded with an execution, or None when it has none (or an unreadable one)."""
        if not isinstance(raw, Mapping):
            return None
        try:
            return cls(**{name: raw.get(name) for name in LIMITS})
        except KitaruUsageError:
            return None

    def raised_by(self, override: Budget) -> Budget:
        """This budget with the limits ``override`` sets replaced (the others kept)."""
        return Budget(
            usd=override.usd if override.usd is not None else self.usd,
            tokens=override.tokens if override.tokens is not None else self.tokens,
            llm_calls=override.llm_calls if override.llm_calls is not None else self.llm_calls,
        )


def check_budget(value: Any, *, where: str) -> Budget | None:
    """``value`` if it is a :class:`Budget` or None.

    Raises:
        KitaruUsageError: For anything else, naming ``where`` it was given.
    """
    if value is None or isinstance(value, Budget):
        return value
    raise KitaruUsageError(
        f"{where}: budget must be a kitaru.Budget (for example kitaru.Budget(tokens=20000)), "
        f"not {type(value).__name__}."
    )


__all__ = ["LIMITS", "Budget", "check_budget"]

"""Real flows exercised by tests/core/test_call_order.py."""

from __future__ import annotations

import kitaru


@kitaru.checkpoint
def numbers(n: int) -> list[int]:
    return list(range(n))


@kitaru.checkpoint
def square(x: int) -> int:
    return x * x


@kitaru.checkpoint
def total(values: list[int]) -> int:
    return sum(values)


@kitaru.flow(cache=False)
def mixed(n: int) -> int:
    """One call of each kind: a call, two submits, a map over an output, a call."""
    items = numbers(n)
    two = square.submit(2)
    three = square.submit(3)
    squares = square.map(items).result()
    return total(squares) + two.result() + three.result()


@kitaru.flow
def repeated(n: int) -> int:
    """Cached by default: a second execution with the same input is served from the cache."""
    return total(numbers(n))

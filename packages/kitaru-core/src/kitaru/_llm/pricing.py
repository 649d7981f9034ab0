"""What an LLM call cost: the backend's dated price table, overridable in ``kitaru.yaml``.

Each backend ships prices per model (US dollars per million tokens, with the
date they were read). A team with negotiated prices, or a model the table does
not know, adds it to ``kitaru.yaml``::

    llm_prices:
      openai/gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60}
      ollama/llama3.2: {input_per_million: 0, output_per_million: 0}

A call whose model has no price, or whose provider reported no token counts,
has an *unknown* cost: recorded as missing, shown as ``unknown``, never as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitaru.config.sources import read_global_config
from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import LlmBackendSpec, ModelPrice

PRICES_SECTION = "llm_prices"
"""The ``kitaru.yaml`` key holding price overrides."""


@dataclass(frozen=True)
class Price:
    """A price and where it came from.

    Attributes:
        price: Dollars per million input and output tokens.
        source: ``kitaru.yaml`` or ``<backend> prices as of <date>``.
    """

    price: ModelPrice
    source: str


def configured_prices() -> dict[str, ModelPrice]:
    """The ``llm_prices`` overrides from ``kitaru.yaml``, by full model (``openai/gpt-4o``).

    Raises:
        KitaruUsageError: When the section or an entry is malformed; the
            message names the entry and the expected shape.
    """
    section = read_global_config().get(PRICES_SECTION)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise KitaruUsageError(
            f"kitaru.yaml: {PRICES_SECTION} must map models to prices, e.g. "
            "'openai/gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.6}'."
        )
    prices: dict[str, ModelPrice] = {}
    for model, entry in section.items():
        prices[str(model).strip()] = _price(str(model), entry)
    return prices


def _price(model: str, entry: Any) -> ModelPrice:
    keys = ("input_per_million", "output_per_million")
    if not isinstance(entry, Mapping) or set(entry) != set(keys):
        raise KitaruUsageError(
            f"kitaru.yaml: {PRICES_SECTION}.{model} needs exactly input_per_million and "
            "output_per_million (US dollars per million tokens)."
        )
    values = []
    for key in keys:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise KitaruUsageError(
                f"kitaru.yaml: {PRICES_SECTION}.{model}.{key} must be a number >= 0; got {value!r}."
            )
        values.append(float(value))
    return ModelPrice(input_per_million=values[0], output_per_million=values[1])


def price_for(
    backend: LlmBackendSpec, full_model: str, model: str, reported_model: str | None = None
) -> Price | None:
    """The price of ``full_model`` (``openai/gpt-4o``), or None when unknown.

    Looked up in order: ``kitaru.yaml`` (by the full model), the backend's
    table by the model name after the prefix (``gpt-4o``), the same table by
    the model the provider reported (Azure deployments report
    ``gpt-4o-2024-11-20``), then the backend's ``default_price``.
    """
    configured = configured_prices().get(full_model)
    if configured is not None:
        return Price(configured, "kitaru.yaml")
    as_of = f" as of {backend.prices_as_of}" if backend.prices_as_of else ""
    for name in (model, reported_model):
        shipped = backend.prices.get(name) if name else None
        if shipped is not None:
            return Price(shipped, f"{backend.name} prices{as_of}")
    if backend.default_price is not None:
        return Price(backend.default_price, f"{backend.name} default price")
    return None


def cost_usd(price: Price | None, tokens_input: int | None, tokens_output: int | None) -> float | None:
    """Dollars for one call, or None when the price or a token count is unknown."""
    if price is None or tokens_input is None or tokens_output is None:
        return None
    total = (
        tokens_input * price.price.input_per_million
        + tokens_output * price.price.output_per_million
    ) / 1_000_000
    return round(total, 10)

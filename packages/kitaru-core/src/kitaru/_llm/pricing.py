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

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitaru.config.diagnostics import UnknownConfigKeyWarning, closest_key, unknown_keys, warn_unknown_keys
from kitaru.config.paths import config_file
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


PRICE_KEYS = ("input_per_million", "output_per_million")
"""The keys of one price: US dollars per million input and output tokens."""

PRICE_EXAMPLE = "openai/gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60}"


def configured_prices() -> dict[str, ModelPrice]:
    """The ``llm_prices`` overrides from ``kitaru.yaml``, by full model (``openai/gpt-4o``).

    Unknown keys in an entry are ignored with a warning suggesting the
    closest price key; so is an entry whose name is not a ``provider/model``
    (no call could match it).

    Raises:
        KitaruUsageError: When the section or an entry is malformed: a price
            key missing, a value that is not a number >= 0. The message names
            the file, the dotted key (``llm_prices.openai/gpt-4o.input_per_million``)
            and what is expected.
    """
    section = read_global_config().get(PRICES_SECTION)
    if section is None:
        return {}
    where = str(config_file())
    if not isinstance(section, Mapping):
        raise KitaruUsageError(
            f"{where}: {PRICES_SECTION} must map models to prices, for example '{PRICE_EXAMPLE}'; "
            f"got {_shown(section)}."
        )
    prices: dict[str, ModelPrice] = {}
    for model, entry in section.items():
        name = str(model).strip()
        if "/" not in name:
            warnings.warn(
                f"{where}: {PRICES_SECTION}.{name} is never used: prices are keyed by the full "
                f"provider/model that is called (for example openai/{name}).",
                UnknownConfigKeyWarning,
                stacklevel=2,
            )
        prices[name] = _price(where, f"{PRICES_SECTION}.{name}", entry)
    return prices


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _price(where: str, key: str, entry: Any) -> ModelPrice:
    """Check one ``llm_prices`` entry; ``key`` is its dotted key, ``where`` the file."""
    if not isinstance(entry, Mapping):
        raise KitaruUsageError(
            f"{where}: {key} must be a mapping of input_per_million and output_per_million "
            f"(US dollars per million tokens, numbers >= 0); got {_shown(entry)}."
        )
    warn_unknown_keys(where, entry, PRICE_KEYS, prefix=f"{key}.", stacklevel=4)
    missing = [name for name in PRICE_KEYS if name not in entry]
    if missing:
        typos = [f"`{name}`" for name in unknown_keys(entry, PRICE_KEYS) if closest_key(name, missing)]
        hint = f" Is {' or '.join(typos)} a misspelling?" if typos else ""
        raise KitaruUsageError(
            f"{where}: {key} is missing {' and '.join(missing)}.{hint} A price needs both input_per_million "
            "and output_per_million (US dollars per million tokens, numbers >= 0)."
        )
    values = []
    for name in PRICE_KEYS:
        value = entry[name]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise KitaruUsageError(
                f"{where}: {key}.{name} must be a number >= 0 (US dollars per million tokens); "
                f"got {_shown(value)}."
            )
        values.append(float(value))
    return ModelPrice(input_per_million=values[0], output_per_million=values[1])


def price_for(
    backend: LlmBackendSpec,
    full_model: str,
    model: str,
    reported_model: str | None = None,
    *,
    configured: Mapping[str, ModelPrice] | None = None,
) -> Price | None:
    """The price of ``full_model`` (``openai/gpt-4o``), or None when unknown.

    Looked up in order: ``kitaru.yaml`` (by the full model), the backend's
    table by the model name after the prefix (``gpt-4o``), the same table by
    the model the provider reported (Azure deployments report
    ``gpt-4o-2024-11-20``), then the backend's ``default_price``.

    ``configured`` is :func:`configured_prices`, when the caller read it
    already (before the call, so a malformed entry costs nothing).
    """
    overrides = configured_prices() if configured is None else configured
    override = overrides.get(full_model)
    if override is not None:
        return Price(override, "kitaru.yaml")
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

"""Structured answers: ``kitaru.llm(..., response_format=Report)`` returns a ``Report``.

:func:`describe_format` turns the pydantic model into the JSON-ready
``{"name", "schema"}`` a request carries. Backends with native structured
output send the schema with the provider's own option; for the others,
:func:`instruction` is the system message that asks for the JSON instead.
Either way :func:`parse_answer` validates the final text into an instance,
and a text that does not fit raises :class:`~kitaru.errors.KitaruStructuredOutputError`
with the text attached.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kitaru.errors import KitaruStructuredOutputError, KitaruUsageError

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)

PREVIEW_CHARACTERS = 500
"""How much of a non-conforming answer the error message quotes (the whole text is on the error)."""


def describe_format(response_format: Any) -> dict[str, Any]:
    """The JSON-ready description of ``response_format``: its name and JSON schema.

    Raises:
        KitaruUsageError: When it is not a pydantic model class.
    """
    from pydantic import BaseModel

    if not (isinstance(response_format, type) and issubclass(response_format, BaseModel)):
        raise KitaruUsageError(
            "kitaru.llm(response_format=...) takes a pydantic model class (class Report(BaseModel): ...); "
            f"got {response_format!r}."
        )
    return {"name": response_format.__name__, "schema": response_format.model_json_schema()}


def instruction(described: dict[str, Any]) -> str:
    """The system message asking a model without native structured output for the JSON."""
    schema = json.dumps(described["schema"], ensure_ascii=False)
    return (
        "Answer with one JSON object and nothing else (no prose, no code fence). "
        f"It must follow this JSON schema, named {described['name']}: {schema}"
    )


def parse_answer(response_format: Any, text: str, *, call: str) -> Any:
    """Validate the model's final text into an instance of ``response_format``.

    A code fence around the JSON (which models add when asked in prose) is
    ignored.

    Args:
        response_format: The pydantic model class.
        text: The model's text.
        call: The call's name, for the error.

    Returns:
        The validated instance.

    Raises:
        KitaruStructuredOutputError: When the text is not JSON that fits,
            with the validation errors and the start of the text in its
            one-line message and the whole text on its ``text`` attribute.
    """
    from pydantic import ValidationError

    fenced = _FENCE.match(text)
    candidate = fenced.group("body") if fenced else text
    try:
        return response_format.model_validate_json(candidate)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'the answer'}: {item['msg']}" for item in error.errors()
        )
        preview = text if len(text) <= PREVIEW_CHARACTERS else text[:PREVIEW_CHARACTERS] + " [...]"
        raise KitaruStructuredOutputError(
            f"LLM call '{call}' answered text that is not a valid {response_format.__name__} ({problems}). "
            f"The model's text: {preview!r}. Make the prompt say what to fill in, use a model with "
            "structured output, or loosen the model's fields.",
            text=text,
        ) from error

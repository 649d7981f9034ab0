"""A form for answering a wait, built from the wait's JSON schema, and the value a filled form means.

``kitaru.wait(schema=...)`` records the JSON schema of the answer it expects.
The dashboard turns that schema into form fields:

* no schema (a continue/abort gate): no fields, the answer is ``None``;
* ``boolean``: a checkbox; ``string``: a text box (a drop-down with
  ``enum``); ``integer`` and ``number``: number boxes;
* an ``object`` whose properties are all of those kinds (a pydantic model
  of plain fields): one field per property, required ones marked, defaults
  filled in;
* anything else (lists, nested models, unions): one JSON text box.

:func:`parse_answer` turns the submitted fields back into the value. It
checks the form's own rules (a required field is filled, a number is a
number) and names the field that is wrong; the wait's full schema is checked
by :meth:`kitaru.client.ExecutionsAPI.input`, as for the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.errors import KitaruUsageError

FIELD_PREFIX = "field."
"""Form keys of the answer's fields carry this prefix (other keys are the form's own)."""

JSON_FIELD = "json"
"""The name of the one JSON field used when a schema has no simpler form."""

_SIMPLE_KINDS = {"boolean": "checkbox", "string": "text", "integer": "integer", "number": "number"}


@dataclass(frozen=True)
class FormField:
    """One input of the wait form.

    Attributes:
        name: The property name (``JSON_FIELD`` for the JSON box, ``""`` for a bare value).
        label: What the user reads next to it.
        kind: ``checkbox``, ``text``, ``integer``, ``number``, ``select`` or ``json``.
        required: Whether it must be filled.
        default: The value it starts with, as text.
        options: The choices of a ``select``.
        description: The schema's description of the property.
    """

    name: str
    label: str
    kind: str
    required: bool = False
    default: str = ""
    options: list[str] = field(default_factory=list)
    description: str | None = None

    @property
    def form_key(self) -> str:
        """The key this field is submitted under."""
        return FIELD_PREFIX + self.name


@dataclass(frozen=True)
class WaitForm:
    """The fields of a wait's form and how to read them back.

    Attributes:
        shape: ``gate`` (no schema), ``value`` (one bare value), ``object``
            (one field per property) or ``json`` (one JSON box).
        fields: The inputs, in schema order.
    """

    shape: str
    fields: list[FormField]


def _field(name: str, schema: Mapping[str, Any], *, required: bool, label: str) -> FormField | None:
    """A simple field for a property schema, or None if it needs the JSON box."""
    kind = _SIMPLE_KINDS.get(str(schema.get("type")))
    options = schema.get("enum")
    if options is not None and all(isinstance(option, str) for option in options):
        kind = "select"
    if kind is None:
        return None
    default = schema.get("default")
    if kind == "checkbox":
        shown_default = "true" if default is True else ""
    else:
        shown_default = "" if default is None else str(default)
    return FormField(
        name=name,
        label=str(schema.get("title") or label),
        kind=kind,
        required=required and kind != "checkbox",
        default=shown_default,
        options=[str(option) for option in options] if kind == "select" and options else [],
        description=schema.get("description"),
    )


def build_form(schema: Mapping[str, Any] | None) -> WaitForm:
    """Choose the form for a wait's answer schema (see the module docstring)."""
    if not schema:
        return WaitForm(shape="gate", fields=[])
    bare = _field("", schema, required=True, label="Answer")
    if bare is not None:
        return WaitForm(shape="value", fields=[bare])
    properties = schema.get("properties")
    if schema.get("type") == "object" and isinstance(properties, Mapping) and properties:
        required = set(schema.get("required") or [])
        fields = [
            _field(name, prop, required=name in required, label=name)
            for name, prop in properties.items()
            if isinstance(prop, Mapping)
        ]
        if len(fields) == len(properties) and all(field is not None for field in fields):
            return WaitForm(shape="object", fields=[field for field in fields if field is not None])
    return WaitForm(
        shape="json",
        fields=[FormField(name=JSON_FIELD, label="Answer (JSON)", kind="json", required=True,
                          description="The answer as JSON, matching the wait's schema.")],
    )


def _read(form_field: FormField, raw: str | None) -> tuple[bool, Any]:
    """Read one submitted field: ``(present, value)``.

    Raises:
        KitaruUsageError: If a required field is empty or a number does not parse.
    """
    label = form_field.label
    if form_field.kind == "checkbox":
        return True, raw is not None and raw.lower() in ("on", "true", "1", "yes")
    text = (raw or "").strip() if form_field.kind != "text" else (raw or "")
    if text == "":
        if form_field.required:
            raise KitaruUsageError(f"'{label}' is required: fill it in, then send the answer again.")
        return False, None
    if form_field.kind == "integer":
        try:
            return True, int(text)
        except ValueError:
            raise KitaruUsageError(f"'{label}' must be a whole number; got {text!r}.") from None
    if form_field.kind == "number":
        try:
            return True, float(text)
        except ValueError:
            raise KitaruUsageError(f"'{label}' must be a number; got {text!r}.") from None
    if form_field.kind == "select" and text not in form_field.options:
        raise KitaruUsageError(f"'{label}' must be one of {', '.join(form_field.options)}; got {text!r}.")
    if form_field.kind == "json":
        try:
            return True, json.loads(text)
        except json.JSONDecodeError as exc:
            raise KitaruUsageError(
                f"The answer is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
    return True, text


def parse_answer(form: WaitForm, submitted: Mapping[str, str]) -> Any:
    """The answer a submitted form means.

    Args:
        form: The form the page showed (built again from the same schema).
        submitted: The submitted form data (keys with :data:`FIELD_PREFIX`).

    Returns:
        ``None`` for a gate, the bare value, or a dict of the filled properties
        (empty optional fields are left out, so the schema's defaults apply).

    Raises:
        KitaruUsageError: If a field is missing or malformed (the message names it).
    """
    if form.shape == "gate":
        return None
    if form.shape in ("value", "json"):
        return _read(form.fields[0], submitted.get(form.fields[0].form_key))[1]
    answer: dict[str, Any] = {}
    for form_field in form.fields:
        present, value = _read(form_field, submitted.get(form_field.form_key))
        if present:
            answer[form_field.name] = value
    return answer


__all__ = ["FIELD_PREFIX", "JSON_FIELD", "FormField", "WaitForm", "build_form", "parse_answer"]

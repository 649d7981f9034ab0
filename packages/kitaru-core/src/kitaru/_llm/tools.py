"""Plain Python functions as tools a model may call (``kitaru.llm(tools=[...])``).

A tool is any named function whose arguments pydantic can validate::

    def search_web(query: str, limit: int = 5) -> list[str]:
        \"\"\"Search the web and return the top result titles.

        Args:
            query: What to search for.
            limit: How many titles to return.
        \"\"\"

:func:`describe_tools` turns functions into :class:`~kitaru.plugins.records.LlmTool`
records: the JSON schema of the arguments comes from the signature (pydantic),
the description from the docstring's first paragraph, and each argument's
description from its ``Args:`` section. :func:`check_arguments` validates what
the model asked for before anything runs, so a bad call becomes a message to
the model instead of a failure; :func:`run_tool` runs a validated call and
:func:`result_text` turns its result into the text the model reads.

The descriptions are data (they are part of a journaled request); the
functions themselves travel beside them (:mod:`kitaru._llm.call_objects`).
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import LlmTool

if TYPE_CHECKING:
    from pydantic import BaseModel

TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
"""What every provider accepts as a tool name."""

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s*\**(?P<name>\w+)(\s*\([^)]*\))?\s*:\s*(?P<text>.*)$")


def describe_tools(functions: Sequence[Callable[..., Any]]) -> list[dict[str, Any]]:
    """Describe the functions given as ``tools=``.

    Args:
        functions: Plain functions (or any named callable pydantic can
            validate arguments for).

    Returns:
        One ``{"name", "description", "parameters"}`` mapping per tool:
        JSON-ready, so it can be part of a checkpoint's inputs.

    Raises:
        KitaruUsageError: For something that is not a named function, a name
            no provider accepts, two tools with one name, or arguments
            pydantic cannot describe.
    """
    if not isinstance(functions, (list, tuple)):
        raise KitaruUsageError(f"kitaru.llm(tools=...) takes a list of functions; got {type(functions).__name__}.")
    described: list[dict[str, Any]] = []
    for function in functions:
        tool = _describe(function)
        if any(other["name"] == tool["name"] for other in described):
            raise KitaruUsageError(
                f"kitaru.llm(tools=...) has two tools named {tool['name']!r}; tool names must differ."
            )
        described.append(tool)
    return described


def as_records(tools: Sequence[dict[str, Any]]) -> tuple[LlmTool, ...]:
    """The described tools as the records a backend receives."""
    return tuple(
        LlmTool(name=tool["name"], description=tool["description"], parameters=tool["parameters"]) for tool in tools
    )


def check_arguments(function: Callable[..., Any] | None, name: str, arguments: str) -> dict[str, Any] | str:
    """Validate a call the model asked for, without running it.

    Args:
        function: The tool of that name, or None when there is none.
        name: The name the model used.
        arguments: The arguments as the model wrote them (JSON text).

    Returns:
        The arguments as a JSON-ready mapping, validated; or, when the call
        cannot run, the message the model gets instead of a result.
    """
    if function is None:
        return f"Error: there is no tool named {name!r}."
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError as error:
        return f"Error: the arguments for {name!r} are not valid JSON ({error.msg}); send a JSON object."
    if not isinstance(parsed, dict):
        return f"Error: the arguments for {name!r} must be a JSON object."
    from pydantic import ValidationError

    try:
        _arguments_model(function).model_validate(parsed)
    except ValidationError as error:
        return f"Error: invalid arguments for {name!r}:\n{error}"
    return parsed


def run_tool(function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """Run a tool with its (JSON) arguments and return its result, JSON-ready.

    Raises:
        Exception: Whatever the tool raises: the ``tool_call`` checkpoint
            fails, and the checkpoint's and the flow's retries apply.
    """
    from pydantic_core import to_jsonable_python

    validated = _arguments_model(function).model_validate(arguments)
    result = function(**{name: getattr(validated, name) for name in type(validated).model_fields})
    return to_jsonable_python(result)


def result_text(result: Any) -> str:
    """The text a model reads as a tool's result: a string as it is, anything else as JSON."""
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def _describe(function: Any) -> dict[str, Any]:
    name = getattr(function, "__name__", None)
    if not callable(function) or not isinstance(name, str):
        raise KitaruUsageError(f"kitaru.llm(tools=...) takes functions; got {type(function).__name__} ({function!r}).")
    if inspect.iscoroutinefunction(function):
        raise KitaruUsageError(
            f"Tool {name!r} is an async function; kitaru.llm(tools=...) runs tools synchronously. Pass a "
            "plain function (or use an agent framework's async tools through kitaru.adapters)."
        )
    if not TOOL_NAME.match(name):
        raise KitaruUsageError(
            f"Tool {name!r} needs a name of letters, digits, '_' or '-' (64 at most) that starts "
            "with a letter; rename the function or wrap it in one."
        )
    schema = _arguments_model(function).model_json_schema()
    schema.pop("title", None)
    summary, argument_texts = _docstring_parts(inspect.getdoc(function) or "")
    for argument, text in argument_texts.items():
        if argument in schema.get("properties", {}):
            schema["properties"][argument]["description"] = text
    return {"name": name, "description": summary, "parameters": schema}


def _arguments_model(function: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of ``function``'s arguments: the schema the model gets and the validator of its calls.

    Raises:
        KitaruUsageError: For ``*args``/``**kwargs`` or annotations pydantic cannot handle.
    """
    from pydantic import ConfigDict, PydanticSchemaGenerationError, PydanticUserError, create_model

    name = getattr(function, "__name__", "tool")
    try:
        hints = typing.get_type_hints(function)
        signature = inspect.signature(function)
    except (NameError, TypeError, ValueError) as error:
        raise KitaruUsageError(f"Tool {name!r}: its signature cannot be read ({error}).") from error
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise KitaruUsageError(
                f"Tool {name!r} takes *{parameter.name}; a tool needs named arguments the model can fill in."
            )
        annotation = hints.get(parameter.name, Any)
        default = parameter.default if parameter.default is not inspect.Parameter.empty else ...
        fields[parameter.name] = (annotation, default)
    try:
        model: type[BaseModel] = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
        model.model_json_schema()
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as error:
        raise KitaruUsageError(f"Tool {name!r}: pydantic cannot describe its arguments ({error}).") from error
    return model


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph and the ``Args:`` entries of a Google-style docstring.

    An entry is ``name: text`` or ``name (type): text`` at the section's
    indentation; more indented lines continue it. The section ends at the
    next line back at the header's indentation.
    """
    lines = doc.splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _ARGS_HEADER.match(line):
            break
        summary.append(line.strip())
    arguments: dict[str, str] = {}
    header_indent: int | None = None
    entry_indent: int | None = None
    current: str | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if header_indent is None:
            if _ARGS_HEADER.match(line):
                header_indent = indent
            continue
        if not line.strip():
            continue
        if indent <= header_indent:
            break
        entry = _ARG_LINE.match(line)
        if entry and (entry_indent is None or indent == entry_indent):
            entry_indent = indent
            current = entry.group("name")
            arguments[current] = entry.group("text").strip()
        elif current is not None:
            arguments[current] = f"{arguments[current]} {line.strip()}".strip()
    return " ".join(summary), arguments

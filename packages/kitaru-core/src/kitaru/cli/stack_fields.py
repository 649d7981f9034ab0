"""Stack fields as ``kitaru stack create`` flags, generated from the installed plugins' records.

A stack type declares its fields (:class:`~kitaru.plugins.records.StackField`);
each becomes a flag (``execution_role`` → ``--execution-role``) whose help
says which types take it. Core keeps no list of them: a third-party type that
declares ``StackField("app_name", required=True)`` gets ``--app-name``. Fields
of first-party types whose plugin is not installed are accepted as hidden
flags, so the error can name the extra to install instead of "no such option".

The flags are built when ``kitaru stack create`` is parsed or asked for help,
not when the CLI starts, so ``kitaru --help`` loads no plugin.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer.core
import typer.main

from kitaru.plugins import catalog

FIELD_VALUES_KEY = "kitaru.stack_fields"
"""Where the parsed field values wait in ``ctx.meta`` for the command body."""


def _store(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> None:
    if value is not None and param.name is not None:
        ctx.meta.setdefault(FIELD_VALUES_KEY, {})[param.name] = value


def _declare(name: str, flag: str, help_text: str, hidden: bool) -> inspect.Parameter:
    option = typer.Option(
        flag,
        help=help_text,
        expose_value=False,
        callback=_store,
        hidden=hidden,
        show_default=False,
    )
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[str | None, option]
    )


def field_options() -> list[Any]:
    """One option per known field, in first-declared order; fields of uninstalled types are hidden.

    Typer builds the options from a signature made of the fields, exactly as
    it builds the command's own, so they parse and print like them.
    """
    declared_params = []
    for name, declared in catalog.known_fields().items():
        installed = [(known, field) for known, field in declared if known.installed]
        help_text = catalog.describe_fields(installed or declared)
        declared_params.append(_declare(name, declared[0][1].flag, help_text, hidden=not installed))

    def fields(**values: Any) -> None:
        """Carries the fields' signature."""

    fields.__signature__ = inspect.Signature(declared_params)  # type: ignore[attr-defined]
    app = typer.Typer()
    app.command()(fields)
    names = {param.name for param in declared_params}
    return [param for param in typer.main.get_command(app).params if param.name in names]


def field_values(ctx: typer.Context) -> dict[str, Any]:
    """The field values given on the command line (``{"cluster": "c"}``)."""
    return dict(ctx.meta.get(FIELD_VALUES_KEY, {}))


class StackCreateCommand(typer.core.TyperCommand):
    """``kitaru stack create``: its own options, then one flag per stack field."""

    _fields: list[Any] | None = None

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters with the field flags placed before ``--extra``."""
        if self._fields is None:
            self._fields = field_options()
            types = [known.name for known in catalog.known_stack_types() if known.installed]
            for param in self.params:
                if param.name == "stack_type" and isinstance(param, typer.core.TyperOption):
                    param.help = (
                        f"Stack type: {', '.join(dict.fromkeys(types))} (default local). "
                        "`kitaru stack types` lists each type's options."
                    )
        params = super().get_params(ctx)
        cut = next((i for i, param in enumerate(params) if param.name == "extra"), len(params))
        return [*params[:cut], *self._fields, *params[cut:]]


__all__ = ["FIELD_VALUES_KEY", "StackCreateCommand", "field_options", "field_values"]

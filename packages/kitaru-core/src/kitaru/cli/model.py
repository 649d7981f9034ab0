"""``kitaru model``: aliases for the models ``kitaru.llm()`` calls (SPEC §4.5, §6).

``register ALIAS --model PROVIDER/MODEL [--secret NAME_OR_ID]`` saves an alias
in ``kitaru.yaml`` (the secret must exist); ``list`` shows every alias visible
here, including those carried by ``KITARU_MODEL_REGISTRY``; ``remove ALIAS``
and ``default ALIAS`` change the saved registry. Each alias is reported as::

    {"alias": "fast", "model": "openai/gpt-4o-mini", "secret": "openai", "is_default": true}

``is_default`` is about the effective registry (``KITARU_MODEL_REGISTRY`` merged
over ``kitaru.yaml``). ``remove`` reports ``{alias, model, secret, was_default,
default}``, ``default`` being the default afterwards. Only ``register --secret``
loads the engine (to check the secret); the rest reads and writes ``kitaru.yaml``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, Items, OutputOption, command, panel
from kitaru.settings import settings

group = typer.Typer(
    name="model",
    help=(
        "Model aliases for kitaru.llm(): short names for provider/model strings, each optionally "
        "linked to a secret holding the provider's credentials."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

AliasArgument = Annotated[str, typer.Argument(help="The alias (case-insensitive, e.g. fast).")]


def _summary_line(entry: dict[str, Any]) -> str:
    """``Model: openai/gpt-4o-mini | Secret: openai | Default alias``."""
    parts = [f"Model: {entry['model']}"]
    if entry["secret"]:
        parts.append(f"Secret: {entry['secret']}")
    if entry["is_default"]:
        parts.append("Default alias")
    return " | ".join(parts)


def _override_warnings(alias: str | None = None) -> list[str]:
    """Say when the environment overrides what was just saved."""
    from kitaru._llm import registry

    warnings = []
    overlay = registry.read_env_registry()
    if overlay is not None:
        if alias is not None and alias in overlay.aliases:
            warnings.append(
                f"{registry.ENV_REGISTRY} also defines '{alias}'; here its definition "
                f"({overlay.aliases[alias].model}) wins over kitaru.yaml."
            )
        if overlay.default is not None:
            warnings.append(
                f"{registry.ENV_REGISTRY} sets the default alias to '{overlay.default}', which wins "
                "over kitaru.yaml here."
            )
    default_model = settings().default_model
    if default_model:
        warnings.append(
            f"{registry.ENV_DEFAULT_MODEL}={default_model} is set, so kitaru.llm() without model= uses it "
            "instead of the default alias."
        )
    return warnings


def _backend_warning(model: str) -> str | None:
    """A warning when no installed plugin serves the model's provider (it may exist where flows run)."""
    from kitaru.plugins import get_plugin_manager

    lowered = model.lower()
    backends = get_plugin_manager().llm_backends().values()
    if any(lowered.startswith(prefix.lower()) for backend in backends for prefix in backend.prefixes):
        return None
    prefixes = sorted({prefix for backend in backends for prefix in backend.prefixes})
    return (
        f"No installed LLM backend serves '{model}' (installed prefixes: {', '.join(prefixes) or 'none'}). "
        "The alias is saved; install the provider's extra (for example pip install 'kitaru[openai]') "
        "where your flows run."
    )


@command("model.register")
def register_(
    alias: AliasArgument,
    model: Annotated[
        str,
        typer.Option("--model", "-m", help="The provider/model string, e.g. openai/gpt-4o-mini."),
    ],
    secret: Annotated[
        str | None,
        typer.Option("--secret", "-s", help="Name or id of an existing secret with the provider's credentials."),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Save a model alias in kitaru.yaml (the first alias becomes the default)."""
    from kitaru._llm import registry

    name = registry.normalise_alias(alias)
    checked_model = registry.validate_model(model)
    checked_secret = registry.validate_secret_reference(secret)
    registry.effective_registry()  # a malformed registry or variable fails before anything is written
    warnings = [w for w in (_backend_warning(checked_model),) if w]
    if checked_secret is not None:
        from kitaru._llm.secrets import require_secret

        require_secret(checked_secret)
    entry, _ = registry.register_alias(name, checked_model, checked_secret)
    item = registry.describe(entry, registry.effective_registry())
    warnings.extend(_override_warnings(name))
    return Item(item, text=[f"Saved model alias: {entry.alias}", _summary_line(item)], warnings=warnings)


@command("model.list")
def list_(output: OutputOption = "text") -> Items:  # noqa: ARG001
    """List the model aliases visible here (kitaru.yaml plus KITARU_MODEL_REGISTRY)."""
    from kitaru._llm import registry

    effective = registry.effective_registry()
    items = effective.entries()
    if not items:
        text: Any = (
            "No model aliases configured. Register one with: kitaru model register fast --model "
            f"{registry.EXAMPLE_MODEL} [--secret NAME]"
        )
    else:
        rows = []
        for item in items:
            line = _summary_line(item)
            if effective.aliases[item["alias"]].source == registry.SOURCE_ENVIRONMENT:
                line += f" | from {registry.ENV_REGISTRY}"
            rows.append((item["alias"], line))
        text = panel("Kitaru models", rows)
    default_model = settings().default_model
    warnings = []
    if default_model:
        warnings.append(f"{registry.ENV_DEFAULT_MODEL}={default_model} overrides the default alias.")
    return Items(items, text=text, warnings=warnings)


@command("model.remove")
def remove(alias: AliasArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Remove a saved alias; if it was the default, the default is cleared (or moves to the only alias left)."""
    from kitaru._llm import registry

    registry.read_env_registry()  # fail on a malformed variable before writing
    result = registry.remove_alias(alias)
    removed = result.removed
    new_default = result.registry.default
    item = {
        "alias": removed.alias,
        "model": removed.model,
        "secret": removed.secret,
        "was_default": result.was_default,
        "default": new_default,
    }
    lines = [f"Removed model alias: {removed.alias}"]
    if result.was_default and new_default is not None:
        lines.append(f"Default alias is now: {new_default}")
    elif result.was_default and result.registry.aliases:
        lines.append("No default alias is set now. Choose one with: kitaru model default ALIAS")
    return Item(item, text=lines, warnings=_override_warnings())


@command("model.default")
def default(alias: AliasArgument, output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Make a saved alias the default model of kitaru.llm()."""
    from kitaru._llm import registry

    registry.read_env_registry()
    entry, _ = registry.set_default_alias(alias)
    effective = registry.effective_registry()
    item = registry.describe(entry, effective)
    return Item(
        item,
        text=[f"Default model alias: {entry.alias}", _summary_line(item)],
        warnings=_override_warnings(entry.alias),
    )


def register(app: typer.Typer) -> None:
    """Add the ``model`` group to ``app``."""
    group.command("register")(register_)
    group.command("list")(list_)
    group.command("remove")(remove)
    group.command("default")(default)
    app.add_typer(group, name="model")


__all__ = ["register"]

"""``kitaru log-store``: choose where runtime logs should go (SPEC §4.4, §7).

``set BACKEND --endpoint URL [--api-key KEY]`` saves a preference in
``kitaru.yaml``, ``show`` prints the effective one, ``reset`` goes back to the
default (``artifact-store``). All three print the same item::

    {"backend": "otel", "endpoint": "https://...", "api_key_configured": true,
     "source": "global user config", "active_stack_backend": "artifact-store",
     "active_stack_name": "default", "warning": "The log-store preference is ..."}

The preference does not change where a run's logs go: the active stack's
log-store component does. ``active_stack_backend`` names it and ``warning``
says what to do when the two disagree (``kitaru status`` shows the same
warning). The API key is never printed, only ``api_key_configured``.

Arguments are validated before anything is written or the engine is loaded,
so a mistake fails fast and leaves ``kitaru.yaml`` untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from kitaru.cli.output import Item, OutputOption, command, panel
from kitaru.errors import KitaruError
from kitaru.masking import mask_url

group = typer.Typer(
    name="log-store",
    help=(
        "Choose where runtime logs should go (artifact-store, otel, datadog, ...). This is a "
        "preference: runs follow the active stack's log store, and show warns when they differ."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# -- comparing with the active stack -------------------------------------------------


def backend_for_flavor(flavor: str | None) -> str:
    """Name the backend a stack's log-store component sends logs to.

    Args:
        flavor: The component's engine flavor, or ``None`` when the stack has
            no log-store component.

    Returns:
        ``artifact-store`` for no component (or the engine's internal
        ``artifact`` flavor); otherwise the name of the installed log store
        whose ``LogStoreSpec.flavor`` is ``flavor``; otherwise the flavor
        itself, lowercased with ``_`` as ``-``.
    """
    from kitaru.config.log_store import installed_backends
    from kitaru.logs.backends import log_store_for_flavor

    name, _ = log_store_for_flavor(flavor, installed_backends())
    return name


def mismatch_warning(preference: Any, stack_backend: str, stack_name: str) -> str | None:
    """Say what to do when the active stack's log store differs from the preference.

    Args:
        preference: The effective :class:`~kitaru.config.log_store.LogStorePreference`.
        stack_backend: The backend the active stack sends logs to
            (see :func:`backend_for_flavor`).
        stack_name: The active stack's name.

    Returns:
        The warning, naming both backends and both ways to fix it, or
        ``None`` when they agree.
    """
    from kitaru.config import log_store as prefs

    wanted = preference.backend
    if wanted == stack_backend:
        return None
    from_env = preference.source == prefs.SOURCE_ENVIRONMENT
    origin = {
        prefs.SOURCE_DEFAULT: "the default",
        prefs.SOURCE_ENVIRONMENT: f"from {prefs.ENV_BACKEND}",
        prefs.SOURCE_GLOBAL: "saved with `kitaru log-store set`",
    }.get(preference.source, preference.source)
    if stack_backend == prefs.DEFAULT_BACKEND:
        actual = (
            f"the active stack '{stack_name}' has no log-store component, "
            "so runtime logs go to its artifact store"
        )
        match = "unset the KITARU_LOG_STORE_* variables" if from_env else "run `kitaru log-store reset`"
    else:
        actual = f"the active stack '{stack_name}' sends runtime logs to '{stack_backend}'"
        if from_env:
            match = f"set {prefs.ENV_BACKEND}={stack_backend} and {prefs.ENV_ENDPOINT}"
        else:
            match = f"run `kitaru log-store set {stack_backend} --endpoint URL`"
    if wanted == prefs.DEFAULT_BACKEND:
        follow = (
            "To keep logs in the artifact store, activate a stack without a log-store "
            "component (`kitaru stack use default`)"
        )
    else:
        follow = (
            f"To send logs to '{wanted}', activate a stack whose log-store component is "
            f"'{wanted}' (`kitaru stack use NAME`)"
        )
    return (
        f"The log-store preference is '{wanted}' ({origin}), but {actual}. Runs follow the stack, "
        f"not the preference. {follow}; to make the preference match the stack instead, {match}."
    )


# -- the item ---------------------------------------------------------------------


def read_stack_log_store(warnings: list[str]) -> Any:
    """Read the active stack's log-store component, or record why not.

    A server that does not answer is reported at once instead of after the
    engine's retries.

    Args:
        warnings: Gets a warning when the stack cannot be read.

    Returns:
        A :class:`kitaru.stacks.StackLogStore`, or ``None``.
    """
    from kitaru.connection import check_server_reachable, describe_connection
    from kitaru.stacks import active_stack_log_store

    try:
        connection = describe_connection()
        if connection.server_url is not None:
            check_server_reachable(connection.server_url)
        return active_stack_log_store()
    except KitaruError as exc:
        warnings.append(f"Could not compare the preference with the active stack: {exc}")
        return None


def describe(preference: Any, stack: Any, notes: Sequence[str] = ()) -> dict[str, Any]:
    """Build the JSON item of ``kitaru log-store`` (and of ``status``'s ``log_store``).

    Args:
        preference: The effective :class:`~kitaru.config.log_store.LogStorePreference`.
        stack: The active stack's ``StackLogStore``, or ``None`` if unknown.
        notes: Warnings to put before the mismatch warning.

    Returns:
        ``{backend, endpoint, api_key_configured, source, active_stack_backend,
        active_stack_name, warning}``; ``warning`` joins every warning, or is None.
    """
    item = preference.public()
    if item["endpoint"]:
        item["endpoint"] = mask_url(item["endpoint"])
    warnings = list(notes)
    stack_backend = None
    if stack is not None:
        stack_backend = backend_for_flavor(stack.flavor)
        mismatch = mismatch_warning(preference, stack_backend, stack.stack_name)
        if mismatch:
            warnings.append(mismatch)
    item["active_stack_backend"] = stack_backend
    item["active_stack_name"] = stack.stack_name if stack is not None else None
    item["warning"] = " ".join(warnings) or None
    return item


def stack_log_store_label(item: dict[str, Any], stack: Any) -> str | None:
    """``otel (component 'collector')`` or ``artifact-store (no log-store component)``."""
    if item["active_stack_backend"] is None:
        return None
    if stack is None or stack.component_name is None:
        return f"{item['active_stack_backend']} (no log-store component)"
    return f"{item['active_stack_backend']} (component '{stack.component_name}')"


def _result(headline: str | None, item: dict[str, Any], stack: Any) -> Item:
    rows: list[tuple[str, Any]] = [
        ("Backend", item["backend"]),
        ("Endpoint", item["endpoint"]),
        ("API key", "configured" if item["api_key_configured"] else None),
        ("Source", item["source"]),
        ("Active stack", item["active_stack_name"] or "unavailable"),
        ("Stack log store", stack_log_store_label(item, stack) or "unavailable"),
    ]

    def text() -> list[Any]:
        parts: list[Any] = [headline] if headline else []
        return [*parts, panel("Kitaru log store", rows)]

    return Item(item, text=text, warnings=[item["warning"]] if item["warning"] else [])


def _env_override_note() -> str | None:
    from kitaru.config.log_store import ENV_VARIABLES, read_env_preference

    if read_env_preference() is None:
        return None
    return (
        "KITARU_LOG_STORE_* variables are set and take priority over the saved preference; "
        f"unset {', '.join(ENV_VARIABLES)} to use it."
    )


# -- commands ------------------------------------------------------------------------


@command("log-store.set")
def set_(
    backend: Annotated[str, typer.Argument(help="The backend name, e.g. otel or datadog (lowercase).")],
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="The backend's http(s) URL (required by otel and datadog)."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="API key for the backend; saved in kitaru.yaml, never printed."),
    ] = None,
    output: OutputOption = "text",  # noqa: ARG001
) -> Item:
    """Save a log-store preference in kitaru.yaml ('artifact-store' is the default: use reset)."""
    from kitaru.config import log_store

    preference = log_store.check_new_preference(backend, endpoint, api_key)
    override = _env_override_note()  # also fails on inconsistent KITARU_LOG_STORE_* before writing
    notes = [note for note in (log_store.unknown_backend_warning(preference.backend), override) if note]
    log_store.save_preference(preference)
    warnings: list[str] = []
    stack = read_stack_log_store(warnings)
    item = describe(log_store.resolve_log_store(), stack, [*notes, *warnings])
    where = f" → {mask_url(preference.endpoint)}" if preference.endpoint else ""
    return _result(f"Saved log-store preference: {preference.backend}{where}", item, stack)


@command("log-store.show")
def show(output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Show the effective log-store preference and the active stack's log store."""
    from kitaru.config.log_store import resolve_log_store

    preference = resolve_log_store()
    warnings: list[str] = []
    stack = read_stack_log_store(warnings)
    return _result(None, describe(preference, stack, warnings), stack)


@command("log-store.reset")
def reset(output: OutputOption = "text") -> Item:  # noqa: ARG001
    """Forget the saved preference and go back to the default, artifact-store."""
    from kitaru.config import log_store

    override = _env_override_note()
    log_store.clear_preference()
    warnings: list[str] = [override] if override else []
    stack = read_stack_log_store(warnings)
    item = describe(log_store.resolve_log_store(), stack, warnings)
    return _result(f"Log-store preference reset to the default: {log_store.DEFAULT_BACKEND}", item, stack)


def register(app: typer.Typer) -> None:
    """Add the ``log-store`` group to ``app``."""
    group.command("set")(set_)
    group.command("show")(show)
    group.command("reset")(reset)
    app.add_typer(group, name="log-store")


__all__ = [
    "backend_for_flavor",
    "describe",
    "mismatch_warning",
    "read_stack_log_store",
    "register",
    "stack_log_store_label",
]

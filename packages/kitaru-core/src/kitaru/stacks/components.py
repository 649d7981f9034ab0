"""What Kitaru knows about a stack's components: targets, managed stacks, stack types, validation.

A plugin describes each component of a new stack as a
:class:`~kitaru.plugins.records.ComponentSpec` (flavor, configuration, name)
under a *target* (``orchestrator``, ``artifact_store``,
``container_registry``). Before anything is registered,
:func:`validate_component` checks the description against the engine
flavor's own configuration model and says, in Kitaru's words, which option
is wrong and how to fix it with ``--extra``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from kitaru.engine import get_engine
from kitaru.engine.errors import RecordNotFound
from kitaru.engine.stacks import ComponentRecord, InvalidConfiguration, NewConnector
from kitaru.errors import KitaruUsageError
from kitaru.masking import redact
from kitaru.plugins.records import ComponentSpec, ConnectorSpec
from kitaru.plugins.records.stacks import COMPONENT_TARGETS, thaw

MANAGED_LABEL = "kitaru.managed"
"""The label Kitaru puts on every stack it creates (value ``"true"``)."""

STACK_TYPE_LABEL = "kitaru.stack_type"
"""The label holding the type a stack was created as (``sagemaker``, a plugin's ``shelf``)."""

REMOTE_ORCHESTRATORS: tuple[str, ...] = ("kubernetes", "vertex", "sagemaker", "azureml")
"""Orchestrator flavors that name a stack's type."""


def is_managed(labels: Mapping[str, str]) -> bool:
    """Whether a stack's labels say Kitaru created it."""
    return str(labels.get(MANAGED_LABEL, "")).lower() == "true"


def main_components(components: tuple[ComponentRecord, ...]) -> list[ComponentRecord]:
    """A stack's components as Kitaru shows them: one per target in target order, then the others."""
    by_target: dict[str, ComponentRecord] = {}
    others: list[ComponentRecord] = []
    for component in components:
        if component.type in COMPONENT_TARGETS:
            by_target.setdefault(component.type, component)
        else:
            others.append(component)
    return [by_target[target] for target in COMPONENT_TARGETS if target in by_target] + others


def stack_type(components: list[ComponentRecord], labels: Mapping[str, str] | None = None) -> str:
    """The stack's type: the one it was created as, else guessed from its components.

    Kitaru labels every stack it creates with its type (:data:`STACK_TYPE_LABEL`),
    so a plugin's type reads back as itself. A stack created before that label,
    or by other tools, is typed by its orchestrator: a known remote flavor
    names the type, a local orchestrator without a container registry is
    ``local``, anything else is ``custom``.
    """
    labelled = (labels or {}).get(STACK_TYPE_LABEL)
    if labelled:
        return labelled
    types = {component.type: component for component in components}
    orchestrator = types.get("orchestrator")
    flavor = orchestrator.flavor if orchestrator is not None else None
    if flavor in REMOTE_ORCHESTRATORS:
        return str(flavor)
    if flavor == "local" and "container_registry" not in types:
        return "local"
    return "custom"


def _kind(target: str) -> str:
    return target.replace("_", " ")


def validate_component(target: str, component: ComponentSpec) -> dict[str, Any]:
    """Check a component description against its engine flavor, before anything is registered.

    Args:
        target: ``orchestrator``, ``artifact_store`` or ``container_registry``.
        component: What the plugin described.

    Returns:
        The configuration as the engine will store it.

    Raises:
        ValueError: For an unknown target (a plugin bug).
        KitaruUsageError: For a flavor the engine lacks, or invalid options:
            each is named (with close matches for misspelled ones) with how
            to fix it with ``--extra``.
    """
    if target not in COMPONENT_TARGETS:
        raise ValueError(f"Unknown stack component target '{target}'. Use one of: {', '.join(COMPONENT_TARGETS)}.")
    flavor = component.flavor
    configuration = thaw(component.configuration)
    stacks = get_engine().stacks
    try:
        known = list(stacks.component_fields(target, flavor))
        unknown = sorted(set(configuration) - set(known))
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, known, n=2)
                hints.append(f"'{key}'" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
            raise KitaruUsageError(
                f"Invalid {target} option(s) for the '{flavor}' {_kind(target)}: "
                f"{', '.join(hints)}. Valid options: {', '.join(known)}. "
                f"Fix or remove --extra {target}.FIELD=VALUE."
            )
        return stacks.validate_configuration(target, flavor, configuration)
    except RecordNotFound:
        raise KitaruUsageError(
            f"The engine has no {_kind(target)} flavor '{flavor}'. The plugin that "
            "builds this stack needs its engine integration installed; reinstall the plugin "
            "(pip install 'kitaru[aws]' / 'kitaru[gcp]' / 'kitaru[azure]')."
        ) from None
    except InvalidConfiguration as exc:
        if exc.problems:
            problems = "; ".join(f"{where or target}: {what}" for where, what in exc.problems)
            raise KitaruUsageError(
                f"Invalid {target} settings for the '{flavor}' {_kind(target)}: "
                f"{problems}. Fix the value with --extra {target}.FIELD=VALUE."
            ) from None
        raise KitaruUsageError(
            f"Invalid {target} settings for the '{flavor}' {_kind(target)}: {exc.detail}"
        ) from None


def register_connector(description: ConnectorSpec) -> str:
    """Register a stack's service connector (its plugin verified access) and return its id.

    Args:
        description: The connector the plugin described (named by now).

    Raises:
        KitaruUsageError: When the engine rejects the configuration; the
            message hides every configuration value (keys, secrets, key files).
    """
    configuration = thaw(description.configuration)
    connector = NewConnector(
        name=description.name,
        connector_type=description.connector_type,
        auth_method=description.auth_method,
        configuration=configuration,
    )
    try:
        return get_engine().stacks.register_connector(connector)
    except InvalidConfiguration as exc:
        # Engine errors may echo the values they reject.
        detail = redact(str(exc.detail or exc), configuration.values(), min_length=4)
        raise KitaruUsageError(
            f"The engine rejected the {connector.connector_type} service connector "
            f"({connector.auth_method}): {detail}"
        ) from None


__all__ = [
    "COMPONENT_TARGETS",
    "MANAGED_LABEL",
    "REMOTE_ORCHESTRATORS",
    "STACK_TYPE_LABEL",
    "is_managed",
    "main_components",
    "register_connector",
    "stack_type",
    "validate_component",
]

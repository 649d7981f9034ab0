"""Turn what a user asked for into a validated stack spec for one stack provider.

``kitaru stack create``, its ``--file`` YAML and the MCP ``manage_stack``
tool all describe a stack the same way: a name, a type, some options
(``artifact_store``, ``region`` ...), ``--extra`` overrides and flags. This
module checks them against what the installed plugins declare (SPEC §5.4) and
picks the provider, before anything touches the engine::

    request = resolve_stack_request(
        "team", "kubernetes",
        {"artifact_store": "s3://bucket", "container_registry": "...", "cluster": "c", "region": "r"},
    )
    request.provider.key   # 'kubernetes@aws' (inferred from s3://)
    request.spec           # the mapping build_components() gets

Messages name options the way the caller's surface spells them: ``--cluster``
on the command line, ``cluster`` from Python.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.plugins import catalog, get_plugin_manager
from kitaru.plugins.records import StackProviderSpec, StackSpec
from kitaru.plugins.records.stacks import COMPONENT_TARGETS, LOCAL_TARGETS, flag
from kitaru.plugins.records.validation import is_blank
from kitaru.plugins.stack_helpers import deep_merge

EXTRA_TARGETS: tuple[str, ...] = COMPONENT_TARGETS
"""Components ``--extra TARGET.FIELD=VALUE`` may override."""

LOCAL_EXTRA_TARGETS: tuple[str, ...] = LOCAL_TARGETS
"""A stack type without a cloud provider has no container registry."""


@dataclass(frozen=True)
class StackRequest:
    """A validated request to create a stack.

    Attributes:
        name: The stack name.
        stack_type: The type (``local``, ``kubernetes`` ...).
        provider: The stack provider record that will build it.
        spec: The stack spec for ``build_components`` and ``verify``.
    """

    name: str
    stack_type: str
    provider: StackProviderSpec
    spec: StackSpec

    @property
    def cloud(self) -> str | None:
        """The cloud behind the stack: the provider's, else the artifact store's."""
        if self.provider.provider is not None:
            return self.provider.provider
        uri = self.spec.get("artifact_store")
        scheme = catalog.uri_scheme(uri) if isinstance(uri, str) else None
        if scheme is None:
            return None
        return catalog.artifact_store_backend(str(uri)).provider

    def resources(self) -> dict[str, Any]:
        """What the stack points at, for output: provider and the given options."""
        values: dict[str, Any] = {"provider": self.cloud}
        for name in self.provider.field_names:
            value = self.spec.value(name)
            if name == "credentials" or value is None:
                continue
            if name == "artifact_store" and isinstance(value, str) and catalog.uri_scheme(value) is None:
                value = str(Path(value).expanduser().absolute())  # a directory, as the component holds it
            values[name] = value
        return {key: value for key, value in values.items() if value is not None}


def option_label(option: str, surface: str) -> str:
    """``--execution-role`` on the CLI, ``execution_role`` elsewhere."""
    return flag(option) if surface == "cli" else option


def type_label(stack_type: str, surface: str) -> str:
    """``--type sagemaker`` on the CLI, ``stack_type='sagemaker'`` elsewhere (Python, MCP)."""
    return f"--type {stack_type}" if surface == "cli" else f"stack_type={stack_type!r}"


def _type_list(types: list[str] | tuple[str, ...]) -> str:
    quoted = [f"'{name}'" for name in types]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", or {quoted[-1]}"


def _flag_list(types: list[str], surface: str) -> str:
    flags = [type_label(name, surface) for name in types]
    if len(flags) == 1:
        return flags[0]
    if len(flags) == 2:
        return f"{flags[0]} or {flags[1]}"
    return ", ".join(flags[:-1]) + f", or {flags[-1]}"


def _accepting_types() -> dict[str, list[str]]:
    """Field → the stack types (installed or first-party, message order) that accept it."""
    return {
        name: list(dict.fromkeys(known.name for known, _ in declared))
        for name, declared in catalog.known_fields().items()
    }


def _misplaced_options_error(stack_type: str, options: list[str], surface: str) -> KitaruUsageError:
    accepted = _accepting_types()
    groups: dict[tuple[str, ...], list[str]] = {}
    for option in options:
        groups.setdefault(tuple(accepted.get(option, ())), []).append(option)
    sentences = []
    for types, names in groups.items():
        labels = ", ".join(option_label(name, surface) for name in names)
        if not types:
            sentences.append(f"No stack type accepts: {labels}.")
        elif len(types) == 1:
            title = catalog.stack_title(types[0])
            sentences.append(f"{title}-only options require {type_label(types[0], surface)}: {labels}")
        elif "local" not in types and len(types) >= 4:
            sentences.append(f"Remote stack options require {_flag_list(list(types), surface)}: {labels}")
        else:
            sentences.append(f"Options for {_flag_list(list(types), surface)} only: {labels}")
    return KitaruUsageError(" ".join(sentences) + f" (got {type_label(stack_type, surface)}).")


def _scheme_list(schemes: tuple[str, ...] | list[str]) -> str:
    uris = [f"{scheme}://" for scheme in schemes]
    # Schemes are read letter by letter: "an s3://", "a gs://".
    article = "an" if uris[0][0] in "aefhilmnorsx" else "a"
    if len(uris) == 1:
        return f"{article} {uris[0]}"
    if len(uris) == 2:
        return f"{article} {uris[0]} or {uris[1]}"
    return f"{article} " + ", ".join(uris[:-1]) + f", or {uris[-1]}"


def normalise_stack_type(stack_type: str | None) -> str:
    """Lower-case and strip a ``--type`` value; blank means ``local``."""
    return (stack_type or "").strip().lower() or "local"


def _choose_provider(
    stack_type: str, candidates: list[StackProviderSpec], uri: str | None, surface: str
) -> StackProviderSpec:
    """Pick the provider of ``stack_type`` that serves the artifact store's scheme."""
    if len(candidates) == 1 and not candidates[0].schemes:
        return candidates[0]
    if uri is None:
        return candidates[0]
    scheme = catalog.uri_scheme(uri)
    for candidate in candidates:
        if scheme in candidate.schemes:
            return candidate
    # The scheme's first-party plugin also provides this type but is not installed.
    first_party = catalog.scheme_providers()
    provider = first_party.get(scheme or "")
    if provider is not None and provider in catalog.first_party_providers(stack_type):
        raise catalog.missing_stack_type_error_for(stack_type, provider)
    title = candidates[0].title
    schemes = [s for c in candidates for s in c.schemes]
    if len(candidates) == 1:
        raise KitaruUsageError(
            f"{title} stacks require {_scheme_list(schemes)} artifact store URI. Received: '{uri}'."
        )
    # Several providers: infer the cloud from the scheme.
    if scheme is None or scheme not in first_party and scheme not in schemes:
        catalog.artifact_store_backend(uri)  # raises the "Cannot infer cloud provider" error
    documented = [s for s, p in first_party.items() if p in catalog.first_party_providers(stack_type)]
    raise KitaruUsageError(
        f"{title} stacks require {_scheme_list(documented or schemes)} artifact store URI. "
        f"Received: '{uri}'."
    )


def resolve_stack_request(
    name: str,
    stack_type: str | None,
    options: Mapping[str, Any] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    async_mode: bool = False,
    surface: str = "cli",
) -> StackRequest:
    """Validate a stack request and build the spec its provider gets.

    Args:
        name: The stack name.
        stack_type: ``local`` (default when blank), ``kubernetes``, ``vertex``,
            ``sagemaker``, ``azureml`` or a type a third-party plugin adds.
        options: Option values by field name (``artifact_store``, ``region``
            ...); blank strings count as omitted.
        extra: Component overrides by target (``{"orchestrator": {...}}``).
        async_mode: Run remote orchestrators asynchronously
            (``orchestrator.synchronous=false`` unless given in ``extra``).
        surface: ``cli`` or ``python``; only changes how options are named.

    Returns:
        The request, with the provider picked and the spec built.

    Raises:
        KitaruUsageError: On an unsupported type, missing or misplaced
            options, a wrong artifact-store scheme, or a bad ``extra``.
        KitaruFeatureNotAvailableError: When the plugin providing the type (or
            the artifact store's scheme) is not installed; names the extra.
    """
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("A stack needs a name: kitaru stack create NAME ...")
    name = name.strip()
    kind = normalise_stack_type(stack_type)
    candidates = get_plugin_manager().stack_type_providers(kind)
    if not candidates:
        known = catalog.type_names()
        if kind not in known:
            raise KitaruUsageError(f"Unsupported stack type: {stack_type}. Use {_type_list(known)}.")
        raise catalog.missing_stack_type_error(kind)

    given = {
        key: (os.fspath(value) if isinstance(value, os.PathLike) else value).strip()
        if isinstance(value, (str, os.PathLike))
        else value
        for key, value in (options or {}).items()
        if not is_blank(value)
    }
    for key, value in given.items():
        if not isinstance(value, str):
            raise KitaruUsageError(
                f"Stack option {option_label(key, surface)} takes text; got {type(value).__name__} {value!r}."
            )
    accepted_anywhere = _accepting_types()
    unknown = sorted(set(given) - set(accepted_anywhere))
    if unknown:
        raise KitaruUsageError(
            f"Unknown stack options: {', '.join(option_label(name, surface) for name in unknown)}. "
            f"See the options of each stack type with `kitaru stack types`."
        )
    accepted = {name for candidate in candidates for name in candidate.field_names}
    misplaced = [name for name in accepted_anywhere if name in given and name not in accepted]
    if misplaced:
        raise _misplaced_options_error(kind, misplaced, surface)
    required = [name for name in candidates[0].required_fields if all(name in c.required_fields for c in candidates)]
    missing = [name for name in required if name not in given]
    if missing:
        labels = ", ".join(option_label(name, surface) for name in missing)
        raise KitaruUsageError(f"{type_label(kind, surface)} requires: {labels}.")

    uri = given.get("artifact_store")
    provider = _choose_provider(kind, candidates, uri if isinstance(uri, str) else None, surface)
    missing = [name for name in provider.required_fields if name not in given]
    if missing:  # fields only this provider of the type requires (kubernetes on one cloud)
        labels = ", ".join(option_label(name, surface) for name in missing)
        where = f" on {catalog.plugin_label([provider.provider])}" if provider.provider else ""
        raise KitaruUsageError(f"{type_label(kind, surface)}{where} requires: {labels}.")
    if uri is not None and not provider.schemes and catalog.uri_scheme(str(uri)):
        catalog.artifact_store_backend(str(uri))  # a plugin must serve this scheme

    overrides = _validated_extra(extra, kind, provider)
    remote = provider.provider is not None
    if async_mode:
        if not remote:
            raise KitaruUsageError(
                f"{'--async' if surface == 'cli' else 'async_mode'} only applies to remote stack types "
                f"(the orchestrator runs elsewhere); {type_label(kind, surface)} runs flows in this process."
            )
        overrides["orchestrator"].setdefault("synchronous", False)

    values = {field: given.get(field) for field in provider.field_names}
    spec = StackSpec.for_provider(provider, name, values, overrides)
    return StackRequest(name=name, stack_type=kind, provider=provider, spec=spec)


def _validated_extra(
    extra: Mapping[str, Any] | None, kind: str, provider: StackProviderSpec
) -> dict[str, dict[str, Any]]:
    targets = provider.extra_targets
    result: dict[str, dict[str, Any]] = {target: {} for target in targets}
    for target, values in (extra or {}).items():
        if target not in targets:
            if target in EXTRA_TARGETS:
                raise KitaruUsageError(
                    f"--extra {target}.* is not allowed for {kind} stacks. "
                    f"Targets: {', '.join(targets)}."
                )
            raise KitaruUsageError(f"Unknown --extra target '{target}'. Targets: {', '.join(targets)}.")
        if not isinstance(values, Mapping):
            raise KitaruUsageError(
                f"--extra {target} takes FIELD=VALUE settings (a mapping); got {values!r}."
            )
        result[target] = deep_merge(result[target], copy.deepcopy(dict(values)))
    return result


__all__ = [
    "EXTRA_TARGETS",
    "LOCAL_EXTRA_TARGETS",
    "StackRequest",
    "normalise_stack_type",
    "option_label",
    "resolve_stack_request",
]

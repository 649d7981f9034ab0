"""Records of the ``kitaru_stack_providers()`` hook: stack types, their fields, spec and components.

A stack type is a :class:`StackProviderSpec`. Its :class:`StackField` records
are its whole interface: Kitaru turns each into a ``kitaru stack create``
flag (``execution_role`` is ``--execution-role``), a ``--file`` key, an MCP
``manage_stack`` parameter and the messages about it. When a user creates a
stack, Kitaru checks what they gave against the fields and hands the type's
``build_components`` a read-only :class:`StackSpec`; the function answers with
:class:`StackComponents` (engine components described with
:class:`ComponentSpec` and an optional :class:`ConnectorSpec`), which Kitaru
checks against the engine and registers, all or nothing::

    def build_components(spec: StackSpec) -> StackComponents:
        return StackComponents(
            orchestrator=ComponentSpec(flavor="local"),
            artifact_store=ComponentSpec(
                flavor="local", configuration={"path": spec.require("root")}
            ),
        )

The engine-specific strings (``flavor``, ``connector_type``, ``auth_method``)
are the engine's own names: see the ZenML component guide
(https://docs.zenml.io/stacks) and ``zenml orchestrator flavor list``.

Older plugins keep working: ``build_components`` may still return the plain
mapping ``{"orchestrator": {"flavor": ..., "configuration": ...}, ...}`` and
read the spec with ``spec["field"]``; :meth:`StackComponents.coerce` reads
that shape.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records.source import PluginSource
from kitaru.plugins.records.validation import (
    FIELD_NAME_PATTERN,
    SCHEME_PATTERN,
    PluginRecordError,
    as_tuple,
    check_callable,
    check_name,
    check_pattern,
    check_type,
    is_blank,
    set_frozen,
    where,
)

COMPONENT_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store", "container_registry")
"""The engine components a stack may have, in the order they are registered and shown."""

LOCAL_TARGETS: tuple[str, ...] = ("orchestrator", "artifact_store")
"""The components of a stack type without a cloud provider (it runs flows in this process)."""

RESERVED_FIELD_NAMES: frozenset[str] = frozenset(
    {
        "name", "type", "stack_type", "file", "fields", "extra", "options", "activate", "no_activate",
        "verify", "no_verify", "async", "async_mode", "output", "action", "recursive", "force", "help",
    }
)
"""Names a :class:`StackField` may not take: ``kitaru stack create`` and ``manage_stack`` use them."""

WELL_KNOWN_FIELDS: tuple[str, ...] = ("artifact_store", "credentials")
"""Fields every spec has (None when the type does not declare them): where artifacts live
(its URI scheme picks the provider of a type two plugins provide) and the ``--credentials`` string."""


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that, unlike ``MappingProxyType``, can be deep-copied, pickled and hashed.

    Records keep configurations and overrides in it, so nothing a plugin does
    to what it reads changes the record, and ``copy.deepcopy(spec)`` (which
    older plugins do) still works.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


def thaw(value: Any) -> Any:
    """A deep, mutable copy of ``value``: mappings become dicts, lists and tuples lists."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(item) for item in value]
    return copy.deepcopy(value)


def freeze(value: Any) -> Any:
    """A deep, read-only copy of ``value``: mappings become :class:`FrozenMapping`, lists tuples."""
    if isinstance(value, Mapping):
        return FrozenMapping({key: freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item) for item in value)
    return copy.deepcopy(value)


_NO_DEFAULT: Any = object()
"""Marks :meth:`StackSpec.value` called without a default."""


def flag(field_name: str) -> str:
    """The command-line flag of a field: ``execution_role`` → ``--execution-role``."""
    return "--" + field_name.replace("_", "-")


@dataclass(frozen=True)
class StackField:
    """One field a stack type accepts; Kitaru makes it a flag, a ``--file`` key and an MCP parameter.

    Attributes:
        name: The field name as used in Python, YAML and MCP (``execution_role``);
            the CLI flag adds dashes (``--execution-role``). A lowercase
            identifier, not one of :data:`RESERVED_FIELD_NAMES`.
        description: One line for ``--help``, ``kitaru stack types`` and MCP.
        required: Whether creating a stack of this type needs it.
        example: A realistic value for help texts, docs and the contract
            suite's sample spec (``arn:aws:iam::123456789012:role/kitaru``).
        label: How ``kitaru stack create`` names the value in its summary
            (``Execution role``); default: the name, capitalised.
    """

    name: str
    description: str = ""
    required: bool = False
    example: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        check_pattern(self, self.name, FIELD_NAME_PATTERN, "field name", "execution_role")
        if self.name in RESERVED_FIELD_NAMES:
            raise PluginRecordError(
                f"{where(self)}: '{self.name}' is taken by `kitaru stack create` itself; "
                f"name the field after what it holds (reserved: {', '.join(sorted(RESERVED_FIELD_NAMES))})."
            )
        check_type(self, self.description, "description", str)
        check_type(self, self.required, "required", bool)
        check_type(self, self.example, "example", str)
        check_type(self, self.label, "label", str)

    @property
    def flag(self) -> str:
        """The command-line flag: ``--execution-role``."""
        return flag(self.name)

    @property
    def title(self) -> str:
        """How summaries name the value: :attr:`label`, else ``Execution role``."""
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True, eq=False)
class StackSpec(Mapping[str, Any]):
    """What a user asked for, validated against the stack type's fields; read-only.

    Kitaru builds it (:meth:`for_provider`) and hands it to ``build_components``
    and ``verify``. Read it typed (``spec.name``, ``spec.value("region")``,
    ``spec.require("cluster")``, ``spec.extra_for("orchestrator")``) or, as
    older plugins do, as a mapping: ``spec["region"]``, ``spec["extra"]``
    (mapping access hands out fresh plain copies, so nothing a plugin does
    changes the spec)::

        {"name": "team", "artifact_store": "s3://bucket/kit", "credentials": None,
         "region": "eu-west-1", "extra": {"orchestrator": {}, "artifact_store": {}, ...}}

    Attributes:
        name: The stack name; name the components after it (the default).
        field_values: One value per declared field, plus ``artifact_store``
            and ``credentials``; None when the user left it out.
        extra: The user's ``--extra TARGET.FIELD=VALUE`` overrides, one
            (possibly empty) mapping per component the type may have.
        stack_type: The type (``sagemaker``); empty when built by hand.
    """

    name: str
    field_values: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stack_type: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PluginRecordError(f"A stack spec needs the stack's name; got {self.name!r}.")
        check_type(self, self.field_values, "field_values", Mapping)
        check_type(self, self.extra, "extra", Mapping)
        values: dict[str, Any] = dict.fromkeys(WELL_KNOWN_FIELDS)
        values.update(self.field_values)
        for key in values:
            if key in ("name", "extra"):
                raise PluginRecordError(f"A stack spec's values cannot hold '{key}'; pass it on its own.")
        for target, overrides in self.extra.items():
            if target not in COMPONENT_TARGETS or not isinstance(overrides, Mapping):
                raise PluginRecordError(
                    f"A stack spec's extra maps a component ({', '.join(COMPONENT_TARGETS)}) to "
                    f"its settings; got {target!r}: {overrides!r}."
                )
        set_frozen(self, "name", self.name.strip())
        set_frozen(self, "field_values", freeze(values))
        set_frozen(self, "extra", freeze(self.extra))

    @classmethod
    def for_provider(
        cls,
        provider: StackProviderSpec,
        name: str,
        values: Mapping[str, Any] | None = None,
        extra: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> StackSpec:
        """The spec of a ``provider`` stack: every declared field and every ``extra`` target present.

        Args:
            provider: The stack type.
            name: The stack name.
            values: Field values by name; fields left out are None.
            extra: Overrides by target; targets left out are empty.

        Raises:
            PluginRecordError: When ``values`` names a field the type does not
                declare, or ``extra`` a component it cannot have.
        """
        given = dict(values or {})
        declared = [f.name for f in provider.fields]
        unknown = sorted(set(given) - set(declared) - set(WELL_KNOWN_FIELDS))
        if unknown:
            raise PluginRecordError(f"{where(provider)} has no fields {unknown}; it declares {declared}.")
        overrides = dict(extra or {})
        foreign = sorted(set(overrides) - set(provider.extra_targets))
        if foreign:
            raise PluginRecordError(
                f"{where(provider)} stacks have no {foreign}; extra targets: {list(provider.extra_targets)}."
            )
        return cls(
            name=name,
            field_values={key: given.get(key) for key in [*declared, *WELL_KNOWN_FIELDS]},
            extra={target: dict(overrides.get(target) or {}) for target in provider.extra_targets},
            stack_type=provider.name,
        )

    @classmethod
    def coerce(cls, spec: Mapping[str, Any]) -> StackSpec:
        """``spec`` as a :class:`StackSpec`; a plain mapping (an older caller's) is converted."""
        if isinstance(spec, StackSpec):
            return spec
        values = {key: value for key, value in spec.items() if key not in ("name", "extra")}
        return cls(name=spec.get("name"), field_values=values, extra=spec.get("extra") or {})  # type: ignore[arg-type]

    # -- typed access -----------------------------------------------------------------

    @property
    def artifact_store(self) -> str | None:
        """Where artifacts go (a directory or a bucket URI), stripped; None when not given."""
        return self.value("artifact_store")

    @property
    def credentials(self) -> str | None:
        """The raw ``--credentials`` string, stripped; None means implicit."""
        return self.value("credentials")

    def value(self, field_name: str, default: Any = _NO_DEFAULT) -> Any:
        """A field's value: strings stripped, blank strings as None.

        Args:
            field_name: The field.
            default: What to return when the spec has no such field (an
                artifact-store backend serving several stack types reads a
                field only some declare). Without it, that is a ``KeyError``.

        Raises:
            KeyError: When the spec has no such field and no ``default`` is
                given (a typo in the plugin).
        """
        if field_name not in self.field_values:
            if default is not _NO_DEFAULT:
                return default
            raise KeyError(f"The stack spec has no field {field_name!r}; fields: {sorted(self.field_values)}.")
        value = self.field_values[field_name]
        if is_blank(value):
            return None
        return value.strip() if isinstance(value, str) else thaw(value)

    def require(self, field_name: str) -> Any:
        """A field's value, or a usage error naming the flag when it is blank.

        Core already checks the fields a type declares ``required``; use this
        for values a type needs only in some cases.
        """
        value = self.value(field_name)
        if value is None:
            kind = f"--type {self.stack_type}" if self.stack_type else "This stack"
            raise KitaruUsageError(f"{kind} needs {flag(field_name)}; it is missing or blank.")
        return value

    def extra_for(self, target: str) -> dict[str, Any]:
        """The user's ``--extra TARGET.*`` overrides for one component, as a fresh dict."""
        return thaw(self.extra.get(target) or {})

    def replace(self, **values: Any) -> StackSpec:
        """A copy with some field values replaced (``spec.replace(artifact_store=uri)``)."""
        return StackSpec(
            name=self.name, field_values={**self.field_values, **values}, extra=self.extra, stack_type=self.stack_type
        )

    # -- the read-only mapping older plugins read ------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key == "name":
            return self.name
        if key == "extra":
            return thaw(self.extra)
        return thaw(self.field_values[key])

    def __iter__(self) -> Iterator[str]:
        yield "name"
        yield from self.field_values
        yield "extra"

    def __len__(self) -> int:
        return len(self.field_values) + 2

    def __repr__(self) -> str:
        shown = dict(self)
        if shown.get("credentials"):
            shown["credentials"] = "***"  # may hold keys (azure-service-principal:...:SECRET)
        return f"StackSpec({shown!r})"


@dataclass(frozen=True)
class ComponentSpec:
    """One engine stack component a stack type wants registered.

    Attributes:
        flavor: The engine's flavor of the component (``local``, ``s3``,
            ``sagemaker``; see ``zenml <component-type> flavor list``).
        configuration: The flavor's settings; Kitaru lays the user's
            ``--extra`` overrides over them when you build it with
            :func:`kitaru.plugins.stack_helpers.component_spec`, and checks
            the result against the flavor before registering anything.
        name: The component's name; empty (the default) names it like the stack.
        connector: Link it to the stack's :class:`ConnectorSpec`.
        connector_resource_id: The resource the connector gives it (a bucket
            URI, a cluster name, a registry URI).
    """

    flavor: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    connector: bool = False
    connector_resource_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.flavor, str) or not self.flavor.strip():
            raise PluginRecordError(f"A component needs the engine flavor's name; got flavor={self.flavor!r}.")
        check_type(self, self.configuration, "configuration", Mapping)
        check_type(self, self.name, "name", str)
        check_type(self, self.connector, "connector", bool)
        check_type(self, self.connector_resource_id, "connector_resource_id", (str, type(None)))
        set_frozen(self, "configuration", freeze(self.configuration))

    @classmethod
    def coerce(cls, value: ComponentSpec | Mapping[str, Any], target: str) -> ComponentSpec:
        """A component from an older plugin's ``{"name", "flavor", "configuration", ...}`` mapping."""
        if isinstance(value, ComponentSpec):
            return value
        if not isinstance(value, Mapping):
            raise PluginRecordError(f"The {target} description must be a ComponentSpec; got {value!r}.")
        unknown = sorted(set(value) - {"name", "flavor", "configuration", "connector", "connector_resource_id"})
        if unknown:
            raise PluginRecordError(f"The {target} description has unknown keys {unknown}.")
        return cls(
            flavor=value.get("flavor"),  # type: ignore[arg-type]
            configuration=value.get("configuration") or {},
            name=value.get("name") or "",
            connector=bool(value.get("connector")),
            connector_resource_id=value.get("connector_resource_id"),
        )

    def as_mapping(self) -> dict[str, Any]:
        """The plain mapping older code reads (``{"name", "flavor", "configuration", ...}``)."""
        data: dict[str, Any] = {"name": self.name, "flavor": self.flavor, "configuration": thaw(self.configuration)}
        if self.connector:
            data["connector"] = True
            data["connector_resource_id"] = self.connector_resource_id
        return data


@dataclass(frozen=True)
class ConnectorSpec:
    """The stack's service connector: one set of credentials its components share.

    Attributes:
        connector_type: The engine's connector type (``aws``, ``gcp``, ``azure``).
        auth_method: The connector's authentication method (``implicit``,
            ``secret-key``, ``service-account`` ...).
        configuration: The auth method's settings (keys, region ...); stored
            in the engine's secret store, never printed.
        name: Empty (the default) names it like the stack.
    """

    connector_type: str
    auth_method: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        for attribute in ("connector_type", "auth_method"):
            value = getattr(self, attribute)
            if not isinstance(value, str) or not value.strip():
                raise PluginRecordError(f"A service connector needs its {attribute}; got {value!r}.")
        check_type(self, self.configuration, "configuration", Mapping)
        check_type(self, self.name, "name", str)
        set_frozen(self, "configuration", freeze(self.configuration))

    def __repr__(self) -> str:  # the configuration may hold secrets
        return f"ConnectorSpec(connector_type={self.connector_type!r}, auth_method={self.auth_method!r}, ...)"

    @classmethod
    def coerce(cls, value: ConnectorSpec | Mapping[str, Any]) -> ConnectorSpec:
        """A connector from an older plugin's ``{"connector_type", "auth_method", ...}`` mapping."""
        if isinstance(value, ConnectorSpec):
            return value
        if not isinstance(value, Mapping):
            raise PluginRecordError("The service_connector description must be a ConnectorSpec.")
        return cls(
            connector_type=value.get("connector_type"),  # type: ignore[arg-type]
            auth_method=value.get("auth_method"),  # type: ignore[arg-type]
            configuration=value.get("configuration") or {},
            name=value.get("name") or "",
        )


@dataclass(frozen=True)
class ArtifactStoreComponents:
    """What an :class:`ArtifactStoreBackend` builds: the artifact store and, if needed, a connector.

    Attributes:
        artifact_store: The artifact-store component.
        service_connector: The connector holding explicit credentials, if any.
    """

    artifact_store: ComponentSpec
    service_connector: ConnectorSpec | None = None

    def __post_init__(self) -> None:
        check_type(self, self.artifact_store, "artifact_store", ComponentSpec)
        check_type(self, self.service_connector, "service_connector", (ConnectorSpec, type(None)))
        if self.artifact_store.connector and self.service_connector is None:
            raise PluginRecordError("The artifact store asks for a connector but none is given.")

    @classmethod
    def coerce(cls, value: ArtifactStoreComponents | Mapping[str, Any]) -> ArtifactStoreComponents:
        """Read an older backend's ``{"artifact_store": {...}, "service_connector": {...}}``."""
        if isinstance(value, ArtifactStoreComponents):
            return value
        connector = value.get("service_connector")
        return cls(
            artifact_store=ComponentSpec.coerce(value["artifact_store"], "artifact_store"),
            service_connector=None if connector is None else ConnectorSpec.coerce(connector),
        )


@dataclass(frozen=True)
class StackComponents:
    """What ``build_components`` returns: the engine components of one new stack.

    Attributes:
        orchestrator: Runs the flows.
        artifact_store: Keeps checkpoint outputs, saved values and logs.
        container_registry: Holds the images remote orchestrators run.
        service_connector: Registered first; components with
            ``connector=True`` are linked to it.
    """

    orchestrator: ComponentSpec
    artifact_store: ComponentSpec
    container_registry: ComponentSpec | None = None
    service_connector: ConnectorSpec | None = None

    def __post_init__(self) -> None:
        check_type(self, self.orchestrator, "orchestrator", ComponentSpec)
        check_type(self, self.artifact_store, "artifact_store", ComponentSpec)
        check_type(self, self.container_registry, "container_registry", (ComponentSpec, type(None)))
        check_type(self, self.service_connector, "service_connector", (ConnectorSpec, type(None)))
        linked = [target for target, component in self.components() if component.connector]
        if linked and self.service_connector is None:
            verb = "asks" if len(linked) == 1 else "ask"
            raise PluginRecordError(
                f"{' and '.join(linked)} {verb} for the stack's connector (connector=True), but there is no "
                "service_connector; add a ConnectorSpec or drop connector=True."
            )

    @classmethod
    def with_artifact_store(
        cls,
        orchestrator: ComponentSpec,
        store: ArtifactStoreComponents,
        container_registry: ComponentSpec | None = None,
    ) -> StackComponents:
        """Combine an orchestrator with what an artifact-store backend built."""
        return cls(
            orchestrator=orchestrator,
            artifact_store=store.artifact_store,
            container_registry=container_registry,
            service_connector=store.service_connector,
        )

    @classmethod
    def coerce(cls, value: StackComponents | Mapping[str, Any]) -> StackComponents:
        """Read what ``build_components`` returned: typed, or an older plugin's plain mapping.

        Raises:
            PluginRecordError: When it is neither, lacks an orchestrator or
                artifact store, or names a component Kitaru does not know.
        """
        if isinstance(value, StackComponents):
            return value
        if not isinstance(value, Mapping):
            raise PluginRecordError(f"build_components must return StackComponents; got {type(value).__name__}.")
        unknown = sorted(set(value) - {*COMPONENT_TARGETS, "service_connector"})
        if unknown:
            raise PluginRecordError(
                f"build_components returned unknown components {unknown}; use {', '.join(COMPONENT_TARGETS)} "
                "and service_connector."
            )
        missing = [target for target in LOCAL_TARGETS if target not in value]
        if missing:
            raise PluginRecordError(f"build_components returned no {' or '.join(missing)}.")
        registry = value.get("container_registry")
        connector = value.get("service_connector")
        return cls(
            orchestrator=ComponentSpec.coerce(value["orchestrator"], "orchestrator"),
            artifact_store=ComponentSpec.coerce(value["artifact_store"], "artifact_store"),
            container_registry=None if registry is None else ComponentSpec.coerce(registry, "container_registry"),
            service_connector=None if connector is None else ConnectorSpec.coerce(connector),
        )

    def components(self) -> list[tuple[str, ComponentSpec]]:
        """``(target, component)`` pairs in registration order, without the connector."""
        pairs = [("orchestrator", self.orchestrator), ("artifact_store", self.artifact_store)]
        if self.container_registry is not None:
            pairs.append(("container_registry", self.container_registry))
        return pairs


class BuildComponents(Protocol):
    """``build_components(spec)``: describe a new stack's engine components (no engine calls)."""

    def __call__(self, spec: StackSpec, /) -> StackComponents | Mapping[str, Any]: ...


class VerifyAccess(Protocol):
    """``verify(spec)``: check access with the provider's own SDK; raise ``KitaruUsageError`` naming the fix."""

    def __call__(self, spec: StackSpec, /) -> None: ...


class BuildArtifactStore(Protocol):
    """``build(spec)`` of an :class:`ArtifactStoreBackend`."""

    def __call__(self, spec: StackSpec, /) -> ArtifactStoreComponents | Mapping[str, Any]: ...


@dataclass(frozen=True)
class ArtifactStoreBackend:
    """How a plugin keeps artifacts at URIs of some schemes (``s3://...``).

    Every stack type of a cloud plugin uses its backend, and so can stack
    types of other plugins: a ``local`` stack created with
    ``--artifact-store s3://bucket`` runs flows in-process and borrows the AWS
    plugin's backend for its artifact store (see
    :func:`kitaru.plugins.artifact_store_backend`).

    Attributes:
        schemes: Bare URI schemes it serves (``s3``; ``az`` and ``abfs``).
        provider: The cloud provider (``aws``), which is also the pip extra.
        build: Takes a :class:`StackSpec` and returns
            :class:`ArtifactStoreComponents`. Called lazily.
        verify: Takes the same spec and checks with the provider's own SDK
            that the bucket or container exists and is writable; raises
            :class:`~kitaru.errors.KitaruUsageError` naming the fix otherwise.
        description: One line for listings.
    """

    schemes: tuple[str, ...]
    provider: str
    build: BuildArtifactStore | Callable[[Mapping[str, Any]], Mapping[str, Any]]
    verify: VerifyAccess | Callable[[Mapping[str, Any]], None] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        schemes = as_tuple(self, self.schemes, "schemes", str)
        if not schemes:
            raise PluginRecordError(f"{where(self)}: schemes is empty; list the URI schemes it serves ('s3').")
        for scheme in schemes:
            check_pattern(self, scheme, SCHEME_PATTERN, "URI scheme (bare, lowercase)", "s3")
        set_frozen(self, "schemes", schemes)
        check_name(self, self.provider, "provider")
        check_callable(self, self.build, "build", "a function taking the StackSpec and returning "
                       "ArtifactStoreComponents", required=True)
        check_callable(self, self.verify, "verify", "a function taking the StackSpec", required=False)
        check_type(self, self.description, "description", str)


@dataclass(frozen=True)
class StackProviderSpec:
    """A stack type and the cloud provider behind it.

    Stack types are unique per ``(name, provider)``: the AWS and GCP plugins
    both register ``kubernetes``, and Kitaru picks one from the artifact-store
    URI's scheme.

    Attributes:
        name: The stack type (``local``, ``sagemaker``, ...).
        provider: The cloud provider (``aws``, ``gcp``, ``azure``), or None for
            a type that runs flows in this process.
        description: One line shown by ``kitaru stack types`` and help texts.
        fields: The fields the type requires and accepts; each becomes a
            ``kitaru stack create`` flag, a ``--file`` key and an MCP
            ``manage_stack`` parameter.
        artifact_store_schemes: Deprecated: the schemes come from
            ``artifact_store_backend``.
        credential_formats: Accepted ``--credentials`` string formats
            (``aws-profile:NAME``), for help texts and error messages.
        build_components: Required. Turns a validated :class:`StackSpec`
            into :class:`StackComponents`. Called lazily, never at import.
        verify: Checks access before anything is registered (unless
            ``--no-verify``); raises a usage error naming the fix. Default:
            the ``artifact_store_backend``'s ``verify``.
        display_name: How messages name the type (``SageMaker``); defaults
            to the capitalised name.
        artifact_store_backend: Where the type keeps artifacts, by URI scheme;
            other stack types may borrow it.
        source: Filled in by the plugin manager.
    """

    name: str
    provider: str | None = None
    description: str = ""
    fields: tuple[StackField, ...] = ()
    artifact_store_schemes: tuple[str, ...] = ()
    credential_formats: tuple[str, ...] = ()
    build_components: BuildComponents | Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    verify: VerifyAccess | Callable[[Mapping[str, Any]], None] | None = None
    display_name: str = ""
    artifact_store_backend: ArtifactStoreBackend | None = None
    source: PluginSource | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_name(self, self.name, "stack type name")
        if self.provider is not None:
            check_name(self, self.provider, "provider")
        check_type(self, self.description, "description", str)
        if isinstance(self.fields, (list, tuple)):
            names = [getattr(f, "name", None) for f in self.fields]
            twice = sorted({str(name) for name in names if names.count(name) > 1})
            if twice:
                raise PluginRecordError(f"{where(self)}: fields declares a name twice: {', '.join(twice)}.")
        fields = as_tuple(self, self.fields, "fields", StackField)
        set_frozen(self, "fields", fields)
        set_frozen(self, "credential_formats", as_tuple(self, self.credential_formats, "credential_formats", str))
        check_callable(
            self, self.build_components, "build_components",
            "a function taking the StackSpec and returning StackComponents", required=True,
        )
        check_callable(self, self.verify, "verify", "a function taking the StackSpec", required=False)
        check_type(self, self.display_name, "display_name", str)
        check_type(self, self.artifact_store_backend, "artifact_store_backend", (ArtifactStoreBackend, type(None)))
        legacy = as_tuple(self, self.artifact_store_schemes, "artifact_store_schemes", str)
        set_frozen(self, "artifact_store_schemes", legacy)
        if legacy:
            backend = self.artifact_store_backend
            if backend is not None and set(legacy) != set(backend.schemes):
                raise PluginRecordError(
                    f"{where(self)}: artifact_store_schemes {legacy} disagree with its artifact_store_backend's "
                    f"{backend.schemes}; drop artifact_store_schemes."
                )
            warnings.warn(self.deprecated_forms()[0], DeprecationWarning, stacklevel=3)

    def deprecated_forms(self) -> tuple[str, ...]:
        """What this record still spells the old way, each with the fix (``kitaru plugins`` lists them)."""
        if self.artifact_store_schemes:
            return (
                f"{where(self)}: artifact_store_schemes is deprecated; the schemes come from "
                "artifact_store_backend. Drop it.",
            )
        return ()

    @property
    def schemes(self) -> tuple[str, ...]:
        """URI schemes its artifact store accepts (``s3``); empty means a local path."""
        if self.artifact_store_backend is not None:
            return self.artifact_store_backend.schemes
        return self.artifact_store_schemes

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Names of the fields this stack type requires."""
        return tuple(f.name for f in self.fields if f.required)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of every field, in declaration order."""
        return tuple(f.name for f in self.fields)

    @property
    def extra_targets(self) -> tuple[str, ...]:
        """Components ``--extra TARGET.FIELD=VALUE`` may override: a local type has no registry."""
        return COMPONENT_TARGETS if self.provider is not None else LOCAL_TARGETS

    @property
    def key(self) -> str:
        """``name`` for provider-less types, else ``name@provider`` (``kubernetes@aws``)."""
        return self.name if self.provider is None else f"{self.name}@{self.provider}"

    @property
    def title(self) -> str:
        """The name messages use: ``display_name`` or the capitalised type."""
        return self.display_name or self.name.capitalize()

    def verifier(self) -> Callable[[StackSpec], None] | None:
        """The access check to run before registering: ``verify``, else the backend's."""
        if self.verify is not None:
            return self.verify
        if self.artifact_store_backend is not None:
            return self.artifact_store_backend.verify
        return None

    def sample_spec(self, name: str = "contract-test") -> StackSpec | None:
        """A spec built from the fields' examples (optional fields without one are None).

        Returns None when a required field has no example.
        """
        if any(f.required and not f.example for f in self.fields):
            return None
        return StackSpec.for_provider(self, name, {f.name: f.example or None for f in self.fields})


__all__ = [
    "COMPONENT_TARGETS",
    "LOCAL_TARGETS",
    "RESERVED_FIELD_NAMES",
    "WELL_KNOWN_FIELDS",
    "ArtifactStoreBackend",
    "ArtifactStoreComponents",
    "BuildArtifactStore",
    "BuildComponents",
    "ComponentSpec",
    "ConnectorSpec",
    "FrozenMapping",
    "StackComponents",
    "StackField",
    "StackProviderSpec",
    "StackSpec",
    "VerifyAccess",
    "flag",
    "freeze",
    "thaw",
]

"""Typed, frozen records that plugins return from Kitaru's registration hooks.

A plugin never subclasses anything from Kitaru: it returns these records from a
hook. The plugin manager stamps each record with a :class:`PluginSource` saying
which plugin and distribution provided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class PluginSource:
    """Where a record came from.

    Attributes:
        plugin: The plugin name (the entry-point name, or ``core`` for built-ins).
        distribution: The distribution that installed the plugin.
        version: That distribution's version, or ``unknown``.
    """

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"plugin '{self.plugin}' ({self.distribution} {self.version})"


@dataclass(frozen=True)
class StackField:
    """One field a stack type accepts (``--cluster``, ``--region`` ...).

    Attributes:
        name: The field name as used in Python and YAML (``execution_role``).
        description: One line for help texts.
        required: Whether creating a stack of this type needs it.
        example: A realistic value for help texts, docs and the contract
            suite's sample spec (``arn:aws:iam::123456789012:role/kitaru``).
    """

    name: str
    description: str = ""
    required: bool = False
    example: str = ""


STACK_SPEC_DOC = """\
The *stack spec* is the plain mapping Kitaru hands to ``build_components`` and
``verify`` (and to an :class:`ArtifactStoreBackend`). Kitaru has validated it
against the type's declared fields before the call::

    {
        "name": "team",                      # the stack name; name components after it
        "artifact_store": "s3://bucket/kit", # the URI (None: the type's default)
        "credentials": "aws-profile:dev",    # raw --credentials string, or None
        "region": "eu-west-1",               # ...one key per declared field,
        "cluster": None,                     #    None when not given
        "extra": {                           # --extra TARGET.FIELD=VALUE overrides: one
            "orchestrator": {"synchronous": False},   # entry per target the type has
            #                                          (local: no container_registry)
            "artifact_store": {"client_kwargs": {"endpoint_url": "http://..."}},
            "container_registry": {},
        },
    }

``build_components`` returns the engine components to register, keyed by role::

    {
        "service_connector": {               # optional; registered first
            "name": "team",
            "connector_type": "aws",
            "auth_method": "iam-role",
            "configuration": {"region": "eu-west-1"},
        },
        "orchestrator": {
            "name": "team",
            "flavor": "sagemaker",
            "configuration": {"execution_role": "arn:..."},
            "connector": True,               # optional: link to the connector above
            "connector_resource_id": None,   # optional: the resource it reaches
        },
        "artifact_store": {...},
        "container_registry": {...},
    }
"""


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
        build: Takes a stack spec (see :data:`STACK_SPEC_DOC`) and returns
            ``{"artifact_store": {...}}`` plus, when the credentials need one,
            a ``"service_connector"`` description. Called lazily.
        verify: Takes the same spec and checks with the provider's own SDK
            that the bucket or container exists and is writable; raises
            :class:`~kitaru.errors.KitaruUsageError` naming the fix otherwise.
        description: One line for listings.
    """

    schemes: tuple[str, ...]
    provider: str
    build: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    verify: Callable[[Mapping[str, Any]], None] | None = None
    description: str = ""


@dataclass(frozen=True)
class StackProviderSpec:
    """A stack type and the cloud provider behind it.

    Stack types are unique per ``(name, provider)``: the AWS and GCP plugins
    both register ``kubernetes``, and Kitaru picks one from the artifact-store
    URI's scheme.

    Attributes:
        name: The stack type (``local``, ``sagemaker``, ...).
        provider: The cloud provider (``aws``, ``gcp``, ``azure``) or None.
        display_name: How messages name the type (``SageMaker``); defaults
            to the capitalised name.
        description: One line shown by ``kitaru plugins`` and help texts.
        fields: The fields the type requires and accepts; each is a
            ``kitaru stack create`` option (``execution_role`` is
            ``--execution-role``).
        artifact_store_schemes: URI schemes its artifact store accepts
            (``s3``); empty means a local path.
        credential_formats: Accepted ``--credentials`` string formats
            (``aws-profile:NAME``), for help texts and error messages.
        build_components: Turns a validated stack spec into the engine
            components to register (see :data:`STACK_SPEC_DOC`). Called lazily.
        verify: Checks access with the provider's own SDK; raises with a clear
            message when the bucket is missing or not writable. Called lazily,
            before anything is registered, unless ``--no-verify``.
        artifact_store_backend: The backend behind ``artifact_store_schemes``,
            which other stack types may borrow.
        source: Filled in by the plugin manager.
    """

    name: str
    provider: str | None = None
    description: str = ""
    fields: tuple[StackField, ...] = ()
    artifact_store_schemes: tuple[str, ...] = ()
    credential_formats: tuple[str, ...] = ()
    build_components: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    verify: Callable[[Mapping[str, Any]], None] | None = None
    display_name: str = ""
    artifact_store_backend: ArtifactStoreBackend | None = None
    source: PluginSource | None = field(default=None, compare=False)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Names of the fields this stack type requires."""
        return tuple(f.name for f in self.fields if f.required)

    @property
    def key(self) -> str:
        """``name`` for provider-less types, else ``name@provider`` (``kubernetes@aws``)."""
        return self.name if self.provider is None else f"{self.name}@{self.provider}"

    @property
    def title(self) -> str:
        """The name messages use: ``display_name`` or the capitalised type."""
        return self.display_name or self.name.capitalize()


@dataclass(frozen=True)
class ArtifactSerializerSpec:
    """A way to write Python values to bytes and read them back.

    Kitaru asks serializers in descending ``priority`` whether they can write a
    value; the first that can, writes it. The serializer's ``name`` is stored
    next to the bytes, so the same serializer reads them back.

    Attributes:
        name: Unique serializer name, stored with every artifact it writes.
        content_type: MIME type of the bytes (``application/json``).
        python_types: The types this serializer is meant for (for listings
            and fast matching; ``can_write`` has the final word).
        can_write: Whether this serializer can write the given value.
        write: Turns the value into bytes.
        read: Turns bytes back into a value; gets the recorded Python type
            (or None when it cannot be imported).
        priority: Higher runs first. Built-ins use 0..100.
        source: Filled in by the plugin manager.
    """

    name: str
    content_type: str
    can_write: Callable[[Any], bool]
    write: Callable[[Any], bytes]
    read: Callable[[bytes, type | None], Any]
    python_types: tuple[type, ...] = ()
    priority: int = 0
    source: PluginSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LogStoreSpec:
    """A runtime-log backend.

    The backend's ``name`` is what users choose with ``kitaru log-store set``.
    That choice is only a preference: runs send their logs wherever the
    active stack's log-store component sends them. ``flavor`` ties the two
    together, so Kitaru can tell when they disagree.

    Attributes:
        name: Backend name (``artifact-store``, ``otel``, ``datadog``).
        description: One line for listings.
        requires_endpoint: Whether ``kitaru log-store set`` needs ``--endpoint``.
        read_logs: Reads stored log entries back for ``executions logs``.
            Called with the execution id and keyword filters; returns a list of
            mappings with ``message``, ``level``, ``timestamp`` ... keys.
        flavor: The engine's log-store flavor that exports logs to this
            backend (``otel``, ``datadog``): a stack whose log-store component
            has this flavor uses this backend. ``None`` when no engine
            component stands for it (``artifact-store`` is the stack *without*
            a log-store component).
        source: Filled in by the plugin manager.
    """

    name: str
    description: str = ""
    requires_endpoint: bool = True
    read_logs: Callable[..., list[Mapping[str, Any]]] | None = None
    flavor: str | None = None
    source: PluginSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LlmRequest:
    """One model call, as Kitaru hands it to a backend's ``call``.

    Attributes:
        model: The model name after the backend's prefix (``gpt-4o-mini`` for
            ``openai/gpt-4o-mini``; ``anthropic/claude-3-5-haiku`` for
            ``openrouter/anthropic/claude-3-5-haiku``).
        messages: The conversation, each ``{"role": ..., "content": ...}``
            with role ``system``, ``user`` or ``assistant``; system messages
            come first.
        temperature: Sampling temperature, or None for the provider default.
        max_tokens: Output token limit, or None for the provider default.
    """

    model: str
    messages: tuple[Mapping[str, str], ...]
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class LlmResult:
    """What a backend's ``call`` returns.

    Attributes:
        text: The model's text answer (non-empty).
        tokens_input: Prompt tokens the provider counted, if it said.
        tokens_output: Completion tokens the provider counted, if it said.
        model: The model the provider says answered (``gpt-4o-mini-2024-07-18``),
            if it said.
    """

    text: str
    tokens_input: int | None = None
    tokens_output: int | None = None
    model: str | None = None


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, in US dollars per million tokens.

    Attributes:
        input_per_million: Price of a million prompt tokens.
        output_per_million: Price of a million completion tokens.
    """

    input_per_million: float
    output_per_million: float


@dataclass(frozen=True)
class LlmBackendSpec:
    """An LLM provider that ``kitaru.llm()`` can call.

    Attributes:
        name: Backend name (``openai``).
        prefixes: Model prefixes it serves (``openai/``).
        credential_env: Environment variables that hold its credentials
            (``OPENAI_API_KEY``); empty when it needs none (Ollama). Kitaru
            uses the environment when any of them is set, else overlays the
            model alias's secret (which must hold the first) for the call.
        extra: The pip extra that installs its SDK (``openai`` for
            ``kitaru[openai]``), named in the error when the SDK is missing.
        call: Sends an :class:`LlmRequest` with the provider's official SDK
            (imported inside the call, honouring the SDK's standard environment
            such as ``OPENAI_BASE_URL``) and returns an :class:`LlmResult`.
            Raises :class:`~kitaru.errors.KitaruUsageError` naming the extra when
            the SDK is missing; provider errors propagate.
        prices: Price per model name (after the prefix), for cost tracking.
            Models not listed have an unknown cost, shown as unknown.
        prices_as_of: The date (``2026-11-01``) the prices were read.
        default_price: The price of models missing from ``prices``; Ollama
            sets ``ModelPrice(0, 0)`` since local models cost nothing per
            token whatever their name. None: such models have an unknown cost.
        ambient_credentials: The SDK finds credentials on its own when none
            of ``credential_env`` is set and no secret is linked (AWS roles
            and profiles, Google application default credentials); Kitaru
            then lets it try (``credential_source="default chain"``).
        source: Filled in by the plugin manager.
    """

    name: str
    prefixes: tuple[str, ...]
    credential_env: tuple[str, ...] = ()
    extra: str | None = None
    call: Callable[[LlmRequest], LlmResult] | None = None
    prices: Mapping[str, ModelPrice] = field(
        default_factory=lambda: MappingProxyType({}), compare=False
    )
    prices_as_of: str = ""
    default_price: ModelPrice | None = None
    ambient_credentials: bool = False
    source: PluginSource | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Plugins may pass a plain dict; keep the record immutable anyway.
        if not isinstance(self.prices, MappingProxyType):
            object.__setattr__(self, "prices", MappingProxyType(dict(self.prices)))


HOOK_RECORD_TYPES: dict[str, type] = {
    "kitaru_stack_providers": StackProviderSpec,
    "kitaru_artifact_serializers": ArtifactSerializerSpec,
    "kitaru_log_stores": LogStoreSpec,
    "kitaru_llm_backends": LlmBackendSpec,
}
"""Which record type each registration hook returns."""

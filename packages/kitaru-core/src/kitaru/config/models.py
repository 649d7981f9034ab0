"""Configuration models: ``KitaruConfig``, ``ImageSettings`` and the frozen spec.

Every model here turns pydantic's ``ValidationError`` into a
:class:`~kitaru.errors.KitaruUsageError` that names the field and the bad value,
so users only ever see Kitaru errors. All models are immutable; derive changed
copies with :meth:`pydantic.BaseModel.model_copy` or build new ones.

This module must not import the engine (ZenML): ``import kitaru`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kitaru.config.diagnostics import closest_key
from kitaru.config.timeouts import TIMEOUT_EXPECTED, validate_timeout
from kitaru.engine import get_engine
from kitaru.engine.images import UnsupportedImageFields
from kitaru.errors import KitaruUsageError
from kitaru.masking import mask_environment

BLANK_MESSAGE = "Configuration string values cannot be empty."
SERVER_URL_MESSAGE = "Please use an http:// or https:// URL."

#: Execution fields that every precedence layer may set.
EXECUTION_FIELDS = ("stack", "image", "cache", "retries", "timeout", "checkpoint_timeout")


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _blank_error(field: str) -> KitaruUsageError:
    return KitaruUsageError(
        f"{BLANK_MESSAGE} Field '{field}' is blank; give it a value or leave it out."
    )


def usage_error_from_validation(exc: ValidationError, model: str) -> KitaruUsageError:
    """Translate a pydantic ``ValidationError`` into a ``KitaruUsageError``.

    Messages raised by Kitaru's own validators are kept verbatim; pydantic's
    generic messages get the field name, the bad value and the model name.

    Args:
        exc: The validation error to translate.
        model: Name of the model that failed, used in the message.

    Returns:
        A usage error whose message lists every problem found.
    """
    parts: list[str] = []
    for error in exc.errors():
        inner = (error.get("ctx") or {}).get("error")
        location = ".".join(str(part) for part in error.get("loc", ())) or "<root>"
        if isinstance(inner, KitaruUsageError):
            parts.append(str(inner))
        elif error.get("type") == "extra_forbidden":
            fields = ", ".join(ImageSettings.model_fields)
            suggestion = closest_key(location, ImageSettings.model_fields)
            hint = f" Did you mean `{suggestion}`?" if suggestion is not None else ""
            parts.append(f"Unknown image setting '{location}'.{hint} Valid image settings are: {fields}.")
        else:
            parts.append(_invalid_value(model, error))
    return KitaruUsageError(" ".join(dict.fromkeys(parts)))


EXPECTED_VALUES: dict[str, str] = {
    "stack": "a stack name or id (a string)",
    "cache": "true or false",
    "retries": "a whole number >= 0",
    "timeout": TIMEOUT_EXPECTED,
    "checkpoint_timeout": TIMEOUT_EXPECTED,
    "server_url": "an http:// or https:// URL",
    "auth_token": "a string",
    "project": "a project name or id (a string)",
    "image.base_image": "an image name (a string)",
    "image.requirements": "a list of pip requirements (strings)",
    "image.dockerfile": "a path (a string)",
    "image.build_context_root": "a path (a string)",
    "image.environment": "a mapping of variable names to strings",
    "image.apt_packages": "a list of package names (strings)",
    "image.replicate_local_python_environment": "true or false",
    "image.image_tag": "a string",
    "image.target_repository": "a string",
    "image.user": "a string",
    "image.platform": "a platform such as linux/amd64 (a string)",
}
"""What each setting takes, by dotted key, for messages about a wrong value."""


def _invalid_value(model: str, error: Any) -> str:
    """``'retries' must be a whole number >= 0; got 'three'.``, naming the dotted key.

    Image settings are named ``image.<field>``; a key with no entry in
    :data:`EXPECTED_VALUES` (a list item, say) keeps pydantic's own words.
    """
    location = ".".join(str(part) for part in error.get("loc", ())) or "<root>"
    if model == "ImageSettings":
        location = f"image.{location}"
    got = _short_repr(error.get("input"))
    expected = EXPECTED_VALUES.get(location)
    if expected is not None:
        return f"'{location}' must be {expected}; got {got} ({error.get('msg')})."
    return f"Invalid value for '{location}': {error.get('msg')} (got {got})."


class _KitaruModel(BaseModel):
    """Base model that reports validation problems as ``KitaruUsageError``."""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise usage_error_from_validation(exc, type(self).__name__) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise usage_error_from_validation(exc, cls.__name__) from None


def _clean_string(value: Any, field: str) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise _blank_error(field)
    return value


class ImageSettings(_KitaruModel):
    """Container image settings for remote execution.

    All fields are optional; ``parent_image`` is accepted as an alias of
    ``base_image``. Blank strings are rejected. Environment values may be empty
    strings, but their keys may not.

    Attributes:
        base_image: Image to build on (ZenML's ``parent_image``).
        requirements: Extra pip requirements to install.
        dockerfile: Path of a Dockerfile to build the parent image from.
        build_context_root: Build context directory for ``dockerfile``.
        environment: Environment variables baked into the image.
        apt_packages: System packages to install.
        replicate_local_python_environment: Install the local environment's packages.
        image_tag: Tag for the built image.
        target_repository: Repository to push the built image to.
        user: User the container runs as.
        platform: Target platform, for example ``linux/amd64``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_image: str | None = None
    requirements: list[str] | None = None
    dockerfile: str | None = None
    build_context_root: str | None = None
    environment: dict[str, str] | None = None
    apt_packages: list[str] | None = None
    replicate_local_python_environment: bool | None = None
    image_tag: str | None = None
    target_repository: str | None = None
    user: str | None = None
    platform: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_parent_image(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "parent_image" in data:
            data = dict(data)
            parent = data.pop("parent_image")
            base = data.get("base_image")
            if base is not None and parent is not None and base != parent:
                raise KitaruUsageError(
                    f"Image settings give both base_image={base!r} and "
                    f"parent_image={parent!r}. Set only base_image."
                )
            if base is None:
                data["base_image"] = parent
        return data

    @field_validator(
        "base_image",
        "dockerfile",
        "build_context_root",
        "image_tag",
        "target_repository",
        "user",
        "platform",
        mode="before",
    )
    @classmethod
    def _reject_blank(cls, value: Any, info: Any) -> Any:
        return _clean_string(value, f"image.{info.field_name}")

    @field_validator("requirements", "apt_packages", mode="after")
    @classmethod
    def _reject_blank_items(cls, value: list[str] | None, info: Any) -> list[str] | None:
        if value is None:
            return None
        return [_clean_string(item, f"image.{info.field_name}[{index}]") for index, item in enumerate(value)]

    @field_validator("environment", mode="before")
    @classmethod
    def _stringify_environment(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: str(item) if isinstance(item, int | float) and not isinstance(item, bool) else item
                for key, item in value.items()
            }
        return value

    @field_validator("environment", mode="after")
    @classmethod
    def _reject_blank_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            for key in value:
                if not key.strip():
                    raise _blank_error("image.environment key")
        return value

    def is_empty(self) -> bool:
        """Return whether no field is set."""
        return not self.model_dump(exclude_none=True)


def coerce_image(value: Any) -> ImageSettings | None:
    """Turn any accepted image input into :class:`ImageSettings`.

    Args:
        value: ``None``, an image name (used as ``base_image``), a mapping of
            image fields (``parent_image`` allowed as alias of ``base_image``),
            an ``ImageSettings`` or a ZenML ``DockerSettings``.

    Returns:
        The image settings, or ``None`` when ``value`` is ``None``.

    Raises:
        KitaruUsageError: If the value has an unsupported type or bad fields.
    """
    if value is None or isinstance(value, ImageSettings):
        return value
    if isinstance(value, str):
        return ImageSettings(base_image=value)
    if isinstance(value, Mapping):
        return ImageSettings.model_validate(dict(value))
    if isinstance(value, BaseModel):  # the engine's own image settings (ZenML's DockerSettings)
        try:
            fields = get_engine().images.from_engine(value)
        except UnsupportedImageFields as exc:
            raise KitaruUsageError(
                f"These DockerSettings fields have no Kitaru image equivalent: {exc}. Pass "
                "ImageSettings instead, or set them on the stack's image builder."
            ) from None
        if fields is not None:
            return ImageSettings.model_validate(fields)
    raise KitaruUsageError(
        f"Unsupported image value {_short_repr(value)} of type {type(value).__name__}. "
        "Use an image name string, a mapping of image settings, ImageSettings or DockerSettings."
    )


def validate_server_url(value: str) -> str:
    """Check that ``value`` is an http(s) URL and strip trailing slashes.

    Args:
        value: The server URL.

    Returns:
        The URL without trailing ``/``.

    Raises:
        KitaruUsageError: If the URL is not http(s) or has no host.
    """
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise KitaruUsageError(f"Invalid Kitaru server URL {value!r}. {SERVER_URL_MESSAGE}")
    return value.rstrip("/")


class KitaruConfig(_KitaruModel):
    """Kitaru settings: execution options plus connection details.

    Unknown fields are ignored; blank strings are rejected.

    Attributes:
        stack: Name or ID of the stack to run on.
        image: Container image settings for remote stacks.
        cache: Whether checkpoint results may be reused from earlier runs.
        retries: How often a failing checkpoint is retried (``>= 0``).
        timeout: Seconds one run of a flow body may take (None: no limit).
        checkpoint_timeout: Seconds a checkpoint attempt may take when its
            ``@checkpoint`` sets no ``timeout`` (None: no limit).
        server_url: Kitaru server URL (http/https, no trailing ``/``).
        auth_token: API key or token for the server.
        project: Project on the server.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    stack: str | None = None
    image: ImageSettings | None = None
    cache: bool | None = None
    retries: int | None = Field(default=None, ge=0)
    timeout: float | None = None
    checkpoint_timeout: float | None = None
    server_url: str | None = None
    auth_token: str | None = None
    project: str | None = None

    @field_validator("timeout", "checkpoint_timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any, info: Any) -> Any:
        try:
            return validate_timeout(value, what=info.field_name)
        except KitaruUsageError:
            raise KitaruUsageError(f"'{info.field_name}' must be {TIMEOUT_EXPECTED}; got {_short_repr(value)}.") from None

    @field_validator("stack", "server_url", "auth_token", "project", mode="before")
    @classmethod
    def _reject_blank(cls, value: Any, info: Any) -> Any:
        return _clean_string(value, info.field_name)

    @field_validator("image", mode="before")
    @classmethod
    def _coerce_image(cls, value: Any) -> Any:
        return coerce_image(value)

    @field_validator("retries", mode="before")
    @classmethod
    def _reject_bool_retries(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise KitaruUsageError(f"retries must be a whole number >= 0, got {value!r}.")
        return value

    @field_validator("server_url", mode="after")
    @classmethod
    def _check_server_url(cls, value: str | None) -> str | None:
        return None if value is None else validate_server_url(value)

    def execution_layer(self) -> dict[str, Any]:
        """Return the execution fields that are set, as a precedence layer."""
        return {name: getattr(self, name) for name in EXECUTION_FIELDS if getattr(self, name) is not None}


def validate_execution_layer(data: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Validate one precedence layer (``stack``, ``image``, ``cache``, ``retries``).

    Args:
        data: The layer; ``None`` values mean "not set".
        source: Where the layer comes from, used in error messages.

    Returns:
        The set values, with ``image`` as :class:`ImageSettings`.

    Raises:
        KitaruUsageError: For the legacy ``runner`` key, unknown keys or bad values.
    """
    if "runner" in data:
        raise KitaruUsageError(
            f"{source}: 'runner' was renamed to 'stack'. Replace runner={data['runner']!r} "
            "with stack=..."
        )
    unknown = sorted(str(key) for key in data if key not in EXECUTION_FIELDS)
    if unknown:
        raise KitaruUsageError(
            f"{source}: unknown execution option(s) {', '.join(unknown)}. "
            f"Valid options are: {', '.join(EXECUTION_FIELDS)}."
        )
    try:
        config = KitaruConfig(**{key: value for key, value in data.items() if value is not None})
    except KitaruUsageError as exc:
        raise KitaruUsageError(f"{source}: {exc}") from None
    layer = config.execution_layer()
    if "image" in layer and layer["image"].is_empty():
        del layer["image"]
    return layer


class ResolvedExecutionConfig(_KitaruModel):
    """The execution options after applying every precedence layer.

    Attributes:
        stack: Stack to run on (``None`` = the active stack).
        image: Merged image settings, or ``None`` when no layer set any.
        cache: Whether caching is enabled.
        retries: Checkpoint retries.
        timeout: Seconds one run of the flow body may take, or None.
        checkpoint_timeout: Seconds a checkpoint attempt may take when its
            decorator sets none, or None.
        layers: For each field, the layer that set it: ``default``,
            ``active_stack``, ``global``, ``pyproject``, ``env``, ``configure``,
            ``decorator`` or ``call``. ``image`` lists every contributing layer
            joined by ``+`` (for example ``pyproject+call``). The timeouts are
            listed only when a layer set them.
    """

    model_config = ConfigDict(frozen=True)

    stack: str | None = None
    image: ImageSettings | None = None
    cache: bool = True
    retries: int = Field(default=0, ge=0)
    timeout: float | None = None
    checkpoint_timeout: float | None = None
    layers: dict[str, str] = Field(default_factory=dict)


def mask_image(image: ImageSettings | None) -> ImageSettings | None:
    """Return ``image`` with secret-looking environment values masked."""
    if image is None or not image.environment:
        return image
    return image.model_copy(update={"environment": mask_environment(image.environment)})


def _rename_runner(data: Any) -> Any:
    if isinstance(data, Mapping) and "runner" in data:
        data = dict(data)
        runner = data.pop("runner")
        data.setdefault("stack", runner)
    return data


class FrozenResolvedExecution(_KitaruModel):
    """Resolved execution options recorded with a run."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stack: str | None = None
    image: ImageSettings | None = None
    cache: bool | None = None
    retries: int | None = None
    timeout: float | None = None
    checkpoint_timeout: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_runner(cls, data: Any) -> Any:
        return _rename_runner(data)

    @field_validator("image", mode="before")
    @classmethod
    def _coerce_image(cls, value: Any) -> Any:
        return coerce_image(value)


class FrozenConnection(_KitaruModel):
    """Connection recorded with a run. The auth token is never stored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    server_url: str | None = None
    project: str | None = None


class FrozenExecutionSpec(_KitaruModel):
    """Everything needed to know later how an execution was configured.

    Stored as ``kitaru_execution_spec`` run metadata (SPEC §3.7). Secret-looking
    image environment values are masked and the auth token is dropped when the
    spec is built or loaded; the legacy ``runner`` key is read as ``stack``.

    Attributes:
        version: Schema version, currently 1.
        resolved_execution: Resolved stack, image, cache, retries and timeouts.
        flow_defaults: The options given to ``@flow(...)``.
        connection: Server URL and project (never the token).
        model_registry: Snapshot of the LLM model alias registry.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    CURRENT_VERSION: ClassVar[int] = 1

    version: int = 1
    resolved_execution: FrozenResolvedExecution = Field(default_factory=FrozenResolvedExecution)
    flow_defaults: KitaruConfig = Field(default_factory=KitaruConfig)
    connection: FrozenConnection = Field(default_factory=FrozenConnection)
    model_registry: dict[str, Any] | None = None

    @field_validator("flow_defaults", mode="before")
    @classmethod
    def _legacy_flow_defaults(cls, value: Any) -> Any:
        return _rename_runner(value)

    @field_validator("resolved_execution", mode="after")
    @classmethod
    def _mask_resolved(cls, value: FrozenResolvedExecution) -> FrozenResolvedExecution:
        return value.model_copy(update={"image": mask_image(value.image)})

    @field_validator("flow_defaults", mode="after")
    @classmethod
    def _scrub_flow_defaults(cls, value: KitaruConfig) -> KitaruConfig:
        return value.model_copy(update={"image": mask_image(value.image), "auth_token": None})

"""Kitaru's hook specifications.

Every hook is a *registration hook*: it takes no arguments and returns an
iterable of typed, frozen records (see :mod:`kitaru.plugins.records`). Plugins
implement any subset of them with ``@kitaru.hookimpl``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from kitaru.plugins.records import (
    ArtifactSerializerSpec,
    LlmBackendSpec,
    LogStoreSpec,
    StackProviderSpec,
)

PROJECT_NAME = "kitaru"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def kitaru_stack_providers() -> Iterable[StackProviderSpec]:
    """Register stack types.

    Example::

        @kitaru.hookimpl
        def kitaru_stack_providers():
            yield StackProviderSpec(
                name="shelf",
                description="Runs in-process; artifacts in a directory.",
                fields=(StackField("shelf_dir", "Where artifacts go.", required=True, example="~/shelf"),),
                build_components=lambda spec: StackComponents(
                    orchestrator=ComponentSpec("local"),
                    artifact_store=ComponentSpec("local", {"path": spec.require("shelf_dir")}),
                ),
            )

    Returns:
        The stack types this plugin provides.

    .. versionadded:: 0.1.0
    """


@hookspec
def kitaru_artifact_serializers() -> Iterable[ArtifactSerializerSpec]:
    """Register artifact serializers.

    Example::

        @kitaru.hookimpl
        def kitaru_artifact_serializers():
            yield ArtifactSerializerSpec(
                name="text", content_type="text/plain",
                can_write=lambda v: isinstance(v, str),
                write=str.encode, read=lambda data, _type: data.decode(),
            )

    Returns:
        The serializers this plugin provides.

    .. versionadded:: 0.1.0
    """


@hookspec
def kitaru_log_stores() -> Iterable[LogStoreSpec]:
    """Register runtime-log backends.

    Example::

        @kitaru.hookimpl
        def kitaru_log_stores():
            yield LogStoreSpec(name="otel", requires_endpoint=True)

    Returns:
        The log stores this plugin provides.

    .. versionadded:: 0.1.0
    """


@hookspec
def kitaru_llm_backends() -> Iterable[LlmBackendSpec]:
    """Register LLM backends for ``kitaru.llm()``.

    Example::

        @kitaru.hookimpl
        def kitaru_llm_backends():
            yield LlmBackendSpec(
                name="echo", prefixes=("echo/",), default_price=ModelPrice(0, 0),
                call=lambda request: LlmResult(text=request.messages[-1]["content"]),
            )

    Returns:
        The LLM backends this plugin provides.

    .. versionadded:: 0.1.0
    """

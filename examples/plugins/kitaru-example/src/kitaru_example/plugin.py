"""Hook implementations of the ``example`` plugin: what it provides, and nothing else.

Kitaru finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.kitaru]
    example = "kitaru_example.plugin"

Every hook takes no arguments and yields typed records; the records and the
functions they point to live next to this module, one module per kind.
``kitaru plugins`` imports this module, so it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
from kitaru.plugins.records import ArtifactSerializerSpec, LlmBackendSpec, LogStoreSpec, StackProviderSpec

from kitaru_example.llm import ECHO_BACKEND
from kitaru_example.log_store import EXAMPLE_LOG_STORE
from kitaru_example.serializers import NOTE_SERIALIZER
from kitaru_example.stacks import SHELF_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_stack_providers() -> Iterator[StackProviderSpec]:
    """Register the ``shelf`` stack type (``kitaru stack create NAME --type shelf --shelf-dir DIR``)."""
    yield SHELF_STACK_PROVIDER


@kitaru.hookimpl
def kitaru_artifact_serializers() -> Iterator[ArtifactSerializerSpec]:
    """Register the serializer that stores :class:`~kitaru_example.notes.Note` values."""
    yield NOTE_SERIALIZER


@kitaru.hookimpl
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the offline ``echo/`` models for ``kitaru.llm()``."""
    yield ECHO_BACKEND


@kitaru.hookimpl
def kitaru_log_stores() -> Iterator[LogStoreSpec]:
    """Register the ``example-jsonl`` log store."""
    yield EXAMPLE_LOG_STORE

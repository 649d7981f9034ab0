"""Core's own plugin (``core``): what Kitaru registers through its hooks without any extra.

Core's serializers and its LLM backends for OpenAI and OpenRouter go through
the same hooks as any third-party plugin (see ``kitaru plugins``). The
records only describe; their SDKs are imported when a call is made. Core's
hookimpls are ``tryfirst``, so a plugin reusing a built-in name loses (and is
reported) unless it marks its own hookimpl ``tryfirst`` to override on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

from kitaru.llm_backends.anthropic_backend import ANTHROPIC_BACKEND
from kitaru.llm_backends.openai_backend import OPENAI_BACKEND
from kitaru.llm_backends.openrouter_backend import OPENROUTER_BACKEND
from kitaru.plugins.hookspecs import hookimpl
from kitaru.plugins.records import LlmBackendSpec
from kitaru.serializers.builtin import kitaru_artifact_serializers

__all__ = ["kitaru_artifact_serializers", "kitaru_llm_backends"]


@hookimpl(tryfirst=True)  # core's names win a conflict unless a plugin also says tryfirst
def kitaru_llm_backends() -> Iterator[LlmBackendSpec]:
    """Register the OpenAI, Anthropic and OpenRouter backends (SDKs from the extras)."""
    yield OPENAI_BACKEND
    yield ANTHROPIC_BACKEND
    yield OPENROUTER_BACKEND

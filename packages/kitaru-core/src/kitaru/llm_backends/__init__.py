"""LLM backends that core ships: ``openai`` and ``openrouter``.

Each module holds one backend's record (an
:class:`~kitaru.plugins.records.LlmBackendSpec`) and the ``call`` behind it;
core's built-in plugin yields the records from ``kitaru_llm_backends``.
Backends that speak OpenAI's Chat Completions protocol share
:mod:`kitaru.llm_backends.openai_compatible`, which the ``ollama`` backend
(kitaru-local) and the ``azure`` backend (kitaru-azure) use too.

Importing this package is cheap: SDKs are imported only when a model is called.
"""

from __future__ import annotations

from kitaru.llm_backends.openai_backend import OPENAI_BACKEND
from kitaru.llm_backends.openrouter_backend import OPENROUTER_BACKEND

__all__ = ["OPENAI_BACKEND", "OPENROUTER_BACKEND"]

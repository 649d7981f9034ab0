"""Kitaru's built-in LLM backends, one module per provider SDK.

Each ``*_backend`` module holds one backend's record (an
:class:`~kitaru.plugins.records.LlmBackendSpec`, e.g. ``OPENAI_BACKEND``) and
the ``call`` behind it; core's built-in plugin yields the records from
``kitaru_llm_backends``. Backends speaking OpenAI's Chat Completions protocol
(``openai``, ``openrouter``, and the ``ollama`` and ``azure`` backends of
kitaru-local and kitaru-azure) share :mod:`kitaru.llm_backends.openai_compatible`.

Nothing is imported here, and no module imports its SDK before a model is
called, so importing a backend module is cheap.
"""

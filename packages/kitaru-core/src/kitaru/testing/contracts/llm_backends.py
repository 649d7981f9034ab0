"""Contract for ``kitaru_llm_backends()`` records."""

from __future__ import annotations

import re

import pytest

from kitaru.plugins.records import LlmBackendSpec
from kitaru.testing.contracts._base import RecordContract, assert_valid_name

PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*/$")
"""A model prefix: a lowercase provider name and a slash (``openai/``)."""

ENV_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""An environment variable name (``OPENAI_API_KEY``)."""


class LlmBackendContract(RecordContract):
    """Checks a :class:`~kitaru.plugins.LlmBackendSpec`.

    Fixtures:
        llm_backend: The record under test (required).
    """

    record_type = LlmBackendSpec
    kind = "LLM backend"

    @pytest.fixture
    def contract_record(self, llm_backend: LlmBackendSpec) -> LlmBackendSpec:
        return llm_backend

    def test_prefixes_are_provider_slashes(self, llm_backend: LlmBackendSpec) -> None:
        assert isinstance(llm_backend.prefixes, tuple) and llm_backend.prefixes, (
            f"{llm_backend.name!r} serves no model prefix; give one like 'openai/'"
        )
        for prefix in llm_backend.prefixes:
            assert isinstance(prefix, str) and PREFIX_PATTERN.match(prefix), (
                f"Prefix {prefix!r} must be a lowercase provider name ending in '/'"
            )
        assert len(llm_backend.prefixes) == len(set(llm_backend.prefixes))

    def test_credential_env_names_are_env_variables(self, llm_backend: LlmBackendSpec) -> None:
        assert isinstance(llm_backend.credential_env, tuple)
        for variable in llm_backend.credential_env:
            assert isinstance(variable, str) and ENV_PATTERN.match(variable), (
                f"{variable!r} is not an environment variable name like 'OPENAI_API_KEY'"
            )

    def test_extra_is_none_or_a_valid_name(self, llm_backend: LlmBackendSpec) -> None:
        if llm_backend.extra is not None:
            assert_valid_name(llm_backend.extra, "extra")

    def test_call_is_callable_or_none(self, llm_backend: LlmBackendSpec) -> None:
        assert llm_backend.call is None or callable(llm_backend.call)

"""Contract for ``kitaru_llm_backends()`` records.

The record checks its own shape when built (prefixes, environment variable
names, a ``call``); this suite checks what only a reviewer would notice.
"""

from __future__ import annotations

import datetime

import pytest

from kitaru.plugins.records import LlmBackendSpec
from kitaru.testing.contracts._base import RecordContract


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

    def test_prices_say_when_they_were_read(self, llm_backend: LlmBackendSpec) -> None:
        """Prices go stale; ``prices_as_of`` tells users how stale (an ISO date, not in the future)."""
        if not llm_backend.prices:
            return  # a free local model's default_price of 0 goes stale never
        try:
            as_of = datetime.date.fromisoformat(llm_backend.prices_as_of)
        except ValueError:
            pytest.fail(
                f"{llm_backend.name!r} lists prices but prices_as_of is {llm_backend.prices_as_of!r}; "
                "give the date you read them, like '2026-11-01'."
            )
        assert as_of <= datetime.date.today() + datetime.timedelta(days=1), (
            f"prices_as_of {as_of} of {llm_backend.name!r} is in the future"
        )

    def test_a_backend_without_credentials_says_where_they_come_from(self, llm_backend: LlmBackendSpec) -> None:
        """A backend needs credential variables, ambient credentials, or costs nothing (a local model)."""
        local = llm_backend.default_price is not None and llm_backend.default_price.input_per_million == 0
        assert llm_backend.credential_env or llm_backend.ambient_credentials or local, (
            f"{llm_backend.name!r} names no credential_env, has no ambient_credentials and is not a "
            "free local model; say which environment variables hold its key."
        )

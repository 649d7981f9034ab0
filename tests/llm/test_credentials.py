"""Where an LLM call's credentials come from: the environment, else the alias's secret.

In-process against the session store's real secrets; the backends are the
installed records, so their ``credential_env`` is what users get.
"""

from __future__ import annotations

import os
import uuid

import pytest

from kitaru._llm.credentials import credentials_for
from kitaru._llm.secret_store import create_private_secret
from kitaru.errors import KitaruRuntimeError
from kitaru.plugins import get_plugin_manager


def backend(name: str):  # noqa: ANN201
    return get_plugin_manager().llm_backends()[name]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_any_listed_variable_counts_as_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-only")
    with credentials_for(backend("anthropic"), None, "anthropic/claude-haiku-4-5") as source:
        assert source == "environment"


def test_without_environment_or_secret_the_error_says_how_to_fix_it() -> None:
    with pytest.raises(KitaruRuntimeError) as excinfo:
        with credentials_for(backend("openai"), None, "openai/gpt-4o-mini"):
            pass
    message = str(excinfo.value)
    assert "set OPENAI_API_KEY" in message and "--secret" in message


def test_ambient_credentials_let_the_sdk_find_its_own() -> None:
    with credentials_for(backend("bedrock"), None, "bedrock/amazon.nova-lite-v1:0") as source:
        assert source == "default chain"


def test_a_linked_secret_is_overlaid_for_the_call_only() -> None:
    name = f"openai-{uuid.uuid4().hex[:8]}"
    create_private_secret(name, {"OPENAI_API_KEY": "sk-from-secret", "OPENAI_ORG_ID": "org-1"})
    with credentials_for(backend("openai"), name, "openai/gpt-4o-mini") as source:
        assert source == "secret"
        assert os.environ["OPENAI_API_KEY"] == "sk-from-secret"
        assert os.environ["OPENAI_ORG_ID"] == "org-1"
    assert "OPENAI_API_KEY" not in os.environ and "OPENAI_ORG_ID" not in os.environ


def test_a_secret_without_the_key_is_named() -> None:
    name = f"wrong-{uuid.uuid4().hex[:8]}"
    create_private_secret(name, {"SOMETHING_ELSE": "x"})
    with pytest.raises(KitaruRuntimeError, match=f"Secret '{name}' .* has no OPENAI_API_KEY key"):
        with credentials_for(backend("openai"), name, "openai/gpt-4o-mini"):
            pass

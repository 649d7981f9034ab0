"""Azurite, Microsoft's Azure Storage emulator, for the Azure plugin's tests.

The ``azurite`` fixture (from ``tests.cloud.emulators``, which ``tests/team``
shares) starts Azurite's blob service once per test session
from ``tools/emulators`` (an npm project pinning Azurite), on a free port of
127.0.0.1 with its data in a temporary directory, and stops it at the end.
When ``tools/emulators/node_modules`` is missing the fixture installs it with
``npm ci --prefix tools/emulators``. Without npm the Azurite tests are skipped
with the reason, except in CI (``CI`` set), where that is a failure.

Azurite serves the well-known development account ``devstoreaccount1`` with
its published key; tests reach it with a connection string, exactly like a
user who exports ``AZURE_STORAGE_CONNECTION_STRING``. ``registry`` (from
``tests.cloud.engine``) registers built descriptions with the engine.
"""

from __future__ import annotations

import pytest

from tests.cloud.emulators import (  # noqa: F401  (the session fixture, shared by import)
    AZURE_STORAGE_ENV,
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    Azurite,
    azurite_fixture,
    connection_string,
)
from tests.cloud.engine import registry  # noqa: F401  (the fixture, shared by import)


@pytest.fixture
def no_azure_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Clear every ``AZURE_STORAGE_*`` credential variable for the test."""
    for name in AZURE_STORAGE_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def azurite_env(azurite: Azurite, no_azure_env: pytest.MonkeyPatch) -> Azurite:
    """Azurite reachable through ``AZURE_STORAGE_CONNECTION_STRING`` (and nothing else)."""
    no_azure_env.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return azurite

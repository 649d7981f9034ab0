"""Credentials for one LLM call: the environment, else the model alias's secret.

A backend's SDK reads its standard environment variables (``OPENAI_API_KEY``).
When any of the backend's ``credential_env`` is set, that is used
(``credential_source="environment"``). Otherwise the secret linked to the
model alias (``kitaru model register fast --model openai/gpt-4o-mini --secret
openai``) is loaded and its keys are overlaid on the environment for the
duration of the call only (``"secret"``). Backends that need no credentials
(Ollama) report ``"none"``; backends whose SDK finds credentials on its own
(AWS roles and profiles, Google default credentials) report ``"default
chain"`` when neither is there.

The overlay changes ``os.environ``, which is process-wide, so overlaid calls
take a lock: two such calls in parallel threads run one after the other.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from kitaru._llm.secrets import secret_values
from kitaru.errors import KitaruRuntimeError
from kitaru.plugins.records import LlmBackendSpec

_overlay_lock = threading.RLock()


@contextlib.contextmanager
def credentials_for(backend: LlmBackendSpec, secret: str | None, model: str) -> Iterator[str]:
    """Make the backend's credentials visible to its SDK for one call.

    Args:
        backend: The backend about to be called.
        secret: The secret linked to the model alias, if any.
        model: The model, for messages.

    Yields:
        The credential source: ``environment``, ``secret`` or ``none``.

    Raises:
        KitaruRuntimeError: When neither the environment nor a secret provides
            the credentials, or the secret lacks the key.
        KitaruBackendError: When the secret store cannot be read.
    """
    if not backend.credential_env:
        yield "none"
        return
    variable = backend.credential_env[0]
    if any(os.environ.get(name, "").strip() for name in backend.credential_env):
        yield "environment"
        return
    if secret is None and backend.ambient_credentials:
        yield "default chain"
        return
    if secret is None:
        raise KitaruRuntimeError(
            f"No credentials for {model}: set {variable}, or link a secret to the model alias "
            f"(kitaru secrets set {backend.name} --{variable}=...; kitaru model register ALIAS "
            f"--model {model} --secret {backend.name})."
        )
    values = secret_values(secret)
    if variable not in values:
        raise KitaruRuntimeError(
            f"Secret '{secret}' linked to {model} has no {variable} key. Add it with: "
            f"kitaru secrets set {secret} --{variable}=..."
        )
    with _overlay_lock:
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update({key: str(value) for key, value in values.items()})
        try:
            yield "secret"
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

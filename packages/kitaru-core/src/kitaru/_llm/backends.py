"""Find the installed backend for a ``provider/model`` string.

``openai/gpt-4o-mini`` goes to the backend registered for the ``openai/``
prefix; the longest matching prefix wins, so a plugin may claim a narrower
one. When no installed plugin serves a first-party provider, the error names
the extra that installs it.
"""

from __future__ import annotations

from kitaru.errors import KitaruUsageError
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import LlmBackendSpec

PROVIDER_EXTRAS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "ollama": "openai",
    "openrouter": "openai",
    "bedrock": "aws",
    "vertex": "gcp",
    "azure": "azure",
}
"""First-party providers and the extra that installs their backend or SDK."""

OUTSIDE_A_BACKEND = (
    "To use another provider, call its SDK inside a @checkpoint: the checkpoint is then "
    "the durable, replayable unit."
)


def split_model(model: str) -> tuple[str, str]:
    """``"openai/gpt-4o"`` → ``("openai", "gpt-4o")``; nested names keep their slashes.

    Raises:
        KitaruUsageError: When there is no provider prefix or no model name.
    """
    provider, separator, name = model.strip().partition("/")
    if not separator or not provider.strip() or not name.strip():
        raise KitaruUsageError(
            f"Model {model!r} needs the form provider/model (for example openai/gpt-4o-mini or "
            f"anthropic/claude-3-5-haiku-latest). {OUTSIDE_A_BACKEND}"
        )
    return provider.strip().lower(), name.strip()


def backend_for(model: str) -> tuple[LlmBackendSpec, str]:
    """The backend serving ``model`` and the model name it gets.

    Args:
        model: A ``provider/model`` string.

    Returns:
        The backend and the name after its prefix.

    Raises:
        KitaruUsageError: For a malformed model, a provider whose plugin is
            not installed (naming the extra), or an unknown provider.
    """
    provider, _ = split_model(model)
    text = model.strip()
    lowered = text.lower()
    best: tuple[LlmBackendSpec, str] | None = None
    for backend in get_plugin_manager().llm_backends().values():
        for prefix in backend.prefixes:
            if lowered.startswith(prefix) and (best is None or len(prefix) > len(best[1])):
                best = (backend, prefix)
    if best is not None:
        backend, prefix = best
        return backend, text[len(prefix):]
    extra = PROVIDER_EXTRAS.get(provider)
    if extra is not None:
        raise KitaruUsageError(
            f"Model {model!r} needs the {provider} backend. Install with: pip install kitaru[{extra}]"
        )
    installed = sorted({p for b in get_plugin_manager().llm_backends().values() for p in b.prefixes})
    raise KitaruUsageError(
        f"No installed LLM backend serves {model!r}. Installed prefixes: "
        f"{', '.join(installed) or 'none'}. {OUTSIDE_A_BACKEND}"
    )

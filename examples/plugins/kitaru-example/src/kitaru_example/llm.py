"""The ``echo/`` LLM backend: an offline model that answers from the prompt.

``kitaru.llm("...", model="echo/parrot")`` never leaves the process: the
answer is computed from the last user message, so it is the same on every
run, costs nothing and needs no key. That makes it useful for tests and demos
of flows that call models, and it shows everything a real backend does:
Kitaru hands ``call`` an :class:`~kitaru.plugins.records.LlmRequest` and
journals what the :class:`~kitaru.plugins.records.LlmResult` reports (text,
tokens, model).

Models (the name after ``echo/``):

* ``parrot``: repeats the last user message;
* ``shout``: repeats it in capitals.

Tokens are counted as whitespace-separated words. ``max_tokens`` cuts the
answer to that many words, as a real model stops at its output limit.
A real backend would import its provider's SDK inside ``call`` (never at
module level) and let the provider's errors propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kitaru.errors import KitaruUsageError
from kitaru.plugins.records import LlmBackendSpec, LlmRequest, LlmResult, ModelPrice

ECHO_MODELS: dict[str, Callable[[str], str]] = {
    "parrot": lambda text: text,
    "shout": str.upper,
}
"""Model name → how it turns the last user message into the answer."""


def count_tokens(text: str) -> int:
    """The echo models' token count: whitespace-separated words."""
    return len(text.split())


def last_user_message(messages: tuple[Mapping[str, str], ...]) -> str:
    """The content of the last ``user`` message (Kitaru puts system messages first)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message.get("content", "")
    return ""


def call_echo(request: LlmRequest) -> LlmResult:
    """Answer ``request`` with an echo model.

    Args:
        request: The call; ``request.model`` is ``parrot`` or ``shout``.

    Returns:
        The answer, the prompt's and the answer's word counts, and the model
        as ``echo-<name>``.

    Raises:
        KitaruUsageError: For a model name the backend does not have.
    """
    answer = ECHO_MODELS.get(request.model)
    if answer is None:
        raise KitaruUsageError(
            f"The echo backend has no model {request.model!r}. "
            f"Use one of: {', '.join('echo/' + name for name in ECHO_MODELS)}."
        )
    words = answer(last_user_message(request.messages)).split()
    if request.max_tokens is not None:
        words = words[: request.max_tokens]
    text = " ".join(words) or "(nothing to echo)"
    return LlmResult(
        text=text,
        tokens_input=sum(count_tokens(message.get("content", "")) for message in request.messages),
        tokens_output=count_tokens(text),
        model=f"echo-{request.model}",
    )


ECHO_BACKEND = LlmBackendSpec(
    name="echo",
    prefixes=("echo/",),
    credential_env=(),  # nothing to authenticate: Kitaru records credential_source "none"
    extra=None,  # no SDK to install
    call=call_echo,
    default_price=ModelPrice(input_per_million=0.0, output_per_million=0.0),
)
"""The record :mod:`kitaru_example.plugin` registers for ``echo/*`` models."""

"""A flow that calls ``kitaru.llm()`` three times, for the dashboard's LLM test (run from this directory).

``python llm_ui_flows.py TOPIC`` runs :func:`ui_llm_writer` and prints
``EXEC <id>`` and ``STATUS <status>``. The provider is whatever
``OPENAI_BASE_URL`` points at (the test's local OpenAI-protocol server).

Two calls are made in the flow body (each becomes its own ``llm_call``
checkpoint) and one inside a user checkpoint (recorded on that checkpoint),
so the dashboard's LLM tables are checked for both places a call can run.
"""

from __future__ import annotations

import sys

import kitaru

MODEL = "openai/gpt-4o-mini"
"""The model every call asks for; the test prices it in ``kitaru.yaml``."""

CALL_NAMES = ("ui_outline", "ui_draft", "ui_critique")
"""The calls' names, in the order they are made."""


def outline_prompt(topic: str) -> str:
    """The first call's prompt."""
    return f"Outline a post about {topic}"


def draft_prompt(outline: str) -> str:
    """The second call's prompt, built from the first call's answer."""
    return f"Write the post from: {outline}"


def critique_prompt(draft: str) -> str:
    """The third call's prompt, built from the second call's answer."""
    return f"Critique this draft: {draft}"


@kitaru.checkpoint
def ui_review_draft(draft: str) -> str:
    """A checkpoint whose model call runs inline (it is the call's replay boundary)."""
    return kitaru.llm(critique_prompt(draft), model=MODEL, name="ui_critique")


@kitaru.flow(cache=False)
def ui_llm_writer(topic: str) -> str:
    """Outline, draft and critique a post: three paid model calls."""
    outline = kitaru.llm(outline_prompt(topic), model=MODEL, name="ui_outline")
    draft = kitaru.llm(draft_prompt(outline), model=MODEL, name="ui_draft", max_tokens=200)
    return ui_review_draft(draft)


def main() -> None:
    """Run the flow with the topic given as the first argument."""
    handle = ui_llm_writer.run(sys.argv[1])  # on the local default, returns once the body ended
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"STATUS {handle.status}", flush=True)


if __name__ == "__main__":
    main()

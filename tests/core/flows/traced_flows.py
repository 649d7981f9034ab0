"""Flows traced by tests/core/test_traces.py, each run in its own process.

The test copies this file into a project directory and runs it::

    python traced_flows.py traced_agent durable-agents

It prints ``EXEC <id>`` and ``STATUS <status>``. Files under ``TRACED_STATE``
steer the checkpoints: ``flaky`` fails its first attempt (it counts them in
``flaky.count``), ``publish`` fails while ``publisher-down`` exists.
``user_span`` runs ``traced_publisher`` inside a span of the program's own
``TracerProvider`` (an in-memory exporter) and prints the spans it got.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import kitaru

MODEL = "openai/gpt-4o-mini"


def _state(name: str) -> Path:
    return Path(os.environ["TRACED_STATE"]) / name


@kitaru.checkpoint
def fetch(topic: str) -> str:
    return f"notes on {topic}"


@kitaru.checkpoint(retries=1)
def flaky(notes: str) -> str:
    counter = _state("flaky.count")
    attempts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempts))
    if attempts == 1:
        raise RuntimeError("flaky service hiccup")
    return notes.upper()


@kitaru.checkpoint
def publish(draft: str) -> str:
    if _state("publisher-down").exists():
        raise RuntimeError("the publisher is down")
    return f"PUBLISHED: {draft}"


@kitaru.flow(cache=False)
def traced_agent(topic: str) -> str:
    """Two checkpoints (one retried), an LLM call, a wait, then a checkpoint."""
    notes = fetch(topic)
    checked = flaky(notes)
    draft = kitaru.llm(f"Draft a post from: {checked}", model=MODEL, name="draft", max_tokens=50)
    approved = kitaru.wait(schema=bool, name="approve", question="Publish the draft?", timeout=0)
    return publish(draft) if approved else "held back"


@kitaru.flow(cache=False)
def traced_publisher(topic: str) -> str:
    """A checkpoint, then one that fails while the publisher is down."""
    return publish(fetch(topic))


@kitaru.checkpoint
def shout(word: str) -> str:
    return word.upper()


@kitaru.flow(cache=False)
def traced_fan(word: str) -> str:
    """One submitted call and a map of two: the engine runs them in threads of its own."""
    one = shout.submit(word)
    many = shout.map([word, f"{word}!"])
    return " ".join([one.result(), *many.result()])


def run_in_user_span(topic: str) -> None:
    """Run ``traced_publisher`` under the program's own provider and span; print what it recorded."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    with trace.get_tracer("my-app").start_as_current_span("my request"):
        handle = traced_publisher.run(topic)
    print(f"EXEC {handle.exec_id}", flush=True)
    spans = [
        {
            "name": span.name,
            "span_id": format(span.context.span_id, "016x"),
            "parent_id": format(span.parent.span_id, "016x") if span.parent else "",
            "trace_id": format(span.context.trace_id, "032x"),
        }
        for span in exporter.get_finished_spans()
    ]
    print(f"SPANS {json.dumps(spans)}", flush=True)


def main() -> None:
    name, *args = sys.argv[1:]
    if name == "user_span":
        run_in_user_span(*args)
        return
    handle = globals()[name].run(*args)
    print(f"EXEC {handle.exec_id}", flush=True)
    print(f"STATUS {handle.status}", flush=True)
    print(f"OTEL {json.dumps(tracing_state())}", flush=True)


def tracing_state() -> dict[str, object]:
    """Whether this process loaded OpenTelemetry's tracing SDK or OTLP exporter, and its global provider."""
    api = sys.modules.get("opentelemetry.trace")
    return {
        "modules": sorted(
            module for module in sys.modules if module.startswith(("opentelemetry.sdk.trace", "opentelemetry.exporter"))
        ),
        "provider": type(api.get_tracer_provider()).__name__ if api is not None else None,
    }


if __name__ == "__main__":
    main()

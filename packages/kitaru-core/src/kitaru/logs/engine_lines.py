"""Tell the engine's own log lines from the user's.

What users see in ``kitaru executions logs`` is their own output. Lines the
engine or Kitaru's terminal reporter wrote ("Step `x` has started.",
"Checkpoint `x` finished in 0.10s.", "Pipeline run has finished ...") are
*engine lines*: left out by default and returned with
``include_engine=True`` (``kitaru executions logs -vv``). A pattern is
matched against the start of a message; a user line that happens to match is
hidden too (it is still shown with ``-vv``).
"""

from __future__ import annotations

import re

ENGINE_LINE_PATTERNS = (
    # Engine: checkpoint attempts.
    r"Step `[^`]*` (has started|has finished|finished successfully|failed|stopped|launched|infra status|was approved)",
    r"Failed to run step `",
    r"Sleeping for .* before retrying step `",
    r"Using cached version of step `",
    r"Skipping step `",
    r"Restarting the monitoring of existing step `",
    r"Waiting for upstream dependencies `",
    r"Initiating heartbeat for step",
    # Engine: runs.
    r"Initiating a new run for the pipeline",
    r"Registered new pipeline",
    r"Using user: `",
    r"Using stack: `",
    r"Using a build:",
    r"  [a-z_]+: `[^`]*`$",
    r"You can visualize your pipeline runs",
    r"Dashboard URL for Pipeline Run",
    r"Caching is disabled by default",
    r"(Resuming|Continuing existing) run `",
    r"Run `[^`]*` is already finished",
    r"Pipeline `[^`]*` completed successfully",
    r"Pipeline run has finished",
    r"(Pausing|Stopping) pipeline run `",
    r"Waiting on wait condition `",
    r"Initial pipeline failure detected",
    r"Launching child pipeline `",
    r"Child pipeline `[^`]*` completed",
    r"All steps were skipped",
    r"Executing the pipeline's (init|cleanup) hook",
    # Warnings raised inside the interpreter's frozen import machinery, reported
    # through ``logging`` once the engine captures warnings. The engine provokes
    # them itself (it formats ``__main__`` of a ``python -c`` process, which
    # warns on Python 3.11 when DeprecationWarnings are shown, as under pytest);
    # a warning from user code names the user's file instead.
    r"<frozen [^>]+>:\d+: \w*Warning: ",
    # Kitaru's terminal reporter (kitaru.execution.console.say).
    r"Starting flow `",
    r"Checkpoint `[^`]*` (started|finished in|failed after|cached|reused from the journal|still running)",
    r"Execution [0-9a-f-]{36} (running|waiting|completed|failed|cancelled) in ",
    r"(Resuming|Retrying|Continuing) execution `",
    r"Pausing execution `",
    r"Waiting on `[^`]*` \(",
    r"Wait `[^`]*` was aborted",
)
"""Starts of lines written by the engine or by Kitaru's terminal reporter rather than by user code."""

_ENGINE_LINE = re.compile("|".join(f"(?:{pattern})" for pattern in ENGINE_LINE_PATTERNS))


def is_engine_line(message: str) -> bool:
    """Whether ``message`` was written by the engine or Kitaru's reporter, not user code."""
    return _ENGINE_LINE.match(message) is not None


__all__ = ["ENGINE_LINE_PATTERNS", "is_engine_line"]

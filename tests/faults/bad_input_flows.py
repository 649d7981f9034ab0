"""The flows whose executions the bad-input sweep points its commands at.

The sweep (``bad_input_sweep.py``) imports this module from a scratch project
directory and runs each flow once before it starts, so every command that takes
an execution id, a checkpoint selector or a wait name can be given a real one
next to the malformed value under test:

* ``bad_input_done``: two checkpoints, ends ``completed``;
* ``bad_input_waiting``: one checkpoint, then ``kitaru.wait()`` with a short
  timeout; with no terminal it pauses, so the execution stays ``waiting``;
* ``bad_input_failing``: one checkpoint that raises, ends ``failed``.

Flow names start with ``bad_input_`` so no other test picks them up.
"""

from __future__ import annotations

import kitaru


@kitaru.checkpoint
def bad_input_fetch(topic: str) -> str:
    return f"notes about {topic}"


@kitaru.checkpoint
def bad_input_write(notes: str) -> str:
    return notes.upper()


@kitaru.checkpoint
def bad_input_explode(notes: str) -> str:
    raise RuntimeError(f"refusing to write about {notes!r}")


@kitaru.flow(cache=False)
def bad_input_done(topic: str) -> str:
    """Completed: fetch, then write."""
    return bad_input_write(bad_input_fetch(topic))


@kitaru.flow(cache=False)
def bad_input_waiting(topic: str) -> str:
    """Waiting: fetch, then a wait named ``approve`` that nobody answers."""
    notes = bad_input_fetch(topic)
    approved = kitaru.wait(schema=bool, name="approve", question="Publish?", timeout=1)
    return bad_input_write(f"{notes} {approved}")


@kitaru.flow(cache=False)
def bad_input_failing(topic: str) -> str:
    """Failed: fetch, then a checkpoint that raises."""
    return bad_input_explode(bad_input_fetch(topic))

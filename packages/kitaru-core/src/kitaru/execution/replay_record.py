"""What a replay recorded on the execution it created: its source, its start and its overrides.

A replay (:mod:`kitaru.execution.replay`) writes one run-metadata entry under
:data:`~kitaru.execution.keys.REPLAY_KEY`::

    {"source_exec_id": "<id>", "from": "summarize", "start": "summarize",
     "reused": ["flaky"], "overrides": {"flaky": "<artifact id>"},
     "inherited": {}}

``overrides`` maps each overridden call (invocation id) to the artifact
holding the edited value. That value *is* the call's output in the new
execution: its consumers received it, so whoever reads the execution (the
client, a later replay) takes it in place of the output the engine linked to
the call, which is still the source's original. ``inherited`` does the same
for reused calls whose output was overridden by an earlier replay in the
chain (a replay of a replay), so the edited value survives it.

Records written before ``inherited`` existed read as having none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru.execution.keys import REPLAY_KEY


@dataclass(frozen=True)
class ReplayRecord:
    """A replay's record on the execution it created.

    Attributes:
        source_exec_id: The execution it replayed.
        from_checkpoint: The ``from_`` selector as given.
        start: The first call that ran again (the frontier's invocation id).
        reused: Invocation ids of the calls reused from the source.
        overrides: Overridden call -> artifact id of the edited value.
        inherited: Reused call -> artifact id of a value an earlier replay overrode.
    """

    source_exec_id: str
    from_checkpoint: str
    start: str
    reused: tuple[str, ...] = ()
    overrides: Mapping[str, str] = field(default_factory=dict)
    inherited: Mapping[str, str] = field(default_factory=dict)

    def output_overrides(self) -> dict[str, str]:
        """Every call whose output is an override: invocation id -> artifact id."""
        return {**self.inherited, **self.overrides}

    def to_metadata(self) -> dict[str, Any]:
        """The run metadata entry (under :data:`REPLAY_KEY`) for this record."""
        return {
            REPLAY_KEY: {
                "source_exec_id": self.source_exec_id,
                "from": self.from_checkpoint,
                "start": self.start,
                "reused": list(self.reused),
                "overrides": dict(self.overrides),
                "inherited": dict(self.inherited),
            }
        }


def _names(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): str(artifact_id) for name, artifact_id in raw.items() if artifact_id}


def replay_record(metadata: Mapping[str, Any] | None) -> ReplayRecord | None:
    """Read the replay record from an execution's run metadata.

    Returns:
        The record, or None for an execution no replay created (or an
        unreadable record).
    """
    raw = (metadata or {}).get(REPLAY_KEY)
    if not isinstance(raw, Mapping) or not raw.get("source_exec_id"):
        return None
    reused = raw.get("reused")
    return ReplayRecord(
        source_exec_id=str(raw["source_exec_id"]),
        from_checkpoint=str(raw.get("from") or raw.get("start") or ""),
        start=str(raw.get("start") or ""),
        reused=tuple(str(name) for name in reused) if isinstance(reused, list) else (),
        overrides=_names(raw.get("overrides")),
        inherited=_names(raw.get("inherited")),
    )


__all__ = ["ReplayRecord", "replay_record"]

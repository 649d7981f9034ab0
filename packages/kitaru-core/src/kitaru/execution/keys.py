"""The metadata keys Kitaru records on an execution and its artifacts.

Every key starts with ``kitaru_``; listings hide them from the user's own
``kitaru.log()`` metadata.

* :data:`SPEC_KEY`: the frozen execution spec (SPEC §3.7);
* :data:`FLOW_KEY`: the flow's name, so listings can group by flow;
* :data:`SOURCE_ROOT_KEY`: where the flow's source lives, so retry, resume
  and replay can import it from any directory;
* :data:`RESULT_KEY`: how to get the flow's return value back
  (:mod:`kitaru.execution.results`);
* :data:`REPLAY_KEY`: what a replay reused and overrode;
* :data:`CHILD_CALL_KEY`: on a child execution, the call of its parent's
  flow body that started it (:mod:`kitaru.execution.child_flows`);
* :data:`ARTIFACT_TYPE_KEY`: the ``type=`` of a ``kitaru.save()`` artifact.

The owner and heartbeat keys live with :mod:`kitaru.execution.ownership`.
"""

from __future__ import annotations

SPEC_KEY = "kitaru_execution_spec"
FLOW_KEY = "kitaru_flow"
SOURCE_ROOT_KEY = "kitaru_source_root"
RESULT_KEY = "kitaru_result"
REPLAY_KEY = "kitaru_replay"
CHILD_CALL_KEY = "kitaru_child_call"
ARTIFACT_TYPE_KEY = "kitaru_artifact_type"

__all__ = ["ARTIFACT_TYPE_KEY", "CHILD_CALL_KEY", "FLOW_KEY", "REPLAY_KEY", "RESULT_KEY", "SOURCE_ROOT_KEY", "SPEC_KEY"]

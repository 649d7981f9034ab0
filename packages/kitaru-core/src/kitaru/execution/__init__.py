"""One execution's life, in Kitaru's words and rules, with no engine code.

* :mod:`~kitaru.execution.ids`: the one parser of execution and artifact ids;
* :mod:`~kitaru.execution.runs`: the one run loader (not-found and store
  errors worded once; an execution whose process died is marked failed on
  the way out);
* :mod:`~kitaru.execution.ownership`: who runs an execution, and whether
  that process is still alive.

Running a flow (the run side):

* :mod:`~kitaru.execution.submit`: the one submission path, for
  ``my_flow.run(...)`` and every replay;
* :mod:`~kitaru.execution.flow_body`: the flow body as the engine runs it
  (ownership, journal, scope, the recorded result);
* :mod:`~kitaru.execution.checkpoint_calls`: checkpoint calls, futures, how
  inputs travel, the per-checkpoint terminal lines;
* :mod:`~kitaru.execution.outputs`: checkpoint outputs held by the body and
  their lineage;
* :mod:`~kitaru.execution.journal`: the journal and divergence;
* :mod:`~kitaru.execution.replay_plan` (pure) and
  :mod:`~kitaru.execution.replay`: replay an execution from a checkpoint;
* :mod:`~kitaru.execution.lifecycle`: retry, resume, cancel;
* :mod:`~kitaru.execution.waits_body`: ``kitaru.wait()`` in the flow body;
* :mod:`~kitaru.execution.results`: the flow's recorded return value;
* :mod:`~kitaru.execution.values`: reading a stored value back (one message);
* :mod:`~kitaru.execution.sources`: where the flow's source lives;
* :mod:`~kitaru.execution.scope`, :mod:`~kitaru.execution.console`,
  :mod:`~kitaru.execution.naming`, :mod:`~kitaru.execution.entrypoints`,
  :mod:`~kitaru.execution.definitions`, :mod:`~kitaru.execution.keys`:
  the pieces they share.

The engine is reached only through :mod:`kitaru.engine`.
"""

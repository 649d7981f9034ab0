"""One execution's life, in Kitaru's words and rules, with no engine code.

* :mod:`~kitaru.execution.ids`: the one parser of execution and artifact ids;
* :mod:`~kitaru.execution.runs`: the one run loader (not-found and store
  errors worded once; an execution whose process died is marked failed on
  the way out);
* :mod:`~kitaru.execution.ownership`: who runs an execution, and whether
  that process is still alive.

The engine is reached only through :mod:`kitaru.engine`.
"""

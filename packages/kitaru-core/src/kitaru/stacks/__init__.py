"""Stacks: where executions run and where their artifacts live.

List, inspect, switch, create and delete stacks. A stack type (``local``,
``kubernetes``, ``vertex``, ``sagemaker``, ``azureml`` or one a plugin adds)
comes from a plugin's stack provider; :mod:`kitaru.stacks.request` checks a
request against the installed providers before anything touches the engine,
and :mod:`kitaru.stacks.create` registers the stack all or nothing::

    import kitaru

    kitaru.create_stack("dev")          # a local stack, now active
    kitaru.use_stack("default")
    kitaru.delete_stack("dev", recursive=True)

The modules:

* :mod:`~kitaru.stacks.info`: :class:`StackInfo`, list, current, use, details;
* :mod:`~kitaru.stacks.request`: validating a request for a stack type;
* :mod:`~kitaru.stacks.components`: managed stacks, stack types, component
  validation against the engine's flavors;
* :mod:`~kitaru.stacks.create` and :mod:`~kitaru.stacks.delete`;
* :mod:`~kitaru.stacks.log_store`: the active stack's log-store component.
"""

from __future__ import annotations

from kitaru.stacks.components import MANAGED_LABEL
from kitaru.stacks.create import LOCAL_STACK_TYPE, create_stack, create_stack_with_summary
from kitaru.stacks.delete import DEFAULT_STACK_NAME, delete_stack, delete_stack_with_summary
from kitaru.stacks.info import (
    StackDetails,
    StackInfo,
    current_stack,
    list_stacks,
    stack_details,
    stack_list_items,
    use_stack,
)
from kitaru.stacks.log_store import StackLogStore, active_stack_log_store, engine_log_store_flavors

__all__ = [
    "DEFAULT_STACK_NAME",
    "LOCAL_STACK_TYPE",
    "MANAGED_LABEL",
    "StackDetails",
    "StackInfo",
    "StackLogStore",
    "active_stack_log_store",
    "create_stack",
    "create_stack_with_summary",
    "current_stack",
    "delete_stack",
    "delete_stack_with_summary",
    "engine_log_store_flavors",
    "list_stacks",
    "stack_details",
    "stack_list_items",
    "use_stack",
]

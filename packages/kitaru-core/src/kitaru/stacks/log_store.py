"""The active stack's log-store component: where runtime logs really go.

The ``kitaru log-store`` preference (:mod:`kitaru.config.log_store`) is only
a preference; a run sends its logs wherever its stack's log-store component
sends them, or to its artifact store when the stack has none.
:func:`active_stack_log_store` reports which case the active stack is in, so
``kitaru log-store show`` and ``kitaru status`` can warn when the preference
and the stack disagree. :func:`engine_log_store_flavors` lists the log-store
flavors the engine knows (the log-store contract suite checks a plugin's
``LogStoreSpec.flavor`` against them).
"""

from __future__ import annotations

from kitaru.connection.environment import load_engine
from kitaru.engine import get_engine
from kitaru.engine.log_stores import StackLogStore
from kitaru.errors import KitaruBackendError, KitaruError


def active_stack_log_store() -> StackLogStore:
    """Describe the active stack's log-store component (contacts the store).

    Returns:
        The active stack's name and its log-store component (all ``None``
        fields when the stack has no log-store component).

    Raises:
        KitaruUsageError: If the Kitaru environment is inconsistent.
        KitaruBackendError: If the store cannot be read.
    """
    load_engine()
    try:
        return get_engine().log_stores.active_stack_log_store()
    except KitaruError:
        raise
    except Exception as exc:
        raise KitaruBackendError(
            f"Could not read the active stack's log store: {type(exc).__name__}: {exc}. "
            "If you use a server, check it is running (`kitaru status`)."
        ) from exc


def engine_log_store_flavors() -> frozenset[str]:
    """Names of the log-store flavors the engine knows (built-ins, plus custom ones in the store)."""
    return get_engine().log_stores.log_store_flavors()


__all__ = ["StackLogStore", "active_stack_log_store", "engine_log_store_flavors"]

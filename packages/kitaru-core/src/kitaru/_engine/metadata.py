"""Attach ``kitaru.log()`` metadata to checkpoints and executions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine


def log_checkpoint_metadata(checkpoint_id: str, metadata: dict[str, Any]) -> None:
    """Attach ``metadata`` to the step run ``checkpoint_id``."""
    load_engine()
    from zenml.utils.metadata_utils import log_metadata

    log_metadata(metadata=metadata, step_id=UUID(checkpoint_id))


def log_execution_metadata(exec_id: str, metadata: dict[str, Any]) -> None:
    """Attach ``metadata`` to the run ``exec_id``."""
    from kitaru._engine.runs import log_run_metadata

    load_engine()
    log_run_metadata(exec_id, metadata)

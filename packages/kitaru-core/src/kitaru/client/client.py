"""``KitaruClient``: read and control executions from any process.

The client is a thin facade: each namespace method validates its arguments
and calls one engine-adapter module (``kitaru._engine.journal`` for reading,
``lifecycle`` for retry/resume/cancel/replay, ``waits`` for wait input,
``logs`` for runtime logs). Every method returns Kitaru models.
"""

from __future__ import annotations

from typing import Any

from kitaru.client.models import ArtifactRef, Execution, LogEntry, PendingWait
from kitaru.client.status import ExecutionStatus
from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError


def _require_id(value: str, what: str = "execution id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise KitaruUsageError(f"An {what} is required (see `kitaru executions list`).")
    return value.strip()


class ExecutionsAPI:
    """``client.executions``: executions of every flow."""

    def get(self, exec_id: str) -> Execution:
        """Return an execution with its checkpoints, attempts and artifacts."""
        from kitaru._engine.journal import get_execution

        return get_execution(_require_id(exec_id))

    def list(self, *, flow: str | None = None, status: str | ExecutionStatus | None = None, limit: int | None = None) -> list[Execution]:
        """List executions, newest first, optionally by flow and status.

        Summaries carry ``checkpoint_count`` and ``artifact_count`` but not the
        checkpoints themselves; call :meth:`get` for those.
        """
        from kitaru._engine.journal import list_executions

        return list_executions(flow=flow, status=_parse_status(status), limit=_parse_limit(limit))

    def latest(self, *, flow: str | None = None, status: str | ExecutionStatus | None = None) -> Execution:
        """Return the newest execution matching the filters.

        Raises:
            LookupError: If there is none.
        """
        found = self.list(flow=flow, status=status, limit=1)
        if not found:
            raise LookupError(f"No executions found for flow={flow!r} and status={status!r}.")
        return self.get(found[0].exec_id)

    def logs(self, exec_id: str, *, checkpoint: str | None = None, source: str = "step", limit: int | None = None) -> list[LogEntry]:
        """Return runtime log entries of an execution (works on the local default)."""
        from kitaru._engine.logs import get_logs

        if source not in ("step", "runner"):
            raise KitaruUsageError(f"Unsupported log source {source!r}. Expected one of: step, runner.")
        if source == "runner" and checkpoint:
            raise KitaruUsageError("A checkpoint filter cannot be combined with source='runner'.")
        return get_logs(_require_id(exec_id), checkpoint=checkpoint, source=source, limit=_parse_limit(limit))

    def pending_waits(self, exec_id: str) -> list[PendingWait]:
        """Return the waits of an execution that are waiting for input."""
        from kitaru._engine.waits import pending_waits

        return pending_waits(_require_id(exec_id))

    def input(self, exec_id: str, *, wait: str, value: Any) -> Execution:
        """Answer a pending wait (by name or wait id) with ``value``."""
        from kitaru._engine.waits import resolve_wait

        resolve_wait(_require_id(exec_id), _require_id(wait, "wait name or id"), value=value, abort=False)
        return self.get(exec_id)

    def abort_wait(self, exec_id: str, *, wait: str) -> Execution:
        """Abort a pending wait: the flow does not continue normally."""
        from kitaru._engine.waits import resolve_wait

        resolve_wait(_require_id(exec_id), _require_id(wait, "wait name or id"), value=None, abort=True)
        return self.get(exec_id)

    def resume(self, exec_id: str) -> Execution:
        """Continue a paused execution in the same execution id."""
        from kitaru._engine.lifecycle import resume_execution

        resume_execution(_require_id(exec_id))
        return self.get(exec_id)

    def retry(self, exec_id: str) -> Execution:
        """Re-run a failed execution in place, skipping checkpoints that succeeded."""
        from kitaru._engine.lifecycle import retry_execution

        retry_execution(_require_id(exec_id))
        return self.get(exec_id)

    def cancel(self, exec_id: str) -> Execution:
        """Stop an execution (at its next checkpoint boundary or sooner)."""
        from kitaru._engine.lifecycle import cancel_execution

        cancel_execution(_require_id(exec_id))
        return self.get(exec_id)

    def replay(self, exec_id: str, *, from_: str, overrides: dict[str, Any] | None = None, **flow_inputs: Any) -> Execution:
        """Replay an execution from a checkpoint into a new execution."""
        from kitaru._engine.replay import replay_execution

        new_id = replay_execution(_require_id(exec_id), from_=from_, overrides=overrides, flow_inputs=flow_inputs)
        return self.get(new_id)


class ArtifactsAPI:
    """``client.artifacts``: stored values of executions."""

    def list(self, exec_id: str, *, name: str | None = None, kind: str | None = None, producing_call: str | None = None, limit: int | None = None) -> list[ArtifactRef]:
        """List an execution's artifacts, optionally filtered."""
        from kitaru._engine.journal import list_artifacts

        return list_artifacts(
            _require_id(exec_id), name=name, kind=kind, producing_call=producing_call, limit=_parse_limit(limit)
        )

    def get(self, artifact_id: str) -> ArtifactRef:
        """Return one artifact by id."""
        from kitaru._engine.journal import get_artifact

        return get_artifact(_require_id(artifact_id, "artifact id"))


class KitaruClient:
    """Read and control executions.

    Args:
        server_url: Not supported yet: the client uses the current connection.
        auth_token: Not supported yet.
        project: Not supported yet.

    Raises:
        KitaruFeatureNotAvailableError: If a per-client override is given.
    """

    def __init__(self, *, server_url: str | None = None, auth_token: str | None = None, project: str | None = None) -> None:
        if server_url is not None or auth_token is not None or project is not None:
            raise KitaruFeatureNotAvailableError(
                "Per-client connection overrides are not supported yet. Connect with "
                "`kitaru login` or the KITARU_SERVER_URL/KITARU_AUTH_TOKEN/KITARU_PROJECT "
                "variables, then create KitaruClient() without arguments."
            )
        self.executions = ExecutionsAPI()
        self.artifacts = ArtifactsAPI()


def _parse_status(status: str | ExecutionStatus | None) -> ExecutionStatus | None:
    if status is None:
        return None
    try:
        return ExecutionStatus(str(getattr(status, "value", status)).strip().lower())
    except ValueError:
        raise KitaruUsageError(
            f"Unsupported status filter {status!r}. Expected one of: running, waiting, "
            "completed, failed, cancelled."
        ) from None


def _parse_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise KitaruUsageError(f"limit must be a positive integer; got {limit!r}.")
    return limit

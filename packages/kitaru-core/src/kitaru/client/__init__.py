"""Inspect and manage executions (``KitaruClient`` and its models).

This build ships the status model; the full client arrives with the
execution-lifecycle work (see the project's issue tracker).
"""

from kitaru.client.status import ExecutionStatus, public_status

__all__ = ["ExecutionStatus", "public_status"]


class KitaruClient:
    """Inspect and manage executions (arrives with the execution-lifecycle work)."""

    def __init__(self, *, server_url: str | None = None, auth_token: str | None = None, project: str | None = None) -> None:
        from kitaru.errors import KitaruFeatureNotAvailableError

        raise KitaruFeatureNotAvailableError(
            "KitaruClient is not available in this build yet; it ships with the execution "
            "lifecycle work. Use the FlowHandle returned by my_flow.run() meanwhile."
        )


__all__ += ["KitaruClient"]

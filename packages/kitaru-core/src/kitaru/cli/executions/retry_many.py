"""``kitaru executions retry --status failed [--flow NAME] [--since 1d] [--dry-run]``: bulk retry.

::

    kitaru executions retry --status failed --flow research_agent --since 1d --dry-run
    kitaru executions retry --status failed --flow research_agent --since 1d -o json

Selects every failed top-level execution that matches and retries them one
after another in this process (:mod:`kitaru.client.bulk_retry`), printing a
progress line before each (``Retrying 2/5: <id> (flow research_agent) ...``)
and, at the end, one line per execution: ``<id>  <flow>  failed -> completed``.
``-o json`` prints one item per execution (``exec_id``, ``flow``,
``status_before``, ``result``, ``error``); the progress goes to stderr.

The exit status is 1 if any retry could not start (``result``
``not_started``) or ended failed or cancelled again, as ``kitaru executions
retry EXEC_ID`` exits 1 when its retry did not end well; 0 when every retry
completed or is waiting for input, on a dry run, and when nothing matched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitaru.cli.output import Items
from kitaru.errors import KitaruUsageError

if TYPE_CHECKING:
    from kitaru.client.bulk_retry import BulkRetryResult


def parse_since(text: str | None) -> Any:
    """``--since`` as a ``timedelta`` (``30m``, ``12h``, ``1d``, ``2w``, ``1d12h``), with the prune parser.

    Raises:
        KitaruUsageError: If ``text`` is not such a duration.
    """
    if text is None:
        return None
    from kitaru.cli.executions.delete import parse_duration

    try:
        since = parse_duration(text)
    except KitaruUsageError as exc:  # the shared parser names its own option
        raise KitaruUsageError(str(exc).replace("--older-than", "--since")) from None
    if not since:
        raise KitaruUsageError(f"--since '{text}' is zero: give how far back to look, e.g. 1d, 12h or 30m.")
    return since


def one_execution(
    exec_id: str | None,
    *,
    status: str | None,
    flow: str | None,
    since: str | None,
    dry_run: bool,
    force_owner_dead: bool,
) -> str | None:
    """The one execution to retry, or None to retry in bulk (filters given, with ``--status``).

    Raises:
        KitaruUsageError: If an id and filters are mixed, or neither is given.
    """
    # A blank value is still a given option: ``EXEC_ID --status ""`` is refused, not read as a plain retry.
    given = (("--status", status), ("--flow", flow), ("--since", since))
    filters = [name for name, value in given if value is not None]
    if dry_run:
        filters.append("--dry-run")
    if exec_id is not None and filters:
        raise KitaruUsageError(
            f"Give either an execution id or filters ({', '.join(filters)}), not both: an id retries that "
            "execution, the filters retry every failed execution that matches."
        )
    if exec_id is not None:
        return exec_id
    if not filters:
        raise KitaruUsageError(
            "An execution id is required (see `kitaru executions list`), or --status failed (with --flow, "
            "--since, --dry-run) to retry every failed execution that matches."
        )
    if status is None:
        raise KitaruUsageError(
            "A bulk retry needs --status failed (the one status a retry continues), e.g. "
            "`kitaru executions retry --status failed --flow NAME --since 1d`."
        )
    if force_owner_dead:
        raise KitaruUsageError("--force-owner-dead takes over one execution: give its id, not filters.")
    return None


def retry_many_items(*, status: str, flow: str | None, since: str | None, dry_run: bool) -> Items:
    """Run the bulk retry and render its outcomes (text lines, or one JSON item each)."""
    from kitaru.client import KitaruClient

    result = KitaruClient().executions.retry_many(status=status, flow=flow, since=parse_since(since), dry_run=dry_run)
    return items(result, flow=flow, since=since)


def items(result: BulkRetryResult, *, flow: str | None, since: str | None) -> Items:
    """The command's output for ``result``."""
    data = []
    for outcome in result.outcomes:
        item: dict[str, Any] = {
            "exec_id": outcome.exec_id,
            "flow": outcome.flow,
            "status_before": outcome.status_before,
            "result": outcome.result,
        }
        if outcome.error is not None:
            item["error"] = outcome.error
        data.append(item)
    return Items(
        data,
        text=lambda: text(result, flow=flow, since=since),
        extra={"dry_run": result.dry_run, "since": result.since.isoformat() if result.since else None},
        exit_code=0 if result.ok else 1,
    )


def text(result: BulkRetryResult, *, flow: str | None, since: str | None) -> list[str]:
    """The text output: a summary line, then one line per execution."""
    scope = f" of flow {flow}" if flow else ""
    window = f" that failed in the last {since}" if since else ""
    count = len(result.outcomes)
    noun = "execution" if count == 1 else "executions"
    if not count:
        return [f"No failed executions{scope}{window}; nothing to retry."]
    if result.dry_run:
        head = f"Would retry {count} failed {noun}{scope}{window} (dry run: nothing was retried):"
    else:
        started = count - len(result.not_started)
        head = f"Retried {started} of {count} failed {noun}{scope}{window}:"
    lines = [head]
    for outcome in result.outcomes:
        line = f"  {outcome.exec_id}  {outcome.flow}  {outcome.status_before} -> {outcome.result}"
        if outcome.error is not None:
            line += f": {outcome.error}"
        lines.append(line)
    return lines


__all__ = ["one_execution", "items", "parse_since", "retry_many_items", "text"]

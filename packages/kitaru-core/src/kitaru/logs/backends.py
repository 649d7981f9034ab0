"""Which installed log store reads an execution's logs, and reading them through its ``read_logs``.

Kitaru reads runtime logs back only through log-store plugins (the
``kitaru_log_stores`` hook, :class:`~kitaru.plugins.records.LogStoreSpec`).
The streams an execution's logs were stored in say which log store that is:

* a stream kept in the stack's artifact store (the stack had no log-store
  component) belongs to the ``artifact-store`` log store;
* a stream kept by a log-store component belongs to the installed log store
  whose ``flavor`` is that component's engine flavor (``datadog``); failing
  that, to the one named after the flavor (``my_store`` -> ``my-store``),
  which is how plugins written before ``flavor`` existed are found.

Each log store holding some of the selected streams is called once, with the
:class:`~kitaru.plugins.records.ReadLogs` arguments, inside
:func:`kitaru.logs.stored.reading`. Its rows become
:class:`~kitaru.logs.entries.LogEntry` values; the engine's lines are left
out unless asked for. A log store that is not installed, or that cannot read
logs back (``read_logs=None``, like ``otel``), raises
:class:`~kitaru.errors.KitaruLogRetrievalError` saying what to install or
where to look instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from kitaru.engine import get_engine
from kitaru.errors import KitaruError, KitaruLogRetrievalError
from kitaru.logs.engine_lines import is_engine_line
from kitaru.logs.entries import ENGINE_SOURCE, LogEntry, plugin_entries, sort_entries
from kitaru.logs.stored import StreamSelection, reading
from kitaru.logs.stores import backend_name, cannot_read_back, log_store_component
from kitaru.logs.streams import LogStream
from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records.logs import LogStoreSpec, ReadLogs

ARTIFACT_STORE_BACKEND = "artifact-store"
"""The log store of streams kept in the stack's artifact store (no log-store component)."""

LOCAL_DISTRIBUTION = "kitaru-local"
"""The distribution that provides Kitaru's own log stores (``artifact-store``, ``otel``, ``datadog``)."""


@dataclass(frozen=True)
class StreamOwner:
    """A log store that keeps some of the selected streams.

    Attributes:
        name: The backend name (``artifact-store``, ``datadog`` ...).
        spec: The installed log store of that name, or None if none is installed.
        endpoint: Where the log-store component sends logs (None for the artifact store).
        streams: The streams it keeps, in the selection's order.
    """

    name: str
    spec: LogStoreSpec | None
    endpoint: str | None
    streams: tuple[LogStream, ...]


def log_store_for_flavor(
    flavor: str | None, log_stores: Mapping[str, LogStoreSpec]
) -> tuple[str, LogStoreSpec | None]:
    """The backend name and installed log store for a log-store component's engine flavor.

    Args:
        flavor: The component's flavor, or None for streams kept in the
            artifact store (the engine's ``artifact`` flavor counts as None).
        log_stores: The installed log stores by name.

    Returns:
        ``("artifact-store", ...)`` for None; else the log store whose
        ``flavor`` matches, else the one named after the flavor; the spec is
        None when no installed log store fits.
    """
    if flavor is None or backend_name(flavor) == ARTIFACT_STORE_BACKEND:
        return ARTIFACT_STORE_BACKEND, log_stores.get(ARTIFACT_STORE_BACKEND)
    for spec in log_stores.values():
        if spec.flavor == flavor:
            return spec.name, spec
    name = backend_name(flavor)
    return name, log_stores.get(name)


def stream_owners(selection: StreamSelection, log_stores: Mapping[str, LogStoreSpec]) -> list[StreamOwner]:
    """Group the selected streams by the log store that keeps them, in order of first appearance.

    Raises:
        KitaruLogRetrievalError: If a stream's log-store component no longer exists.
    """
    groups: dict[str, list[LogStream]] = {}
    owners: dict[str, tuple[LogStoreSpec | None, str | None]] = {}
    components: dict[str, tuple[str, LogStoreSpec | None, str | None]] = {}
    for stream in selection.streams:
        log_store_id = stream.record.log_store_id
        if not log_store_id:
            name, spec = log_store_for_flavor(None, log_stores)
            endpoint = None
        else:
            if log_store_id not in components:
                component = log_store_component(get_engine().logs, selection.exec_id, log_store_id)
                components[log_store_id] = (*log_store_for_flavor(component.flavor, log_stores), component.endpoint)
            name, spec, endpoint = components[log_store_id]
        owners.setdefault(name, (spec, endpoint))
        groups.setdefault(name, []).append(stream)
    return [StreamOwner(name, *owners[name], tuple(streams)) for name, streams in groups.items()]


def not_installed(exec_id: str, owner: StreamOwner) -> KitaruLogRetrievalError:
    """The error for logs kept in a log store no installed plugin provides: it says what to install."""
    if owner.name == ARTIFACT_STORE_BACKEND:
        fix = (
            f"Install {LOCAL_DISTRIBUTION}, which provides it (`pip install {LOCAL_DISTRIBUTION}`; "
            "`pip install kitaru` includes it)"
        )
    else:
        fix = (
            f"Install the plugin that provides the '{owner.name}' log store, or read the logs in "
            f"that backend directly at {owner.endpoint or 'its configured endpoint'}"
        )
    return KitaruLogRetrievalError(
        f"Cannot read the logs of execution '{exec_id}': no installed log store reads "
        f"'{owner.name}' logs. {fix}. `kitaru plugins` lists the installed log stores."
    )


def _read(owner: StreamOwner, read_logs: ReadLogs, plugin: str, selection: StreamSelection,
          limit: int | None) -> list[LogEntry]:
    """Call one log store's ``read_logs`` on its streams, and turn its rows into entries."""
    exec_id = selection.exec_id
    try:
        with reading(selection.only(owner.streams)):
            rows = list(read_logs(exec_id, checkpoint=selection.checkpoint, source=selection.source, limit=limit))
    except KitaruError:
        raise  # already says what to do (an unreachable artifact store, a missing variable ...)
    except Exception as exc:
        raise KitaruLogRetrievalError(
            f"The '{owner.name}' log store of {plugin} failed to read the logs of execution "
            f"'{exec_id}': {type(exc).__name__}: {exc}"
        ) from exc
    for row in rows:
        if not isinstance(row, Mapping):
            raise KitaruLogRetrievalError(
                f"The '{owner.name}' log store of {plugin} returned a {type(row).__name__} row for "
                f"execution '{exec_id}'; read_logs must return mappings with a 'message' key (LogRow)."
            )
    return plugin_entries(rows)


def read_through_log_stores(selection: StreamSelection, *, limit: int | None = None) -> list[LogEntry]:
    """Read the selected streams through the installed log stores that keep them.

    Args:
        selection: What to read (:func:`kitaru.logs.stored.select_streams`).
        limit: Ask each log store for at most this many rows, and return the
            first this many entries by time.

    Returns:
        Entries sorted by timestamp, entries without one last; the engine's
        lines (rows with ``source="engine"``, or matching
        :func:`~kitaru.logs.engine_lines.is_engine_line`) only if the
        selection includes them, as ``source="engine"``.

    Raises:
        KitaruLogRetrievalError: If a log store is not installed, cannot read
            logs back, or fails.
    """
    if not selection.streams:
        return []
    log_stores = get_plugin_manager().log_stores()
    entries: list[LogEntry] = []
    for owner in stream_owners(selection, log_stores):
        spec = owner.spec
        if spec is None:
            raise not_installed(selection.exec_id, owner)
        if spec.read_logs is None:
            raise cannot_read_back(
                selection.exec_id, owner.name, owner.endpoint, "it does not support reading logs back"
            )
        for entry in _read(owner, spec.read_logs, str(spec.source) if spec.source else "its plugin", selection, limit):
            if entry.source == ENGINE_SOURCE or is_engine_line(entry.message):
                if not selection.include_engine:
                    continue
                entry = replace(entry, source=ENGINE_SOURCE)
            entries.append(entry)
    entries = sort_entries(entries)
    return entries if limit is None else entries[:limit]


__all__ = [
    "ARTIFACT_STORE_BACKEND",
    "StreamOwner",
    "log_store_for_flavor",
    "not_installed",
    "read_through_log_stores",
    "stream_owners",
]

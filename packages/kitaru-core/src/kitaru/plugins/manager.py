"""Load Kitaru plugins and give typed access to what they register.

Built-in plugins (core's own serializers) and third-party plugins found under
the ``kitaru`` entry-point group go through the same hooks, called through
pluggy, so pluggy decides the order: ``tryfirst`` hookimpls first, then the
plugin registered later before the one registered earlier, then ``trylast``;
hook wrappers work as in any pluggy host, and :meth:`KitaruPluginManager.trace`
shows every call. Third-party entry points are registered by name, then
Kitaru's own plugins, so their records come first. When two records share a
name, the first in that order wins and the duplicate is reported with both
sources. Core's hookimpls are ``tryfirst``, so a plugin overrides a built-in
or first-party record only by saying so.

Nothing outside this module calls ``pm.hook`` directly: use the typed facade
instead (``manager.stack_providers()`` ...).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType, SimpleNamespace
from typing import Any, TypeVar

import pluggy

from kitaru.plugins import hookspecs
from kitaru.plugins.records import (
    HOOK_RECORD_TYPES,
    ArtifactSerializerSpec,
    LlmBackendSpec,
    LogStoreSpec,
    PluginSource,
    StackProviderSpec,
)
from kitaru.settings import settings

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kitaru"
RAISE_ERRORS_ENV = "KITARU_RAISE_PLUGIN_ERRORS"
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (("core", "kitaru.builtin_plugin"),)
"""(plugin name, module) pairs that core registers itself, through the same hooks."""

FIRST_PARTY_PLUGINS: tuple[str, ...] = ("local", "aws", "gcp", "azure")
"""Kitaru's own plugins (each entry-point name is also its pip extra, ``kitaru[aws]``).

They are registered after third-party plugins, so pluggy calls them first and
their records win a name conflict, unless a third-party hookimpl says ``tryfirst``."""

_R = TypeVar("_R")


class PluginLoadError(RuntimeError):
    """A plugin failed to load and ``KITARU_RAISE_PLUGIN_ERRORS=1`` is set."""


@dataclass(frozen=True)
class PluginInfo:
    """What ``kitaru plugins`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


def _with_source(record: _R, source: PluginSource) -> _R:
    """A copy of a frozen record with ``source`` set (not rebuilt: it checked itself already)."""
    stamped = copy.copy(record)
    object.__setattr__(stamped, "source", source)
    return stamped


FIRST_PARTY_DISTRIBUTIONS: frozenset[str] = frozenset(f"kitaru-{name}" for name in FIRST_PARTY_PLUGINS)
"""The distributions of Kitaru's own plugins."""


def _registration_order(entry_point: metadata.EntryPoint) -> tuple[bool, str, str]:
    """Third-party plugins by name (then distribution), Kitaru's own last: pluggy asks those first."""
    distribution = entry_point.dist.name if entry_point.dist else ""
    first_party = entry_point.name in FIRST_PARTY_PLUGINS and distribution in FIRST_PARTY_DISTRIBUTIONS
    return first_party, entry_point.name, distribution


def _raise_errors() -> bool:
    return settings().raise_plugin_errors


def _distribution_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class KitaruPluginManager:
    """Kitaru's plugin registry with a typed facade over the hooks."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._sources: dict[str, PluginSource] = {}
        self.problems: list[str] = []
        self._cache: dict[str, Any] = {}
        self._stop_tracing: Callable[[], None] | None = None

    # -- registration -------------------------------------------------------

    def register(self, plugin: ModuleType | object, source: PluginSource) -> None:
        """Register ``plugin`` (a module or object with hookimpls) under ``source``."""
        if source.plugin in self._sources:
            first = self._sources[source.plugin]
            self._problem(
                f"Duplicate plugin name '{source.plugin}': {first} and {source}. "
                f"Keeping {first}; uninstall one of them."
            )
            return
        stamped = self._stamping_proxy(plugin, source)
        try:
            self._pm.register(stamped, name=source.plugin)
        except pluggy.PluginValidationError as exc:
            # A hookimpl whose arguments do not match the hookspec; pluggy may
            # have added some of the plugin's hookimpls already.
            if self._pm.get_plugin(source.plugin) is not None:
                self._pm.unregister(name=source.plugin)
            self._fail(
                f"Could not register {source}: {exc}. Registration hooks take no "
                f"arguments; see docs/plugins/hooks.md for their signatures",
                exc,
            )
            return
        self._sources[source.plugin] = source
        self._cache.clear()
        for caller in self._pm.get_hookcallers(stamped) or []:
            if caller.name.startswith("kitaru_") and caller.name not in HOOK_RECORD_TYPES:
                self._problem(
                    f"{source} implements '{caller.name}', which is not a Kitaru hook, so it "
                    f"is never called. Known hooks: {', '.join(HOOK_RECORD_TYPES)}."
                )

    def load_builtins(self) -> None:
        """Register core's own plugins."""
        version = _distribution_version("kitaru-core")
        for name, module_name in BUILTIN_PLUGINS:
            self.register(
                importlib.import_module(module_name),
                PluginSource(plugin=name, distribution="kitaru-core", version=version),
            )

    def load_entry_points(self) -> None:
        """Register every plugin installed under the ``kitaru`` entry-point group.

        A plugin that fails to import is logged and skipped, unless
        ``KITARU_RAISE_PLUGIN_ERRORS=1`` makes it fatal.
        """
        # Third-party plugins by name, then Kitaru's own (pluggy calls the
        # last registered first): the order, and so who wins a name conflict,
        # is the same on every machine whatever the order of sys.path.
        entry_points = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_registration_order)
        for entry_point in entry_points:
            distribution = entry_point.dist.name if entry_point.dist else "unknown"
            source = PluginSource(
                plugin=entry_point.name,
                distribution=distribution,
                version=_distribution_version(distribution),
            )
            try:
                plugin = entry_point.load()
            except Exception as exc:
                self._fail(
                    f"Could not load {source} from entry point "
                    f"'{entry_point.value}': {type(exc).__name__}: {exc}",
                    exc,
                )
                continue
            self.register(plugin, source)

    def _fail(self, message: str, exc: BaseException) -> None:
        """Report a broken plugin: fatal with ``KITARU_RAISE_PLUGIN_ERRORS=1``, else skipped."""
        message = message.rstrip(".")
        if _raise_errors():
            raise PluginLoadError(message + ".") from exc
        self._problem(message + f". Skipping it; set {RAISE_ERRORS_ENV}=1 to make this fatal.")

    def _problem(self, message: str) -> None:
        if message in self.problems:  # the typed facade may be asked many times
            return
        self.problems.append(message)
        logger.warning(message)

    # -- introspection ------------------------------------------------------

    def trace(self, writer: Callable[[str], object] = logger.debug) -> None:
        """Write every hook call and its result with ``writer`` (pluggy's tracing), to debug a plugin.

        >>> get_plugin_manager().trace(print)  # doctest: +SKIP
        >>> get_plugin_manager().log_stores()  # doctest: +SKIP
          kitaru_log_stores [hook]
          ...
        """
        if self._stop_tracing is not None:
            self._stop_tracing()
        self._pm.trace.root.setwriter(writer)
        self._stop_tracing = self._pm.enable_tracing()
        self._cache.clear()

    def plugins(self) -> list[PluginInfo]:
        """List registered plugins with the hooks each implements."""
        infos = []
        for name, source in self._sources.items():
            plugin = self._pm.get_plugin(name)
            hooks = sorted(
                caller.name
                for caller in self._pm.get_hookcallers(plugin) or []
                if caller.name in HOOK_RECORD_TYPES
            )
            infos.append(PluginInfo(name, source.distribution, source.version, tuple(hooks)))
        return infos

    # -- typed facade ---------------------------------------------------------

    def _stamping_proxy(self, plugin: ModuleType | object, source: PluginSource) -> object:
        """What pluggy registers for ``plugin``: its hookimpls, wrapped to stamp records with ``source``.

        Each wrapper keeps the hookimpl's marker (``tryfirst``, ``trylast``,
        ``wrapper`` ...) and signature, so pluggy validates, orders and traces
        it exactly as the plugin wrote it. A plain hookimpl that raises, or
        returns something other than the hook's record type, is reported and
        contributes nothing instead of breaking the whole hook call. Records a
        ``wrapper=True`` hookimpl adds get its plugin's source; old-style
        ``hookwrapper`` impls only see and force results and are kept as they are.
        """
        proxy = SimpleNamespace()
        for name in dir(plugin):
            opts = self._pm.parse_hookimpl_opts(plugin, name)
            if opts is None:
                continue
            function = getattr(plugin, name)
            hook_name = opts.get("specname") or name
            record_type = HOOK_RECORD_TYPES.get(hook_name)
            if record_type is None or opts.get("hookwrapper"):
                wrapped = function
            elif opts.get("wrapper"):
                wrapped = self._stamping_wrapper(function, hook_name, source)
            else:
                wrapped = self._stamping_impl(function, hook_name, record_type, source)
            setattr(proxy, name, wrapped)
        return proxy

    def _stamping_wrapper(
        self, function: Callable[..., Any], hook_name: str, source: PluginSource
    ) -> Callable[..., Any]:
        """Wrap a ``wrapper=True`` hookimpl: records it adds get its plugin's source.

        A wrapper that raises, or returns something other than a list of
        record lists, is reported (naming its plugin) and the results it was
        given are kept, as a failing plain hookimpl contributes nothing.
        """

        @functools.wraps(function)
        def stamped(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
            try:
                wrapper = function(*args, **kwargs)
                next(wrapper)
            except Exception as exc:
                self._fail(f"{source}'s wrapper failed in {hook_name}(): {type(exc).__name__}: {exc}", exc)
                return (yield)
            results = yield
            try:
                wrapper.send(results)
            except StopIteration as stop:
                replaced = stop.value
            except Exception as exc:
                self._fail(f"{source}'s wrapper failed in {hook_name}(): {type(exc).__name__}: {exc}", exc)
                return results
            else:
                self._problem(f"{source}'s wrapper of {hook_name}() yielded twice; ignoring what it did.")
                return results
            if not isinstance(replaced, list) or not all(isinstance(produced, list) for produced in replaced):
                self._problem(
                    f"{source}'s wrapper of {hook_name}() returned {type(replaced).__name__}, not the list of "
                    "record lists it was given; ignoring what it did."
                )
                return results
            return [
                [
                    _with_source(record, source)
                    if dataclasses.is_dataclass(record) and getattr(record, "source", source) is None
                    else record
                    for record in produced
                ]
                for produced in replaced
            ]

        return stamped

    def _stamping_impl(
        self, function: Callable[..., Any], hook_name: str, record_type: type, source: PluginSource
    ) -> Callable[..., Any]:
        @functools.wraps(function)
        def stamped(*args: Any, **kwargs: Any) -> list[Any]:
            try:
                produced = list(function(*args, **kwargs) or ())
            except Exception as exc:
                self._fail(f"{source} failed in {hook_name}(): {type(exc).__name__}: {exc}", exc)
                return []
            records = []
            for record in produced:
                if not isinstance(record, record_type):
                    self._problem(
                        f"{source} returned {type(record).__name__} from {hook_name}(); "
                        f"expected {record_type.__name__}. Skipping it."
                    )
                    continue
                for deprecation in getattr(record, "deprecated_forms", tuple)():
                    self._problem(f"{source}: {deprecation}")
                records.append(_with_source(record, source))
            return records

        return stamped

    def _collect(self, hook_name: str, record_type: type[_R]) -> list[_R]:
        """Call a registration hook through pluggy; its records, in pluggy's call order."""
        if hook_name in self._cache:
            return self._cache[hook_name]
        results = getattr(self._pm.hook, hook_name)()
        records: list[_R] = [
            record for produced in results for record in produced if isinstance(record, record_type)
        ]
        self._cache[hook_name] = records
        return records

    def _by_name(
        self, hook_name: str, record_type: type[_R], kind: str, key: str = "name"
    ) -> dict[str, _R]:
        result: dict[str, _R] = {}
        for record in self._collect(hook_name, record_type):
            name = getattr(record, key)
            if name in result:
                first = result[name]
                self._problem(
                    f"Duplicate {kind} '{name}' registered through {hook_name}() by "
                    f"{first.source} and by {record.source}. "  # type: ignore[attr-defined]
                    f"Using the one from {first.source}."  # type: ignore[attr-defined]
                )
                continue
            result[name] = record
        return result

    def stack_providers(self) -> dict[str, StackProviderSpec]:
        """Stack types by :attr:`~StackProviderSpec.key`: ``local``, ``kubernetes@aws`` ..."""
        return self._by_name(
            "kitaru_stack_providers", StackProviderSpec, "stack type", key="key"
        )

    def stack_type_providers(self, stack_type: str) -> list[StackProviderSpec]:
        """Every installed provider of ``stack_type`` (``kubernetes`` has two)."""
        return [spec for spec in self.stack_providers().values() if spec.name == stack_type]

    def artifact_serializers(self) -> list[ArtifactSerializerSpec]:
        """Serializers, highest priority first (pluggy's call order breaks ties)."""
        by_name = self._by_name(
            "kitaru_artifact_serializers", ArtifactSerializerSpec, "artifact serializer"
        )
        return sorted(by_name.values(), key=lambda spec: -spec.priority)

    def log_stores(self) -> dict[str, LogStoreSpec]:
        """Log stores by name."""
        return self._by_name("kitaru_log_stores", LogStoreSpec, "log store")

    def llm_backends(self) -> dict[str, LlmBackendSpec]:
        """LLM backends by name."""
        return self._by_name("kitaru_llm_backends", LlmBackendSpec, "LLM backend")


_manager: KitaruPluginManager | None = None
_lock = threading.Lock()


def get_plugin_manager() -> KitaruPluginManager:
    """Return the process-wide plugin manager, loading plugins on first use."""
    global _manager
    with _lock:
        if _manager is None:
            manager = KitaruPluginManager()
            manager.load_builtins()
            manager.load_entry_points()
            _manager = manager
        return _manager


def reset_plugin_manager() -> None:
    """Forget the loaded plugins (tests use this after installing a plugin)."""
    global _manager
    with _lock:
        _manager = None

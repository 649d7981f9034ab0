"""Run every contract suite against every installed plugin's records.

The parametrization lives in ``conftest.py``. Besides the suites, this module
checks that the installed plugins load cleanly and that a first-party plugin
(a ``kitaru*`` distribution) provides records for every hook it implements:
implementing a hook and returning nothing would silently skip its contract.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from kitaru.plugins import get_plugin_manager
from kitaru.plugins.records import (
    HOOK_RECORD_TYPES,
    ArtifactSerializerSpec,
    ComponentSpec,
    LlmBackendSpec,
    LlmResult,
    LogStoreSpec,
    ModelPrice,
    PluginRecordError,
    PluginSource,
    StackComponents,
    StackField,
    StackProviderSpec,
)
from kitaru.testing.contracts import (
    ArtifactSerializerContract,
    LlmBackendContract,
    LogStoreContract,
    StackProviderContract,
)
from kitaru.testing.contracts.serializers import default_samples


class TestStackProviders(StackProviderContract):
    pass


class TestArtifactSerializers(ArtifactSerializerContract):
    pass


class TestLogStores(LogStoreContract):
    pass


class TestLlmBackends(LlmBackendContract):
    pass


def _first_party_hooks() -> list[tuple[str, str]]:
    return [
        (info.name, hook)
        for info in get_plugin_manager().plugins()
        if info.distribution.lower().startswith("kitaru")
        for hook in info.hooks
    ]


def test_every_hook_family_has_a_contract(contract_families: dict[str, str]) -> None:
    assert set(contract_families) == set(HOOK_RECORD_TYPES)


def test_installed_plugins_load_without_problems(installed_records: dict) -> None:
    # ``installed_records`` collected every family: conflicts and bad records are reported.
    assert installed_records
    assert get_plugin_manager().problems == []


def test_first_party_plugins_are_installed() -> None:
    """Guard against a vacuous run: the suites must see kitaru-core and kitaru-local."""
    manager = get_plugin_manager()
    plugins = {info.name: info for info in manager.plugins()}
    assert plugins["core"].distribution == "kitaru-core"
    assert plugins["local"].distribution == "kitaru-local"
    assert "local" in manager.stack_providers()
    assert "artifact-store" in manager.log_stores()
    serializers = {spec.name for spec in manager.artifact_serializers()}
    assert {"pydantic", "dataclass", "text", "bytes", "json"} <= serializers


_FIRST_PARTY_HOOKS = _first_party_hooks()


@pytest.mark.parametrize(
    ("plugin", "hook"), _FIRST_PARTY_HOOKS, ids=[f"{p}-{h}" for p, h in _FIRST_PARTY_HOOKS]
)
def test_first_party_plugin_provides_records_for_its_hooks(
    plugin: str, hook: str, installed_records: dict
) -> None:
    records = installed_records[hook]
    provided = [record.name for record in records if record.source.plugin == plugin]
    assert provided, (
        f"First-party plugin '{plugin}' implements {hook}() but provides no record, so its "
        "contract suite never runs. Return at least one record or drop the hookimpl."
    )


# -- the suites themselves must catch broken records ------------------------------

_SOURCE = PluginSource(plugin="bad", distribution="kitaru-bad", version="0")


def _local_components(spec: Any) -> StackComponents:
    return StackComponents(orchestrator=ComponentSpec("local"), artifact_store=ComponentSpec("local"))


def _stack(**changes: Any) -> StackProviderSpec:
    fields = {"name": "ok", "description": "Fine.", "source": _SOURCE, "build_components": _local_components}
    return StackProviderSpec(**{**fields, **changes})


def _serializer(**changes: Any) -> ArtifactSerializerSpec:
    fields: dict[str, Any] = {
        "name": "ok",
        "content_type": "text/plain",
        "can_write": lambda value: type(value) is str,
        "write": str.encode,
        "read": lambda data, _type: data.decode(),
        "python_types": (str,),
        "source": _SOURCE,
    }
    return ArtifactSerializerSpec(**{**fields, **changes})


def _log_store(**changes: Any) -> LogStoreSpec:
    return LogStoreSpec(**{"name": "ok", "description": "Fine.", "source": _SOURCE, **changes})


def _llm(**changes: Any) -> LlmBackendSpec:
    fields = {
        "name": "ok",
        "prefixes": ("ok/",),
        "credential_env": ("OK_API_KEY",),
        "call": lambda request: LlmResult(text="ok"),
        "source": _SOURCE,
    }
    return LlmBackendSpec(**{**fields, **changes})


def _mutating_build(spec: dict) -> dict:
    spec["touched"] = True
    roles = ("orchestrator", "artifact_store")
    return {role: {"flavor": "local", "configuration": {}} for role in roles}


def _bypassed(record: Any, attribute: str, value: Any) -> Any:
    """``record`` with a value its own checks refuse, set behind their back."""
    object.__setattr__(record, attribute, value)
    return record


def _run(contract: Any, test_name: str, record: Any, **extra: Any) -> None:
    """Run one contract test by hand, resolving its fixtures from ``record``."""
    method = getattr(contract, test_name)
    parameters = inspect.signature(method).parameters
    fixtures = {"contract_record": record, **extra}
    for name in ("stack_provider", "serializer", "log_store", "llm_backend"):
        fixtures[name] = record
    if "serializer_samples" in parameters and "serializer_samples" not in extra:
        fixtures["serializer_samples"] = default_samples(record)
    if "stack_spec" in parameters and "stack_spec" not in extra:
        fixtures["stack_spec"] = {"name": "contract-test"}
    method(**{name: fixtures[name] for name in parameters})


BROKEN_RECORDS: list[tuple[Any, str, Any, dict[str, Any]]] = [
    (StackProviderContract(), "test_source_is_stamped", _stack(source=None), {}),
    (StackProviderContract(), "test_record_has_the_hook_record_type", _log_store(), {}),
    (StackProviderContract(), "test_description_is_one_line", _stack(description=""), {}),
    (
        StackProviderContract(),
        "test_fields_are_described_for_help_texts",
        _stack(fields=(StackField("app_name", "The app.", required=True),)),
        {},
    ),
    (
        StackProviderContract(),
        "test_fields_are_described_for_help_texts",
        _stack(fields=(StackField("app_name"),)),
        {},
    ),
    (
        StackProviderContract(),
        "test_build_components_describes_an_engine_stack",
        _stack(build_components=lambda spec: {"orchestrator": {"flavor": "local"}}),
        {},
    ),
    (
        StackProviderContract(),
        "test_build_components_describes_an_engine_stack",
        _stack(build_components=_mutating_build),
        {},
    ),
    (
        StackProviderContract(),
        "test_build_components_describes_an_engine_stack",
        _stack(
            build_components=lambda spec: StackComponents(
                orchestrator=ComponentSpec("local", name="elsewhere"), artifact_store=ComponentSpec("local")
            )
        ),
        {},
    ),
    (
        StackProviderContract(),
        "test_build_components_describes_an_engine_stack",
        _stack(
            build_components=lambda spec: StackComponents(
                orchestrator=ComponentSpec("local"),
                artifact_store=ComponentSpec("local"),
                container_registry=ComponentSpec("default"),
            )
        ),
        {},
    ),
    (
        StackProviderContract(),
        "test_callables_take_one_spec_argument",
        _stack(verify=lambda: None),
        {},
    ),
    (ArtifactSerializerContract(), "test_refuses_unknown_values", _serializer(can_write=bool), {}),
    (ArtifactSerializerContract(), "test_round_trips_its_samples", _serializer(write=str), {}),
    (
        ArtifactSerializerContract(),
        "test_round_trips_its_samples",
        _serializer(read=lambda data, _type: data.decode().upper()),
        {},
    ),
    (
        ArtifactSerializerContract(),
        "test_round_trips_its_samples",
        _serializer(
            python_types=(tuple,),
            can_write=lambda value: type(value) is tuple,
            write=lambda value: json.dumps(value).encode(),
            read=lambda data, _type: json.loads(data),  # gives a list back
        ),
        {},
    ),
    (
        ArtifactSerializerContract(),
        "test_samples_cover_each_python_type",
        _serializer(python_types=(str, bytes)),
        {"serializer_samples": ["only text"]},
    ),
    (LogStoreContract(), "test_description_is_one_line", _log_store(description="a\nb"), {}),
    (
        LogStoreContract(),
        "test_read_logs_takes_an_execution_id",
        _log_store(read_logs=lambda: []),
        {},
    ),
    (
        LlmBackendContract(),
        "test_prices_say_when_they_were_read",
        _llm(prices={"m": ModelPrice(1.0, 2.0)}),
        {},
    ),
    (LlmBackendContract(), "test_a_backend_without_credentials_says_where_they_come_from", _llm(credential_env=()), {}),
    (StackProviderContract(), "test_record_passes_its_own_checks", _bypassed(_stack(), "name", "Not Valid"), {}),
]


@pytest.mark.parametrize(
    ("contract", "test_name", "record", "extra"),
    BROKEN_RECORDS,
    ids=[f"{type(c).__name__}.{t}-{i}" for i, (c, t, _, _) in enumerate(BROKEN_RECORDS)],
)
def test_contract_rejects_broken_record(
    contract: Any, test_name: str, record: Any, extra: dict[str, Any]
) -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        _run(contract, test_name, record, **extra)


REFUSED_RECORDS: list[tuple[Any, str]] = [
    (lambda: _stack(name="Not Valid"), "invalid stack type name 'Not Valid'"),
    (lambda: _stack(build_components=None), "build_components is required"),
    (lambda: _stack(fields=(StackField("region", "A"), StackField("region", "B"))), "fields declares a name twice"),
    (lambda: _stack(fields=(StackField("extra"),)), "'extra' is taken by `kitaru stack create` itself"),
    (lambda: _serializer(priority=1.5), "priority must be an int"),
    (lambda: _serializer(priority=True), "priority must be an int"),
    (lambda: _serializer(content_type="json"), "invalid content_type"),
    (lambda: _log_store(requires_endpoint="no"), "requires_endpoint must be of type bool"),
    (lambda: _llm(prefixes=("openai",)), "invalid model prefix 'openai'"),
    (lambda: _llm(prefixes=()), "prefixes is empty"),
    (lambda: _llm(credential_env=("openai_key",)), "invalid environment variable 'openai_key'"),
    (lambda: _llm(call=None), "call is required"),
]


@pytest.mark.parametrize(("build", "message"), REFUSED_RECORDS, ids=[m for _, m in REFUSED_RECORDS])
def test_malformed_records_refuse_to_be_built(build: Any, message: str) -> None:
    """What the suites used to catch, records now catch themselves where the plugin builds them."""
    with pytest.raises(PluginRecordError) as excinfo:
        build()
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("contract", "record"),
    [
        (StackProviderContract(), _stack()),
        (ArtifactSerializerContract(), _serializer()),
        (LogStoreContract(), _log_store()),
        (LlmBackendContract(), _llm()),
    ],
    ids=["stack", "serializer", "log-store", "llm"],
)
def test_contract_accepts_the_well_formed_baseline(contract: Any, record: Any) -> None:
    """The broken records above differ from these by one field; these pass everything."""
    for test_name in dir(contract):
        if test_name.startswith("test_"):
            try:
                _run(contract, test_name, record)
            except pytest.skip.Exception:
                pass

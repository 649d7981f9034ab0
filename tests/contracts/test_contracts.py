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
    LlmBackendSpec,
    LogStoreSpec,
    PluginSource,
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


def _stack(**changes: Any) -> StackProviderSpec:
    return StackProviderSpec(**{"name": "ok", "description": "Fine.", "source": _SOURCE, **changes})


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
    return LlmBackendSpec(**{"name": "ok", "prefixes": ("ok/",), "source": _SOURCE, **changes})


def _mutating_build(spec: dict) -> dict:
    spec["touched"] = True
    roles = ("orchestrator", "artifact_store")
    return {role: {"flavor": "local", "configuration": {}} for role in roles}


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
    (StackProviderContract(), "test_name_is_valid", _stack(name="Not Valid"), {}),
    (StackProviderContract(), "test_source_is_stamped", _stack(source=None), {}),
    (StackProviderContract(), "test_record_is_frozen", _stack(fields=[StackField("a")]), {}),
    (StackProviderContract(), "test_record_has_the_hook_record_type", _log_store(), {}),
    (
        StackProviderContract(),
        "test_artifact_store_schemes_are_bare_lowercase",
        _stack(artifact_store_schemes=("s3://",)),
        {},
    ),
    (
        StackProviderContract(),
        "test_fields_are_unique_stack_fields",
        _stack(fields=(StackField("region"), StackField("region"))),
        {},
    ),
    (StackProviderContract(), "test_description_is_one_line", _stack(description=""), {}),
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
        "test_callables_take_one_spec_argument",
        _stack(verify=lambda: None),
        {},
    ),
    (ArtifactSerializerContract(), "test_refuses_unknown_values", _serializer(can_write=bool), {}),
    (ArtifactSerializerContract(), "test_priority_is_an_int", _serializer(priority=1.5), {}),
    (ArtifactSerializerContract(), "test_priority_is_an_int", _serializer(priority=True), {}),
    (
        ArtifactSerializerContract(),
        "test_content_type_is_a_mime_type",
        _serializer(content_type="json"),
        {},
    ),
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
        "test_requires_endpoint_is_a_bool",
        _log_store(requires_endpoint="no"),
        {},
    ),
    (
        LogStoreContract(),
        "test_read_logs_takes_an_execution_id",
        _log_store(read_logs=lambda: []),
        {},
    ),
    (LlmBackendContract(), "test_prefixes_are_provider_slashes", _llm(prefixes=("openai",)), {}),
    (LlmBackendContract(), "test_prefixes_are_provider_slashes", _llm(prefixes=()), {}),
    (
        LlmBackendContract(),
        "test_credential_env_names_are_env_variables",
        _llm(credential_env=("openai_key",)),
        {},
    ),
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

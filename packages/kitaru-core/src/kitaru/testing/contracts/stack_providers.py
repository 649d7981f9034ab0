"""Contract for ``kitaru_stack_providers()`` records."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kitaru.plugins.records import StackField, StackProviderSpec
from kitaru.stacks.request import OPTION_FIELDS
from kitaru.testing.contracts._base import RecordContract, assert_one_line, assert_valid_name

FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
"""Field names are Python identifiers (``execution_role``); the CLI adds dashes."""

SCHEME_PATTERN = re.compile(r"^[a-z][a-z0-9+.-]*$")
"""A bare URI scheme (RFC 3986, lowercase): ``s3``, not ``s3://``."""

REQUIRED_COMPONENTS = ("orchestrator", "artifact_store")
"""Every engine stack has at least these two components."""


def sample_spec(provider: StackProviderSpec) -> dict[str, Any] | None:
    """A stack spec built from the fields' examples, shaped like Kitaru's (``STACK_SPEC_DOC``).

    Optional fields without an example are None, as when a user omits them.
    Returns None when a required field has no example.
    """
    spec: dict[str, Any] = {"name": "contract-test"}
    for field in provider.fields:
        if field.required and not field.example:
            return None
        spec[field.name] = field.example or None
    spec.setdefault("artifact_store", None)
    spec.setdefault("credentials", None)
    targets = ["orchestrator", "artifact_store"]
    if provider.provider is not None:
        targets.append("container_registry")
    spec["extra"] = {target: {} for target in targets}
    return spec


def _accepts_one_argument(function: Callable[..., Any]) -> bool:
    try:
        inspect.signature(function).bind({})
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins): trust it
        return True
    return True


class StackProviderContract(RecordContract):
    """Checks a :class:`~kitaru.plugins.StackProviderSpec`.

    Fixtures:
        stack_provider: The record under test (required).
        stack_spec: A valid spec mapping for ``build_components``. The default
            is built from the fields' ``example`` values (see
            :func:`sample_spec`); it is None, which skips the build check, when
            a required field has no example.
    """

    record_type = StackProviderSpec
    kind = "stack type"

    @pytest.fixture
    def contract_record(self, stack_provider: StackProviderSpec) -> StackProviderSpec:
        return stack_provider

    @pytest.fixture
    def stack_spec(self, stack_provider: StackProviderSpec) -> Mapping[str, Any] | None:
        return sample_spec(stack_provider)

    def test_provider_is_none_or_a_valid_name(self, stack_provider: StackProviderSpec) -> None:
        if stack_provider.provider is not None:
            assert_valid_name(stack_provider.provider, "provider")

    def test_description_is_one_line(self, stack_provider: StackProviderSpec) -> None:
        assert_one_line(stack_provider.description, f"Description of {stack_provider.name!r}")

    def test_fields_are_unique_stack_fields(self, stack_provider: StackProviderSpec) -> None:
        assert isinstance(stack_provider.fields, tuple)
        names = []
        for field in stack_provider.fields:
            assert isinstance(field, StackField), f"{field!r} is not a StackField"
            assert FIELD_NAME_PATTERN.match(field.name), (
                f"Field {field.name!r} of {stack_provider.name!r} is not a lowercase "
                "identifier like 'execution_role'."
            )
            assert isinstance(field.description, str)
            assert isinstance(field.required, bool)
            names.append(field.name)
        assert len(names) == len(set(names)), (
            f"Duplicate fields in {stack_provider.name!r}: {names}"
        )
        assert "name" not in names, "'name' is every stack's; do not declare it as a field."
        unknown = [name for name in names if name not in OPTION_FIELDS]
        assert not unknown, (
            f"Fields {unknown} of {stack_provider.name!r} are not stack options, so no user can "
            f"set them. Use the options ({', '.join(OPTION_FIELDS)}) and take other settings "
            "from spec['extra'] (--extra TARGET.FIELD=VALUE)."
        )

    def test_required_fields_are_declared_fields(self, stack_provider: StackProviderSpec) -> None:
        declared = {field.name for field in stack_provider.fields}
        assert set(stack_provider.required_fields) <= declared
        assert len(stack_provider.required_fields) == sum(f.required for f in stack_provider.fields)

    def test_artifact_store_schemes_are_bare_lowercase(
        self, stack_provider: StackProviderSpec
    ) -> None:
        schemes = stack_provider.artifact_store_schemes
        assert isinstance(schemes, tuple)
        for scheme in schemes:
            assert isinstance(scheme, str) and "://" not in scheme, (
                f"Write the scheme {scheme!r} without '://' (for example 's3')."
            )
            assert SCHEME_PATTERN.match(scheme), f"{scheme!r} is not a lowercase URI scheme"
        assert len(schemes) == len(set(schemes))

    def test_credential_formats_are_non_blank(self, stack_provider: StackProviderSpec) -> None:
        formats = stack_provider.credential_formats
        assert isinstance(formats, tuple)
        for credential_format in formats:
            assert isinstance(credential_format, str) and credential_format.strip()
            assert credential_format == credential_format.strip()
        assert len(formats) == len(set(formats))

    def test_callables_take_one_spec_argument(self, stack_provider: StackProviderSpec) -> None:
        for attribute in ("build_components", "verify"):
            function = getattr(stack_provider, attribute)
            if function is None:
                continue
            assert callable(function), f"{attribute} must be callable or None, got {function!r}"
            assert _accepts_one_argument(function), (
                f"{attribute} of {stack_provider.name!r} must accept the spec mapping as its "
                "only argument."
            )

    def test_build_components_describes_an_engine_stack(
        self, stack_provider: StackProviderSpec, stack_spec: Mapping[str, Any] | None
    ) -> None:
        if stack_provider.build_components is None:
            pytest.skip(f"{stack_provider.name!r} has no build_components")
        if stack_spec is None:
            pytest.skip(
                f"{stack_provider.name!r} requires {', '.join(stack_provider.required_fields)}; "
                "override the stack_spec fixture with valid values to check build_components"
            )
        before = copy.deepcopy(dict(stack_spec))
        components = stack_provider.build_components(stack_spec)
        assert dict(stack_spec) == before, "build_components must not modify its spec"
        assert isinstance(components, Mapping) and components
        missing = [role for role in REQUIRED_COMPONENTS if role not in components]
        assert not missing, f"build_components returned no {missing}: {sorted(components)}"
        connector = components.get("service_connector")
        if connector is not None:
            assert isinstance(connector, Mapping), f"service_connector: {connector!r}"
            for key in ("connector_type", "auth_method"):
                assert isinstance(connector.get(key), str) and connector[key], (
                    f"service_connector has no {key}"
                )
            assert isinstance(connector.get("configuration"), Mapping), (
                "service_connector has no configuration mapping"
            )
        for role, component in components.items():
            assert isinstance(role, str) and FIELD_NAME_PATTERN.match(role), role
            if role == "service_connector":
                continue
            if component.get("connector"):
                assert connector is not None, (
                    f"{role} asks for the stack's connector but build_components returned "
                    "no service_connector"
                )
            assert isinstance(component, Mapping), f"{role}: {component!r} is not a mapping"
            assert isinstance(component.get("flavor"), str) and component["flavor"], (
                f"{role} has no flavor"
            )
            assert isinstance(component.get("configuration"), Mapping), (
                f"{role} has no configuration mapping"
            )
            if "name" in component:
                assert component["name"] == stack_spec.get("name"), (
                    f"{role} is named {component['name']!r}; name components like the stack"
                )
        assert stack_provider.build_components(stack_spec) == components, (
            "build_components must give the same result for the same spec"
        )

    def test_verify_accepts_the_sample_spec(
        self, stack_provider: StackProviderSpec, stack_spec: Mapping[str, Any] | None
    ) -> None:
        if stack_provider.verify is None:
            pytest.skip(f"{stack_provider.name!r} has no verify")
        if stack_provider.provider is not None:
            pytest.skip("verify talks to a cloud provider; test it against an emulator")
        if stack_spec is None:
            pytest.skip("no sample stack_spec")
        assert stack_provider.verify(stack_spec) is None

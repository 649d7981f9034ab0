"""Contract for ``kitaru_stack_providers()`` records.

The record checks its own shape when built (names, fields, a
``build_components``); this suite runs ``build_components`` on a spec made of
the fields' examples and checks what it describes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kitaru.plugins.records import PluginRecordError, StackComponents, StackProviderSpec, StackSpec
from kitaru.plugins.records.stacks import thaw
from kitaru.testing.contracts._base import RecordContract, assert_one_line


def sample_spec(provider: StackProviderSpec) -> StackSpec | None:
    """The spec Kitaru would build from the fields' examples (``provider.sample_spec()``).

    Optional fields without an example are None, as when a user omits them.
    Returns None when a required field has no example.
    """
    return provider.sample_spec()


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
        stack_spec: A valid :class:`~kitaru.plugins.StackSpec` (or plain
            mapping) for ``build_components``. The default is built from the
            fields' ``example`` values (see :func:`sample_spec`); it is None,
            which skips the build check, when a required field has no example.
    """

    record_type = StackProviderSpec
    kind = "stack type"

    @pytest.fixture
    def contract_record(self, stack_provider: StackProviderSpec) -> StackProviderSpec:
        return stack_provider

    @pytest.fixture
    def stack_spec(self, stack_provider: StackProviderSpec) -> Mapping[str, Any] | None:
        return sample_spec(stack_provider)

    def test_description_is_one_line(self, stack_provider: StackProviderSpec) -> None:
        assert_one_line(stack_provider.description, f"Description of {stack_provider.name!r}")

    def test_fields_are_described_for_help_texts(self, stack_provider: StackProviderSpec) -> None:
        """Each field is a ``--flag`` whose help is its description; required ones need an example."""
        for field in stack_provider.fields:
            assert_one_line(field.description, f"Description of field {field.name!r} of {stack_provider.name!r}")
            if field.required:
                assert field.example.strip(), (
                    f"Required field {field.name!r} of {stack_provider.name!r} has no example; give a "
                    "realistic value (help texts, docs and this suite's sample spec use it)."
                )

    def test_callables_take_one_spec_argument(self, stack_provider: StackProviderSpec) -> None:
        for attribute in ("build_components", "verify"):
            function = getattr(stack_provider, attribute)
            if function is None:
                continue
            assert _accepts_one_argument(function), (
                f"{attribute} of {stack_provider.name!r} must accept the StackSpec as its only argument."
            )

    def test_build_components_describes_an_engine_stack(
        self, stack_provider: StackProviderSpec, stack_spec: Mapping[str, Any] | None
    ) -> None:
        if stack_spec is None:
            pytest.skip(
                f"{stack_provider.name!r} requires {', '.join(stack_provider.required_fields)}; "
                "override the stack_spec fixture with valid values to check build_components"
            )
        assert stack_provider.build_components is not None  # the record checked it
        before = dict(stack_spec)
        produced = stack_provider.build_components(stack_spec)  # type: ignore[arg-type]
        assert dict(stack_spec) == before, "build_components must not modify its spec"
        try:
            components = StackComponents.coerce(produced)
        except PluginRecordError as exc:
            pytest.fail(f"build_components of {stack_provider.name!r} described its components wrongly: {exc}")
        for target, component in components.components():
            assert component.name in ("", stack_spec["name"]), (
                f"{target} is named {component.name!r}; name components like the stack (or leave name empty)"
            )
            overrides = stack_spec.get("extra", {}).get(target) or {}
            configuration = thaw(component.configuration)
            for key, value in overrides.items():
                assert configuration.get(key) == value, (
                    f"--extra {target}.{key} was not applied; build the component with "
                    "kitaru.plugins.stack_helpers.component_spec, which lays the overrides over it"
                )
        if stack_provider.provider is None:
            assert components.container_registry is None, (
                f"{stack_provider.name!r} runs flows in this process (provider None) but describes a "
                "container registry; set a provider or drop the registry"
            )
        again = StackComponents.coerce(stack_provider.build_components(stack_spec))  # type: ignore[arg-type]
        assert again == components, "build_components must give the same result for the same spec"

    def test_verify_accepts_the_sample_spec(
        self, stack_provider: StackProviderSpec, stack_spec: Mapping[str, Any] | None
    ) -> None:
        verifier = stack_provider.verifier()
        if verifier is None:
            pytest.skip(f"{stack_provider.name!r} has no verify")
        if stack_provider.provider is not None:
            pytest.skip("verify talks to a cloud provider; test it against an emulator")
        if stack_spec is None:
            pytest.skip("no sample stack_spec")
        assert verifier(StackSpec.coerce(stack_spec)) is None

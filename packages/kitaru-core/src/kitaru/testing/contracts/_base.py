"""What every record, whatever its hook, must satisfy."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from kitaru.plugins.records import PluginRecordError, PluginSource
from kitaru.plugins.records.validation import NAME_PATTERN

_MUTABLE = (list, dict, set, bytearray)


def assert_valid_name(value: Any, what: str) -> None:
    """Fail unless ``value`` is a string matching :data:`NAME_PATTERN`.

    Args:
        value: The name to check.
        what: What the name names, for the failure message (``stack type``).
    """
    assert isinstance(value, str) and NAME_PATTERN.match(value), (
        f"Invalid {what} name {value!r}: use lowercase letters, digits, '.', '_' and '-', "
        f"starting with a letter or digit (pattern {NAME_PATTERN.pattern})."
    )


def assert_one_line(value: Any, what: str) -> None:
    """Fail unless ``value`` is a non-blank, single-line string."""
    assert isinstance(value, str) and value.strip(), (
        f"{what} is empty; write one line for listings."
    )
    assert "\n" not in value.strip(), f"{what} spans several lines; keep it to one: {value!r}"


class RecordContract:
    """Checks shared by every hook family's contract.

    Subclasses set :attr:`record_type` and override the ``contract_record``
    fixture to return their family's fixture (``stack_provider`` ...).
    """

    record_type: ClassVar[type]
    """The record class the hook must return."""

    kind: ClassVar[str] = "record"
    """How failure messages call the record (``stack type``)."""

    @pytest.fixture
    def contract_record(self) -> Any:
        """The record under test; each family's contract overrides this."""
        raise NotImplementedError("override contract_record in the family's contract")

    def test_record_has_the_hook_record_type(self, contract_record: Any) -> None:
        assert isinstance(contract_record, self.record_type), (
            f"Expected a {self.record_type.__name__}, got {type(contract_record).__name__}. "
            f"Return {self.record_type.__name__} records from the hook."
        )

    def test_record_passes_its_own_checks(self, contract_record: Any) -> None:
        """Records check themselves when built; rebuild it in case something bypassed that."""
        try:
            dataclasses.replace(contract_record)
        except PluginRecordError as exc:
            pytest.fail(f"{self.kind} {contract_record.name!r} is malformed: {exc}")

    def test_record_is_frozen(self, contract_record: Any) -> None:
        is_dataclass = dataclasses.is_dataclass(contract_record)
        assert is_dataclass
        with pytest.raises(dataclasses.FrozenInstanceError):
            # Assigning the same value: harmless if the record is not frozen.
            contract_record.name = contract_record.name
        mutable = [
            field.name
            for field in dataclasses.fields(contract_record)
            if isinstance(getattr(contract_record, field.name), _MUTABLE)
        ]
        assert not mutable, (
            f"{self.kind} {contract_record.name!r} holds mutable values in {mutable}; "
            "use tuples so the record stays immutable."
        )
        hash(contract_record)  # frozen records are usable as keys

    def test_source_is_stamped(self, contract_record: Any) -> None:
        source = contract_record.source
        assert isinstance(source, PluginSource), (
            f"{self.kind} {contract_record.name!r} has no source. Get the record through a "
            "plugin manager (kitaru.plugins.get_plugin_manager() or "
            "kitaru.testing.plugin_manager_with()), which stamps it."
        )
        assert_valid_name(source.plugin, "plugin")
        assert isinstance(source.distribution, str) and source.distribution.strip()
        assert isinstance(source.version, str) and source.version.strip()

"""Contract for ``kitaru_artifact_serializers()`` records."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from kitaru.plugins.records import ArtifactSerializerSpec
from kitaru.testing.contracts._base import RecordContract


class SampleModel(BaseModel):
    """The pydantic model the default samples use for the ``pydantic`` serializer."""

    name: str
    count: int
    tags: list[str] = []


@dataclasses.dataclass
class SampleDataclass:
    """The dataclass the default samples use for the ``dataclass`` serializer."""

    name: str
    count: int
    tags: list[str] = dataclasses.field(default_factory=list)


class _Unrelated:
    """A type no serializer is meant for."""


SAMPLE_VALUES: dict[type, tuple[Any, ...]] = {
    type(None): (None,),
    bool: (True, False),
    int: (0, -7, 2**70),
    float: (0.5, -1.25e300),
    str: ("", "héllo ✓", "two\nlines"),
    bytes: (b"", b"\x00\xffkitaru"),
    bytearray: (bytearray(b"\x01\x02"),),
    list: ([1, "two", [3.5, None]],),
    tuple: ((1, "a", (2, [3])),),
    dict: ({"a": [1, 2], "b": {"c": None, "d": True}},),
}
"""Sample values by Python type, for serializers that declare ``python_types``."""

NAMED_SAMPLES: dict[str, Callable[[], tuple[Any, ...]]] = {
    "pydantic": lambda: (SampleModel(name="alpha", count=2, tags=["x", "y"]),),
    "dataclass": lambda: (SampleDataclass(name="beta", count=3, tags=["z"]),),
}
"""Samples for serializers matched by behaviour rather than ``python_types``, by name."""


def default_samples(serializer: ArtifactSerializerSpec) -> list[Any]:
    """Return sample values for ``serializer``, or fail saying how to provide them.

    Args:
        serializer: The serializer under test.

    Returns:
        Samples from :data:`SAMPLE_VALUES` for each of its ``python_types``,
        or from :data:`NAMED_SAMPLES` when it declares none.
    """
    if serializer.python_types:
        missing = [t.__qualname__ for t in serializer.python_types if t not in SAMPLE_VALUES]
        if missing:
            pytest.fail(
                f"No built-in sample value for {', '.join(missing)} (serializer "
                f"{serializer.name!r}). Override the serializer_samples fixture in your "
                "contract subclass to return sample values of each python type."
            )
        return [value for t in serializer.python_types for value in SAMPLE_VALUES[t]]
    if serializer.name in NAMED_SAMPLES:
        return list(NAMED_SAMPLES[serializer.name]())
    pytest.fail(
        f"Serializer {serializer.name!r} declares no python_types, so the contract cannot "
        "pick sample values. Declare python_types, or override the serializer_samples "
        "fixture in your contract subclass."
    )


class ArtifactSerializerContract(RecordContract):
    """Checks a :class:`~kitaru.plugins.ArtifactSerializerSpec`.

    Fixtures:
        serializer: The record under test (required).
        serializer_samples: Values it must round-trip; by default
            :func:`default_samples`. Override it (in your subclass) for your
            own types, with at least one value of each of its python_types.

    Override :meth:`assert_same` when ``==`` does not compare your values
    (numpy arrays, dataframes).
    """

    record_type = ArtifactSerializerSpec
    kind = "artifact serializer"

    @pytest.fixture
    def contract_record(self, serializer: ArtifactSerializerSpec) -> ArtifactSerializerSpec:
        return serializer

    @pytest.fixture
    def serializer_samples(self, serializer: ArtifactSerializerSpec) -> Sequence[Any]:
        return default_samples(serializer)

    def assert_same(self, original: Any, restored: Any) -> None:
        """Fail unless ``restored`` equals ``original`` and has its exact type."""
        assert type(restored) is type(original), (
            f"Read back a {type(restored).__qualname__}, wrote a {type(original).__qualname__}"
        )
        assert restored == original, f"Read back {restored!r}, wrote {original!r}"

    def test_samples_cover_each_python_type(
        self, serializer: ArtifactSerializerSpec, serializer_samples: Sequence[Any]
    ) -> None:
        assert serializer_samples, "serializer_samples is empty"
        sampled = {type(value) for value in serializer_samples}
        missing = [t.__qualname__ for t in serializer.python_types if t not in sampled]
        assert not missing, f"No sample value of {missing}; add some to serializer_samples"

    def test_round_trips_its_samples(
        self, serializer: ArtifactSerializerSpec, serializer_samples: Sequence[Any]
    ) -> None:
        for value in serializer_samples:
            snapshot = copy.deepcopy(value)
            assert serializer.can_write(value) is True, (
                f"{serializer.name!r} refuses its own sample {value!r}"
            )
            data = serializer.write(value)
            assert isinstance(data, bytes), f"write returned {type(data).__name__}, not bytes"
            assert value == snapshot, f"write modified the value it wrote: {value!r}"
            self.assert_same(value, serializer.read(data, type(value)))

    def test_refuses_unknown_values(self, serializer: ArtifactSerializerSpec) -> None:
        for value in (object(), _Unrelated(), _Unrelated, SampleDataclass):
            assert serializer.can_write(value) is False, (
                f"{serializer.name!r} claims it can write {value!r}; can_write must return "
                "False for values it was not made for, so other serializers get them."
            )

"""Contract suites for Kitaru plugin records, one per hook family.

Each suite is a pytest class *without* a ``Test`` prefix, so importing it does
not run it. Subclass it in a ``Test`` class and provide its one fixture::

    import pytest
    from kitaru.plugins import get_plugin_manager
    from kitaru.testing.contracts import ArtifactSerializerContract

    from kitaru_numpy.plugin import SAMPLE_ARRAYS

    class TestNumpySerializer(ArtifactSerializerContract):
        @pytest.fixture
        def serializer(self):
            serializers = get_plugin_manager().artifact_serializers()
            return next(spec for spec in serializers if spec.name == "numpy")

        @pytest.fixture
        def serializer_samples(self):
            return SAMPLE_ARRAYS

        def assert_same(self, original, restored):
            assert (original == restored).all()

The suites and their fixtures:

* ``StackProviderContract``: ``stack_provider``; optional ``stack_spec``.
* ``ArtifactSerializerContract``: ``serializer``; optional ``serializer_samples``.
* ``LogStoreContract``: ``log_store``; override ``log_store_execution()`` to hand it
  an execution whose logs the store keeps (by default it runs a small flow when
  the active stack sends its logs there).
* ``LlmBackendContract``: ``llm_backend``.

Override an optional fixture inside your subclass (a module-level fixture of
the same name is shadowed by the suite's default).

Kitaru's own ``tests/contracts`` runs every suite against every record of
every installed plugin.
"""

from kitaru.testing.contracts._base import NAME_PATTERN, RecordContract
from kitaru.testing.contracts.llm_backends import LlmBackendContract
from kitaru.testing.contracts.log_stores import LogStoreContract
from kitaru.testing.contracts.serializers import (
    NAMED_SAMPLES,
    SAMPLE_VALUES,
    ArtifactSerializerContract,
    SampleDataclass,
    SampleModel,
)
from kitaru.testing.contracts.stack_providers import StackProviderContract

__all__ = [
    "NAMED_SAMPLES",
    "NAME_PATTERN",
    "SAMPLE_VALUES",
    "ArtifactSerializerContract",
    "LlmBackendContract",
    "LogStoreContract",
    "RecordContract",
    "SampleDataclass",
    "SampleModel",
    "StackProviderContract",
]

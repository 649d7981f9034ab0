"""Where a recorded failure came from, as the client reports it (``FailureInfo.origin``).

Kitaru's own exception types decide the origin before any hint in the text:
an artifact store outage is translated into ``KitaruArtifactStoreError``,
whose traceback still carries the storage SDK's error as its cause, and the
engine records the exception with its module (``kitaru.errors.…``).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kitaru.errors import FailureOrigin, classify_failure_origin
from kitaru.execution.failures import build_failure

STORE_OUTAGE_TRACEBACK = """\
Traceback (most recent call last):
  File "/site-packages/aiobotocore/httpsession.py", line 278, in send
    raise EndpointConnectionError(endpoint_url=request.url, error=e)
botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9/b/x"

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/src/kitaru/_engine/output_storage.py", line 103, in store_outputs_in_kitarus_words
kitaru.errors.KitaruArtifactStoreError: The output of checkpoint `expand` could not be written to the artifact \
store at s3://team/kitaru: EndpointConnectionError: Could not connect to the endpoint URL
"""


def test_a_store_outage_is_a_backend_failure_named_by_kitarus_error() -> None:
    failure = build_failure(
        status_reason=None,
        exception_info=SimpleNamespace(traceback=STORE_OUTAGE_TRACEBACK, source="kitaru.errors.KitaruArtifactStoreError"),
        fallback="failed",
    )
    assert failure.origin is FailureOrigin.BACKEND
    assert failure.exception_type is not None and failure.exception_type.endswith("KitaruArtifactStoreError")
    assert "s3://team/kitaru" in failure.message


@pytest.mark.parametrize("exception_type", ["KitaruArtifactStoreError", "kitaru.errors.KitaruArtifactStoreError"])
def test_kitaru_types_decide_with_or_without_their_module(exception_type: str) -> None:
    # Nothing in the text hints at the store; the type alone says where it failed.
    traceback = f"Traceback (most recent call last):\n  File \"x.py\", line 1\n{exception_type}: disk full"
    assert classify_failure_origin(None, traceback, exception_type) is FailureOrigin.BACKEND


def test_a_user_exception_with_a_traceback_is_user_code() -> None:
    traceback = "Traceback (most recent call last):\n  File \"agent.py\", line 3\nValueError: bad plan"
    assert classify_failure_origin(None, traceback, "ValueError") is FailureOrigin.USER_CODE

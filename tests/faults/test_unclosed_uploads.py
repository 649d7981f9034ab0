"""A process that lost its object store mid-write still exits (issue 12, item 7).

The store-outage trial hung 1 run in 5: the log exporter's ``open(..., "a")``
on S3 failed half-way (the store had just gone), the half-opened file stayed
alive in a traceback until interpreter shutdown, and its finalizer then
waited forever for fsspec's IO thread, which no longer runs at that point.
This reproduces that state directly with fsspec's S3 filesystem and an
address where nothing listens; without Kitaru's exit handler the script hangs
every time (checked when the fix was written).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_python

pytestmark = pytest.mark.faults

HALF_OPENED_UPLOAD = textwrap.dedent(
    """
    import socket

    import s3fs
    from kitaru.engine import get_engine

    get_engine().connection.load()  # what any flow or CLI command does first

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    nobody = probe.getsockname()[1]
    probe.close()
    fs = s3fs.S3FileSystem(
        key="k",
        secret="s",
        client_kwargs={"endpoint_url": f"http://127.0.0.1:{nobody}"},
        config_kwargs={"retries": {"max_attempts": 1}},
    )
    try:
        fs.open("bucket/logs/run.log", "ab")  # appending first asks whether the object exists: refused
    except Exception as exc:
        kept = exc  # its traceback keeps the half-opened file alive until shutdown
        print("open refused:", type(exc).__name__, flush=True)
    print("exiting", flush=True)
    """
)


def test_a_half_opened_upload_does_not_hang_the_exit(tmp_path: Path, fresh_config_dir: Path) -> None:
    script = tmp_path / "half_opened.py"
    script.write_text(HALF_OPENED_UPLOAD)
    result = run_python(script, fresh_config_dir, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["open refused: EndpointConnectionError", "exiting"], result.stdout

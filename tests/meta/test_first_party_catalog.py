"""The first-party snapshot (``kitaru/plugins/first_party.json``) matches the plugins' records.

Core names the extra to install for a stack type, field or scheme of a
first-party plugin that is not installed, from that snapshot. It is derived
from the records by ``tools/first_party_catalog.py``; this test fails when a
first-party record changed and the snapshot was not regenerated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kitaru.plugins import get_plugin_manager
from kitaru.plugins.catalog import SNAPSHOT_PATH, snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_the_snapshot_is_the_installed_first_party_records() -> None:
    stored = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert stored == snapshot(get_plugin_manager()), (
        "kitaru/plugins/first_party.json is stale; run: python3 tools/first_party_catalog.py"
    )


def test_the_generator_tool_agrees_with_the_snapshot() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "first_party_catalog.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

"""Write ``kitaru/plugins/first_party.json`` from the installed first-party plugins' records.

Kitaru names the extra to install when a user asks for a stack type, a field
or an artifact-store scheme of a first-party plugin that is not installed.
That knowledge is a snapshot of the plugins' own records, regenerated here
whenever a first-party stack type, field or scheme changes::

    python3 tools/first_party_catalog.py          # rewrite the snapshot
    python3 tools/first_party_catalog.py --check  # exit 1 when it is stale

Run it in the development environment, where every first-party plugin is
installed; ``tests/meta/test_first_party_catalog.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import json
import sys

from kitaru.plugins import get_plugin_manager
from kitaru.plugins.catalog import FIRST_PARTY_PLUGINS, SNAPSHOT_PATH, snapshot


def render() -> str:
    """The snapshot file's text for the installed plugins."""
    manager = get_plugin_manager()
    missing = sorted(set(FIRST_PARTY_PLUGINS) - {info.name for info in manager.plugins()})
    if missing:
        raise SystemExit(
            f"First-party plugins {missing} are not installed; run this in the development "
            "environment (python3 tools/bootstrap.py sync)."
        )
    return json.dumps(snapshot(manager), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale instead of writing it")
    args = parser.parse_args(argv)
    text = render()
    current = SNAPSHOT_PATH.read_text(encoding="utf-8") if SNAPSHOT_PATH.exists() else ""
    if args.check:
        if text != current:
            print(f"{SNAPSHOT_PATH} is stale; run: python3 tools/first_party_catalog.py", file=sys.stderr)
            return 1
        return 0
    SNAPSHOT_PATH.write_text(text, encoding="utf-8")
    print(f"Wrote {SNAPSHOT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Secrets at rest on the local default: encrypted in the database, the config dir owner-only.

A planted key must not appear in any file under the config dir: not as
itself, not base64-encoded, not as the base64 of the JSON the engine stores.
A store written before Kitaru encrypted secrets (values in plain base64) is
encrypted the first time Kitaru opens it, and the values still read back.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, subprocess_env

KITARU = REPO_ROOT / ".venv" / "bin" / "kitaru"
PLANTED = "sk-PLANTED-7f3e9c1a5b"

pytestmark = pytest.mark.slow


def kitaru(config_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(config_dir, COLUMNS="200", **env),
        timeout=300,
    )
    assert result.returncode == 0, f"kitaru {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def leaks(config_dir: Path, value: str) -> list[str]:
    """Every file under ``config_dir`` holding ``value`` in a form the engine could have written."""
    needles = [
        value.encode(),
        base64.b64encode(value.encode()),
        base64.b64encode(json.dumps({"OPENAI_API_KEY": value}).encode()),
    ]
    return [
        str(path.relative_to(config_dir))
        for path in config_dir.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_planted_key_is_in_no_file_and_the_config_dir_is_owner_only(fresh_config_dir: Path) -> None:
    kitaru(fresh_config_dir, "secrets", "set", "openai", f"--OPENAI_API_KEY={PLANTED}")

    assert leaks(fresh_config_dir, PLANTED) == []
    shown = kitaru(fresh_config_dir, "secrets", "show", "openai", "--show-values", "-o", "json")
    assert PLANTED in shown.stdout, "the value still reads back"

    assert mode(fresh_config_dir) == 0o700
    for directory in ("local_stores", "local_stores/default_zen_store"):
        assert mode(fresh_config_dir / directory) == 0o700, directory
    files = [p for p in fresh_config_dir.iterdir() if p.is_file()]
    files += [p for p in (fresh_config_dir / "local_stores" / "default_zen_store").iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"secrets.key", "zenml.db", "config.yaml", ".kitaru-store.lock"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}

    status = json.loads(kitaru(fresh_config_dir, "status", "-o", "json").stdout)["item"]
    info = kitaru(fresh_config_dir, "info", "-o", "json").stdout
    assert status["secrets_at_rest"] == "encrypted"
    assert json.loads(info)["item"]["connection"]["secrets_at_rest"] == "encrypted"
    key = (fresh_config_dir / "secrets.key").read_text().strip()
    assert key not in json.dumps(status) and key not in info, "the key is never printed"


def test_plain_secrets_from_an_older_store_are_encrypted_when_it_is_opened(fresh_config_dir: Path) -> None:
    # The engine's secrets store without a key: what Kitaru wrote before it encrypted secrets.
    kitaru(fresh_config_dir, "secrets", "set", "old", f"--OPENAI_API_KEY={PLANTED}", ZENML_SECRETS_STORE_TYPE="sql")
    # In the database, or in its write-ahead log when the writer did not checkpoint it on exit.
    plain = set(leaks(fresh_config_dir, PLANTED))
    database = "local_stores/default_zen_store/zenml.db"
    assert plain and plain <= {database, f"{database}-wal"}, plain
    before = json.loads(kitaru(fresh_config_dir, "status", "-o", "json", ZENML_SECRETS_STORE_TYPE="sql").stdout)
    assert before["item"]["secrets_at_rest"] == "not encrypted"

    shown = kitaru(fresh_config_dir, "secrets", "show", "old", "--show-values", "-o", "json")

    assert PLANTED in shown.stdout
    assert leaks(fresh_config_dir, PLANTED) == []
    assert os.path.exists(fresh_config_dir / "secrets.key")


RACE = """
import sys, time
from pathlib import Path
from kitaru.owner_only import secrets_key
start = float(sys.argv[2])
while time.time() < start:
    pass
for round in range(int(sys.argv[3])):
    print(secrets_key(Path(sys.argv[1]) / str(round)))
"""


def test_processes_creating_the_key_at_once_all_read_the_same_whole_key(tmp_path: Path) -> None:
    """Two processes starting on a brand-new config dir: the loser never reads a half-written key."""
    rounds = 200
    start = f"{time.time() + 3:.3f}"  # both spin until the same moment, then race every round
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(tmp_path), start, str(rounds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(tmp_path / "config"),
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    first, second = (out.split() for out, _ in outputs)
    assert len(first) == len(second) == rounds
    assert first == second  # every round: one key, read whole by both
    assert all(len(key) == 64 for key in first)
    for round in range(rounds):
        directory = tmp_path / str(round)
        assert [path.name for path in directory.iterdir()] == ["secrets.key"]  # no drafts left behind
        assert (directory / "secrets.key").read_text().strip() == first[round]
        assert stat.S_IMODE((directory / "secrets.key").stat().st_mode) == 0o600

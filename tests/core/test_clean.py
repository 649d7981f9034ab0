"""``kitaru clean project|global|all`` through the real console script (SPEC §4.8).

Every test runs the installed ``kitaru`` executable in a child process with
its own config directory, and looks at the file system afterwards: what was
removed, what was kept, and the backup of the database. The store a clean
removes comes from a real flow run (one per module, copied into each test's
config directory), so the backup is checked to hold that execution, and a
restored backup is read back by ``kitaru executions get``.

Tests that point the clean at a dangerous directory (the root, a home
directory) run without ``--yes`` where the target is real, so even a broken
check would still be stopped by the confirmation: a regression here must not
delete anything that matters.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
DATABASE = Path("local_stores") / "default_zen_store" / "zenml.db"

FLOW_SCRIPT = """\
import kitaru


@kitaru.checkpoint
def clean_add(a: int, b: int) -> int:
    return a + b


@kitaru.flow
def clean_flow(x: int) -> int:
    return clean_add(x, 2)


if __name__ == "__main__":
    handle = clean_flow.run(3)
    assert handle.wait() == 5
    print("EXEC", handle.exec_id)
"""


def run_kitaru(
    *args: str, config_dir: Path, cwd: Path, stdin: int | None = subprocess.DEVNULL, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI with ``config_dir`` as its config directory (stdin is not a terminal)."""
    env = subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1", KITARU_NO_DAEMON="1", **extra_env)
    return subprocess.run(
        [str(KITARU), *args], cwd=cwd, env=env, stdin=stdin, capture_output=True, text=True, timeout=300
    )


def json_item(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    payload = json.loads(result.stdout)
    assert payload["command"] == "clean"
    return payload["item"]


def json_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert payload["command"] == "clean"
    return payload["error"]["message"]


def tree(*roots: Path) -> dict[str, str]:
    """Every file (with its SHA-256) and directory under ``roots``.

    SQLite's ``-shm`` file is left out: it is the shared-memory index every
    reader of a WAL database updates (the count of executions in a preview is
    such a read), not data. The database and its ``-wal`` file are compared.
    """
    found: dict[str, str] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.name.endswith("-shm"):
                continue
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


@pytest.fixture(scope="module")
def flow_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A config directory holding one completed execution, and its id (copied by each test)."""
    root = tmp_path_factory.mktemp("clean-store")
    config = root / "config"
    script = root / "clean_flows.py"
    script.write_text(FLOW_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env=subprocess_env(config),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    exec_id = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("EXEC "))
    return config, exec_id


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A directory holding the config dir, a project and nothing else (the parent gets the backup)."""
    (tmp_path / "project").mkdir()
    return tmp_path


@pytest.fixture
def config_with_run(flow_store: tuple[Path, str], workspace: Path) -> Path:
    """This test's own copy of the config directory with the executed flow."""
    config = workspace / "kitaru-config"
    shutil.copytree(flow_store[0], config, symlinks=True)
    return config


def backups_in(directory: Path) -> list[Path]:
    return sorted(path for path in directory.iterdir() if "-backup-" in path.name)


# -- project -------------------------------------------------------------------------------


def test_project_clean_removes_the_marker_and_says_how_to_start_again(workspace: Path) -> None:
    config = workspace / "kitaru-config"
    project = workspace / "project"
    assert run_kitaru("init", str(project), config_dir=config, cwd=workspace).returncode == 0
    (project / ".kitaru" / "note.txt").write_text("x" * 10)
    inside = project / "src" / "pkg"
    inside.mkdir(parents=True)

    text = run_kitaru("clean", "project", "--dry-run", config_dir=config, cwd=inside)
    assert text.returncode == 0, text.stderr
    assert f"{project / '.kitaru'} (project marker: 1 file, 10 bytes)" in text.stdout

    item = json_item(run_kitaru("clean", "project", "--yes", "-o", "json", config_dir=config, cwd=inside))
    assert item["scope"] == "project" and item["dry_run"] is False
    assert item["targets"] == [
        {
            "kind": "project",
            "path": str(project / ".kitaru"),
            "size_bytes": 10,
            "file_count": 1,
            "executions": None,
            "model_aliases": None,
            "removed": True,
        }
    ]
    assert item["backup_path"] is None
    assert item["next_steps"] == [f"Run `kitaru init {project}` to make it a Kitaru project again."]
    assert not (project / ".kitaru").exists()
    assert inside.is_dir()  # only the marker goes
    assert not config.exists()  # a project clean never creates (or touches) the config directory

    again = run_kitaru("clean", "project", "--yes", config_dir=config, cwd=inside)
    assert again.returncode == 1
    assert again.stderr.startswith("Error: No Kitaru project here: there is no .kitaru/ directory in ")
    assert "`kitaru init`" in again.stderr
    # The hint works: the project can be initialised again.
    assert run_kitaru("init", str(project), config_dir=config, cwd=workspace).returncode == 0


def test_project_scope_takes_no_force(workspace: Path) -> None:
    result = run_kitaru("clean", "project", "--yes", "--force", config_dir=workspace / "c", cwd=workspace)
    assert result.returncode == 1
    assert "--force only applies to `kitaru clean global` and `kitaru clean all`" in result.stderr


def test_unknown_scope_is_refused(workspace: Path) -> None:
    message = json_error(run_kitaru("clean", "everything", "-o", "json", config_dir=workspace / "c", cwd=workspace))
    assert message == "Unknown clean scope 'everything'. Use 'project', 'global' or 'all'."


# -- global ----------------------------------------------------------------------------------


def test_global_clean_backs_up_the_database_holding_the_executions(
    config_with_run: Path, flow_store: tuple[Path, str], workspace: Path
) -> None:
    config, exec_id = config_with_run, flow_store[1]
    project = workspace / "project"

    item = json_item(run_kitaru("clean", "global", "--yes", "-o", "json", config_dir=config, cwd=project))

    assert not config.exists()
    [target] = item["targets"]
    assert target["kind"] == "global" and target["path"] == str(config) and target["removed"] is True
    assert target["executions"] == 1 and target["model_aliases"] == [] and target["file_count"] > 3
    [backup] = backups_in(workspace)
    assert item["backup_path"] == str(backup)
    assert item["backups"] == [{"database": str(config / DATABASE), "path": str(backup), "method": "sqlite"}]
    assert backup.name.startswith("kitaru-config-backup-") and backup.suffix == ".db"
    assert backup.stat().st_mode & 0o077 == 0, "the backup holds secrets: owner-only"
    assert item["local_server"] == {"registered": False, "stopped": False}
    assert item["next_steps"] and "`kitaru login`" in item["next_steps"][0]

    connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        run_ids = {row[0] for row in connection.execute("SELECT id FROM pipeline_run")}
    finally:
        connection.close()
    assert run_ids == {exec_id.replace("-", "")}

    # The backup restores: copied into a new config directory, Kitaru reads the execution back.
    restored = workspace / "restored"
    (restored / DATABASE.parent).mkdir(parents=True)
    shutil.copyfile(backup, restored / DATABASE)
    fetched = run_kitaru("executions", "get", exec_id, "-o", "json", config_dir=restored, cwd=project)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    execution = json.loads(fetched.stdout)["item"]
    assert execution["status"] == "completed" and execution["flow_name"] == "clean_flow"


def test_global_text_output_names_the_backup_and_what_was_removed(config_with_run: Path, workspace: Path) -> None:
    result = run_kitaru("clean", "global", "-y", config_dir=config_with_run, cwd=workspace / "project")
    assert result.returncode == 0, result.stderr
    [backup] = backups_in(workspace)
    lines = result.stdout.splitlines()
    assert lines[0] == "Removed:"
    assert lines[1].startswith(f"  {config_with_run} (Kitaru config directory: ")
    assert "; 1 execution)" in lines[1]
    assert f"Database {config_with_run / DATABASE} copied to {backup}." in lines
    assert lines[-1].startswith("Kitaru creates a fresh config directory the next time it needs one")


def test_all_removes_the_project_marker_and_the_config_directory(config_with_run: Path, workspace: Path) -> None:
    project = workspace / "project"
    (project / ".kitaru").mkdir()
    item = json_item(run_kitaru("clean", "all", "--yes", "-o", "json", config_dir=config_with_run, cwd=project))
    assert [(target["kind"], target["removed"]) for target in item["targets"]] == [("project", True), ("global", True)]
    assert not (project / ".kitaru").exists() and not config_with_run.exists()
    assert len(backups_in(workspace)) == 1
    assert len(item["next_steps"]) == 2


def test_a_config_directory_inside_the_project_marker_is_never_removed_without_a_backup(
    flow_store: tuple[Path, str], workspace: Path
) -> None:
    project = workspace / "project"
    config = project / ".kitaru" / "config"
    shutil.copytree(flow_store[0], config, symlinks=True)
    # `clean project` would take the store with the marker, unbacked: refused, nothing removed.
    refused = run_kitaru("clean", "project", "--yes", config_dir=config, cwd=project)
    assert refused.returncode == 1
    assert f"The Kitaru config directory {config} (your executions and settings) is inside" in refused.stderr
    assert "Run `kitaru clean all` instead" in refused.stderr
    assert (config / DATABASE).exists()
    # `clean all` backs the store up outside the marker, then removes both.
    item = json_item(run_kitaru("clean", "all", "--yes", "-o", "json", config_dir=config, cwd=project))
    assert not (project / ".kitaru").exists()
    [backup] = [path for path in backups_in(project) if path.suffix == ".db"]
    assert item["backup_path"] == str(backup)
    with sqlite3.connect(backup) as db:
        assert db.execute("select count(*) from pipeline_run").fetchone()[0] == 1


def test_a_config_yaml_of_another_tool_does_not_make_a_directory_kitarus(workspace: Path) -> None:
    other = workspace / "some-project"
    other.mkdir()
    (other / "config.yaml").write_text("model: resnet\nepochs: 3\n")
    refused = run_kitaru("clean", "global", "--yes", config_dir=other, cwd=workspace / "project")
    assert refused.returncode == 1
    assert f"{other} does not look like a Kitaru config directory" in refused.stderr
    assert (other / "config.yaml").exists()


def test_all_skips_a_missing_project_and_a_missing_config_directory(workspace: Path) -> None:
    config = workspace / "never-created"
    item = json_item(run_kitaru("clean", "all", "-o", "json", config_dir=config, cwd=workspace / "project"))
    assert item["targets"] == [] and item["blocked"] == []
    assert any("No Kitaru project (.kitaru/)" in note and "skipped" in note for note in item["notes"])
    assert any(f"{config} does not exist" in note for note in item["notes"])
    assert not config.exists()


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_lists_what_would_go_and_changes_nothing(config_with_run: Path, workspace: Path) -> None:
    project = workspace / "project"
    (project / ".kitaru").mkdir()
    (project / ".kitaru" / "marker").write_text("m")
    before = tree(workspace)

    item = json_item(run_kitaru("clean", "all", "--dry-run", "-o", "json", config_dir=config_with_run, cwd=project))
    text = run_kitaru("clean", "all", "--dry-run", "--yes", "--force", config_dir=config_with_run, cwd=project)

    assert tree(workspace) == before, "a dry run changed files"
    assert item["dry_run"] is True
    kinds = [(target["kind"], target["path"], target["removed"]) for target in item["targets"]]
    assert kinds == [("project", str(project / ".kitaru"), False), ("global", str(config_with_run), False)]
    global_target = item["targets"][1]
    assert global_target["executions"] == 1 and global_target["size_bytes"] > 0
    assert item["backup_path"].startswith(str(workspace / "kitaru-config-backup-"))
    assert not Path(item["backup_path"]).exists()
    assert item["blocked"] == [] and item["next_steps"] == []
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Dry run: nothing was removed. A clean would remove:\n")
    assert "would be copied to" in text.stdout


# -- confirmation ------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["global", "all"])
def test_without_yes_and_without_a_terminal_nothing_is_removed(
    config_with_run: Path, workspace: Path, scope: str
) -> None:
    project = workspace / "project"
    (project / ".kitaru").mkdir()
    before = tree(workspace)

    text = run_kitaru("clean", scope, config_dir=config_with_run, cwd=project)
    message = json_error(run_kitaru("clean", scope, "--force", "-o", "json", config_dir=config_with_run, cwd=project))

    assert text.returncode == 1
    assert text.stderr.startswith("Error: Refusing to remove ")
    assert "this is not an interactive terminal. Pass --yes to confirm" in text.stderr
    assert "Pass --yes" in message
    assert tree(workspace) == before


def _run_on_a_terminal(argv: list[str], answer: str, *, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdin/stdout; type ``answer`` once the question shows."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    seen, answered = "", False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096).decode(errors="replace")
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and "Continue? [y/N]" in seen:
                os.write(master, answer.encode())
                answered = True
            if not ready and process.poll() is not None:
                break
        return process.wait(timeout=30), seen.replace("\r\n", "\n")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


def test_a_terminal_is_asked_and_no_keeps_everything(config_with_run: Path, workspace: Path) -> None:
    project = workspace / "project"
    env = subprocess_env(config_with_run, KITARU_NO_DAEMON="1", COLUMNS="200")
    argv = [str(KITARU), "clean", "global"]

    code, text = _run_on_a_terminal(argv, "n\n", cwd=project, env=env)
    assert code == 1, text
    assert f"This removes:\n  {config_with_run} (Kitaru config directory:" in text
    assert "Its database is copied to" in text
    assert "Error: Nothing was removed: the clean was not confirmed." in text
    assert config_with_run.is_dir() and backups_in(workspace) == []

    code, text = _run_on_a_terminal(argv, "y\n", cwd=project, env=env)
    assert code == 0, text
    assert "Removed:" in text
    assert not config_with_run.exists() and len(backups_in(workspace)) == 1


# -- --force -----------------------------------------------------------------------------------


def test_model_aliases_need_force(config_with_run: Path, workspace: Path) -> None:
    project = workspace / "project"
    registered = run_kitaru(
        "model", "register", "fast", "--model", "openai/gpt-4o-mini", config_dir=config_with_run, cwd=project
    )
    assert registered.returncode == 0, registered.stderr
    before = tree(workspace)

    for scope in ("global", "all"):
        message = json_error(run_kitaru("clean", scope, "--yes", "-o", "json", config_dir=config_with_run, cwd=project))
        assert "holds 1 model alias (fast) that would be lost" in message
        assert "Pass --force to remove them too." in message
    preview = json_item(
        run_kitaru("clean", "global", "--dry-run", "-o", "json", config_dir=config_with_run, cwd=project)
    )
    assert preview["targets"][0]["model_aliases"] == ["fast"]
    assert [reason for reason in preview["blocked"] if "model alias" in reason]
    assert tree(workspace) == before

    item = json_item(
        run_kitaru("clean", "global", "--yes", "--force", "-o", "json", config_dir=config_with_run, cwd=project)
    )
    assert item["targets"][0]["model_aliases"] == ["fast"] and item["targets"][0]["removed"] is True
    assert not config_with_run.exists()


def test_a_directory_that_is_not_kitarus_needs_force(workspace: Path) -> None:
    other = workspace / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"jpg")
    refused = run_kitaru("clean", "global", "--yes", config_dir=other, cwd=workspace / "project")
    assert refused.returncode == 1
    assert f"{other} does not look like a Kitaru config directory" in refused.stderr
    assert "pass --force" in refused.stderr
    assert (other / "holiday.jpg").exists()

    forced = run_kitaru("clean", "global", "--yes", "--force", config_dir=other, cwd=workspace / "project")
    assert forced.returncode == 0, forced.stderr
    assert not other.exists()


def test_an_unreadable_kitaru_yaml_may_hide_aliases_so_it_needs_force(config_with_run: Path, workspace: Path) -> None:
    (config_with_run / "kitaru.yaml").write_text("model_registry: [unclosed\n")
    refused = run_kitaru("clean", "global", "--yes", config_dir=config_with_run, cwd=workspace / "project")
    assert refused.returncode == 1
    assert "kitaru.yaml cannot be read, so it may hold model aliases" in refused.stderr
    assert config_with_run.is_dir()
    forced = run_kitaru("clean", "global", "--yes", "--force", config_dir=config_with_run, cwd=workspace / "project")
    assert forced.returncode == 0, forced.stderr
    assert not config_with_run.exists()


# -- dangerous paths ---------------------------------------------------------------------------


def test_the_home_directory_is_never_removed(workspace: Path) -> None:
    homes = workspace / "homes"
    home = homes / "me"  # a stand-in home: a broken check would only lose this directory
    (home / "local_stores").mkdir(parents=True)
    (home / "kitaru.yaml").write_text("version: 1\n")
    (home / "thesis.tex").write_text("years of work")
    before = tree(home)

    for config in (home, homes):  # the home itself, and a directory holding it
        message = json_error(
            run_kitaru(
                "clean",
                "global",
                "--yes",
                "--force",
                "-o",
                "json",
                config_dir=config,
                cwd=workspace / "project",
                HOME=str(home),
            )
        )
        assert message.startswith(f"Refusing to remove {config}: ")
        reason = "it is your home directory" if config == home else f"it contains your home directory ({home})"
        assert reason in message
        assert "Point KITARU_CONFIG_PATH (or ZENML_CONFIG_PATH) at Kitaru's own config directory" in message
    assert tree(home) == before


def test_the_root_the_current_directory_and_its_parents_are_never_removed(workspace: Path) -> None:
    cwd = workspace / "project"
    (cwd / "local_stores").mkdir()
    # No --yes: should the danger check ever break, the confirmation still refuses (no terminal).
    cases = {
        Path("/"): "it is the root of the file system",
        cwd: "it is the current directory",
        workspace: f"it contains the current directory ({cwd})",
    }
    for config, reason in cases.items():
        result = run_kitaru("clean", "global", "--force", config_dir=config, cwd=cwd)
        assert result.returncode == 1
        assert result.stderr.startswith(f"Error: Refusing to remove {config}: {reason}."), result.stderr
        preview = json_item(run_kitaru("clean", "global", "--dry-run", "-o", "json", config_dir=config, cwd=cwd))
        assert preview["targets"][0]["size_bytes"] is None, "a refused directory is not even walked"
        assert any(reason in blocked for blocked in preview["blocked"])
    assert (cwd / "local_stores").is_dir()


def test_a_marker_containing_the_current_directory_is_refused(workspace: Path) -> None:
    marker = workspace / "project" / ".kitaru"
    (marker / "inside").mkdir(parents=True)
    result = run_kitaru("clean", "project", config_dir=workspace / "c", cwd=marker / "inside")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: Refusing to remove {marker}: it contains the current directory")
    assert marker.is_dir()


# -- a broken store ------------------------------------------------------------------------------


def test_a_broken_store_still_cleans(config_with_run: Path, workspace: Path) -> None:
    database = config_with_run / DATABASE
    garbage = os.urandom(4096)
    database.write_bytes(garbage)
    for side in ("-wal", "-shm"):  # else SQLite would still find every page in the write-ahead log
        Path(f"{database}{side}").unlink(missing_ok=True)
    (config_with_run / "config.yaml").write_text("store: [this is {not yaml\n\x00\x01")

    preview = json_item(
        run_kitaru("clean", "global", "--dry-run", "-o", "json", config_dir=config_with_run, cwd=workspace / "project")
    )
    assert preview["targets"][0]["executions"] is None  # unreadable: unknown, not an error
    item = json_item(
        run_kitaru("clean", "global", "--yes", "-o", "json", config_dir=config_with_run, cwd=workspace / "project")
    )

    assert not config_with_run.exists()
    [backup] = [path for path in backups_in(workspace) if path.suffix == ".db"]
    assert item["backups"][0]["method"] == "bytes"
    assert backup.read_bytes() == garbage, "a database SQLite cannot read is kept byte for byte"


# -- the local server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_global_clean_stops_the_local_server_first(workspace: Path) -> None:
    project = workspace / "project"
    config = workspace / "kitaru-config"  # a fresh one: the server writes to the database it uses
    port = _free_port()
    login = run_kitaru("login", "--port", str(port), config_dir=config, cwd=project)
    if login.returncode != 0 and "kitaru[server]" in login.stderr:
        pytest.skip("the server extra is not installed")
    try:
        assert login.returncode == 0, login.stderr[-2000:]
        assert _answers(port)
        preview = json_item(run_kitaru("clean", "global", "--dry-run", "-o", "json", config_dir=config, cwd=project))
        assert preview["local_server"] == {"registered": True, "stopped": False}

        item = json_item(run_kitaru("clean", "global", "--yes", "-o", "json", config_dir=config, cwd=project))
        assert item["local_server"] == {"registered": True, "stopped": True}
        assert not config.exists()
        assert not _answers(port), "the server still answers after the clean"
        assert len([path for path in backups_in(workspace) if path.suffix == ".db"]) == 1
    finally:
        if config.exists():
            run_kitaru("logout", config_dir=config, cwd=project)

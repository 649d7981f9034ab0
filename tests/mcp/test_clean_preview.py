"""``kitaru_clean_preview`` through the official MCP client over stdio (SPEC §4.8, §8.1).

The installed ``kitaru-mcp`` runs in a project directory (with ``.kitaru/``)
and its own config directory; the MCP SDK's ``stdio_client`` and
``ClientSession`` call the tool from a background event loop. A real flow,
run through ``kitaru_executions_run``, fills the store the preview describes.
The tool is a dry run: every file is compared before and after the calls.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import subprocess_env

KITARU_MCP = Path(sys.executable).with_name("kitaru-mcp")
KITARU = Path(sys.executable).with_name("kitaru")

FLOWS = """\
import kitaru


@kitaru.checkpoint
def preview_step(x: int) -> int:
    return x + 1


@kitaru.flow
def preview_flow(x: int) -> int:
    return preview_step(x)
"""


@dataclass
class Session:
    """A connected MCP client and the directories its server uses."""

    portal: BlockingPortal
    session: ClientSession
    root: Path
    project: Path
    config: Path

    def result(self, tool: str, **arguments: Any) -> tuple[bool, str, Any]:
        """``(is_error, text, structured content)`` of one tool call."""

        async def call() -> Any:
            return await self.session.call_tool(tool, arguments)

        result = self.portal.call(call)
        text = "".join(getattr(block, "text", "") for block in result.content)
        return bool(result.is_error), text, result.structured_content

    def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        is_error, text, structured = self.result(tool, **arguments)
        assert not is_error, text
        payload = json.loads(text)
        assert structured == payload
        return payload


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("mcp-clean")
    project = root / "project"
    (project / ".kitaru").mkdir(parents=True)
    (project / "preview_flows.py").write_text(FLOWS)
    config = root / "config"
    params = StdioServerParameters(
        command=str(KITARU_MCP),
        cwd=str(project),
        env={"KITARU_CONFIG_PATH": str(config), "ZENML_ANALYTICS_OPT_IN": "false"},
    )
    with open(root / "server.stderr", "w") as errlog, start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(stdio_client(params, errlog=errlog)) as (read, write):
            with portal.wrap_async_context_manager(ClientSession(read, write)) as session:
                portal.call(session.initialize)
                yield Session(portal, session, root, project, config)


def tree(root: Path) -> dict[str, str]:
    """Every file (SHA-256) and directory under ``root``; SQLite's ``-shm`` index is not data."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(root.rglob("*"))
        if not path.name.endswith("-shm")
    }


def test_the_tool_is_listed_with_scope_defaulting_to_project(mcp: Session) -> None:
    tools = {tool.name: tool for tool in mcp.portal.call(mcp.session.list_tools).tools}
    preview = tools["kitaru_clean_preview"]
    assert preview.input_schema["properties"]["scope"]["default"] == "project"
    assert "Removes nothing" in (preview.description or "")


def test_preview_describes_project_and_store_and_removes_nothing(mcp: Session) -> None:
    run = mcp.call("kitaru_executions_run", target="preview_flows.py:preview_flow", args={"x": 1})
    assert run["execution"]["status"] == "completed"
    registered = subprocess.run(
        [str(KITARU), "model", "register", "fast", "--model", "openai/gpt-4o-mini"],
        cwd=mcp.project,
        env=subprocess_env(mcp.config),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert registered.returncode == 0, registered.stderr
    before = tree(mcp.root)

    project = mcp.call("kitaru_clean_preview")
    everything = mcp.call("kitaru_clean_preview", scope="all")
    only_global = mcp.call("kitaru_clean_preview", scope="global")

    assert tree(mcp.root) == before, "the preview changed files"
    assert project["scope"] == "project" and project["dry_run"] is True
    assert [(t["kind"], t["path"], t["removed"]) for t in project["targets"]] == [
        ("project", str(mcp.project / ".kitaru"), False)
    ]
    assert project["blocked"] == [] and project["backup_path"] is None

    assert [t["kind"] for t in everything["targets"]] == ["project", "global"]
    [store] = only_global["targets"]
    assert store["path"] == str(mcp.config) and store["executions"] == 1
    assert store["model_aliases"] == ["fast"] and store["removed"] is False
    assert only_global["backup_path"].startswith(str(mcp.root / "config-backup-"))
    assert not Path(only_global["backup_path"]).exists()
    assert any("model alias (fast)" in reason and "--force" in reason for reason in only_global["blocked"])
    assert only_global["local_server"] == {"registered": False, "stopped": False}
    # The same item as the CLI's dry run.
    cli = subprocess.run(
        [str(KITARU), "clean", "global", "--dry-run", "-o", "json"],
        cwd=mcp.project,
        env=subprocess_env(mcp.config, KITARU_NO_DAEMON="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    cli_item = json.loads(cli.stdout)["item"]
    assert {**cli_item, "backup_path": None, "backups": None} == {**only_global, "backup_path": None, "backups": None}


def test_bad_scopes_are_tool_errors(mcp: Session) -> None:
    is_error, text, _ = mcp.result("kitaru_clean_preview", scope="everything")
    assert is_error
    assert text.endswith("KitaruUsageError: Unknown clean scope 'everything'. Use 'project', 'global' or 'all'.")

"""kitaru-example, installed from its path into a fresh venv, does everything the tutorial says.

The example (``examples/plugins/kitaru-example``) is a separate distribution
found only through its ``kitaru`` entry point. A fresh venv gets Kitaru as
``pip install 'kitaru[mcp]'`` would (see :mod:`tests.venvs`); the
example is copied next to it and installed from its path. Then:

* :func:`test_the_tutorial_walkthrough` runs every command of
  ``docs/plugins/tutorial.md`` in order (:data:`~tests.e2e.walkthrough.COMMANDS`),
  like a user: ``kitaru plugins``, the plugin's own tests (the contract
  suites), ``kitaru stack create --type shelf --shelf-dir``, and two flows
  on that stack using the plugin's serializer, ``save``/``load`` across
  executions and its ``echo/`` models. It checks the output the tutorial
  shows, and where the artifacts landed;
* :func:`test_manage_stack_creates_shelf_stacks_over_mcp` creates the same
  stack through the MCP ``manage_stack`` tool with a real MCP client, and runs
  a flow on it through ``kitaru_executions_run``.

Each test has its own Kitaru config dir and its own copy of the example.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.walkthrough import (
    COMMANDS,
    CREATE_HELP,
    CREATE_SHELF,
    CREATE_WITHOUT_DIR,
    ENTER_EXAMPLE,
    INSTALL,
    INSTALL_FOR_TESTS,
    LIST_PLUGINS,
    RECALL,
    RUN_PLUGIN_TESTS,
    SET_LOG_STORE,
    SHOW_EXECUTION,
    SHOW_LOGS,
    STACK_TYPES,
    TAKE_NOTE,
    UUID,
    Shell,
    check_output,
    copy_example,
    tutorial_transcripts,
)
from tests.venvs import FreshVenv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    """A fresh venv with ``kitaru[mcp]``; the example is installed by the tutorial's own commands."""
    return FreshVenv.create(tmp_path_factory.mktemp("example-venv") / "venv", extras=("mcp",))


@pytest.fixture(scope="module")
def installed(venv: FreshVenv, tmp_path_factory: pytest.TempPathFactory) -> Shell:
    """The example built and installed from its path, as ``pip install ./kitaru-example`` does."""
    work = tmp_path_factory.mktemp("install")
    copy_example(work)
    shell = Shell(venv, cwd=work, config=work / "config")
    shell.run(INSTALL)
    return shell


def new_shell(venv: FreshVenv, tmp_path: Path) -> Shell:
    """A shell in a directory holding a fresh copy of the example, with its own Kitaru config dir."""
    copy_example(tmp_path)
    return Shell(venv, cwd=tmp_path, config=tmp_path / "config")


def artifact_headers(directory: Path) -> list[dict[str, Any]]:
    """The header line of every value Kitaru stored under ``directory``, with the file's path."""
    headers = []
    for path in sorted(directory.rglob("value.kitaru")):
        header = json.loads(path.read_bytes().partition(b"\n")[0])
        headers.append({**header, "path": path})
    return headers


def note_artifacts(directory: Path) -> set[str]:
    """Names of the checkpoint outputs and saved values under ``directory`` written by the ``note`` serializer."""
    names = set()
    for header in artifact_headers(directory):
        # <checkpoint>/output/<call id>/<hash>/value.kitaru, or custom_artifacts/<name>/<id>/value.kitaru
        parts = header["path"].relative_to(directory).parts
        if header["serializer"] == "note":
            names.add(parts[1] if parts[0] == "custom_artifacts" else parts[0])
    return names


def test_the_tutorial_walkthrough(installed: Shell, venv: FreshVenv, tmp_path: Path) -> None:
    shell = new_shell(venv, tmp_path)

    # Installed from its path, the plugin is found through its entry point.
    plugins = shell.run(LIST_PLUGINS)
    assert re.search(r"example\s+│\s+kitaru-example\s+│\s+0\.1\.0", plugins.stdout), plugins.stdout

    # Its own tests: Kitaru's contract suites against its records, and the entry point.
    shell.run(INSTALL_FOR_TESTS)
    shell.run(ENTER_EXAMPLE)
    tests = shell.run(RUN_PLUGIN_TESTS)  # imports kitaru_example from the installed wheel, not from src/
    summary = tests.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=+ \d+ passed(, 1 skipped)?(, \d+ warnings?)? in [\d.]+s =+", summary), tests.stdout
    assert "tests/test_contracts.py" in tests.stdout and "tests/test_installed.py" in tests.stdout
    skipped = [line for line in tests.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("root may write anywhere" in line for line in skipped), skipped  # no contract check skipped

    # The stack type's field is a flag, listed in the help, and required.
    help_text = shell.run(CREATE_HELP).stdout
    assert re.search(r"--shelf-dir\b.*Directory that keeps the stack's artifacts", help_text), help_text
    types = shell.run(STACK_TYPES).stdout
    assert "--type shelf: Runs flows in this process; artifacts in the directory given with --shelf-dir." in types
    missing = shell.run(CREATE_WITHOUT_DIR, returncode=1)
    assert "--shelf-dir" in missing.stderr, missing.stderr
    assert not (shell.cwd / "shelf").exists()

    created = shell.run(CREATE_SHELF)
    assert "Created stack: notes (shelf)" in created.stdout, created.stdout
    shelf = shell.cwd / "shelf"

    # A flow on the shelf stack: echo/ models, Note outputs, a saved Note ...
    taken = shell.run(TAKE_NOTE)
    [exec_id] = re.findall(rf"^Execution: ({UUID})$", taken.stdout, re.M)
    assert "Result: Note(title='OTTERS', body='Three facts about otters', tags=('draft', 'headline'))" in taken.stdout
    # ... written by the plugin's serializer, into the directory named by --shelf-dir.
    assert note_artifacts(shelf) == {"write_note", "add_headline", "latest_note"}, artifact_headers(shelf)

    # A second execution, in a new process, loads the first one's Note (the plugin's `read`).
    recalled = shell.run(RECALL, EXEC_ID=exec_id)
    assert "Result: Note(title='otters', body='Three facts about otters', tags=('draft', 'reread'))" in recalled.stdout
    assert note_artifacts(shelf) == {"write_note", "add_headline", "latest_note", "reread"}

    # The echo/ calls are journaled like any model call: tokens, no credentials, $0.
    item = json.loads(shell.run(SHOW_EXECUTION, EXEC_ID=exec_id).stdout)["item"]
    assert item["stack_name"] == "notes" and item["status"] == "completed"
    calls = {
        name: call
        for checkpoint in item["checkpoints"]
        for name, call in (checkpoint["metadata"].get("llm_calls") or {}).items()
    }
    assert calls["facts"]["resolved_model"] == "echo/parrot"
    assert calls["headline"]["provider_model"] == "echo-shout"
    assert {call["credential_source"] for call in calls.values()} == {"none"}
    assert (calls["facts"]["tokens_input"], calls["facts"]["tokens_output"], calls["facts"]["cost_usd"]) == (4, 4, 0.0)

    # The runtime log line went to the shelf, and Kitaru reads it through the artifact-store log store.
    assert list(shelf.glob("logs/*.log"))
    assert "Saved the note on 'otters' as latest_note" in shell.run(SHOW_LOGS, EXEC_ID=exec_id).stdout
    # The plugin's log store needs no endpoint; the stack still decides where logs go.
    preference = shell.run(SET_LOG_STORE)
    assert "Saved log-store preference: example-jsonl" in preference.stdout
    assert "no log-store component" in preference.stderr, preference.stderr

    # Every command of the tutorial ran, and printed what the tutorial shows under it.
    assert sorted({*installed.ran, *shell.ran}) == sorted(COMMANDS)
    outputs = {**installed.outputs, **shell.outputs}
    for transcript in tutorial_transcripts():
        check_output(transcript.output, outputs[transcript.command])


# -- MCP -----------------------------------------------------------------------------------------


class McpClient:
    """A real MCP client session with the fresh venv's ``kitaru-mcp``, driven synchronously."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, stderr: Path) -> None:
        self.portal = portal
        self.session = session
        self.stderr = stderr

    def _call(self, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
        async def call() -> Any:
            return await self.session.call_tool(tool, arguments)

        result = self.portal.call(call)
        return bool(result.is_error), "".join(getattr(block, "text", "") for block in result.content)

    def call(self, tool: str, /, **arguments: Any) -> Any:
        """Call a tool that must succeed; return its JSON payload."""
        failed, text = self._call(tool, arguments)
        assert not failed, f"{tool} failed: {text}\n--- server stderr ---\n{self.stderr.read_text()[-3000:]}"
        return json.loads(text)

    def error(self, tool: str, /, **arguments: Any) -> str:
        """Call a tool that must fail; return the error the client sees."""
        failed, text = self._call(tool, arguments)
        assert failed, text
        return text


def test_manage_stack_creates_shelf_stacks_over_mcp(installed: Shell, venv: FreshVenv, tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    (tmp_path / "config").mkdir()
    params = StdioServerParameters(
        command=str(venv.bin / "kitaru-mcp"),
        cwd=str(project),
        env={"KITARU_CONFIG_PATH": str(tmp_path / "config"), "ZENML_ANALYTICS_OPT_IN": "false",
             "KITARU_RAISE_PLUGIN_ERRORS": "1"},
    )
    stderr = tmp_path / "server.stderr"
    with open(stderr, "w") as errlog, start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(stdio_client(params, errlog=errlog)) as (read, write):
            with portal.wrap_async_context_manager(ClientSession(read, write)) as session:
                portal.call(session.initialize)
                mcp = McpClient(portal, session, stderr)

                # The field is a parameter of its own ...
                missing = mcp.error("manage_stack", action="create", name="no-dir", stack_type="shelf")
                assert "shelf_dir" in missing, missing
                created = mcp.call("manage_stack", action="create", name="shelf-mcp", stack_type="shelf",
                                   shelf_dir=str(tmp_path / "mcp-shelf"))
                assert (created["name"], created["stack_type"], created["is_active"]) == ("shelf-mcp", "shelf", True)
                # ... or a key of `options`.
                mcp.call("manage_stack", action="create", name="shelf-options", stack_type="shelf",
                         options={"shelf_dir": str(tmp_path / "options-shelf")}, activate=False)
                stacks = {item["name"] for item in mcp.call("kitaru_stacks_list")["items"]}
                assert {"shelf-mcp", "shelf-options"} <= stacks

                # A flow run through MCP on the new stack keeps its Notes in that stack's shelf.
                run = mcp.call("kitaru_executions_run", target="demo/notes_flow.py:take_note",
                               args={"topic": "mcp"}, stack="shelf-mcp")
                assert run["execution"]["status"] == "completed" and run["execution"]["stack_name"] == "shelf-mcp"
                assert note_artifacts(tmp_path / "mcp-shelf") == {"write_note", "add_headline", "latest_note"}
                assert not (tmp_path / "options-shelf").exists()

    show = subprocess.run(
        [str(venv.bin / "kitaru"), "stack", "show", "shelf-options", "-o", "json"],
        env={**Shell(venv, project, tmp_path / "config").env()}, capture_output=True, text=True, timeout=120,
    )
    assert show.returncode == 0, show.stderr
    components = {c["role"]: c for c in json.loads(show.stdout)["item"]["components"]}
    assert components["Storage"]["details"] == str(tmp_path / "options-shelf")

"""``kitaru-mcp`` through the official MCP client over stdio (SPEC §8.1, issue 6).

One server process serves the whole module: the ``mcp`` fixture starts the
installed ``kitaru-mcp`` script with a fresh config directory and, as its
working directory, a project directory holding ``mcp_flows.py``; the MCP SDK's
``stdio_client`` + ``ClientSession`` talk to it from a background event loop.
Tests run flows through ``kitaru_executions_run`` and read them back through
the other tools; flows run in the server process (local orchestrator), and
their terminal output must go to the server's stderr, never into the protocol.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent
KITARU_MCP = Path(sys.executable).with_name("kitaru-mcp")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

EXPECTED_TOOLS = {
    "kitaru_clean_preview",
    "kitaru_executions_list",
    "kitaru_executions_get",
    "kitaru_executions_latest",
    "get_execution_logs",
    "kitaru_executions_run",
    "kitaru_executions_cancel",
    "kitaru_executions_input",
    "kitaru_executions_send",
    "kitaru_executions_retry",
    "kitaru_executions_resume",
    "kitaru_executions_replay",
    "kitaru_executions_diff",
    "kitaru_executions_export_cassette",
    "kitaru_artifacts_list",
    "kitaru_artifacts_get",
    "kitaru_start_local_server",
    "kitaru_stop_local_server",
    "kitaru_status",
    "kitaru_stacks_list",
    "manage_stack",
    "kitaru_info",
}


class ToolFailed(AssertionError):
    """A tool call returned an error result."""


class Mcp:
    """A connected MCP client session, driven synchronously from tests."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, root: Path) -> None:
        self.portal = portal
        self.session = session
        self.root = root
        self.project = root / "project"
        self.flags = root / "flags"
        self.stderr = root / "server.stderr"

    def tool_names(self) -> list[str]:
        result = self.portal.call(self.session.list_tools)
        return [tool.name for tool in result.tools]

    def _call(self, name: str, arguments: dict[str, Any]) -> Any:
        async def call() -> Any:
            return await self.session.call_tool(name, arguments)

        return self.portal.call(call)

    def call(self, tool: str, /, **arguments: Any) -> Any:
        """Call a tool; return its JSON payload (or text), raise ToolFailed on an error result."""
        result = self._call(tool, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        if result.is_error:
            raise ToolFailed(f"{text}\n--- server stderr (end) ---\n{self.stderr.read_text()[-3000:]}")
        try:
            payload = json.loads(text)
        except ValueError:
            return text
        if isinstance(payload, dict):
            assert result.structured_content == payload
        return payload

    def error(self, tool: str, /, **arguments: Any) -> str:
        """Call a tool that must fail; return the error text the client sees."""
        result = self._call(tool, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        assert result.is_error, text
        return text


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    root = tmp_path_factory.mktemp("mcp")
    project = root / "project"
    project.mkdir()
    shutil.copy(HERE / "flows" / "mcp_flows.py", project / "mcp_flows.py")
    (root / "flags").mkdir()
    (root / "config").mkdir()
    (root / "outside.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('outside-was-imported').touch()\n"
        "import kitaru\n\n@kitaru.flow\ndef sneaky() -> None:\n    pass\n"
    )
    params = StdioServerParameters(
        command=str(KITARU_MCP),
        cwd=str(project),
        env={
            "KITARU_CONFIG_PATH": str(root / "config"),
            "ZENML_ANALYTICS_OPT_IN": "false",
            "KITARU_WAIT_POLL_INTERVAL": "0.2",
            "KITARU_TEST_FLAG_DIR": str(root / "flags"),
        },
    )
    with open(root / "server.stderr", "w") as errlog, start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(stdio_client(params, errlog=errlog)) as (read, write):
            with portal.wrap_async_context_manager(ClientSession(read, write)) as session:
                portal.call(session.initialize)
                client = Mcp(portal, session, root)
                try:
                    yield client
                finally:
                    client._call("kitaru_stop_local_server", {})


@pytest.fixture(scope="module")
def writer(mcp: Mcp) -> dict[str, Any]:
    """One completed run of mcp_writer (shared by the read-only tests)."""
    return mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "agents"})


def test_lists_exactly_the_kitaru_tools(mcp: Mcp) -> None:
    names = mcp.tool_names()
    assert set(names) == EXPECTED_TOOLS
    assert len(names) == len(EXPECTED_TOOLS)
    assert not [name for name in names if "memory" in name]


def test_run_returns_the_execution_and_flow_output_stays_off_the_protocol(mcp: Mcp, writer: dict[str, Any]) -> None:
    assert set(writer) == {"exec_id", "target", "execution", "warning"}
    assert re.fullmatch(UUID, writer["exec_id"])
    assert writer["target"] == "mcp_flows.py:mcp_writer"
    assert writer["warning"] is None
    execution = writer["execution"]
    assert execution["exec_id"] == writer["exec_id"]
    assert execution["flow_name"] == "mcp_writer"
    assert execution["status"] == "completed"
    assert [call["name"] for call in execution["checkpoints"]] == ["mcp_research", "mcp_write", "mcp_publish"]
    # The flow printed to the terminal: that went to the server's stderr.
    stderr = mcp.stderr.read_text()
    assert "Starting flow `mcp_writer`." in stderr
    assert "Using stack" not in stderr  # engine chatter stays out of the terminal here too

    fetched = mcp.call("kitaru_executions_get", exec_id=writer["exec_id"])
    assert fetched["status"] == "completed"
    assert fetched["checkpoints"] == execution["checkpoints"]


def test_logs_are_plain_text_lines(mcp: Mcp, writer: dict[str, Any]) -> None:
    text = mcp.call("get_execution_logs", exec_id=writer["exec_id"])
    assert isinstance(text, str)
    line = next(line for line in text.splitlines() if "researching agents" in line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+\s* \[mcp_research\] researching agents", line), line
    only = mcp.call("get_execution_logs", exec_id=writer["exec_id"], checkpoint="mcp_publish")
    assert only == "No log entries found."
    limited = mcp.call("get_execution_logs", exec_id=writer["exec_id"], limit=1)
    assert len(limited.splitlines()) == 1


def test_list_and_latest_with_filters(mcp: Mcp, writer: dict[str, Any]) -> None:
    listed = mcp.call("kitaru_executions_list", flow="mcp_writer")
    assert listed["count"] == len(listed["items"]) >= 1
    assert writer["exec_id"] in [item["exec_id"] for item in listed["items"]]
    assert mcp.call("kitaru_executions_list", flow="mcp_writer", stack="no-such-stack") == {"items": [], "count": 0}
    on_default = mcp.call("kitaru_executions_list", stack="default", limit=1)
    assert on_default["count"] == 1 and on_default["items"][0]["stack_name"] == "default"

    latest = mcp.call("kitaru_executions_latest", flow="mcp_writer", status="completed", stack="default")
    assert latest["flow_name"] == "mcp_writer" and latest["checkpoints"]
    assert "No executions found" in mcp.error("kitaru_executions_latest", flow="mcp_writer", stack="no-such-stack")
    assert "Unsupported status filter" in mcp.error("kitaru_executions_list", status="bogus")


def test_artifacts_list_and_get(mcp: Mcp, writer: dict[str, Any]) -> None:
    listed = mcp.call("kitaru_artifacts_list", exec_id=writer["exec_id"])
    assert listed["count"] == len(listed["items"]) >= 4
    [sources] = mcp.call("kitaru_artifacts_list", exec_id=writer["exec_id"], kind="context")["items"]
    assert sources["name"] == "sources" and sources["producing_call"] == "mcp_write"

    value = mcp.call("kitaru_artifacts_get", artifact_id=sources["artifact_id"])
    assert value["value"] == {"notes": "notes for agents", "count": 1}
    assert value["value_format"] == "json" and value["value_type"] == "dict"
    assert value["artifact_id"] == sources["artifact_id"] and value["kind"] == "context"

    [published] = mcp.call("kitaru_artifacts_list", exec_id=writer["exec_id"], producing_call="mcp_publish")["items"]
    output = mcp.call("kitaru_artifacts_get", artifact_id=published["artifact_id"])
    assert output["value"] == "PUBLISHED: Draft from notes for agents"
    assert output["value_type"] == "str"


def test_replay_with_an_override(mcp: Mcp, writer: dict[str, Any]) -> None:
    replayed = mcp.call(
        "kitaru_executions_replay",
        exec_id=writer["exec_id"],
        from_="mcp_write",
        overrides={"checkpoint.mcp_research": "edited notes"},
    )
    assert replayed["available"] is True and replayed["operation"] == "replay"
    execution = replayed["execution"]
    assert execution["original_exec_id"] == writer["exec_id"]
    assert execution["exec_id"] != writer["exec_id"]
    assert execution["status"] == "completed"
    [published] = mcp.call("kitaru_artifacts_list", exec_id=execution["exec_id"], producing_call="mcp_publish")["items"]
    value = mcp.call("kitaru_artifacts_get", artifact_id=published["artifact_id"])["value"]
    assert value == "PUBLISHED: Draft from edited notes"

    bad = mcp.error("kitaru_executions_replay", exec_id=writer["exec_id"], from_="mcp_write",
                    overrides={"wait.approve": True})
    assert "KitaruUsageError" in bad


def test_diff_returns_what_the_cli_prints(mcp: Mcp, writer: dict[str, Any]) -> None:
    other = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "memory"})
    a, b = writer["exec_id"], other["exec_id"]
    diff = mcp.call("kitaru_executions_diff", a=a[:8], b=b[:8])
    assert (diff["a"], diff["b"]) == (a, b)
    assert [(call["name"], call["change"], call["changed"]) for call in diff["checkpoints"]] == [
        ("mcp_research", "changed", ["inputs", "output"]),
        ("mcp_write", "changed", ["inputs", "output"]),
        ("mcp_publish", "changed", ["inputs", "output"]),
    ]
    assert diff["inputs"] == {"a": {"topic": "agents"}, "b": {"topic": "memory"}, "changed": ["topic"]}
    assert diff["result"]["b"] == "PUBLISHED: Draft from notes for memory"
    cli = subprocess.run(
        [str(KITARU_MCP.with_name("kitaru")), "executions", "diff", a, b, "-o", "json"],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "KITARU_CONFIG_PATH": str(mcp.root / "config"), "ZENML_ANALYTICS_OPT_IN": "false"},
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["item"] == diff
    assert "KitaruStateError" in mcp.error("kitaru_executions_diff", a=a, b="ffffff")


def test_an_event_sent_through_mcp_continues_a_paused_receive(mcp: Mcp) -> None:
    run = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_listener", args={"topic": "orders"})
    exec_id = run["exec_id"]
    assert run["execution"]["status"] == "waiting"
    assert "orders" in run["execution"]["pending_wait"]["question"]
    assert "KitaruUsageError" in mcp.error("kitaru_executions_send", exec_id=exec_id, topic="no spaces", value=1)

    sent = mcp.call("kitaru_executions_send", exec_id=exec_id, topic="orders", value={"id": 42})
    assert (sent["exec_id"], sent["topic"], sent["continued_receive"]) == (exec_id, "orders", True)
    resumed = mcp.call("kitaru_executions_resume", exec_id=exec_id)
    assert resumed["status"] == "completed"
    result = mcp.call("kitaru_executions_get", exec_id=exec_id)
    assert [call["name"] for call in result["checkpoints"]] == ["mcp_publish"]
    refused = mcp.error("kitaru_executions_send", exec_id=exec_id, topic="orders", value=1)
    assert "KitaruStateError" in refused and "completed" in refused


def test_wait_is_answered_and_resumed(mcp: Mcp) -> None:
    run = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_gated", args={"topic": "waits"})
    exec_id = run["exec_id"]
    assert run["execution"]["status"] == "waiting"
    assert run["execution"]["pending_wait"]["name"] == "approve"
    assert run["execution"]["pending_wait"]["schema"] == {"type": "boolean"}
    assert "kitaru_executions_input" in run["warning"] and "kitaru_executions_resume" in run["warning"]

    wrong = mcp.error("kitaru_executions_input", exec_id=exec_id, wait="approve", value="yes")
    assert "KitaruWaitValidationError" in wrong and "boolean" in wrong
    assert mcp.call("kitaru_executions_get", exec_id=exec_id)["pending_wait"]["name"] == "approve"
    assert "wait" in mcp.error("kitaru_executions_input", exec_id=exec_id, wait=" ", value=True)
    unknown = mcp.error("kitaru_executions_input", exec_id=exec_id, wait="nope", value=True)
    assert "KitaruStateError" in unknown and "approve" in unknown

    answered = mcp.call("kitaru_executions_input", exec_id=exec_id, wait="approve", value=True)
    assert answered["exec_id"] == exec_id and answered["pending_wait"] is None
    resumed = mcp.call("kitaru_executions_resume", exec_id=exec_id)
    assert resumed["status"] == "completed"
    [published] = mcp.call("kitaru_artifacts_list", exec_id=exec_id, producing_call="mcp_publish")["items"]
    value = mcp.call("kitaru_artifacts_get", artifact_id=published["artifact_id"])["value"]
    assert value == "PUBLISHED: Draft from notes for waits"


def test_cancel_a_waiting_execution(mcp: Mcp) -> None:
    run = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_gated", args={"topic": "cancel"})
    cancelled = mcp.call("kitaru_executions_cancel", exec_id=run["exec_id"])
    assert cancelled["status"] == "cancelled"


def test_failed_run_warns_and_retry_completes(mcp: Mcp) -> None:
    flag = mcp.flags / "fail"
    flag.touch()
    run = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_flaky")
    assert run["execution"]["status"] == "failed"
    assert "flaky failure" in run["warning"] and "kitaru_executions_retry" in run["warning"]
    assert "Only paused executions" in mcp.error("kitaru_executions_resume", exec_id=run["exec_id"])
    flag.unlink()
    assert "KitaruUsageError" in mcp.error("kitaru_executions_retry", exec_id=run["exec_id"], budget_tokens=0)
    retried = mcp.call("kitaru_executions_retry", exec_id=run["exec_id"], budget_tokens=500)
    assert retried["exec_id"] == run["exec_id"]
    assert retried["status"] == "completed"
    assert retried["budget"]["limits"]["tokens"] == 500  # the raised budget is recorded with the execution


def test_export_cassette_writes_under_the_server_directory_only(mcp: Mcp, writer: dict[str, Any]) -> None:
    written = mcp.call("kitaru_executions_export_cassette", exec_id=writer["exec_id"][:8], path="cassettes/w.json")
    path = mcp.project / "cassettes" / "w.json"
    assert written["path"] == str(path) and written["exec_id"] == writer["exec_id"]
    document = json.loads(path.read_text())
    assert document["version"] == written["version"] and len(document["calls"]) == written["calls"]
    outside = mcp.error("kitaru_executions_export_cassette", exec_id=writer["exec_id"], path="../stolen.json")
    assert "KitaruUsageError" in outside and "outside the directory" in outside
    assert not (mcp.root / "stolen.json").exists()
    assert "KitaruUsageError" in mcp.error("kitaru_executions_export_cassette", exec_id=writer["exec_id"], path=" ")
    assert "is a directory" in mcp.error("kitaru_executions_export_cassette", exec_id=writer["exec_id"], path=".")


def test_targets_outside_the_working_directory_are_refused(mcp: Mcp) -> None:
    outside = mcp.root / "outside.py"
    for target in ("../outside.py:sneaky", f"{outside}:sneaky"):
        message = mcp.error("kitaru_executions_run", target=target)
        assert "TargetNotAllowedError" in message
        assert str(outside) in message and str(mcp.project) in message
        assert "--allow-any-target" in message and "KITARU_MCP_ALLOW_ANY_TARGET=1" in message
    # A module that does not live under the working directory is refused too.
    assert "--allow-any-target" in mcp.error("kitaru_executions_run", target="json:dumps")
    # A symlink inside pointing outside does not get around it.
    (mcp.project / "link.py").symlink_to(outside)
    assert "TargetNotAllowedError" in mcp.error("kitaru_executions_run", target="link.py:sneaky")
    assert not (mcp.root / "outside-was-imported").exists(), "refused code must not run"


def test_target_errors_reach_the_client(mcp: Mcp) -> None:
    missing = mcp.error("kitaru_executions_run", target="nope.py:flow")
    assert "does not exist" in missing and "nope.py" in missing
    attribute = mcp.error("kitaru_executions_run", target="mcp_flows.py:absent")
    assert "has no attribute 'absent'" in attribute and "mcp_flaky, mcp_gated, mcp_listener, mcp_writer" in attribute
    not_flow = mcp.error("kitaru_executions_run", target="mcp_flows.py:not_a_flow")
    assert "not a flow" in not_flow and "@kitaru.flow" in not_flow
    assert "Name the flow after a colon" in mcp.error("kitaru_executions_run", target="mcp_flows.py")
    bad_args = mcp.error("kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"stack": "x"})
    assert "cannot be named stack" in bad_args


def test_manage_stack_creates_and_deletes_a_local_stack(mcp: Mcp) -> None:
    created = mcp.call("manage_stack", action="create", name="mcp-local", activate=False)
    assert created["name"] == "mcp-local" and created["stack_type"] == "local"
    assert created["is_active"] is False and created["previous_active_stack"] == "default"
    assert len(created["components_created"]) == 2
    stacks = {item["name"]: item for item in mcp.call("kitaru_stacks_list")["items"]}
    assert stacks["mcp-local"]["is_managed"] is True and stacks["default"]["is_active"] is True

    # Run on it: the execution records the stack, and the stack filter finds it.
    run = mcp.call("kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "s"}, stack="mcp-local")
    assert run["execution"]["stack_name"] == "mcp-local" and run["execution"]["status"] == "completed"
    [found] = mcp.call("kitaru_executions_list", stack="mcp-local")["items"]
    assert found["exec_id"] == run["exec_id"]
    assert mcp.call("kitaru_status")["active_stack"] == "default"  # the override was for that run only
    assert "does not exist" in mcp.error("kitaru_executions_run", target="mcp_flows.py:mcp_writer",
                                         args={"topic": "s"}, stack="no-such-stack")

    wrong = mcp.error("manage_stack", action="delete", name="mcp-local", artifact_store="s3://b", region="x")
    assert "does not take artifact_store, region" in wrong and "action='create'" in wrong
    assert "does not take recursive" in mcp.error("manage_stack", action="create", name="x", recursive=True)
    assert "create' or 'delete'" in mcp.error("manage_stack", action="rename", name="x")

    deleted = mcp.call("manage_stack", action="delete", name="mcp-local", recursive=True)
    assert deleted["deleted_stack"] == "mcp-local" and deleted["recursive"] is True
    assert len(deleted["components_deleted"]) == 2
    assert "mcp-local" not in {item["name"] for item in mcp.call("kitaru_stacks_list")["items"]}


def test_status_and_info(mcp: Mcp) -> None:
    status = mcp.call("kitaru_status")
    assert status["connection"] == "local" and status["active_stack"] == "default"
    assert status["config_directory"] == str((mcp.root / "config").resolve())
    info = mcp.call("kitaru_info", packages=["mcp"])
    assert info["packages"]["kitaru-core"] and info["packages"]["mcp"]
    assert "environment_type" in mcp.call("kitaru_info", all=True)["system"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_server_start_and_stop(mcp: Mcp) -> None:
    """Last: afterwards the server process is connected to (then disconnected from) the local server."""
    port = _free_port()
    started = mcp.call("kitaru_start_local_server", port=port, timeout=90)
    assert started == {"mode": "local", "url": f"http://127.0.0.1:{port}", "action": "started"}
    assert mcp.call("kitaru_start_local_server")["action"] == "connected"
    assert mcp.call("kitaru_status")["connection"] == "server"
    stopped = mcp.call("kitaru_stop_local_server")
    assert stopped == {"stopped": True, "url": f"http://127.0.0.1:{port}"}
    assert mcp.call("kitaru_stop_local_server")["stopped"] is False
    assert mcp.call("kitaru_status")["connection"] == "local"


# -- in-process -------------------------------------------------------------------------------


def test_import_without_the_sdk_names_the_extra() -> None:
    code = (
        "import sys\nsys.modules['mcp'] = None\n"
        "try:\n    import kitaru.mcp\nexcept ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == (
        "MCP server dependencies are not installed. Install with: pip install kitaru[mcp]"
    ), result.stderr


def test_help_names_the_allow_any_target_flag() -> None:
    result = subprocess.run([str(KITARU_MCP), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--allow-any-target" in result.stdout and "KITARU_MCP_ALLOW_ANY_TARGET" in result.stdout

"""Build and run the ``kitaru`` MCP server (stdio).

``kitaru-mcp`` (or ``python -m kitaru.mcp``) serves these tools over stdio
with the official MCP SDK; see ``docs/mcp.md`` for each tool's arguments and
payload:

* executions: ``kitaru_executions_list``, ``kitaru_executions_get``,
  ``kitaru_executions_latest``, ``get_execution_logs``,
  ``kitaru_executions_run``, ``kitaru_executions_cancel``,
  ``kitaru_executions_input``, ``kitaru_executions_retry``,
  ``kitaru_executions_resume``, ``kitaru_executions_replay``,
  ``kitaru_executions_diff``;
* artifacts: ``kitaru_artifacts_list``, ``kitaru_artifacts_get``;
* the local server: ``kitaru_start_local_server``, ``kitaru_stop_local_server``;
* ``kitaru_status``, ``kitaru_stacks_list``, ``manage_stack``, ``kitaru_info``;
* ``kitaru_clean_preview`` (a dry run of ``kitaru clean``: it never removes anything).

``kitaru_executions_run`` loads flow code only from files under the
server's working directory unless the server is started with
``--allow-any-target`` (or ``KITARU_MCP_ALLOW_ANY_TARGET=1``). Flows run in
the server process on the local default; their terminal output goes to the
server's stderr, never into the protocol stream on stdout.
"""

from __future__ import annotations

import argparse
import inspect
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from kitaru.mcp import executions, system
from kitaru.mcp.executions import ALLOW_ANY_TARGET_ENV, ALLOW_ANY_TARGET_FLAG, TargetPolicy
from kitaru.settings import settings

try:
    from mcp.server.mcpserver import MCPServer as _Server  # the SDK's FastMCP server (renamed in mcp 2)
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as exc:  # pragma: no cover - an mcp 1.x install
    raise ImportError(
        "kitaru-mcp needs version 2 or newer of the MCP SDK. Install with: pip install -U 'kitaru[mcp]'"
    ) from exc

SERVER_NAME = "kitaru"

INSTRUCTIONS = """\
Kitaru runs durable flows (@kitaru.flow) made of checkpoints (@kitaru.checkpoint).
Run a flow with kitaru_executions_run(target="path/to/file.py:flow_name", args={...});
inspect it with kitaru_executions_get and get_execution_logs; read stored values with
kitaru_artifacts_list / kitaru_artifacts_get. An execution that is "waiting" needs input:
kitaru_executions_input(exec_id, wait, value), then kitaru_executions_resume(exec_id) if it
was paused. Retry a failed execution in place with kitaru_executions_retry; replay one from a
checkpoint (optionally with edited outputs) with kitaru_executions_replay. Compare two
executions (calls, inputs, result, tokens) with kitaru_executions_diff(a, b). Record an
execution's model calls for offline tests with kitaru_executions_export_cassette(exec_id, path).
"""

TOOL_NAMES: tuple[str, ...] = (
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
    "kitaru_clean_preview",
)
"""Every tool the server offers, in the order it lists them."""


def _run_tool(policy: TargetPolicy) -> Any:
    def kitaru_executions_run(
        target: Annotated[str, Field(description="<module_or_file.py>:<flow>, e.g. flows.py:my_flow")],
        args: Annotated[dict[str, Any] | None, Field(description="The flow's inputs by parameter name.")] = None,
        stack: Annotated[str | None, Field(description="Run on this stack (this execution only).")] = None,
        idempotency_key: Annotated[
            str | None,
            Field(description="Start at most one execution of this flow for this key; if it exists, return it."),
        ] = None,
    ) -> dict[str, Any]:
        """Run a flow and return its execution.

        On the local default the flow runs to completion (or until it pauses on a
        wait) before this returns. The file is imported again on every call, so
        edits are picked up. Only files under the server's working directory can
        be loaded unless the server was started with --allow-any-target.

        Returns:
            {"exec_id", "target", "execution": the execution or null, "warning": text or null}.
        """
        return executions.run_target(policy, target, args, stack, idempotency_key)

    return kitaru_executions_run


def _export_tool(policy: TargetPolicy) -> Any:
    def kitaru_executions_export_cassette(
        exec_id: Annotated[str, Field(description="The execution id (or a unique prefix).")],
        path: Annotated[str, Field(description="The cassette file to write, under the server's directory.")],
        tools: Annotated[bool, Field(description="Also write its tool calls (name, arguments, result).")] = False,
    ) -> dict[str, Any]:
        """Write an execution's model calls to a cassette file, to run its flow offline and in tests.

        Run the flow with KITARU_CASSETTE=<path> (or inside kitaru.testing.cassette(path)) to answer
        its model requests from the file: no network, no credentials. Relative paths start at the
        server's working directory; paths outside it are refused unless the server was started with
        --allow-any-target.

        Returns:
            {"exec_id", "path", "version", "calls", "tool_calls"}.
        """
        return executions.export_cassette(policy, exec_id, path, tools)

    return kitaru_executions_export_cassette


MANAGE_STACK_HEAD: tuple[tuple[str, Any, Any, str], ...] = (
    ("action", str, inspect.Parameter.empty, "create or delete"),
    ("name", str, inspect.Parameter.empty, "The stack name (or id, to delete)."),
    ("activate", bool, True, "create: make it the active stack."),
    ("recursive", bool, False, "delete: also delete the stack's components."),
    ("force", bool, False, "delete: allow deleting the active stack."),
    ("stack_type", str, "local", "create: the stack type (local, or an installed plugin's type)."),
)
MANAGE_STACK_TAIL: tuple[tuple[str, Any, Any, str], ...] = (
    ("options", dict[str, Any] | None, None, 'create: stack fields as an object, e.g. {"region": "eu-west-1"}.'),
    ("extra", dict[str, Any] | None, None, 'create: {"orchestrator": {...}} component overrides.'),
    ("async_mode", bool, False, "create: remote runs return once submitted."),
    ("verify", bool, True, "create: check access with the cloud's SDK first."),
)
"""``manage_stack``'s own parameters (name, type, default, description); the stack fields go between."""


def manage_stack_tool() -> Callable[..., Any]:
    """The ``manage_stack`` tool, with one parameter per stack field of the installed plugins.

    Its schema is generated from the plugins' records, like the CLI's flags:
    a third-party type's ``StackField("app_name")`` is an ``app_name``
    parameter. Fields of first-party types whose plugin is not installed are
    parameters too, so the error can name the extra to install.
    """
    from kitaru.plugins import catalog

    def manage_stack(**arguments: Any) -> dict[str, Any]:
        """Create or delete a stack (where executions run).

        Options marked create: are rejected for action="delete", and recursive/force
        for action="create". Returns the same item as `kitaru stack create|delete -o json`.
        """
        return system.manage_stack(arguments.pop("action"), arguments.pop("name"), **arguments)

    fields = [
        (name, str | None, None, "create: " + catalog.describe_fields(declared))
        for name, declared in catalog.known_fields().items()
    ]
    manage_stack.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[annotation, Field(description=description)],
            )
            for name, annotation, default, description in (*MANAGE_STACK_HEAD, *fields, *MANAGE_STACK_TAIL)
        ],
        return_annotation=dict[str, Any],
    )
    return manage_stack


def as_tool(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a tool so any exception reaches the client as a tool error with Kitaru's message.

    The SDK would otherwise replace an unexpected exception's message with a
    generic "Error executing tool". The client sees ``<ExceptionType>: <message>``
    (``KitaruStateError: Only failed executions can be retried. ...``).
    """

    def call(**kwargs: Any) -> Any:
        try:
            return function(**kwargs)
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc

    call.__name__ = function.__name__
    call.__qualname__ = function.__qualname__
    call.__doc__ = function.__doc__
    call.__signature__ = inspect.signature(function, eval_str=True)  # type: ignore[attr-defined]
    return call


def build_server(*, root: Path | None = None, allow_any_target: bool = False) -> Any:
    """Create the MCP server with every Kitaru tool registered.

    Args:
        root: The working directory flow targets are relative to (and, unless
            ``allow_any_target``, restricted to); the current directory by default.
        allow_any_target: Let ``kitaru_executions_run`` load code from anywhere.

    Returns:
        The SDK server object (``run("stdio")`` serves it).
    """
    from kitaru.cli.version import sdk_version

    policy = TargetPolicy(root=(root or Path.cwd()).resolve(), allow_any=allow_any_target)
    # The SDK puts a handler on the root logger that would print every engine
    # record; Kitaru's terminal filtering (and the stored run logs) rely on the
    # engine's own root handlers, so drop the SDK's.
    handlers = list(logging.root.handlers)
    server = _Server(name=SERVER_NAME, instructions=INSTRUCTIONS, version=sdk_version())
    for handler in [h for h in logging.root.handlers if h not in handlers]:
        logging.root.removeHandler(handler)
    tools = {
        "kitaru_executions_list": executions.kitaru_executions_list,
        "kitaru_executions_get": executions.kitaru_executions_get,
        "kitaru_executions_latest": executions.kitaru_executions_latest,
        "get_execution_logs": executions.get_execution_logs,
        "kitaru_executions_run": _run_tool(policy),
        "kitaru_executions_cancel": executions.kitaru_executions_cancel,
        "kitaru_executions_input": executions.kitaru_executions_input,
        "kitaru_executions_send": executions.kitaru_executions_send,
        "kitaru_executions_retry": executions.kitaru_executions_retry,
        "kitaru_executions_resume": executions.kitaru_executions_resume,
        "kitaru_executions_replay": executions.kitaru_executions_replay,
        "kitaru_executions_diff": executions.kitaru_executions_diff,
        "kitaru_executions_export_cassette": _export_tool(policy),
        "kitaru_artifacts_list": system.kitaru_artifacts_list,
        "kitaru_artifacts_get": system.kitaru_artifacts_get,
        "kitaru_start_local_server": system.kitaru_start_local_server,
        "kitaru_stop_local_server": system.kitaru_stop_local_server,
        "kitaru_status": system.kitaru_status,
        "kitaru_stacks_list": system.kitaru_stacks_list,
        "manage_stack": manage_stack_tool(),
        "kitaru_info": system.kitaru_info,
        "kitaru_clean_preview": system.kitaru_clean_preview,
    }
    assert tuple(tools) == TOOL_NAMES
    for name, function in tools.items():
        server.add_tool(as_tool(function), name=name)
    return server


def allows_any_target(args: argparse.Namespace) -> bool:
    """Whether flows may run from anywhere: ``--allow-any-target`` or ``KITARU_MCP_ALLOW_ANY_TARGET``."""
    return bool(args.allow_any_target) or settings().mcp_allow_any_target


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``kitaru-mcp`` arguments."""
    from kitaru.cli.version import sdk_version

    parser = argparse.ArgumentParser(
        prog="kitaru-mcp",
        description="Kitaru's MCP server for coding agents (stdio). Configure it in your MCP client; "
        "see docs/mcp.md.",
    )
    parser.add_argument(
        ALLOW_ANY_TARGET_FLAG,
        action="store_true",
        help="Let kitaru_executions_run load flow code from anywhere, not only from files under the "
        f"working directory (also: {ALLOW_ANY_TARGET_ENV}=1).",
    )
    parser.add_argument("--version", action="version", version=f"kitaru-mcp {sdk_version()}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``kitaru-mcp``: serve the Kitaru tools over stdio until stdin closes."""
    args = parse_args(argv)
    server = build_server(allow_any_target=allows_any_target(args))
    server.run("stdio")


__all__ = ["SERVER_NAME", "TOOL_NAMES", "allows_any_target", "build_server", "main", "parse_args"]

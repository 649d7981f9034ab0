"""``kitaru_executions_run`` with ``idempotency_key``: the MCP form of ``kitaru run --idempotency-key``.

Uses the real ``kitaru-mcp`` server of ``test_server.py`` (its ``mcp``
fixture, one server for this module) and its real flows: a second run with
the same key returns the first execution instead of starting another.
"""

from __future__ import annotations

from tests.mcp.test_server import Mcp, mcp  # noqa: F401 (the module-scoped server fixture)


def test_a_second_run_with_the_same_key_returns_the_first_execution(mcp: Mcp) -> None:  # noqa: F811
    first = mcp.call(
        "kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "keys"}, idempotency_key="mcp-1"
    )
    assert first["execution"]["status"] == "completed"
    assert first["execution"]["idempotency_key"] == "mcp-1"
    again = mcp.call(
        "kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "keys"}, idempotency_key="mcp-1"
    )
    assert again["exec_id"] == first["exec_id"]
    other = mcp.call(
        "kitaru_executions_run", target="mcp_flows.py:mcp_writer", args={"topic": "keys"}, idempotency_key="mcp-2"
    )
    assert other["exec_id"] != first["exec_id"]
    listed = mcp.call("kitaru_executions_list", flow="mcp_writer")
    items = listed["items"] if isinstance(listed, dict) else listed
    assert sorted(item["idempotency_key"] for item in items) == ["mcp-1", "mcp-2"]

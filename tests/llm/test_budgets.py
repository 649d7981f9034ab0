"""Durable budgets: ``kitaru.Budget``, the check before each model request, retry and replay (issue 17, section 3).

The flows (tests/llm/flows/budget_flows.py) run in their own processes
against the OpenAI-protocol test server, which answers every request with
20 prompt and 5 completion tokens (25 tokens) and counts the requests each
scenario sent (its prompts start with the scenario's tag). The real CLI, in
its own process, retries and reads the executions back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import kitaru
from kitaru import KitaruClient
from tests.conftest import _SESSION_CONFIG, subprocess_env
from tests.lifecycle.conftest import HOLD_CLAIM
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer

FLOWS = Path(__file__).resolve().parent / "flows" / "budget_flows.py"
KITARU = Path(sys.executable).with_name("kitaru")
PROMPT_TOKENS, COMPLETION_TOKENS = 20, 5
TOKENS_PER_CALL = PROMPT_TOKENS + COMPLETION_TOKENS


def per_call_usd() -> float:
    """What one request costs at gpt-4o-mini's price in the openai backend's table."""
    price = kitaru.plugins.get_plugin_manager().llm_backends()["openai"].prices["gpt-4o-mini"]
    return (PROMPT_TOKENS * price.input_per_million + COMPLETION_TOKENS * price.output_per_million) / 1e6


BUDGET_USD = per_call_usd() * 2.5
"""The ``usd`` scenario's limit: two and a half requests' worth, so the third is the last sent."""


@dataclass
class Session:
    """The test server, the environment of the flow and CLI processes, and what happened at each stage."""

    server: RecordingServer
    env: dict[str, str]
    root: Path
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stages: dict[str, Any] = field(default_factory=dict)

    def sent(self, tag: str) -> int:
        """How many requests the server received for scenario ``tag``."""
        return sum(1 for request in self.server.requests if request.json["messages"][-1]["content"].startswith(tag))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the real CLI against the session store (and the test server)."""
        return subprocess.run(
            [str(KITARU), *args], capture_output=True, text=True, timeout=600, env={**self.env, "COLUMNS": "200"}
        )

    def get(self, exec_id: str) -> dict[str, Any]:
        """``kitaru executions get ID -o json``'s item."""
        result = self.cli("executions", "get", exec_id, "-o", "json")
        assert result.returncode == 0, result.stderr
        item: dict[str, Any] = json.loads(result.stdout)["item"]
        return item


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("budgets")
    responder = chat_responder(text="An answer.", prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    with RecordingServer(responder) as server:
        env = subprocess_env(
            _SESSION_CONFIG,
            OPENAI_BASE_URL=server.url + "/v1",
            OPENAI_API_KEY="sk-test-kitaru",
            BUDGET_USD=repr(BUDGET_USD),
            BUDGET_CRASH_FLAG=str(root / "crash"),
        )
        for name in SDK_ENVIRONMENT:
            if name not in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
                env.pop(name, None)
        done = subprocess.run(
            [sys.executable, str(FLOWS), "runs", str(root / "runs.json")],
            cwd=FLOWS.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        state = Session(server=server, env=env, root=root)
        state.runs = json.loads((root / "runs.json").read_text())
        yield state


@pytest.fixture(scope="module")
def tokens_stages(session: Session) -> dict[str, Any]:
    """The ``tokens`` execution as it failed, after a plain retry, and after a retry with a raised budget."""
    exec_id = session.runs["tokens"]["id"]
    stages: dict[str, Any] = {"failed": session.get(exec_id), "sent_failed": session.sent("tokens")}
    stages["retry"] = session.cli("executions", "retry", exec_id)
    stages["sent_retry"] = session.sent("tokens")
    stages["after_retry"] = session.get(exec_id)
    stages["busy"], stages["after_busy"] = refused_while_claimed(session, exec_id)
    stages["raised"] = session.cli("executions", "retry", exec_id[:8], "--budget-tokens", "200", "-o", "json")
    stages["sent_raised"] = session.sent("tokens")
    stages["after_raised"] = session.get(exec_id)
    stages["text"] = session.cli("executions", "get", exec_id)
    return stages


def refused_while_claimed(session: Session, exec_id: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``retry --budget-tokens 999`` while another process holds the execution's claim, and the execution after."""
    state = session.root / "claim"
    state.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CLAIM, exec_id, str(state)], env=session.env)
    try:
        deadline = time.monotonic() + 120
        while not (state / "claimed").exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the claim holder did not start"
            time.sleep(0.05)
        busy = session.cli("executions", "retry", exec_id, "--budget-tokens", "999", "-o", "json")
    finally:
        (state / "release").touch()
        holder.wait(timeout=120)
    return busy, session.get(exec_id)


def test_a_refused_retry_does_not_raise_the_budget(tokens_stages: dict[str, Any]) -> None:
    busy = tokens_stages["busy"]
    assert busy.returncode == 1 and "another process is running or continuing it" in busy.stderr, busy.stderr
    assert tokens_stages["after_busy"]["budget"]["limits"] == {"tokens": 60}  # unchanged: nothing continued


def test_three_requests_are_sent_and_the_fourth_is_refused(session: Session, tokens_stages: dict[str, Any]) -> None:
    run = session.runs["tokens"]
    assert tokens_stages["sent_failed"] == 3  # 0, 25 and 50 tokens spent before them; 75 >= 60 before the 4th
    assert (run["error"], run["origin"]) == ("KitaruBudgetExceededError", "budget")
    assert "LLM call 'ask_4' was not sent" in run["message"]
    assert "budget of 60 tokens (spent 75 tokens in 3 LLM calls)" in run["message"]
    assert f"kitaru executions retry {run['id']} --budget-tokens " in run["message"]

    item = tokens_stages["failed"]
    assert item["status"] == "failed"
    assert item["failure"]["origin"] == "budget"
    assert item["failure"]["exception_type"].endswith("KitaruBudgetExceededError")
    assert item["budget"] == {
        "limits": {"tokens": 60},
        "spent": {"usd": pytest.approx(3 * per_call_usd()), "tokens": 75, "llm_calls": 3, "calls_with_unknown_cost": 0},
        "exhausted": True,
    }
    assert item["llm_usage"]["total_tokens"] == 75


def test_a_retry_sends_no_request_and_fails_with_budget_again(tokens_stages: dict[str, Any]) -> None:
    retry = tokens_stages["retry"]
    assert retry.returncode == 1, retry.stdout + retry.stderr
    assert tokens_stages["sent_retry"] == tokens_stages["sent_failed"] == 3
    after = tokens_stages["after_retry"]
    assert (after["status"], after["failure"]["origin"]) == ("failed", "budget")
    assert after["budget"]["spent"]["tokens"] == 75 and after["budget"]["exhausted"] is True


def test_a_retry_with_a_raised_budget_continues_and_skips_the_calls_made(
    session: Session, tokens_stages: dict[str, Any]
) -> None:
    raised = tokens_stages["raised"]
    assert raised.returncode == 0, raised.stdout + raised.stderr
    assert json.loads(raised.stdout)["item"]["status"] == "completed"
    assert tokens_stages["sent_raised"] == 5  # ask_4 and ask_5 only; ask_1..3 came from the journal
    prompts = [r.json["messages"][-1]["content"] for r in session.server.requests]
    assert [p for p in prompts if p.startswith("tokens")] == [f"tokens question {n}" for n in range(1, 6)]
    after = tokens_stages["after_raised"]
    assert after["status"] == "completed"
    assert after["budget"]["limits"] == {"tokens": 200}  # the override is recorded with the execution
    assert (after["budget"]["spent"]["tokens"], after["budget"]["exhausted"]) == (125, False)
    text = tokens_stages["text"]
    assert text.returncode == 0, text.stderr
    assert "125 tokens of 200 tokens" in text.stdout


def test_an_llm_calls_limit(session: Session) -> None:
    run = session.runs["calls"]
    assert session.sent("calls") == 2
    assert (run["error"], run["origin"]) == ("KitaruBudgetExceededError", "budget")
    assert "budget of 2 LLM calls (spent 2 LLM calls" in run["message"]
    assert f"kitaru executions retry {run['id']} --budget-calls 4" in run["message"]
    item = session.get(run["id"])
    # The run's budget replaced the flow's: no token limit.
    assert item["budget"]["limits"] == {"llm_calls": 2} and item["budget"]["exhausted"] is True


def test_a_usd_limit(session: Session) -> None:
    run = session.runs["usd"]
    assert session.sent("usd") == 3  # $0, 1x and 2x a request's cost spent before them; 3x >= 2.5x
    assert (run["error"], run["origin"]) == ("KitaruBudgetExceededError", "budget")
    assert "--budget-usd" in run["message"]
    item = session.get(run["id"])
    assert item["budget"]["limits"] == {"usd": pytest.approx(BUDGET_USD)}
    assert item["budget"]["spent"]["usd"] == pytest.approx(3 * per_call_usd())


def test_a_replay_starts_its_own_budget(session: Session) -> None:
    source, replay = session.runs["source"], session.runs["replay"]
    assert source["error"] is None and replay["error"] is None
    # 5 for the source, then ask_4 and ask_5 for the replay: the 75 tokens of the reused
    # ask_1..3 do not count against the replay's 60.
    assert session.sent("replay") == 7
    item = session.get(replay["id"])
    assert item["budget"]["limits"] == {"tokens": 60}
    assert (item["budget"]["spent"]["tokens"], item["budget"]["spent"]["llm_calls"]) == (50, 2)


def test_spending_recorded_before_a_kill_counts_after_the_retry(session: Session) -> None:
    (session.root / "crash").write_text("kill me after the second call")
    died = subprocess.run(
        [sys.executable, str(FLOWS), "crash"],
        cwd=FLOWS.parent,
        env=session.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert died.returncode == -9, died.stdout + died.stderr
    assert session.sent("crash") == 2
    crashed = KitaruClient().executions.list(flow="budget_crash_agent")[0].exec_id
    deadline = time.monotonic() + 120
    while (item := session.get(crashed))["status"] != "failed":  # the dead owner is detected
        assert time.monotonic() < deadline, item["status"]
        time.sleep(0.5)
    retry = session.cli("executions", "retry", crashed)
    assert retry.returncode == 1, retry.stdout + retry.stderr
    # ask_3 (50 tokens recorded by the dead process) is sent; ask_4 (75) is refused.
    assert session.sent("crash") == 3
    item = session.get(crashed)
    assert item["failure"]["origin"] == "budget"
    assert item["budget"]["spent"]["tokens"] == 75


def test_an_agent_adapters_requests_are_checked_too(session: Session) -> None:
    run = session.runs["agent"]
    assert session.sent("agent") == 1  # the agent's second model request is refused before it is sent
    assert (run["error"], run["origin"]) == ("KitaruBudgetExceededError", "budget")
    assert "LLM call 'budget_writer_request_2' was not sent" in run["message"]
    item = session.get(run["id"])
    assert item["budget"]["spent"]["llm_calls"] == 1 and item["budget"]["exhausted"] is True


def test_a_child_flow_run_cannot_take_a_budget(session: Session) -> None:
    assert "budget= cannot be given to a flow run in another flow's body" in session.runs["child"]["result"]
    assert session.sent("child") == 0


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        ({}, "at least one limit"),
        ({"tokens": 0}, "tokens must be greater than 0"),
        ({"tokens": 1.5}, "whole number"),
        ({"llm_calls": True}, "whole number"),
        ({"usd": -0.5}, "usd must be greater than 0"),
        ({"usd": "1"}, "US dollars"),
        ({"usd": float("nan")}, "greater than 0"),
    ],
)
def test_bad_budget_values_are_usage_errors(limits: dict[str, Any], words: str) -> None:
    with pytest.raises(kitaru.KitaruUsageError, match=words):
        kitaru.Budget(**limits)


def test_a_budget_that_is_not_a_budget_is_a_usage_error() -> None:
    with pytest.raises(kitaru.KitaruUsageError, match="must be a kitaru.Budget"):

        @kitaru.flow(budget={"tokens": 60})
        def flow_with_dict_budget() -> None:
            return None


def test_the_cli_refuses_bad_budget_options(session: Session) -> None:
    exec_id = session.runs["calls"]["id"]
    zero = session.cli("executions", "retry", exec_id, "--budget-tokens", "0", "-o", "json")
    assert zero.returncode == 1
    assert "--budget-tokens must be greater than 0" in json.loads(zero.stderr)["error"]["message"]
    bulk = session.cli("executions", "retry", "--status", "failed", "--budget-usd", "1", "-o", "json")
    assert bulk.returncode == 1
    assert "cannot be used with --status" in json.loads(bulk.stderr)["error"]["message"]
    assert session.sent("calls") == 2  # nothing was retried

"""docs/agents.md: its complete research agent runs as the page says, against a local provider.

The page's first Python block is saved as ``research_agent.py`` and run the
way the page runs it: the agent calls its tool, writes a structured brief,
pauses for approval; ``kitaru executions input`` and ``resume`` publish it
without asking the model or running the tool again; a failed publish is
retried alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, subprocess_env
from tests.llm.agent_support import KITARU, asked_for_tools, final_requests
from tests.llm.openai_protocol import SDK_ENVIRONMENT, tool_agent_responder
from tests.llm.recording_server import RecordingServer

AGENTS_DOC = REPO_ROOT / "docs" / "agents.md"


def first_python_block(doc: str) -> str:
    return re.search(r"```python\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]


def test_the_research_agent_of_the_page_runs_pauses_resumes_and_retries(tmp_path: Path, fresh_config_dir: Path) -> None:
    script = tmp_path / "research_agent.py"
    script.write_text(first_python_block(AGENTS_DOC.read_text(encoding="utf-8")), encoding="utf-8")
    outbox = tmp_path / "outbox"
    with RecordingServer(tool_agent_responder()) as server:
        env = subprocess_env(
            fresh_config_dir,
            OPENAI_BASE_URL=server.url + "/v1",
            OPENAI_API_KEY="sk-test-kitaru",
            RESEARCH_OUTBOX=str(outbox),
        )
        for name in SDK_ENVIRONMENT:
            if name not in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
                env.pop(name, None)

        def kitaru(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(KITARU), *args],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                stdin=subprocess.DEVNULL,
            )

        ran = subprocess.run(
            [sys.executable, str(script), "durable agents"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        exec_id = re.search(r"^Execution: (\S+)$", ran.stdout, re.M).group(1)  # type: ignore[union-attr]
        assert "Status: waiting" in ran.stdout, ran.stdout + ran.stderr
        got = json.loads(kitaru("executions", "get", exec_id, "-o", "json").stdout)["item"]
        assert got["status"] == "waiting", ran.stdout + ran.stderr
        assert [(c["name"], c["checkpoint_type"]) for c in got["checkpoints"]] == [
            ("research", "llm_call"),
            ("research_search_web", "tool_call"),
            ("research_2", "llm_call"),
        ]
        assert got["llm_usage"]["calls"] == 2
        first = server.requests[0].json
        assert first["tools"][0]["function"]["name"] == "search_web"
        assert first["response_format"]["json_schema"]["name"] == "Brief"

        (outbox / "publisher-down").touch()
        assert kitaru("executions", "input", exec_id, "--value", "true").returncode == 0
        resumed = kitaru("executions", "resume", exec_id)
        got = json.loads(kitaru("executions", "get", exec_id, "-o", "json").stdout)["item"]
        assert got["status"] == "failed", resumed.stdout + resumed.stderr
        assert "publisher is down" in got["failure"]["message"]

        (outbox / "publisher-down").unlink()
        retried = kitaru("executions", "retry", exec_id, "-o", "json")
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert json.loads(retried.stdout)["item"]["status"] == "completed"

    published = json.loads((outbox / "published.json").read_text())
    assert published == {
        "title": "Brief",
        "points": [
            '["Research durable agents and write a brief.: finding 1", '
            '"Research durable agents and write a brief.: finding 2", '
            '"Research durable agents and write a brief.: finding 3"]'
        ],
    }
    assert (outbox / "searches.log").read_text().splitlines() == ["Research durable agents and write a brief."]
    assert asked_for_tools(server) == 1 and len(final_requests(server)) == 1, "each request was sent once"

"""Keep ``docs/testing.md`` (cassettes) in step with the code, and run its example test.

The page's command lines must parse with the real CLI; the names, modes,
variables and call kinds it cites must be the code's; and its pytest module
must pass as written: the test records its cassette the way the page says
(run the flow once against the OpenAI-protocol test server, then ``kitaru
executions export``), shuts the server down, and runs the page's test module
with pytest in a new process with no credential in its environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer
from tests.meta.doc_commands import kitaru_commands, refusal

import kitaru
import kitaru.testing
from kitaru._llm.cassette_file import KINDS, REQUEST_KEYS, VERSION
from kitaru._llm.cassettes import CASSETTE_CREDENTIALS, CASSETTE_ENV, MODE_ENV, MODES
from kitaru.settings import variables

DOC = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text()
KITARU = Path(sys.executable).with_name("kitaru")
ANSWER = "Durable agents resume where they stopped."
"""What the example test expects the recorded call to have answered."""


def example() -> str:
    [block] = re.findall(r"```python\n(.*?)```", DOC, re.S)
    return block


def test_every_command_line_parses() -> None:
    commands = kitaru_commands(DOC)
    assert ["executions", "export"] in [args[:2] for args in commands]
    assert {"--cassette", "--tools"} <= {word for args in commands for word in args}
    for args in commands:
        assert refusal(args) is None, (args, refusal(args))


def test_the_names_modes_and_variables_are_the_codes() -> None:
    assert callable(kitaru.testing.cassette) and "cassette" in kitaru.testing.__all__
    assert issubclass(kitaru.KitaruCassetteMiss, kitaru.KitaruRuntimeError)
    assert "KitaruCassetteMiss" in kitaru.__all__
    modes = re.findall(r"^\| `(\w+)` \|", DOC, re.M)
    assert tuple(modes) == MODES
    assert {CASSETTE_ENV, MODE_ENV} <= set(variables())
    assert {CASSETTE_ENV, MODE_ENV} <= set(re.findall(r"KITARU_[A-Z_]+", DOC))
    assert f"`credential_source` is `{CASSETTE_CREDENTIALS}`" in DOC
    for kind in KINDS:
        assert f"`{kind}`" in DOC
        for key in REQUEST_KEYS[kind]:
            assert f"`{key}`" in DOC, key
    assert "a `version` field" in DOC and VERSION == 1
    doc = kitaru.testing.__doc__ or ""
    assert ":func:`cassette`" in doc and "docs/testing.md" in doc and 'mode="record"' in doc


def test_the_example_test_passes_offline(tmp_path: Path) -> None:
    tests, config = tmp_path / "tests", tmp_path / "config"
    tests.mkdir()
    config.mkdir()
    (tests / "test_research.py").write_text(example())
    env = subprocess_env(config)
    for name in SDK_ENVIRONMENT:
        env.pop(name, None)
    record = "from test_research import research; handle = research.run('durable agents'); print(handle.wait()); print(handle.exec_id)"
    with RecordingServer(chat_responder(text=ANSWER)) as server:
        online = {**env, "OPENAI_BASE_URL": server.url + "/v1", "OPENAI_API_KEY": "sk-test-kitaru"}
        ran = subprocess.run(
            [sys.executable, "-c", record], cwd=tests, env=online, capture_output=True, text=True, timeout=600
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        answer, exec_id = ran.stdout.strip().splitlines()[-2:]
        assert (answer, len(server.requests)) == (ANSWER, 1)
    exported = subprocess.run(
        [
            str(KITARU),
            "executions",
            "export",
            exec_id,
            "--cassette",
            str(tests / "cassettes" / "research.json"),
            "-o",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert json.loads(exported.stdout)["item"]["calls"] == 1
    offline = {**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}  # nothing listens there; no API key at all
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tests)],
        cwd=tmp_path,
        env=offline,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout, tested.stdout

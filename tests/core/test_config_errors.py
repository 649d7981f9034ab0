"""Config errors that help: each names the file, the key or the line and column, and what to do.

Everything runs the real SDK or the installed ``kitaru`` console script in a
child process with a fresh config dir:

* an unknown key in ``[tool.kitaru]`` or ``kitaru.yaml`` is a warning naming the
  file and the dotted key, with the closest known key (``cahce`` -> ``cache``),
  and the run goes on;
* a syntax error in ``kitaru.yaml``, a stack file or ``pyproject.toml`` names
  the line and column and quotes the parser;
* a bad value names the file and the dotted key and says what is expected
  (a negative or missing ``llm_prices`` entry fails the ``llm()`` call before
  the provider is contacted);
* a secret name is checked against a stated rule before anything is stored;
* a writer that replaces an unreadable ``kitaru.yaml`` keeps a copy of it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.llm.openai_protocol import SDK_ENVIRONMENT, chat_responder
from tests.llm.recording_server import RecordingServer

KITARU = Path(sys.executable).with_name("kitaru")

INVALID_FILE = "The Kitaru global config file is invalid. Fix or delete {path} and try again."

FLOW = textwrap.dedent(
    """
    import kitaru


    @kitaru.checkpoint
    def add_one(value: int) -> int:
        return value + 1


    @kitaru.flow
    def count(value: int) -> int:
        return add_one(value)


    @kitaru.flow
    def priced(topic: str) -> str:
        return kitaru.llm(f"One line about {topic}", model="openai/gpt-4o-mini")


    if __name__ == "__main__":
        import sys

        try:
            handle = priced.run(sys.argv[2]) if sys.argv[1] == "priced" else count.run(1)
            print("RESULT", handle.wait())
        except Exception as exc:
            print("FAILED", type(exc).__name__, exc)
    """
)
"""A project's flows: ``count`` runs a checkpoint, ``priced`` makes one ``kitaru.llm()`` call."""


def project(tmp_path: Path, tool_kitaru: str = "") -> Path:
    """A project directory with the flows and a ``pyproject.toml`` holding ``tool_kitaru`` (TOML text)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "flows.py").write_text(FLOW)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n\n' + textwrap.dedent(tool_kitaru))
    return root


def run_flow(root: Path, config: Path, *args: str, provider: RecordingServer | None = None) -> str:
    """Run ``flows.py`` in a child process; return its stdout and stderr together, on one line.

    With ``provider``, the openai SDK in the child talks to that local server and nowhere else.
    """
    env = subprocess_env(config, KITARU_NO_DAEMON="1")
    if provider is not None:
        for name in (*SDK_ENVIRONMENT, "KITARU_LLM_MOCK_RESPONSE"):
            env.pop(name, None)
        env.update(OPENAI_BASE_URL=provider.url + "/v1", OPENAI_API_KEY="sk-test-prices")
    result = subprocess.run(
        [sys.executable, "flows.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return " ".join((result.stdout + result.stderr).split())


def run_kitaru(config: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a child with ``config`` as its config dir."""
    return subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(config, COLUMNS="200", NO_COLOR="1", KITARU_NO_DAEMON="1"),
        cwd=cwd or config.parent,
        timeout=300,
    )


def write_config(config: Path, text: str) -> Path:
    path = config / "kitaru.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# -- unknown keys: a warning with a suggestion, and the run goes on ------------------------------


def test_a_misspelt_pyproject_key_warns_with_a_suggestion_and_the_flow_still_runs(
    tmp_path: Path, fresh_config_dir: Path
) -> None:
    root = project(tmp_path, "[tool.kitaru]\ncahce = false\nretries = 1\n")
    output = run_flow(root, fresh_config_dir, "count")
    assert (
        f"[tool.kitaru] in {root / 'pyproject.toml'}: ignoring unknown key(s) cahce (did you mean `cache`?). "
        "Valid keys are: stack, image, cache, retries, timeout, checkpoint_timeout."
    ) in output
    assert "RESULT 2" in output


def test_misspelt_kitaru_yaml_keys_warn_naming_the_file_and_the_dotted_key(fresh_config_dir: Path) -> None:
    path = write_config(
        fresh_config_dir,
        """\
        version: 1
        log_sotre: {backend: otel}
        model_registry:
          aliases:
            fast: {model: openai/gpt-4o-mini, secert: openai}
          defualt: fast
        """,
    )
    result = run_kitaru(fresh_config_dir, "model", "list")
    assert result.returncode == 0, result.stderr
    assert "fast" in result.stdout and "openai/gpt-4o-mini" in result.stdout
    warnings = " ".join(result.stderr.split())
    for expected in (
        f"{path}: ignoring unknown key(s) log_sotre (did you mean `log_store`?). "
        "Valid keys are: version, log_store, model_registry, llm_prices, execution.",
        f"{path}: ignoring unknown key(s) model_registry.defualt (did you mean `default`?). "
        "Valid keys are: aliases, default.",
        f"{path}: ignoring unknown key(s) model_registry.aliases.fast.secert (did you mean `secret`?). "
        "Valid keys are: model, secret.",
    ):
        assert expected in warnings, result.stderr


# -- syntax errors: the line, the column and the parser's words ---------------------------------


def test_a_yaml_syntax_error_in_kitaru_yaml_names_the_line_and_column(fresh_config_dir: Path) -> None:
    path = write_config(fresh_config_dir, "version: 1\nlog_store:\n  backend: otel\n endpoint: x\n")
    result = run_kitaru(fresh_config_dir, "model", "list")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {INVALID_FILE.format(path=path)} YAML syntax error at line 4, column 2: expected <block end>, "
        "but found '<block mapping start>' (while parsing a block mapping from line 1, column 1).\n"
    )


def test_a_stack_file_names_the_yaml_error_position_and_suggests_a_misspelt_key(
    tmp_path: Path, fresh_config_dir: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: team\ntype local\nregion: eu\n")
    result = run_kitaru(fresh_config_dir, "stack", "create", "--file", str(broken))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: Stack file '{broken}' is not valid YAML: line 3, column 1: could not find expected ':' "
        "(while scanning a simple key from line 2, column 1).\n"
    )
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text("name: team\ntpye: local\n")
    result = run_kitaru(fresh_config_dir, "stack", "create", "--file", str(misspelt))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"Error: Stack file '{misspelt}': unknown key 'tpye'. Did you mean `type`? Known keys: name, type,"
    ), result.stderr


@pytest.mark.parametrize(
    ("tool_kitaru", "expected"),
    [
        (
            "[tool.kitaru]\nstack = \n",
            "Could not parse {path}: line 5, column 9: Invalid value. Fix the TOML syntax and try again.",
        ),
        (
            '[tool.kitaru]\nretries = "three"\n',
            "[tool.kitaru] in {path}: 'retries' must be a whole number >= 0; got 'three'",
        ),
        (
            "[tool.kitaru.image]\nbase_imgae = 'python:3.12-slim'\n",
            "[tool.kitaru] in {path}: Unknown image setting 'base_imgae'. Did you mean `base_image`?",
        ),
    ],
    ids=["toml syntax", "wrong type", "unknown image setting"],
)
def test_a_bad_pyproject_stops_the_run_naming_the_file_and_the_problem(
    tmp_path: Path, fresh_config_dir: Path, tool_kitaru: str, expected: str
) -> None:
    root = project(tmp_path, tool_kitaru)
    output = run_flow(root, fresh_config_dir, "count")
    assert "RESULT" not in output
    assert f"FAILED KitaruUsageError {expected.format(path=root / 'pyproject.toml')}" in output, output


# -- prices: rejected with the file and the dotted key, before the provider is paid -------------


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "{input_per_million: -0.5, output_per_million: 0.6}",
            "{path}: llm_prices.openai/gpt-4o-mini.input_per_million must be a number >= 0 "
            "(US dollars per million tokens); got -0.5.",
        ),
        (
            "{input_per_million: 0.15}",
            "{path}: llm_prices.openai/gpt-4o-mini is missing output_per_million. A price needs both "
            "input_per_million and output_per_million (US dollars per million tokens, numbers >= 0).",
        ),
    ],
    ids=["negative", "missing key"],
)
def test_a_bad_price_fails_the_llm_call_before_the_provider_is_called(
    tmp_path: Path, fresh_config_dir: Path, price: str, expected: str
) -> None:
    path = write_config(fresh_config_dir, f"version: 1\nllm_prices:\n  openai/gpt-4o-mini: {price}\n")
    root = project(tmp_path)
    with RecordingServer(chat_responder()) as provider:
        output = run_flow(root, fresh_config_dir, "priced", "durability", provider=provider)
    assert "RESULT" not in output
    assert expected.format(path=path) in output, output
    assert provider.requests == [], "the provider was called although the price was invalid"


# -- secret names: one rule, stated, checked before anything is stored ---------------------------


def test_a_bad_secret_name_is_refused_with_the_rule(fresh_config_dir: Path) -> None:
    result = run_kitaru(fresh_config_dir, "secrets", "set", "team/openai", "--OPENAI_API_KEY=sk-never-stored")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: Invalid secret name 'team/openai'. Names are 1-255 characters: letters, digits, '_', '-' "
        "and '.', starting with a letter or digit (for example openai or anthropic-prod).\n"
    )
    pasted = run_kitaru(fresh_config_dir, "secrets", "set", "OPENAI_API_KEY=sk-never-shown", "--A=b")
    assert pasted.returncode == 1
    assert "Invalid secret name (not shown: it contains '=', so it may be a value)." in pasted.stderr
    assert "sk-never-shown" not in pasted.stderr
    assert not (fresh_config_dir / "local_stores").exists(), "refused before the secrets store was opened"


# -- writers: start fresh, but keep the user's file ----------------------------------------------


def test_a_writer_replacing_an_unreadable_kitaru_yaml_keeps_a_copy(fresh_config_dir: Path) -> None:
    original = "log_store: [unclosed\nmodel_registry: {aliases: {fast: openai/gpt-4o-mini}}\n"
    path = write_config(fresh_config_dir, original)
    result = run_kitaru(fresh_config_dir, "log-store", "reset")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == "version: 1\n"
    copies = sorted(fresh_config_dir.glob("kitaru.yaml.invalid-*"))
    assert len(copies) == 1
    assert copies[0].read_text() == original
    assert copies[0].stat().st_mode & 0o077 == 0, "the copy may hold an API key: owner-only"
    warning = " ".join(result.stderr.split())
    assert (
        f"{path} could not be read. YAML syntax error at line 2, column 15: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence from line 1, column 12)."
    ) in warning
    assert f"kept the old one as {copies[0]}: copy what you need from it." in warning

"""``kitaru secrets`` and ``kitaru model`` (SPEC §4.5, §4.6), and the secret helpers behind them.

* Library tests run :mod:`kitaru._llm.secrets` in-process against the session's
  real SQLite store (unique names per test).
* CLI tests run the real CLI in child processes with a fresh config dir. Every
  secrets command loads the engine (several seconds), so the engine-bound
  sequence runs in *one* child that calls the CLI entry point once per command,
  with stdout and stderr captured at the file-descriptor level per command;
  commands that never load the engine (model aliases, argument errors) run the
  installed console script directly.

Secret values used here must never show up in any output except
``secrets show --show-values``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from kitaru._llm import secrets
from kitaru.cli.secrets import parse_assignments
from kitaru.errors import KitaruBackendError, KitaruRuntimeError, KitaruUsageError
from tests.conftest import subprocess_env

KITARU = Path(sys.executable).with_name("kitaru")
VALUE_1 = "sk-kitaru-first-7f3a9c1e5b2d4680"
VALUE_2 = "sk-kitaru-second-0a9b8c7d6e5f4321"
VALUE_3 = "tok-kitaru-third-1122334455667788"
ALL_VALUES = (VALUE_1, VALUE_2, VALUE_3)

DRIVER = textwrap.dedent(
    '''
    """Run several kitaru CLI commands in one process; capture each one's fds 1 and 2."""
    import json, os, sys, tempfile
    from kitaru.cli.app import run

    steps = json.loads(open(sys.argv[1]).read())
    results = []
    for step in steps:
        extra = step.get("env", {})
        saved = {key: os.environ.get(key) for key in extra}
        os.environ.update(extra)
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        sys.stdout.flush(); sys.stderr.flush()
        keep_out, keep_err = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        error = None
        try:
            if "argv" in step:
                code = run(step["argv"])
            else:  # a library call, to see the error it raises
                from kitaru._llm.secrets import secret_values
                try:
                    secret_values(step["secret_values"])
                    code = 0
                except Exception as exc:
                    code, error = 1, {"type": type(exc).__name__, "message": str(exc)}
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(keep_out, 1); os.dup2(keep_err, 2)
            os.close(keep_out); os.close(keep_err)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        out.seek(0); err.seek(0)
        results.append({"rc": code, "stdout": out.read().decode(), "stderr": err.read().decode(),
                        "error": error})
    open(sys.argv[2], "w").write(json.dumps(results))
    '''
)


# -- helpers -----------------------------------------------------------------------------


def run_kitaru(config_dir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a child with its own config dir."""
    return subprocess.run(
        [str(KITARU), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1", **extra_env),
        cwd=config_dir.parent,
        timeout=300,
    )


def run_sequence(tmp_path: Path, config_dir: Path, steps: list[dict[str, Any]],
                 **extra_env: str) -> list[dict[str, Any]]:
    """Run CLI commands one after another in one child process (the engine loads once)."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    steps_file, results_file = tmp_path / "steps.json", tmp_path / "results.json"
    steps_file.write_text(json.dumps(steps))
    child = subprocess.run(
        [sys.executable, str(driver), str(steps_file), str(results_file)],
        capture_output=True,
        text=True,
        env=subprocess_env(config_dir, COLUMNS="200", NO_COLOR="1", **extra_env),
        cwd=tmp_path,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(results_file.read_text())


def ok_json(result: dict[str, Any] | subprocess.CompletedProcess[str]) -> dict[str, Any]:
    rc, out, err = _parts(result)
    assert rc == 0, f"rc={rc}\nstdout={out}\nstderr={err}"
    return json.loads(out)


def error_json(result: dict[str, Any] | subprocess.CompletedProcess[str], command: str) -> dict[str, Any]:
    rc, out, err = _parts(result)
    assert rc == 1, f"rc={rc}\nstdout={out}\nstderr={err}"
    assert out == ""
    payload = json.loads(err)
    assert payload["command"] == command
    return payload["error"]


def _parts(result: Any) -> tuple[int, str, str]:
    if isinstance(result, dict):
        return result["rc"], result["stdout"], result["stderr"]
    return result.returncode, result.stdout, result.stderr


def assert_no_values(*texts: str, values: tuple[str, ...] = ALL_VALUES) -> None:
    for text in texts:
        for value in values:
            assert value not in text
            assert value[:12] not in text  # not even a recognisable prefix


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- argument parsing ----------------------------------------------------------------------


def test_assignments_accept_both_forms_and_reject_mistakes() -> None:
    assert parse_assignments(["--A=1", "--B_2", "two words", "--_c=x=y", "--D", "-5"]) == {
        "A": "1",
        "B_2": "two words",
        "_c": "x=y",
        "D": "-5",
    }
    cases = {
        ("--A=",): "--A has an empty value",
        ("--A=1", "--A=2"): "--A is given more than once",
        ("--A",): "--A has no value. Give it as --A=value",
        ("--A", "--B=1"): "--A has no value",
        ("--1A=x",): "Invalid secret key '1A'",
        ("--A-B=x",): "Invalid secret key 'A-B'",
        ("--=x",): "Invalid secret key ''",
        (): "Give at least one value",
        ("--A=1", VALUE_1): "Unexpected argument #2",
        ("--",): "Unexpected argument #1",
    }
    for tokens, message in cases.items():
        with pytest.raises(KitaruUsageError, match=message) as info:
            parse_assignments(list(tokens))
        assert_no_values(str(info.value))


# -- library (session store) ----------------------------------------------------------------


def test_set_show_and_values_by_exact_name_or_id() -> None:
    name = unique("openai")
    summary, result, replaced = secrets.set_secret(name, {"OPENAI_API_KEY": VALUE_1})
    assert (result, replaced, summary.keys, summary.visibility) == ("created", (), ("OPENAI_API_KEY",), "private")
    assert summary.as_dict() == {
        "id": summary.id,
        "name": name,
        "visibility": "private",
        "keys": ["OPENAI_API_KEY"],
        "has_missing_values": False,
    }
    assert VALUE_1 not in repr(summary)

    updated, result, replaced = secrets.set_secret(name, {"OPENAI_BASE_URL": "http://h/v1", "OPENAI_API_KEY": VALUE_2})
    assert (updated.id, result, replaced) == (summary.id, "updated", ("OPENAI_API_KEY",))
    assert updated.keys == ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    expected = {"OPENAI_API_KEY": VALUE_2, "OPENAI_BASE_URL": "http://h/v1"}
    assert secrets.secret_values(name) == expected
    assert secrets.secret_values(summary.id) == expected
    assert secrets.get_with_values(summary.id) == (updated, expected)
    assert secrets.require_secret(name) == updated

    for missing in (name[:-2], name.upper(), str(uuid.uuid4())):  # prefixes and other cases don't match
        with pytest.raises(KitaruRuntimeError, match="No secret named or with id") as info:
            secrets.secret_values(missing)
        assert not isinstance(info.value, KitaruBackendError)
        with pytest.raises(KitaruUsageError, match=f"Secret '{missing}' does not exist"):
            secrets.require_secret(missing)

    with pytest.raises(KitaruUsageError, match=f"'{summary.id}' is the id of secret '{name}'"):
        secrets.set_secret(summary.id, {"X": "1"})

    assert secrets.delete_secret(summary.id) == updated
    with pytest.raises(KitaruRuntimeError, match="No secret named or with id"):
        secrets.delete_secret(name)


def test_set_updates_a_public_secret_of_that_name_and_prefers_your_private_one() -> None:
    from zenml.client import Client

    name = unique("shared")
    public = Client().create_secret(name=name, values={"TEAM_KEY": VALUE_3}, private=False)
    summary, result, _ = secrets.set_secret(name, {"EXTRA": "1"})
    assert (summary.id, summary.visibility, result) == (str(public.id), "public", "updated")
    assert summary.keys == ("EXTRA", "TEAM_KEY")

    private = Client().create_secret(name=name, values={"MINE": "2"}, private=True)
    assert secrets.get_summary(name).id == str(private.id)
    assert secrets.secret_values(name) == {"MINE": "2"}
    assert secrets.secret_values(str(public.id)) == {"EXTRA": "1", "TEAM_KEY": VALUE_3}
    secrets.delete_secret(name)  # the private one
    assert secrets.get_summary(name).id == str(public.id)
    secrets.delete_secret(name)


def test_list_reads_every_page_sorted_by_name() -> None:
    prefix = unique("page")
    names = [f"{prefix}-{index:02d}" for index in range(23)]  # more than one engine page (20)
    for name in reversed(names):
        secrets.set_secret(name, {"K": "v"})
    try:
        listed = [s for s in secrets.list_summaries() if s.name.startswith(prefix)]
        assert [s.name for s in listed] == names
        assert all(s.keys == ("K",) for s in listed)
        everything = [s.name for s in secrets.list_summaries()]
        assert everything == sorted(everything)
    finally:
        for name in names:
            secrets.delete_secret(name)


def test_invalid_names_keys_and_values_are_rejected_before_writing() -> None:
    for bad in ("", "  ", "two words", "-x", "x" * 256):
        with pytest.raises(KitaruUsageError):
            secrets.validate_secret_name(bad)
    name = unique("never")
    for values, message in (
        ({}, "Give at least one value"),
        ({"OK": "1", "bad-key": "2"}, "Invalid secret key 'bad-key'"),
        ({"EMPTY": ""}, "--EMPTY has an empty value"),
    ):
        with pytest.raises(KitaruUsageError, match=message):
            secrets.set_secret(name, values)
    assert name not in [s.name for s in secrets.list_summaries()]


# -- CLI: secrets and model aliases through the engine ------------------------------------------


def test_secrets_and_aliases_end_to_end(tmp_path: Path, fresh_config_dir: Path) -> None:
    registry_env = json.dumps({"aliases": {"remote": {"model": "bedrock/x", "secret": "aaa-creds"}}})
    steps: list[dict[str, Any]] = [
        {"argv": ["secrets", "set", "openai", f"--OPENAI_API_KEY={VALUE_1}", "-o", "json"]},  # 0
        {"argv": ["secrets", "set", "openai", "--OPENAI_BASE_URL", "http://127.0.0.1:9/v1",
                  f"--OPENAI_API_KEY={VALUE_2}"]},  # 1 (text)
        {"argv": ["secrets", "set", "-o", "json", "aaa-creds", "--TOKEN", VALUE_3]},  # 2
        {"argv": ["secrets", "show", "openai", "-o", "json"]},  # 3
        {"argv": ["secrets", "show", "openai"]},  # 4
        {"argv": ["secrets", "show", "open", "-o", "json"]},  # 5 prefixes never match
        {"argv": ["secrets", "list", "-o", "json"]},  # 6
        {"argv": ["secrets", "list"]},  # 7
        {"argv": ["model", "register", "Fast", "--model", "openai/gpt-4o-mini", "--secret", "openai"]},  # 8
        {"argv": ["model", "register", "smart", "-m", "anthropic/claude-sonnet-4-5", "--secret", "nope",
                  "-o", "json"]},  # 9
        {"argv": ["model", "list", "-o", "json"], "env": {"KITARU_MODEL_REGISTRY": registry_env}},  # 10
        {"argv": ["secrets", "delete", "openai"]},  # 11
        {"argv": ["secrets", "show", "openai", "-o", "json"]},  # 12
        {"argv": ["secrets", "delete", "openai", "-o", "json"]},  # 13
    ]
    results = run_sequence(tmp_path, fresh_config_dir, steps)
    for result in results:
        assert_no_values(result["stdout"], result["stderr"])

    created = ok_json(results[0])
    secret_id = created["item"]["id"]
    assert created == {
        "command": "secrets.set",
        "item": {"id": secret_id, "name": "openai", "visibility": "private", "keys": ["OPENAI_API_KEY"],
                 "has_missing_values": False, "result": "created"},
    }
    assert results[1]["rc"] == 0
    assert results[1]["stdout"].startswith("Updated secret: openai\nReplaced keys: OPENAI_API_KEY\n")
    assert "OPENAI_API_KEY, OPENAI_BASE_URL" in results[1]["stdout"]
    assert ok_json(results[2])["item"]["result"] == "created"

    shown = ok_json(results[3])["item"]
    assert shown == {"id": secret_id, "name": "openai", "visibility": "private",
                     "keys": ["OPENAI_API_KEY", "OPENAI_BASE_URL"], "has_missing_values": False, "values": None}
    assert "hidden (use --show-values)" in results[4]["stdout"]
    assert error_json(results[5], "secrets.show")["type"] == "KitaruRuntimeError"

    listed = ok_json(results[6])
    assert [item["name"] for item in listed["items"]] == ["aaa-creds", "openai"]
    assert listed["count"] == 2
    assert set(listed["items"][1]) == {"id", "name", "visibility", "keys", "has_missing_values"}
    assert "aaa-creds" in results[7]["stdout"] and "keys: TOKEN" in results[7]["stdout"]

    assert results[8]["rc"] == 0, results[8]
    assert results[8]["stdout"] == (
        "Saved model alias: fast\nModel: openai/gpt-4o-mini | Secret: openai | Default alias\n"
    )
    missing = error_json(results[9], "model.register")
    assert missing["type"] == "KitaruUsageError"
    assert missing["message"].startswith("Secret 'nope' does not exist.")
    assert ok_json(results[10])["items"] == [
        {"alias": "fast", "model": "openai/gpt-4o-mini", "secret": "openai", "is_default": True},
        {"alias": "remote", "model": "bedrock/x", "secret": "aaa-creds", "is_default": False},
    ]
    saved = yaml.safe_load((fresh_config_dir / "kitaru.yaml").read_text())
    assert saved["model_registry"] == {"aliases": {"fast": {"model": "openai/gpt-4o-mini", "secret": "openai"}},
                                       "default": "fast"}

    assert results[11]["stdout"] == f"Deleted secret: openai ({secret_id})\n"
    assert "Model alias(es) fast still link to this secret" in results[11]["stderr"]
    gone = error_json(results[12], "secrets.show")
    assert gone == {"type": "KitaruRuntimeError", "message": (
        "No secret named or with id 'openai'. List secrets with `kitaru secrets list`, or create it with "
        "`kitaru secrets set openai --KEY=value`.")}
    assert error_json(results[13], "secrets.delete")["type"] == "KitaruRuntimeError"

    # The console script itself: one JSON document on stdout, values only when asked.
    values = ok_json(run_kitaru(fresh_config_dir, "secrets", "show", "aaa-creds", "--show-values", "-o", "json"))
    assert values["item"]["values"] == {"TOKEN": VALUE_3}


def test_unreachable_server_is_a_backend_error(tmp_path: Path, fresh_config_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    steps: list[dict[str, Any]] = [
        {"argv": ["secrets", "list", "-o", "json"]},
        {"argv": ["secrets", "set", "s", f"--A={VALUE_1}", "-o", "json"]},
        {"argv": ["model", "register", "x", "-m", "openai/x", "--secret", "s", "-o", "json"]},
        {"secret_values": "s"},
    ]
    results = run_sequence(
        tmp_path, fresh_config_dir, steps,
        KITARU_SERVER_URL=f"http://127.0.0.1:{port}", KITARU_AUTH_TOKEN="test-token-not-a-real-one",
    )
    for result, command in zip(results[:3], ("secrets.list", "secrets.set", "model.register"), strict=True):
        error = error_json(result, command)
        assert error["type"] == "KitaruBackendError"
        assert f"Cannot reach the Kitaru server at http://127.0.0.1:{port}" in error["message"]
        assert_no_values(result["stderr"])
    assert results[3]["error"]["type"] == "KitaruBackendError"
    assert not (fresh_config_dir / "kitaru.yaml").exists()  # nothing was registered


# -- CLI: commands that never load the engine --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["s", "--A="], "Error: --A has an empty value. Secret values must not be empty."),
        (["s", f"--A={VALUE_1}", f"--A={VALUE_2}"], "Error: --A is given more than once. Give each key once."),
        (["s", "--A"], "Error: --A has no value. Give it as --A=value."),
        (["s", f"--9={VALUE_1}"], "Error: Invalid secret key '9'."),
        (["s", "--A=x", VALUE_1], "Error: Unexpected argument #2 after the secret name"),
        ([f"--A={VALUE_1}", "s"], "Error: The secret name must come first"),
        (["s"], "Error: Give at least one value: kitaru secrets set NAME --KEY=value"),
    ],
)
def test_secrets_set_rejects_bad_assignments_before_loading_the_engine(
    fresh_config_dir: Path, args: list[str], message: str
) -> None:
    result = run_kitaru(fresh_config_dir, "secrets", "set", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert_no_values(result.stderr)
    assert not (fresh_config_dir / "local_stores").exists()  # validated before the engine loaded


def test_secrets_set_json_error_with_output_after_the_assignments(fresh_config_dir: Path) -> None:
    result = run_kitaru(fresh_config_dir, "secrets", "set", "s", f"--A={VALUE_1}", "--A=2", "-o", "json")
    assert error_json(result, "secrets.set") == {
        "message": "--A is given more than once. Give each key once.",
        "type": "KitaruUsageError",
    }


def test_model_commands_without_the_engine(fresh_config_dir: Path) -> None:
    def kitaru(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_kitaru(fresh_config_dir, "model", *args, **env)

    empty = kitaru("list")
    assert empty.returncode == 0 and empty.stdout.startswith("No model aliases configured.")
    assert ok_json(kitaru("register", "fast", "--model", "openai/gpt-4o-mini", "-o", "json"))["item"] == {
        "alias": "fast", "model": "openai/gpt-4o-mini", "secret": None, "is_default": True,
    }
    smart = kitaru("register", "Smart", "--model", "anthropic/claude-sonnet-4-5")
    assert smart.stdout == "Saved model alias: smart\nModel: anthropic/claude-sonnet-4-5\n"

    default = kitaru("default", "SMART")
    assert default.stdout == "Default model alias: smart\nModel: anthropic/claude-sonnet-4-5 | Default alias\n"

    listed = kitaru("list", KITARU_DEFAULT_MODEL="openai/gpt-4.1")
    assert "smart" in listed.stdout and "Model: anthropic/claude-sonnet-4-5 | Default alias" in listed.stdout
    assert "Warning: KITARU_DEFAULT_MODEL=openai/gpt-4.1 overrides the default alias." in listed.stderr

    removed = ok_json(kitaru("remove", "smart", "-o", "json"))
    assert removed["item"] == {
        "alias": "smart", "model": "anthropic/claude-sonnet-4-5", "secret": None, "was_default": True,
        "default": "fast",  # the only alias left becomes the default
    }
    assert not (fresh_config_dir / "local_stores").exists()  # none of these loaded the engine

    unknown = error_json(kitaru("remove", "smart", "-o", "json"), "model.remove")
    assert unknown == {"type": "KitaruUsageError",
                       "message": "Model alias 'smart' is not registered (registered: fast). See `kitaru model list`."}
    bad_model = kitaru("register", "x", "--model", "gpt-4o")
    assert bad_model.returncode == 1 and bad_model.stderr.startswith("Error: Model 'gpt-4o' needs the form")
    bad_env = error_json(kitaru("list", "-o", "json", KITARU_MODEL_REGISTRY="{nope"), "model.list")
    assert bad_env["type"] == "KitaruUsageError"
    assert bad_env["message"].startswith("Invalid KITARU_MODEL_REGISTRY value: not valid JSON")
    assert yaml.safe_load((fresh_config_dir / "kitaru.yaml").read_text())["model_registry"] == {
        "aliases": {"fast": {"model": "openai/gpt-4o-mini"}}, "default": "fast",
    }

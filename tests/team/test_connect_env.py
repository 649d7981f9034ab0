"""Connecting through the engine's own variables: a server URL with a user name and password (defect 3).

``ZENML_STORE_URL`` with ``ZENML_STORE_USERNAME``/``ZENML_STORE_PASSWORD`` is
one of the engine's supported ways to connect. Kitaru's engine init hook runs
in every process that imports the engine, so it must not refuse it: not for
plain engine use (``from zenml.client import Client``) and not for Kitaru.
When credentials are wrong or missing, Kitaru's message names the variables
the user actually set, never ``KITARU_SERVER_URL`` when it is not set.

The user is a real one, created through the server's REST API; the server is
the team's (the engine's server on MariaDB, ``conftest.py``).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.team.conftest import KITARU, TeamServer, ok

pytestmark = pytest.mark.slow

ACTIVE_USER = "from zenml.client import Client; print(Client().active_user.name)"


@pytest.fixture(scope="module")
def password_user(team_server: TeamServer) -> tuple[str, str]:
    """A user (not an admin) who logs in with a password."""
    name, password = "alice", secrets.token_hex(10)
    team_server.create_user(name, password)
    return name, password


def run(argv: list[str], config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=config.parent,
        env=subprocess_env(config, COLUMNS="200", NO_COLOR="1", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def password_env(server: TeamServer, user: str, password: str) -> dict[str, str]:
    return {"ZENML_STORE_URL": server.url, "ZENML_STORE_USERNAME": user, "ZENML_STORE_PASSWORD": password}


def test_plain_engine_use_connects_with_a_user_name_and_password(
    team_server: TeamServer, password_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = password_user
    result = run([sys.executable, "-c", ACTIVE_USER], tmp_path / "config", **password_env(team_server, user, password))
    assert ok(result).strip().splitlines()[-1] == user


def test_kitaru_connects_with_a_user_name_and_password(
    team_server: TeamServer, password_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = password_user
    env = password_env(team_server, user, password)
    status = json.loads(ok(run([str(KITARU), "status", "-o", "json"], tmp_path / "config", **env)))["item"]
    assert (status["connection"], status["server_url"], status["active_user"]) == ("server", team_server.url, user)
    listed = json.loads(ok(run([str(KITARU), "executions", "list", "-o", "json"], tmp_path / "config", **env)))
    assert listed["command"] == "executions.list"


def test_refused_credentials_are_named_as_the_user_set_them(
    team_server: TeamServer, password_user: tuple[str, str], tmp_path: Path
) -> None:
    user, _ = password_user
    result = run(
        [str(KITARU), "executions", "list", "-o", "json"],
        tmp_path / "config",
        **password_env(team_server, user, "not-the-password"),
    )
    assert result.returncode == 1, result
    message = json.loads(result.stderr)["error"]["message"]
    assert message == (
        f"The server at {team_server.url} refused the credentials from ZENML_STORE_URL, ZENML_STORE_USERNAME, "
        "ZENML_STORE_PASSWORD. Check them (an API key, or a user name and its password), or unset these "
        "variables and run `kitaru login` instead."
    )


def test_a_server_url_without_credentials_names_the_variable_that_is_set(
    team_server: TeamServer, tmp_path: Path
) -> None:
    engine = run(
        [str(KITARU), "executions", "list", "-o", "json"], tmp_path / "engine", ZENML_STORE_URL=team_server.url
    )
    assert engine.returncode == 1, engine
    assert json.loads(engine.stderr)["error"]["message"] == (
        f"ZENML_STORE_URL is set, but there are no credentials for the server at {team_server.url}: set an API "
        "key too (KITARU_AUTH_TOKEN or ZENML_STORE_API_KEY), or ZENML_STORE_USERNAME and ZENML_STORE_PASSWORD."
    )
    kitaru = run(
        [str(KITARU), "executions", "list", "-o", "json"], tmp_path / "kitaru", KITARU_SERVER_URL=team_server.url
    )
    assert kitaru.returncode == 1, kitaru
    assert json.loads(kitaru.stderr)["error"]["message"].endswith(
        "KITARU_SERVER_URL is set but no credentials are: set KITARU_AUTH_TOKEN (an API key) too, "
        "or unset KITARU_SERVER_URL to use the local default."
    )

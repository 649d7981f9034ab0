"""docs/server.md is checked against the code: options, messages, JSON keys."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import typer

from tests.conftest import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "server.md").read_text()


def _command(name: str) -> Any:
    from kitaru.cli.app import build_app

    return typer.main.get_command(build_app()).commands[name]  # type: ignore[attr-defined]


def test_every_login_option_is_documented() -> None:
    options = [p for p in _command("login").params if p.param_type_name == "option"]
    flags = [flag for option in options for flag in option.opts if flag.startswith("--")]
    assert "--api-key" in flags and "--port" in flags
    missing = [flag for flag in flags if f"`{flag}" not in DOC and flag != "--output"]
    assert not missing, f"docs/server.md does not mention {missing}"


def test_documented_login_options_exist() -> None:
    options = {flag for p in _command("login").params for flag in getattr(p, "opts", [])}
    for flag in re.findall(r"`(--[a-z-]+)", DOC):
        assert flag in options, f"docs/server.md mentions {flag}, which `kitaru login` lacks"


@pytest.mark.parametrize(
    "message",
    [
        "Starting local Kitaru server...",
        "Server already running at ",
        "Restarting local Kitaru server on port ",
        "Connected to local Kitaru server: ",
        "Invalid Kitaru server URL. Please use an http:// or https:// URL.",
        "refused the API key (HTTP ",
        "Nothing was saved.",
    ],
)
def test_quoted_messages_come_from_the_code(message: str) -> None:
    from kitaru.connection import local_server, login, login_checks

    sources = "".join(inspect.getsource(module) for module in (login, login_checks, local_server))
    assert message in DOC.replace("\n", " ") or message.split(" (")[0] in DOC
    assert message.rstrip() in sources.replace('f"', '"'), message


def test_missing_extra_message_is_the_documented_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from kitaru.connection.local_server import check_server_extra
    from kitaru.errors import KitaruFeatureNotAvailableError

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(KitaruFeatureNotAvailableError) as error:
        check_server_extra()
    documented = "Install it with: pip install 'kitaru[server]'"
    assert documented in DOC and str(error.value).endswith(documented)


def test_documented_json_shapes_match_the_code() -> None:
    from kitaru.connection import logout

    for key in ("mode", "target", "local_fallback_available", "local_server_stopped"):
        assert f'"{key}"' in DOC
    assert set(logout()) == {"mode", "target", "local_fallback_available", "local_server_stopped"}
    for key in ("registered", "running", "url", "port", "connected", "log_file"):
        assert f'"{key}"' in DOC

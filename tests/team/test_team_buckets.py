"""The team's stack on a GCS bucket and on an Azure Blob container, as ``docs/teams.md`` section 4 shows.

The same shared server and clients as the other team tests (``conftest.py``),
with the bucket on a real emulator (``tests.cloud.emulators``):
gcp-storage-emulator for ``gs://``, Azurite for ``az://``. For each cloud:

* client 1 creates the stack with the page's own ``kitaru stack create`` line
  (read from ``docs/teams.md``, no other flags: the clients reach the
  emulators through their environment, as the page says), and verification
  leaves no probe behind;
* client 2 activates it with the page's ``kitaru stack use`` line and runs a
  flow on it, whose outputs and logs land in the bucket;
* client 3 reads that execution: its status and checkpoints
  (``executions get``), its logs (``executions logs``, read from the bucket)
  and its checkpoint outputs (loaded from the bucket by ``KitaruClient``).

Only the clients that open the bucket get the emulator's settings; on Azure,
``executions get`` runs without any (it is the server's record). The server
never gets them: the tests check its process environment.

Each test puts clients 1 and 2 back on ``team-s3``, the stack the other team
tests expect. One flow per cloud: a team flow takes about 10 s here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.emulators import (  # noqa: F401  (the session fixtures, shared by import)
    AZURE_STORAGE_ENV,
    GOOGLE_VARS_TO_CLEAR,
    Azurite,
    azurite_fixture,
    blob_names,
    create_bucket,
    emulator_adc_file_fixture,
    gcs_client_env,
    gcs_emulator_fixture,
)
from tests.meta.doc_commands import kitaru_commands
from tests.meta.test_team_docs import teams_doc
from tests.team.conftest import KITARU, STACK, Client, Team, json_item, ok, outcome

pytestmark = pytest.mark.slow

CLOUD_SETTINGS = (*GOOGLE_VARS_TO_CLEAR, *AZURE_STORAGE_ENV)
"""Variables through which a process finds a GCS emulator or Azure Storage credentials."""

LOAD_OUTPUTS = """
import json, sys
import kitaru
execution = kitaru.KitaruClient().executions.get(sys.argv[1])
print(json.dumps({artifact.producing_call: artifact.load() for artifact in execution.artifacts}))
"""
"""Print an execution's checkpoint outputs, loaded from the artifact store, by checkpoint."""


def documented(stack: str) -> tuple[list[str], list[str]]:
    """The arguments of the ``kitaru stack create STACK ...`` and ``kitaru stack use STACK`` lines of the page."""
    commands = kitaru_commands(teams_doc())
    creates = [args for args in commands if args[:3] == ["stack", "create", stack]]
    uses = [args for args in commands if args == ["stack", "use", stack]]
    assert len(creates) == 1 and len(uses) == 1, f"docs/teams.md should show one create and one use of {stack}"
    return creates[0], uses[0]


def artifact_store(create: list[str]) -> tuple[str, str]:
    """``(bucket, prefix)`` of the ``--artifact-store`` URI of a ``stack create`` line."""
    uri = create[create.index("--artifact-store") + 1]
    bucket, _, prefix = uri.partition("://")[2].partition("/")
    return bucket, prefix


def process_environment(pid: int) -> dict[str, str]:
    """The environment a running process was started with (Linux's ``/proc``)."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode(errors="replace").partition("=")[::2] for entry in entries if entry)


def load_outputs(client: Client, exec_id: str, **env: str) -> dict[str, Any]:
    """The checkpoint outputs of an execution, loaded by ``client`` from the artifact store."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_OUTPUTS, exec_id],
        cwd=client.project,
        env=client.env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return dict(json.loads(ok(result).strip().splitlines()[-1]))


def back_to_the_team_stack(clients: list[Client]) -> None:
    """``kitaru stack use team-s3`` on each of ``clients``, all at once."""
    uses = [
        subprocess.Popen(
            [str(KITARU), "stack", "use", STACK, "-o", "json"],
            cwd=client.project,
            env=client.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for client in clients
    ]
    for use in uses:
        stdout, stderr = use.communicate(timeout=300)
        assert use.returncode == 0, f"stack use {STACK} failed:\n{stdout}\n{stderr}"


def share_a_bucket(
    team: Team,
    stack: str,
    cloud_env: dict[str, str],
    objects: Callable[[], list[str]],
    *,
    get_env: dict[str, str],
) -> None:
    """Client 1 creates ``stack`` as the page shows, client 2 runs a flow on it, client 3 reads it.

    Args:
        team: The session's team.
        stack: The stack's name on the page (``team-gcs``).
        cloud_env: What a client needs to open the bucket (the emulator's settings).
        objects: The names of the objects in the bucket under the stack's prefix.
        get_env: The settings client 3 runs ``executions get`` with.
    """
    first, second, third = team.clients[:3]
    create, use = documented(stack)
    topic = stack.removeprefix("team-")
    server = team.server.process
    assert server is not None
    leaked = sorted(set(CLOUD_SETTINGS) & set(process_environment(server.pid)))
    assert not leaked, f"the team server should run without cloud settings; it has {leaked}"
    try:
        created = json_item(first.kitaru(*create, "-o", "json", **cloud_env))
        assert (created["name"], created["stack_type"], created["is_active"]) == (stack, "local", True), created
        assert "service_connectors_created" not in created, "the stack should keep no credentials"
        assert objects() == [], "verification left its probe object in the bucket"

        activated = json_item(second.kitaru(*use, "-o", "json"))
        assert (activated["name"], activated["is_active"]) == (stack, True), activated
        run = outcome(second.flow("flaky", topic, **cloud_env))
        assert (run["status"], run["result"]) == ("completed", f"draft about {topic} -> done"), run
        exec_id = run["exec_id"]
        stored = {name.split("/")[1] for name in objects()}  # <prefix>/<checkpoint>/output/..., <prefix>/logs/...
        assert stored >= {"prepare", "finish", "logs"}, f"the flow on {stack} stored only {sorted(stored)} in its bucket"

        seen = json_item(third.kitaru("executions", "get", exec_id, "-o", "json", **get_env))
        assert (seen["status"], seen["stack_name"]) == ("completed", stack), seen
        assert [(c["name"], c["status"]) for c in seen["checkpoints"]] == [
            ("prepare", "completed"),
            ("finish", "completed"),
        ]
        logs = ok(third.kitaru("executions", "logs", exec_id, **cloud_env))
        assert f"preparing a draft about {topic}" in logs, logs
        assert load_outputs(third, exec_id, **cloud_env) == {
            "prepare": f"draft about {topic}",
            "finish": f"draft about {topic} -> done",
        }
    finally:
        back_to_the_team_stack([first, second])


@pytest.fixture
def no_cloud_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients get no cloud settings of the developer's: only those a test passes."""
    for name in CLOUD_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_cloud_settings")
def test_a_team_shares_a_gcs_bucket(team: Team, gcs_emulator: str, emulator_adc_file: Path) -> None:
    create, _ = documented("team-gcs")
    bucket, prefix = artifact_store(create)
    create_bucket(gcs_emulator, bucket)
    cloud_env = gcs_client_env(gcs_emulator, emulator_adc_file)

    def objects() -> list[str]:
        return [name for name in blob_names(gcs_emulator, bucket) if name.startswith(f"{prefix}/")]

    # Without the emulator's settings, a GCS read would go to Google: every reader gets them.
    share_a_bucket(team, "team-gcs", cloud_env, objects, get_env=cloud_env)


@pytest.mark.usefixtures("no_cloud_settings")
def test_a_team_shares_an_azure_container(team: Team, azurite: Azurite) -> None:
    create, _ = documented("team-azure")
    container, prefix = artifact_store(create)
    azurite.create_container(name=container)
    cloud_env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}

    def objects() -> list[str]:
        return azurite.blob_names(container, prefix=f"{prefix}/")

    share_a_bucket(team, "team-azure", cloud_env, objects, get_env={})

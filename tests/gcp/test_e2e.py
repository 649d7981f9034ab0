"""End to end through the real ``kitaru`` CLI, a real flow and the GCS emulator.

Each test runs the console script and Python in subprocesses with a fresh
Kitaru config dir and the emulator's environment (``gcs_child_env``), the
way a user runs them. Vertex AI and GKE jobs cannot run here (no Google
account, no cluster); those stacks are created with ``--no-verify`` and
inspected through ZenML's own client.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.cloud.cli import created_item, refusal, run_kitaru
from tests.conftest import run_python
from tests.gcp.conftest import blob_names


def run_script(
    path: Path, source: str, config_dir: Path, env: dict[str, str], marker: str
) -> dict[str, Any]:
    """Write ``source`` to ``path`` and run it; return the JSON it printed after ``marker``."""
    path.write_text(source)
    run = run_python(path, config_dir, **env)
    assert run.returncode == 0, f"stdout={run.stdout}\nstderr={run.stderr}"
    [line] = [line for line in run.stdout.splitlines() if line.startswith(f"{marker} ")]
    return json.loads(line.removeprefix(f"{marker} "))


FLOW_SCRIPT = textwrap.dedent(
    """
    import json

    import kitaru


    @kitaru.checkpoint
    def double(n: int) -> int:
        return n * 2


    @kitaru.checkpoint
    def describe(n: int) -> dict:
        return {"value": n, "text": f"got {n}"}


    @kitaru.flow(cache=False)
    def gcs_flow(n: int) -> dict:
        return describe(double(n))


    if __name__ == "__main__":
        handle = gcs_flow.run(21)
        result = handle.wait()

        from zenml.client import Client

        execution = kitaru.KitaruClient().executions.get(handle.exec_id)
        artifacts = [
            {
                "producing_call": ref.producing_call,
                "value": ref.load(),
                "uri": Client().get_artifact_version(ref.artifact_id).uri,
            }
            for ref in execution.artifacts
        ]
        store = Client().active_stack.artifact_store
        print("REPORT " + json.dumps({
            "result": result,
            "status": str(execution.status),
            "artifacts": artifacts,
            "store_flavor": store.flavor,
            "gcsfs_login": store.filesystem.credentials.method,
        }))
    """
)


def test_local_stack_keeps_flow_artifacts_in_a_gcs_bucket(
    fresh_config_dir: Path,
    tmp_path: Path,
    gcs_emulator: str,
    gcs_child_env: dict[str, str],
    bucket: str,
) -> None:
    created = created_item(run_kitaru(
        fresh_config_dir,
        "stack", "create", "shared", "--artifact-store", f"gs://{bucket}/kitaru",
        env=gcs_child_env,
    ))
    assert created["stack_type"] == "local" and created["is_active"]
    assert created["components_created"] == ["orchestrator:shared", "artifact_store:shared"]
    assert "service_connectors_created" not in created  # implicit credentials: no connector
    assert created["resources"] == {"provider": "gcp", "artifact_store": f"gs://{bucket}/kitaru"}
    assert blob_names(gcs_emulator, bucket) == []  # the verification probe is gone

    report = run_script(
        tmp_path / "gcs_flow.py", FLOW_SCRIPT, fresh_config_dir, gcs_child_env, "REPORT"
    )

    assert report["result"] == {"value": 42, "text": "got 42"}
    assert report["store_flavor"] == "gcp"
    # gcsfs used the Application Default Credentials at once (no metadata-server probing).
    assert report["gcsfs_login"] == "google_default"
    outputs = {a["producing_call"]: a for a in report["artifacts"]}
    assert outputs["double"]["value"] == 42
    assert outputs["describe"]["value"] == {"value": 42, "text": "got 42"}

    objects = blob_names(gcs_emulator, bucket)
    for artifact in outputs.values():
        uri = artifact["uri"]
        assert uri.startswith(f"gs://{bucket}/kitaru/"), uri
        prefix = uri.removeprefix(f"gs://{bucket}/")
        assert [name for name in objects if name.startswith(prefix + "/")], (
            f"no object under {uri} in the bucket: {objects}"
        )


INSPECT_SCRIPT = textwrap.dedent(
    """
    import json

    from zenml.client import Client
    from zenml.utils.pagination_utils import depaginate

    client = Client()
    stacks = {}
    for stack in depaginate(client.list_stacks):
        stack = client.get_stack(stack.id)
        stacks[stack.name] = {
            "labels": stack.labels,
            "components": {
                kind.value: {
                    "flavor": component.flavor_name,
                    "configuration": component.configuration,
                    "connector": component.connector.name if component.connector else None,
                    "connector_resource_id": component.connector_resource_id,
                }
                for kind, [component] in stack.components.items()
            },
        }
    connectors = {
        connector.name: {
            "type": connector.connector_type
            if isinstance(connector.connector_type, str)
            else connector.connector_type.connector_type,
            "auth_method": connector.auth_method,
            "configuration": dict(connector.configuration),
        }
        for connector in depaginate(client.list_service_connectors)
    }
    print("ENGINE " + json.dumps({"stacks": stacks, "connectors": connectors}))
    """
)


def test_failed_verification_registers_nothing_and_vertex_registers_with_no_verify(
    fresh_config_dir: Path, tmp_path: Path, gcs_emulator: str, gcs_child_env: dict[str, str]
) -> None:
    registry = "europe-west1-docker.pkg.dev/kitaru-test/flows"
    vertex_args = [
        "stack", "create", "vx", "--type", "vertex",
        "--artifact-store", "gs://kitaru-missing-bucket/kitaru",
        "--container-registry", registry,
        "--region", "europe-west1",
    ]
    missing = (
        f"GCS bucket 'gs://kitaru-missing-bucket' does not exist on the GCS emulator at "
        f"{gcs_emulator}. Create it, or pass --no-verify to skip this check."
    )
    failed = refusal(run_kitaru(fresh_config_dir, *vertex_args, env=gcs_child_env))
    assert failed == {"message": missing, "type": "KitaruUsageError"}

    created = created_item(run_kitaru(
        fresh_config_dir, *vertex_args, "--no-verify", "--async", env=gcs_child_env
    ))
    assert created["stack_type"] == "vertex"
    assert created["service_connectors_created"] == ["vx"]
    assert created["components_created"] == [
        "orchestrator:vx",
        "artifact_store:vx",
        "container_registry:vx",
    ]
    assert created["resources"] == {
        "provider": "gcp",
        "artifact_store": "gs://kitaru-missing-bucket/kitaru",
        "container_registry": registry,
        "region": "europe-west1",
    }

    engine = run_script(
        tmp_path / "inspect_engine.py", INSPECT_SCRIPT, fresh_config_dir, gcs_child_env, "ENGINE"
    )

    # The failed attempt left nothing behind: one connector, and only 'vx' besides default.
    assert set(engine["stacks"]) == {"default", "vx"}
    assert engine["connectors"] == {
        "vx": {"type": "gcp", "auth_method": "implicit",
               "configuration": {"project_id": "kitaru-test"}},
    }
    vx = engine["stacks"]["vx"]
    assert vx["labels"] == {"kitaru.managed": "true", "kitaru.stack_type": "vertex"}
    assert vx["components"] == {
        "orchestrator": {
            "flavor": "vertex",
            "configuration": {"project": "kitaru-test", "location": "europe-west1",
                              "synchronous": False},
            "connector": "vx",
            "connector_resource_id": None,
        },
        "artifact_store": {
            "flavor": "gcp",
            "configuration": {"path": "gs://kitaru-missing-bucket/kitaru"},
            "connector": "vx",
            "connector_resource_id": "gs://kitaru-missing-bucket",
        },
        "container_registry": {
            "flavor": "gcp",
            "configuration": {"uri": registry},
            "connector": "vx",
            "connector_resource_id": registry,
        },
    }

"""``kitaru stack create`` with the AWS plugin, end to end, against moto.

* A local stack whose artifacts live in a moto bucket, created with
  verification on, once with the endpoint from ``AWS_ENDPOINT_URL`` and once
  from ``--extra artifact_store.client_kwargs.endpoint_url``; a real
  two-checkpoint flow runs on each, its outputs load back through
  ``KitaruClient`` and the objects are in the bucket.
* ``--type sagemaker`` and ``--type kubernetes`` stacks (``--no-verify``: no
  SageMaker or EKS here), inspected through the engine's client.
* A missing bucket fails verification with the plugin's message, and nothing
  is registered.

The CLI runs as a subprocess (the real console script). The remote-type and
missing-bucket tests use the session's config dir so the engine client in
this process can inspect what the CLI registered; they never activate a stack.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import kitaru.stacks
from tests.aws.conftest import object_keys
from tests.cloud.cli import SESSION_CONFIG, created_item, refusal, run_kitaru
from tests.cloud.engine import components_named, engine_client, registered_under
from tests.cloud.specs import unique_name
from tests.conftest import run_python

FLOW_SCRIPT = Path(__file__).parent / "flows" / "bucket_flow.py"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/kitaru-sagemaker"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def kitaru_cli(
    config_dir: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``kitaru ARGS -o json`` with ``env`` (AWS settings) added to a clean environment."""
    return run_kitaru(config_dir, *args, env=env)


def test_local_stack_on_a_bucket_runs_a_flow(
    fresh_config_dir: Path, aws_env: dict[str, str], moto_endpoint: str, s3: Any, bucket: str
) -> None:
    with_env = {**aws_env, "AWS_ENDPOINT_URL": moto_endpoint}
    item = created_item(kitaru_cli(fresh_config_dir, with_env, "stack", "create", "bucket-env",
                                   "--artifact-store", f"s3://{bucket}/env"))
    assert item["stack_type"] == "local"
    assert item["components_created"] == ["orchestrator:bucket-env", "artifact_store:bucket-env"]
    assert item["resources"] == {"provider": "aws", "artifact_store": f"s3://{bucket}/env"}
    assert "service_connectors_created" not in item

    endpoint_extra = f"artifact_store.client_kwargs.endpoint_url={moto_endpoint}"
    item = created_item(kitaru_cli(fresh_config_dir, aws_env, "stack", "create", "bucket-extra",
                                   "--artifact-store", f"s3://{bucket}/extra", "--no-activate",
                                   "--extra", endpoint_extra))
    assert item["name"] == "bucket-extra" and not item["is_active"]
    # Verification wrote and deleted its probe objects: the bucket is still empty.
    assert object_keys(s3, bucket) == []

    # The stored endpoint needs no environment variable at run time...
    run = run_python(FLOW_SCRIPT, fresh_config_dir, "shared notes", "bucket-extra", **aws_env)
    assert run.returncode == 0, run.stderr
    extra_run = json.loads(run.stdout.strip().splitlines()[-1])
    # ...and the other stack follows AWS_ENDPOINT_URL at run time.
    run = run_python(FLOW_SCRIPT, fresh_config_dir, "team notes", "bucket-env", **with_env)
    assert run.returncode == 0, run.stderr
    env_run = json.loads(run.stdout.strip().splitlines()[-1])

    for outcome, stack, topic in ((extra_run, "bucket-extra", "shared notes"),
                                  (env_run, "bucket-env", "team notes")):
        summary = {"summary": f"NOTES ON {topic.upper()}", "words": 4}
        assert outcome["stack"] == stack
        assert outcome["result"] == summary
        assert outcome["loaded"] == {"gather": f"notes on {topic}", "condense": summary}
    for prefix in ("env", "extra"):
        keys = object_keys(s3, bucket, f"{prefix}/")
        for checkpoint in ("gather", "condense"):
            outputs = [key for key in keys if key.startswith(f"{prefix}/{checkpoint}/output/")]
            assert len(outputs) == 1, keys


def test_sagemaker_stack_from_the_cli(aws_env: dict[str, str]) -> None:
    name = unique_name("cli-sagemaker")
    result = kitaru_cli(
        SESSION_CONFIG, aws_env, "stack", "create", name, "--type", "sagemaker",
        "--artifact-store", "s3://team-artifacts/kitaru", "--container-registry", REGISTRY,
        "--region", "eu-west-1", "--execution-role", ROLE,
        "--credentials", f"aws-access-keys:AKIAEXAMPLE:{SECRET}",
        "--async", "--no-verify", "--no-activate",
    )
    try:
        item = created_item(result)
        assert SECRET not in result.stdout + result.stderr
        assert item["stack_type"] == "sagemaker" and not item["is_active"]
        assert item["service_connectors_created"] == [name]
        assert item["resources"] == {
            "provider": "aws",
            "artifact_store": "s3://team-artifacts/kitaru",
            "container_registry": REGISTRY,
            "region": "eu-west-1",
            "execution_role": ROLE,
        }
        connector = engine_client().get_service_connector(name)
        assert (connector.type, connector.auth_method) == ("aws", "secret-key")
        components = components_named(name)
        assert {role: c.flavor_name for role, c in components.items()} == {
            "orchestrator": "sagemaker", "artifact_store": "s3", "container_registry": "aws",
        }
        orchestrator = components["orchestrator"].configuration
        assert orchestrator["execution_role"] == ROLE
        assert orchestrator["region"] == "eu-west-1"
        assert orchestrator["bucket"] == "team-artifacts"
        assert orchestrator["synchronous"] is False  # --async
        assert components["artifact_store"].configuration["path"] == "s3://team-artifacts/kitaru"
        assert components["container_registry"].configuration["uri"] == REGISTRY
        links = {role: (c.connector.id, c.connector_resource_id) for role, c in components.items()}
        assert links == {
            "orchestrator": (connector.id, "eu-west-1"),
            "artifact_store": (connector.id, "s3://team-artifacts"),
            "container_registry": (connector.id, REGISTRY),
        }
    finally:
        kitaru.stacks.delete_stack(name, recursive=True)
    assert not any(registered_under(name).values())


def test_kubernetes_stack_from_the_cli_is_the_aws_one_for_s3(aws_env: dict[str, str]) -> None:
    name = unique_name("cli-eks")
    result = kitaru_cli(
        SESSION_CONFIG, aws_env, "stack", "create", name, "--type", "kubernetes",
        "--artifact-store", "s3://team-artifacts", "--container-registry", REGISTRY,
        "--cluster", "kitaru-eks", "--region", "eu-west-1", "--namespace", "agents",
        "--credentials", "aws-profile:ml-team", "--no-verify", "--no-activate",
    )
    try:
        item = created_item(result)
        assert item["stack_type"] == "kubernetes"
        assert item["resources"]["provider"] == "aws"
        connector = engine_client().get_service_connector(name)
        assert (connector.type, connector.auth_method) == ("aws", "implicit")
        assert connector.configuration["profile_name"] == "ml-team"
        assert connector.configuration["region"] == "eu-west-1"
        orchestrator = components_named(name)["orchestrator"]
        assert orchestrator.flavor_name == "kubernetes"
        assert orchestrator.configuration["kubernetes_namespace"] == "agents"
        assert (orchestrator.connector.id, orchestrator.connector_resource_id) == (
            connector.id, "kitaru-eks",
        )
    finally:
        kitaru.stacks.delete_stack(name, recursive=True)


def test_missing_bucket_fails_verification_and_registers_nothing(
    aws_env: dict[str, str], moto_endpoint: str
) -> None:
    name = unique_name("cli-missing")
    result = kitaru_cli(
        SESSION_CONFIG, {**aws_env, "AWS_ENDPOINT_URL": moto_endpoint},
        "stack", "create", name, "--artifact-store", "s3://kitaru-no-such-bucket/x",
        "--credentials", f"aws-access-keys:AKIAEXAMPLE:{SECRET}", "--no-activate",
    )
    error = refusal(result)
    assert error["type"] == "KitaruUsageError"
    assert error["message"] == (
        f"S3 bucket 'kitaru-no-such-bucket' does not exist (endpoint {moto_endpoint}, from "
        "AWS_ENDPOINT_URL). Create it (for example `aws s3 mb s3://kitaru-no-such-bucket`), "
        "check the bucket name and endpoint, or pass --no-verify to skip this check."
    )
    assert SECRET not in result.stderr
    assert not any(registered_under(name).values())

"""Installing Kitaru with and without a cloud extra, into real fresh environments.

This is the user's `pip install kitaru` versus `pip install 'kitaru[aws]'`.
Our packages are not on an index, so the workspace members are installed from
their directories next to the root, and every third-party package at the
version ``uv.lock`` pins (``uv export``); uv links them from its cache, so
each environment takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tests.venvs import FreshVenv

pytestmark = pytest.mark.slow


def make_environment(tmp_path: Path, extra: str | None) -> Path:
    """A fresh venv with the root distribution (plus ``extra`` and its member package) installed."""
    return FreshVenv.create(tmp_path / f"venv-{extra or 'plain'}", extras=(extra,) if extra else ()).path


def run_in(venv: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("KITARU_", "ZENML_"))
    }
    env["KITARU_CONFIG_PATH"] = str(tmp_path / f"config-{venv.name}")
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, env=env, timeout=300
    )


SAGEMAKER_ARGS = (
    "kitaru", "stack", "create", "team", "--type", "sagemaker",
    "--artifact-store", "s3://team-bucket", "--container-registry",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "--region", "eu-west-1",
    "--execution-role", "arn:aws:iam::123456789012:role/kitaru", "--no-verify",
)


def test_without_the_extra_sagemaker_names_the_extra(tmp_path: Path) -> None:
    venv = make_environment(tmp_path, None)
    probe = run_in(venv, tmp_path, "python", "-c", "import boto3")
    assert probe.returncode != 0 and "No module named 'boto3'" in probe.stderr
    result = run_in(venv, tmp_path, *SAGEMAKER_ARGS)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: Stack type 'sagemaker' needs the AWS plugin. Install it with: pip install 'kitaru[aws]'"
    )


def test_the_aws_extra_pulls_kitaru_aws_and_boto3(tmp_path: Path) -> None:
    venv = make_environment(tmp_path, "aws")
    probe = run_in(
        venv, tmp_path, "python", "-c",
        "import importlib.metadata as m, json; "
        "print(json.dumps({d: m.version(d) for d in ('kitaru-aws', 'boto3', 's3fs')}))",
    )
    assert probe.returncode == 0, probe.stderr
    versions = json.loads(probe.stdout)
    assert versions["kitaru-aws"] == "0.1.0"
    plugins = run_in(venv, tmp_path, "kitaru", "plugins", "-o", "json")
    assert plugins.returncode == 0, plugins.stderr
    names = {item["name"] for item in json.loads(plugins.stdout)["items"]}
    assert {"core", "local", "aws"} <= names and "gcp" not in names
    created = run_in(venv, tmp_path, *SAGEMAKER_ARGS, "-o", "json")
    assert created.returncode == 0, created.stderr
    item = json.loads(created.stdout)["item"]
    assert item["stack_type"] == "sagemaker"
    assert item["resources"]["provider"] == "aws"

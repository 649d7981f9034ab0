"""Reading the GCP project id out of a container registry URI (SPEC §5.4)."""

from __future__ import annotations

import pytest

from kitaru.errors import KitaruUsageError
from kitaru_gcp.project import infer_project_id


@pytest.mark.parametrize(
    ("registry", "project"),
    [
        ("europe-west1-docker.pkg.dev/my-project/kitaru", "my-project"),
        ("us-docker.pkg.dev/my-project/kitaru/images", "my-project"),
        ("https://asia-northeast1-docker.pkg.dev/proj-123456/repo/", "proj-123456"),
        ("gcr.io/my-project", "my-project"),
        ("gcr.io/my-project/kitaru", "my-project"),
        ("us.gcr.io/my-project", "my-project"),
        ("eu.gcr.io/my-project/", "my-project"),
        ("asia.gcr.io/my-project/a/b", "my-project"),
        ("  https://GCR.IO/my-project  ", "my-project"),
    ],
)
def test_project_from_artifact_registry_and_container_registry(registry: str, project: str) -> None:
    assert infer_project_id(registry) == project


@pytest.mark.parametrize(
    "registry",
    [
        "docker.io/my-project",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kitaru",
        "myregistry.azurecr.io/kitaru",
        "europe-west1-docker.pkg.dev/my-project",  # no repository
        "europe-west1-docker.pkg.dev//kitaru",
        "gcr.io",
        "gcr.io/",
        "gcr.io/My_Project",  # not a project id
        "eu.gcr.io/ab",  # too short for a project id
        "xx.gcr.io/my-project",
        "pkg.dev/my-project/kitaru",
    ],
)
def test_other_registries_say_which_forms_are_accepted(registry: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        infer_project_id(registry)
    message = str(caught.value)
    assert f"Cannot infer the GCP project from container registry '{registry.strip()}'" in message
    assert "<region>-docker.pkg.dev/<project>/<repository>" in message
    for host in ("gcr.io/<project>", "us.gcr.io", "eu.gcr.io", "asia.gcr.io"):
        assert host in message


@pytest.mark.parametrize("registry", [None, "", "   "])
def test_missing_registry_asks_for_one(registry: str | None) -> None:
    with pytest.raises(KitaruUsageError, match="Pass --container-registry with an Artifact Registry"):
        infer_project_id(registry)

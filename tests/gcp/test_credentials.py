"""Parsing ``--credentials`` for GCP stacks, the errors for bad key files, and the project.

The service connector needs a login (``--credentials``) and a project, which
is read out of the container registry URI (SPEC §5.4). Every credentials error
test also checks that no part of the key file (the private key, the client
email) and no secret-looking part of a wrong credentials string ends up in
the message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitaru.errors import KitaruUsageError
from kitaru_gcp.credentials import (
    CREDENTIAL_FORMATS,
    IMPLICIT,
    KEY_FILE_FIELDS,
    SERVICE_ACCOUNT_AUTH_METHOD,
    infer_project_id,
    parse_credentials,
)


@pytest.mark.parametrize("value", [None, "", "   ", "implicit", " implicit "])
def test_omitted_blank_and_implicit_mean_application_default_credentials(value: str | None) -> None:
    credentials = parse_credentials(value)
    assert credentials.auth_method == IMPLICIT
    assert credentials.is_implicit
    assert credentials.key_path is None and credentials.key_json is None
    assert credentials.connector_configuration("my-project") == {"project_id": "my-project"}


def test_implicit_credentials_need_a_project_for_the_connector() -> None:
    with pytest.raises(KitaruUsageError, match="need a project id"):
        parse_credentials(None).connector_configuration(None)


def test_service_account_key_is_read_at_parse_time(service_account_key: Path) -> None:
    content = service_account_key.read_text()
    credentials = parse_credentials(f"gcp-service-account:{service_account_key}")

    assert credentials.auth_method == SERVICE_ACCOUNT_AUTH_METHOD == "service-account"
    assert not credentials.is_implicit
    assert credentials.key_path == service_account_key
    assert credentials.key_json == content
    assert credentials.key_info == json.loads(content)
    assert credentials.connector_configuration("my-project") == {
        "service_account_json": content,
        "project_id": "my-project",
    }
    # Without a project the connector uses the key's own (ZenML reads it from the JSON).
    assert credentials.connector_configuration(None) == {"service_account_json": content}
    # The private key never shows up in a repr (logs, tracebacks).
    assert "PRIVATE KEY" not in repr(credentials)


def test_key_file_content_survives_deleting_the_file(
    service_account_key: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "short-lived.json"
    copy.write_text(service_account_key.read_text())
    credentials = parse_credentials(f"gcp-service-account:{copy}")
    copy.unlink()
    assert json.loads(credentials.connector_configuration(None)["service_account_json"])[
        "type"
    ] == "service_account"


def test_tilde_in_the_key_path_is_expanded(
    service_account_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(service_account_key.parent.parent))
    relative = f"~/{service_account_key.parent.name}/{service_account_key.name}"
    assert parse_credentials(f"gcp-service-account:{relative}").key_path == service_account_key


def _error(value: str) -> str:
    with pytest.raises(KitaruUsageError) as caught:
        parse_credentials(value)
    return str(caught.value)


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "key.json"
    message = _error(f"gcp-service-account:{missing}")
    assert f"'{missing}' does not exist" in message
    assert "gcloud iam service-accounts keys create" in message


def test_directory_instead_of_a_key_file(tmp_path: Path) -> None:
    assert f"'{tmp_path}' is not a file" in _error(f"gcp-service-account:{tmp_path}")


def test_empty_path_is_explained() -> None:
    assert "needs the key file's path" in _error("gcp-service-account:   ")


def test_invalid_json_names_the_path_and_position_but_not_the_content(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "service_account",\n "private_key": "-----BEGIN SECRET')
    message = _error(f"gcp-service-account:{broken}")
    assert f"'{broken}' is not valid JSON (line 2" in message
    assert "BEGIN SECRET" not in message and "private_key" not in message


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text('["a", "b"]')
    assert "does not hold a JSON object" in _error(f"gcp-service-account:{listed}")


def test_user_credentials_are_not_a_service_account_key(tmp_path: Path) -> None:
    user = tmp_path / "adc.json"
    user.write_text(
        json.dumps(
            {"type": "authorized_user", "client_id": "id", "client_secret": "top-secret-value",
             "refresh_token": "refresh-secret"}
        )
    )
    message = _error(f"gcp-service-account:{user}")
    assert "is not a GCP service-account key" in message and '"service_account"' in message
    assert "top-secret-value" not in message and "refresh-secret" not in message


def test_incomplete_key_lists_the_missing_fields(tmp_path: Path, service_account_key: Path) -> None:
    info = json.loads(service_account_key.read_text())
    del info["private_key_id"]
    info["client_email"] = ""
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(info))
    message = _error(f"gcp-service-account:{partial}")
    assert "lacks: private_key_id, client_email" in message
    assert "PRIVATE KEY" not in message
    assert set(KEY_FILE_FIELDS) >= {"private_key_id", "client_email"}


@pytest.mark.parametrize(
    ("value", "shown", "hidden"),
    [
        ("azure-service-principal:tenant:client:s3cr3t-value", "azure-service-principal:...", "s3cr3t"),
        ("aws-access-keys:AKIAEXAMPLE:wJalrXUtnFEMI", "aws-access-keys:...", "wJalr"),
        ("gcp-user-account", "gcp-user-account", None),
    ],
)
def test_unknown_formats_list_the_accepted_ones_without_echoing_secrets(
    value: str, shown: str, hidden: str | None
) -> None:
    message = _error(value)
    assert f"Unsupported GCP credentials '{shown}'" in message
    for credential_format in CREDENTIAL_FORMATS:
        assert credential_format in message
    if hidden is not None:
        assert hidden not in message


# -- the project, read out of the container registry URI ------------------------------


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

"""Parsing ``--credentials`` strings and mapping them onto the engine's AWS connector."""

from __future__ import annotations

import pytest

from kitaru.errors import KitaruUsageError
from kitaru_aws.credentials import (
    CREDENTIAL_FORMATS,
    AwsCredentials,
    default_region,
    parse_credentials,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN=="


@pytest.mark.parametrize("value", [None, "", "   ", "implicit", " implicit "])
def test_missing_or_implicit_means_the_default_chain(value: str | None) -> None:
    credentials = parse_credentials(value)
    assert credentials == AwsCredentials(kind="implicit")
    assert credentials.is_implicit
    assert credentials.session_kwargs() == {}
    assert credentials.connector_auth("eu-west-1") == ("implicit", {"region": "eu-west-1"})


def test_profile() -> None:
    credentials = parse_credentials("aws-profile:dev-admin")
    assert (credentials.kind, credentials.profile) == ("aws-profile", "dev-admin")
    assert not credentials.is_implicit
    assert credentials.session_kwargs() == {"profile_name": "dev-admin"}
    assert credentials.connector_auth("eu-west-1") == (
        "implicit",
        {"region": "eu-west-1", "profile_name": "dev-admin"},
    )
    assert credentials.describe() == "aws-profile:dev-admin"


def test_access_keys_map_to_secret_key_and_stay_hidden() -> None:
    credentials = parse_credentials(f"aws-access-keys:AKIAEXAMPLE:{SECRET}")
    assert credentials.access_key_id == "AKIAEXAMPLE"
    assert credentials.secret_access_key == SECRET
    assert credentials.session_kwargs() == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": SECRET,
    }
    assert credentials.connector_auth("us-east-2") == (
        "secret-key",
        {
            "region": "us-east-2",
            "aws_access_key_id": "AKIAEXAMPLE",
            "aws_secret_access_key": SECRET,
        },
    )
    assert SECRET not in repr(credentials)
    assert credentials.describe() == "aws-access-keys:AKIAEXAMPLE:***"


def test_session_token_maps_to_sts_token() -> None:
    credentials = parse_credentials(f"aws-session-token:ASIAEXAMPLE:{SECRET}:{TOKEN}")
    parts = (credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
    assert parts == ("ASIAEXAMPLE", SECRET, TOKEN)
    auth_method, configuration = credentials.connector_auth("eu-west-1")
    assert auth_method == "sts-token"
    assert configuration == {
        "region": "eu-west-1",
        "aws_access_key_id": "ASIAEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
    }
    assert credentials.session_kwargs()["aws_session_token"] == TOKEN
    assert SECRET not in repr(credentials) and TOKEN not in repr(credentials)
    assert credentials.describe() == "aws-session-token:ASIAEXAMPLE:***:***"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aws-profile:", "aws-profile:NAME needs a profile name"),
        ("aws-profile:   ", "aws-profile:NAME needs a profile name"),
        ("aws-access-keys:AKIAEXAMPLE", "Use aws-access-keys:KEY_ID:SECRET."),
        (f"aws-access-keys::{SECRET}", "Use aws-access-keys:KEY_ID:SECRET."),
        (f"aws-session-token:ASIAEXAMPLE:{SECRET}", "Use aws-session-token:KEY_ID:SECRET:TOKEN."),
        (f"aws-session-token:ASIAEXAMPLE:{SECRET}:", "Use aws-session-token:KEY_ID:SECRET:TOKEN."),
        ("gcp-service-account:/tmp/key.json", "do not accept 'gcp-service-account:...'"),
        ("azure-access-token", "do not accept 'azure-access-token'"),
        (f"{SECRET}", "do not accept the value given"),
    ],
)
def test_malformed_values_name_the_form_and_hide_secrets(value: str, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        parse_credentials(value)
    message = str(caught.value)
    assert expected in message
    assert SECRET not in message
    if "do not accept" in message:
        assert all(form in message for form in CREDENTIAL_FORMATS)


def test_default_region_prefers_explicit_then_aws_config(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    implicit = parse_credentials(None)
    assert default_region(implicit, "ap-south-1") == "ap-south-1"
    assert default_region(implicit) == "us-east-1"  # AWS_DEFAULT_REGION of aws_env
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert default_region(implicit) == "eu-central-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert default_region(implicit) == "us-east-1"  # nothing configured: the fallback
    with open(aws_env["AWS_CONFIG_FILE"], "w") as config:
        config.write("[profile team]\nregion = eu-north-1\n")
    assert default_region(parse_credentials("aws-profile:team")) == "eu-north-1"
    with pytest.raises(KitaruUsageError, match="AWS profile 'missing' was not found"):
        default_region(parse_credentials("aws-profile:missing"))

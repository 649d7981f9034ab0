"""Parsing ``--credentials`` strings into Azure service-connector auth methods (SPEC §5.4)."""

from __future__ import annotations

import pytest

from kitaru.errors import KitaruUsageError
from kitaru_azure.credentials import CREDENTIAL_FORMATS, parse_credentials

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "Sx8Q~not:a-real~secret"


@pytest.mark.parametrize("value", [None, "", "   ", "implicit", " implicit "])
def test_implicit_is_the_default(value: str | None) -> None:
    credentials = parse_credentials(value)
    assert credentials.auth_method == "implicit"
    assert credentials.is_implicit
    assert dict(credentials.configuration) == {}


def test_service_principal_keeps_colons_in_the_secret() -> None:
    credentials = parse_credentials(f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}")
    assert credentials.auth_method == "service-principal"
    assert dict(credentials.configuration) == {
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
    }
    assert not credentials.is_implicit


def test_access_token() -> None:
    credentials = parse_credentials("azure-access-token:eyJ0eXAiOiJKV1Qi.payload.sig")
    assert credentials.auth_method == "access-token"
    assert dict(credentials.configuration) == {"token": "eyJ0eXAiOiJKV1Qi.payload.sig"}


def test_repr_and_str_hide_secrets() -> None:
    credentials = parse_credentials(f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}")
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert SECRET not in text
        assert "service-principal" in text


def test_connector_configuration_adds_values_and_drops_none() -> None:
    credentials = parse_credentials(f"azure-service-principal:{TENANT}:{CLIENT}:{SECRET}")
    configuration = credentials.connector_configuration(subscription_id="s", storage_account=None)
    assert configuration == {
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "subscription_id": "s",
    }
    configuration["client_secret"] = "changed"
    assert credentials.configuration["client_secret"] == SECRET


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"azure-service-principal:{TENANT}:{CLIENT}", "expected three parts"),
        (f"azure-service-principal:{TENANT}::{SECRET}", "expected three parts"),
        (f"azure-service-principal:not-a-guid:{CLIENT}:{SECRET}", "TENANT (the directory ID)"),
        (f"azure-service-principal:{TENANT}:{SECRET}:{SECRET}", "CLIENT (the app ID)"),
        ("azure-access-token:", "the TOKEN part is empty"),
        ("azure-access-token:   ", "the TOKEN part is empty"),
    ],
)
def test_malformed_strings_name_the_format_but_not_the_secret(value: str, expected: str) -> None:
    with pytest.raises(KitaruUsageError) as caught:
        parse_credentials(value)
    message = str(caught.value)
    assert expected in message
    assert "Expected azure-" in message
    assert SECRET not in message
    assert "not shown" in message


def test_other_providers_credentials_are_named() -> None:
    with pytest.raises(KitaruUsageError, match="'aws-profile' credentials are for AWS stacks"):
        parse_credentials("aws-profile:dev")
    with pytest.raises(KitaruUsageError, match="'gcp-service-account' credentials are for GCP"):
        parse_credentials("gcp-service-account:/tmp/key.json")


def test_unknown_format_lists_the_accepted_ones_without_echoing() -> None:
    with pytest.raises(KitaruUsageError) as caught:
        parse_credentials("DefaultEndpointsProtocol=https;AccountKey=topsecret")
    message = str(caught.value)
    assert "topsecret" not in message
    for credential_format in CREDENTIAL_FORMATS:
        assert credential_format in message

"""``docs/gcp.md`` stays true to the plugin: options, credential formats, the emulator login."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kitaru_gcp import CREDENTIAL_FORMATS, KUBERNETES_STACK_PROVIDER, VERTEX_STACK_PROVIDER
from kitaru_gcp.credentials import GCR_HOSTS
from tests.gcp.conftest import EMULATOR_ADC

DOC = (Path(__file__).resolve().parents[2] / "docs" / "gcp.md").read_text()


def test_every_declared_option_is_documented_in_its_table() -> None:
    for provider in (VERTEX_STACK_PROVIDER, KUBERNETES_STACK_PROVIDER):
        for field in provider.fields:
            assert f"`--{field.name.replace('_', '-')}`" in DOC, field.name


def test_credential_formats_and_registry_hosts_are_documented() -> None:
    for credential_format in CREDENTIAL_FORMATS:
        assert f"`{credential_format}`" in DOC
    for host in GCR_HOSTS:
        assert host in DOC
    assert "<region>-docker.pkg.dev/<project>/<repository>" in DOC
    assert "pip install 'kitaru[gcp]'" in DOC


def test_the_documented_emulator_login_is_the_one_the_tests_use() -> None:
    [block] = re.findall(r"```json\n(.*?)```", DOC, flags=re.DOTALL)
    assert json.loads(block) == EMULATOR_ADC


def test_the_missing_bucket_message_is_quoted_as_raised() -> None:
    assert (
        "`GCS bucket 'gs://x' does not exist on Google Cloud Storage. Create it, or pass "
        "--no-verify to skip this check.`" in DOC
    )

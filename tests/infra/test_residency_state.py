"""The residency statement's evidence for the state backend and the secrets provider."""

from __future__ import annotations

from infra.evidence.residency import _backend, _secrets_provider


def test_hashivault_names_the_transit_key_and_where_its_vault_comes_from() -> None:
    found = _secrets_provider("hashivault://pulumi-uae-onprem")
    assert found["kind"] == "hashicorp-vault" and found["location"] is None
    assert "transit key 'pulumi-uae-onprem'" in found["where"]
    assert "VAULT_ADDR" in found["where"]


def test_the_host_and_path_form_is_shown_as_malformed() -> None:
    """`hashivault://vault.dc1.example.ae/transit/keys/k` made Pulumi look for a transit key
    named 'vault.dc1.example.ae/transit/keys/k'; the statement called it a key "at" that host."""
    found = _secrets_provider("hashivault://vault.dc1.example.ae/transit/keys/pulumi-uae-onprem")
    assert found["where"].startswith("MALFORMED: 'vault.dc1.example.ae/transit/keys/")
    assert found["location"] is None


def test_hashivault_engine_parameter_is_the_mount() -> None:
    assert "kv-transit key 'k'" in _secrets_provider("hashivault://k?engine=kv-transit")["where"]


def test_azblob_names_its_storage_account() -> None:
    found = _backend("azblob://pulumi-state?storage_account=mlplatformprodstate")
    assert "container pulumi-state in the storage account mlplatformprodstate" in found["where"]
    assert "AZURE_STORAGE_ACCOUNT" in _backend("azblob://pulumi-state")["where"]

"""PlatformPki: pinned cert-manager/trust-manager from the mirror, a private CA, and its bundle."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.pki import (
    CA_BUNDLE,
    ROOT_CA_SECRET,
    SELFSIGNED_ISSUER,
    PkiArgs,
    PlatformPki,
    VaultIssuer,
    server_certificate,
    service_dns_names,
)
from infra.synth import manifests
from stacks import artifacts
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds
from version_catalogue import CHARTS

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {
    "owner": "ml-platform-team",
    "residency": "uae",
    "app.kubernetes.io/part-of": "mlplatform",
}
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _synth(run_program, **overrides):
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        PlatformPki(
            "pki",
            PkiArgs(
                **{
                    "mirror": MIRROR,
                    "labels": LABELS,
                    "cert_manager_chart": CHARTS["cert-manager"],
                    "trust_manager_chart": CHARTS["trust-manager"],
                    "images": artifacts.pki_images(),
                    "pull_secret": "harbor-pull",
                    "organization": "acme-bank-ml",
                    "vault": None,
                    **overrides,
                }
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        server_certificate(
            "svc-cert",
            name="svc-tls",
            namespace="svc",
            dns_names=service_dns_names("svc", "svc"),
            labels=LABELS,
            opts=pulumi.ResourceOptions(provider=provider),
        )

    synthesis = run_program(program)
    by_key = {}
    for r in synthesis.resources:
        if r.type.startswith("kubernetes:"):
            meta = r.inputs.get("metadata") or {}
            kind = r.type.split(":")[-1]
            by_key[(kind, meta.get("name") or r.inputs.get("name"))] = r
    return by_key


@pytest.fixture
def pki(run_program):
    return _synth(run_program)


@pytest.fixture
def vault_pki(run_program):
    vault = VaultIssuer(
        server="https://vault.dc1.example.ae",
        path="pki_int/sign/mlplatform",
        role="cert-manager",
        ca_bundle_pem=PEM,
    )
    return _synth(run_program, vault=vault)


def values_under(value, key):
    """Every value stored under `key` anywhere in a nested structure."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from values_under(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from values_under(v, key)


@pytest.mark.parametrize("release", ["cert-manager", "trust-manager"])
def test_charts_are_pinned_and_pulled_from_the_mirror(pki, release):
    inputs = pki[("Release", release)].inputs
    assert inputs["chart"] == f"oci://{MIRROR}/charts/{CHARTS[release].name}"
    assert inputs["version"] == CHARTS[release].version
    repositories = list(values_under(inputs["values"], "repository"))
    assert repositories and all(r.startswith(f"{MIRROR}/") for r in repositories)


def test_cert_manager_installs_crds_with_redundancy(pki):
    values = pki[("Release", "cert-manager")].inputs["values"]
    assert values["crds"] == {"enabled": True, "keep": True}
    assert values["replicaCount"] == 2 and values["webhook"]["replicaCount"] == 2
    assert values["global"]["imagePullSecrets"] == [{"name": "harbor-pull"}]


def test_trust_manager_trusts_only_the_platform_ca_and_writes_only_the_bundle(pki):
    values = pki[("Release", "trust-manager")].inputs["values"]
    assert values["defaultPackage"] == {"enabled": False}
    assert values["secretTargets"] == {"enabled": True, "authorizedSecrets": [CA_BUNDLE]}


def test_namespace_is_restricted_and_admits_only_the_webhooks(pki):
    labels = pki[("Namespace", c.NS_CERT_MANAGER)].inputs["metadata"]["labels"]
    assert labels[c.PSS_ENFORCE] == "restricted"
    deny = pki[("NetworkPolicy", "default-deny-ingress")].inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allow = pki[("NetworkPolicy", "allow-api-server")].inputs["spec"]["ingress"]
    assert allow == [
        {"ports": [{"protocol": "TCP", "port": 10250}, {"protocol": "TCP", "port": 6443}]}
    ]


def test_self_signed_root_is_a_protected_p384_ca(pki):
    root = pki[("Certificate", ROOT_CA_SECRET)]
    spec = root.inputs["spec"]
    assert spec["isCA"] is True
    assert spec["privateKey"]["algorithm"] == "ECDSA" and spec["privateKey"]["size"] == 384
    assert spec["issuerRef"]["name"] == SELFSIGNED_ISSUER
    assert spec["subject"] == {"organizations": ["acme-bank-ml"], "countries": ["AE"]}
    assert root.inputs["metadata"]["namespace"] == c.NS_CERT_MANAGER
    assert root.options["protect"] is True


def test_root_is_not_protected_in_ephemeral_stacks(run_program):
    assert (
        _synth(run_program, protect=False)[("Certificate", ROOT_CA_SECRET)].options["protect"]
        is False
    )


def test_cluster_issuer_signs_with_the_root(pki):
    spec = pki[("ClusterIssuer", c.CLUSTER_ISSUER)].inputs["spec"]
    assert spec == {"ca": {"secretName": ROOT_CA_SECRET}}


def test_bundle_reaches_every_platform_and_tenant_namespace(pki):
    spec = pki[("Bundle", CA_BUNDLE)].inputs["spec"]
    assert spec["sources"] == [{"secret": {"name": ROOT_CA_SECRET, "key": "ca.crt"}}]
    target = spec["target"]
    assert target["configMap"] == {"key": "ca.crt"} and target["secret"] == {"key": "ca.crt"}
    # Tenant namespaces carry the governance labels, part-of=mlplatform included.
    assert target["namespaceSelector"] == {
        "matchLabels": {"app.kubernetes.io/part-of": "mlplatform"}
    }


def test_vault_mode_chains_to_the_site_pki_without_a_cluster_root(vault_pki):
    assert ("Certificate", ROOT_CA_SECRET) not in vault_pki
    vault = vault_pki[("ClusterIssuer", c.CLUSTER_ISSUER)].inputs["spec"]["vault"]
    assert vault["server"] == "https://vault.dc1.example.ae"
    assert vault["path"] == "pki_int/sign/mlplatform"
    assert vault["auth"]["kubernetes"]["serviceAccountRef"] == {"name": "vault-issuer"}
    assert vault_pki[("Bundle", CA_BUNDLE)].inputs["spec"]["sources"] == [{"inLine": PEM}]


def test_vault_mode_lets_cert_manager_mint_only_the_issuer_token(vault_pki):
    rules = vault_pki[("Role", "vault-issuer-token")].inputs["rules"]
    assert rules == [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "resourceNames": ["vault-issuer"],
            "verbs": ["create"],
        }
    ]


def test_server_certificates_are_short_lived_and_from_the_platform_ca(pki):
    spec = pki[("Certificate", "svc-tls")].inputs["spec"]
    assert spec["issuerRef"]["name"] == c.CLUSTER_ISSUER
    assert spec["duration"] == "2160h"
    assert spec["dnsNames"] == ["svc", "svc.svc", "svc.svc.svc", "svc.svc.svc.cluster.local"]
    assert spec["usages"] == ["server auth", "digital signature", "key encipherment"]


@pytest.mark.parametrize("fixture", ["pki", "vault_pki"])
def test_every_object_validates(request, fixture):
    require_crds()
    objects = request.getfixturevalue(fixture)
    checked = 0
    for resource in objects.values():
        if not manifests.is_kubernetes_object(resource):
            continue
        obj = manifests.to_object(resource)
        if obj["apiVersion"].startswith("cert-manager.io/"):
            assert custom_resource_errors(obj) == []
        elif obj["apiVersion"].startswith("trust.cert-manager.io/"):
            continue  # trust-manager's CRD is not in the reference set (checked by hand)
        else:
            assert core_object_errors(obj, "1.34") == []
        checked += 1
    assert checked >= 5

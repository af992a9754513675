"""uae-onprem: the foundation and core services on an existing cluster, and the whole plan.

The first group synthesizes `onprem.build_foundation` + `core.build` + every tenant's Kafka grant
(fast, independent of the ML services); the second reads the cached whole-stack plan.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import conventions as c
from components.namespace import EXEMPTION_ANNOTATION
from components.pki import CA_BUNDLE
from infra.synth import manifests
from infra.synth.recording import Synthesis, synthesize, unwrap
from stacks.config.loader import from_runtime, stack_config
from tests.support.schemas import (
    core_object_errors,
    custom_resource_errors,
    known_custom_resource,
    require_crds,
)
from version_catalogue import CHARTS

STACK = "uae-onprem"
MIRROR = "harbor.dc1.example.ae/mlplatform"
EXISTING = (
    "onprem.postgres.mode=existing",
    "onprem.postgres.existing={host: pg.dc1.example.ae, port: 5432, credentialsSecret: pg-app}",
    "onprem.redis.mode=existing",
    "onprem.redis.existing={host: redis.dc1.example.ae, port: 6380, credentialsSecret: redis-app}",
)


def _slice(*overrides: str) -> tuple[Synthesis, dict[str, Any]]:
    _, flat = stack_config(STACK, overrides)
    built: dict[str, Any] = {}

    def program() -> None:
        from stacks.build import build_foundation
        from stacks.composition.core import build_core

        config = from_runtime(STACK)
        foundation, pki = build_foundation(config)
        services = build_core(config, foundation, pki)
        built.update(config=config, foundation=foundation, core=services)
        built["access"] = {
            t.name: services.kafka_grant.grant(t, foundation.k8s_provider) for t in config.tenants
        }

    return synthesize(STACK, flat, program), built


@pytest.fixture(scope="module")
def onprem():
    return _slice()


def _of(synthesis: Synthesis, kind: str) -> dict[str, Any]:
    return {
        (r.inputs.get("metadata") or {}).get("name") or r.inputs.get("name"): r
        for r in synthesis.resources
        if r.type.startswith("kubernetes:") and r.type.rsplit(":", 1)[-1] == kind
    }


def test_provider_uses_the_site_kube_context_with_server_side_apply(onprem):
    synthesis, _ = onprem
    (provider,) = synthesis.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "auh-dc1-prod"
    assert str(provider.inputs["enableServerSideApply"]).lower() == "true"
    k8s_resources = [
        r for r in synthesis.resources if r.type.startswith("kubernetes:") and r.custom
    ]
    assert k8s_resources and all(r.provider and provider.urn in r.provider for r in k8s_resources)


def test_gpu_nodes_of_both_pools_are_claimed(onprem):
    synthesis, built = onprem
    patches = _of(synthesis, "NodePatch")
    assert set(patches) == {
        "gpu-h100-01",
        "gpu-h100-02",
        "gpu-l40s-01",
        "gpu-l40s-02",
        "gpu-l40s-03",
    }
    assert patches["gpu-l40s-03"].inputs["metadata"]["labels"][c.GPU_POOL_LABEL] == "l40s"
    pools = {p.name: p for p in built["foundation"].gpu_pools}
    assert pools["h100"].capacity == 16 and pools["l40s"].capacity == 12
    assert pools["h100"].product == "nvidia-h100-80gb"


def test_kueue_quota_matches_the_gpus_that_exist(onprem):
    synthesis, _ = onprem
    spec = _of(synthesis, "ClusterQueue")[c.CLUSTER_QUEUE].inputs["spec"]
    gpus = {
        f["name"]: next(r["nominalQuota"] for r in f["resources"] if r["name"] == c.GPU_RESOURCE)
        for f in spec["resourceGroups"][0]["flavors"]
    }
    assert gpus == {"default-cpu": "0", "h100": "16", "l40s": "12"}
    cpu = next(
        r for r in spec["resourceGroups"][0]["flavors"][1]["resources"] if r["name"] == "cpu"
    )
    assert cpu["nominalQuota"] == "96"  # risk 64 + marketing 32


def test_gpu_operator_installs_the_driver_on_prem(onprem):
    synthesis, _ = onprem
    values = _of(synthesis, "Release")["gpu-operator"].inputs["values"]
    assert values["driver"]["enabled"] is True


def test_foundation_references_site_keys_and_object_store(onprem):
    _, built = onprem
    foundation = built["foundation"]
    assert foundation.key_refs == {
        "data": "vault://vault.dc1.example.ae/transit/keys/mlplatform-data",
        "secrets": "vault://vault.dc1.example.ae/transit/keys/mlplatform-k8s-secrets",
        "logs": "vault://vault.dc1.example.ae/transit/keys/mlplatform-logs",
    }
    store = foundation.object_store
    assert store.endpoint == "https://s3.dc1.example.ae" and store.kind == "s3"
    assert store.credentials.existing_secret == "object-store-credentials"
    assert store.artifact_uri == "s3://mlflow-artifacts/mlflow"
    assert foundation.location == "auh-dc1" and foundation.kafka is None


def test_in_cluster_stores_are_tls_and_verified_with_the_platform_ca(onprem):
    _, built = onprem
    postgres, redis = built["foundation"].postgres, built["foundation"].redis
    assert postgres.host == "mlplatform-pg-rw.mlplatform-data.svc" and postgres.port == 5432
    assert postgres.ssl_mode == "verify-full" and postgres.ca_secret == CA_BUNDLE
    assert postgres.credentials.username == "mlplatform"
    assert redis.host == "mlplatform-redis-master.mlplatform-data.svc" and redis.tls is True


def test_existing_stores_are_referenced_not_deployed():
    synthesis, built = _slice(*EXISTING)
    assert not _of(synthesis, "Cluster") and not _of(synthesis, "RedisReplication")
    postgres, redis = built["foundation"].postgres, built["foundation"].redis
    assert (postgres.host, postgres.port) == ("pg.dc1.example.ae", 5432)
    assert postgres.credentials.existing_secret == "pg-app" and postgres.ssl_mode == "verify-full"
    assert (redis.host, redis.port, redis.tls) == ("redis.dc1.example.ae", 6380, True)


def test_scram_stacks_hand_tenants_a_generated_password():
    synthesis, built = _slice("kafka.authentication=scram-sha-512")
    assert built["core"].kafka.security_protocol == "SASL_SSL"
    assert built["core"].kafka.sasl_mechanism == "SCRAM-SHA-512"
    secrets = [
        r
        for r in synthesis.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "kafka-credentials"
    ]
    assert {s.inputs["metadata"]["namespace"] for s in secrets} == {
        "tenant-risk",
        "tenant-marketing",
    }
    assert all(unwrap(s.inputs["stringData"])["sasl.mechanism"] == "SCRAM-SHA-512" for s in secrets)


def test_core_services_tell_tenants_how_to_reach_kafka(onprem):
    _, built = onprem
    core = built["core"]
    assert core.kafka.bootstrap == "mlplatform-kafka-bootstrap.kafka.svc:9093"
    assert core.kafka.security_protocol == "SSL" and core.kafka.authentication == "tls"
    assert set(core.kafka.platform_topics) == {"features", "models", "drift"}
    assert core.ca_bundle == CA_BUNDLE and core.cluster_queue == c.CLUSTER_QUEUE
    (peer,) = core.peers
    assert peer.namespace == c.NS_KAFKA and peer.ports == (9093,)
    risk = built["access"]["risk"]
    # its own topics, then the ML loop's (the sample tenant runs it: 333fd3d); nobody else's
    assert risk.topics == [
        "risk.transactions",
        "risk.scores",
        "risk.transactions.dlq",
        "risk.transactions.scored",
        "risk.transactions.labels",
        "risk.model-events",
        "risk.model-drift-events",
        "risk.model-retraining-requests",
    ]
    assert built["access"]["marketing"].topics == ["marketing.campaign-events"]
    assert (
        risk.credentials_secret == "kafka-credentials" and risk.principal == "User:CN=tenant-risk"
    )


def test_charts_are_pinned_and_pulled_from_the_site_mirror(onprem):
    synthesis, _ = onprem
    releases = _of(synthesis, "Release")
    expected = {
        "cert-manager": "cert-manager",
        "trust-manager": "trust-manager",
        "gpu-operator": "gpu-operator",
        "kueue": "kueue",
        "kubeflow-trainer": "kubeflow-trainer",
        "strimzi-kafka-operator": "strimzi",
        "cloudnative-pg": "cloudnative-pg",
        "redis-operator": "redis-operator",
    }
    assert set(releases) == set(expected)
    for release, key in expected.items():
        inputs = releases[release].inputs
        assert inputs["chart"] == f"oci://{MIRROR}/charts/{CHARTS[key].name}"
        assert inputs["version"] == CHARTS[key].version


def test_namespaces_are_restricted_except_the_recorded_gpu_exemption(onprem):
    synthesis, _ = onprem
    for name, ns in _of(synthesis, "Namespace").items():
        labels = ns.inputs["metadata"]["labels"]
        assert labels["residency"] == "uae" and labels["app.kubernetes.io/part-of"] == "mlplatform"
        if name == c.NS_GPU_OPERATOR:
            assert labels[c.PSS_ENFORCE] == "privileged"
            assert ns.inputs["metadata"]["annotations"][EXEMPTION_ANNOTATION]
        else:
            assert labels[c.PSS_ENFORCE] == "restricted", name


def test_every_platform_namespace_denies_ingress_by_default(onprem):
    synthesis, _ = onprem
    denied = {
        r.inputs["metadata"]["namespace"]
        for r in synthesis.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["spec"].get("podSelector") == {}
        and "Ingress" in r.inputs["spec"]["policyTypes"]
        and not r.inputs["spec"].get("ingress")
    }
    assert denied == set(_of(synthesis, "Namespace"))


def test_stateful_resources_are_protected(onprem):
    synthesis, _ = onprem
    stateful = ["Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "RedisReplication"]
    for kind in stateful:
        resources = _of(synthesis, kind)
        assert resources and all(r.options["protect"] for r in resources.values()), kind
    assert _of(synthesis, "Certificate")["mlplatform-root-ca"].options["protect"]


def test_ephemeral_stacks_protect_nothing():
    synthesis, _ = _slice("ephemeral=true")
    assert not any(r.options["protect"] for r in synthesis.resources)


def test_every_object_validates(onprem):
    require_crds()
    synthesis, _ = onprem
    unvalidated = {"postgresql.cnpg.io", "redis.redis.opstreelabs.in", "trust.cert-manager.io"}
    checked = 0
    for resource in synthesis.resources:
        if not manifests.is_kubernetes_object(resource):
            continue
        obj = manifests.to_object(resource)
        group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        if group in unvalidated:
            continue
        if known_custom_resource(obj):
            assert custom_resource_errors(obj) == []
        else:
            if obj["kind"] == "Secret":
                obj = manifests.prune(unwrap(resource.inputs))
            assert core_object_errors(obj, "1.34") == [], obj["kind"]
        checked += 1
    assert checked >= 35


# --------------------------------------------------------------------------- the whole plan


@pytest.fixture(scope="module")
def plan(stack_plan):
    return stack_plan(STACK).synthesis


def test_plan_has_kafka_cert_manager_gpu_operator_and_kueue(plan):
    types = {r.type for r in plan.resources}
    for kind in (
        "kubernetes:kafka.strimzi.io/v1:Kafka",
        "kubernetes:kafka.strimzi.io/v1:KafkaNodePool",
        "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor",
        "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue",
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
    ):
        assert kind in types, kind
    releases = {r.inputs["name"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert {"cert-manager", "gpu-operator", "kueue", "strimzi-kafka-operator"} <= releases


@pytest.mark.parametrize("tenant", ["risk", "marketing"])
def test_plan_gives_every_tenant_its_slice(plan, tenant):
    namespace = c.tenant_namespace(tenant)

    def in_tenant(kind: str) -> list[Any]:
        return [
            r
            for r in plan.resources
            if r.type.rsplit(":", 1)[-1] == kind
            and (r.inputs.get("metadata") or {}).get("namespace") == namespace
        ]

    assert any(
        r.inputs["metadata"]["name"] == namespace
        for r in plan.of_type("kubernetes:core/v1:Namespace")
    )
    for kind in ("ResourceQuota", "NetworkPolicy", "RoleBinding", "LocalQueue"):
        assert in_tenant(kind), kind
    users = [r for r in plan.of_type("kubernetes:kafka.strimzi.io/v1:KafkaUser")]
    assert any(r.inputs["metadata"]["name"] == f"tenant-{tenant}" for r in users)
    topics = [
        r.inputs["spec"]["topicName"]
        for r in plan.of_type("kubernetes:kafka.strimzi.io/v1:KafkaTopic")
    ]
    assert any(t.startswith(f"{tenant}.") for t in topics)


PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_site_vault_pki_roots_the_platform_ca(stack_plan):
    plan = stack_plan(
        "uae-onprem",
        "onprem.vaultPki.server=https://vault.dc1.example.ae",
        "onprem.vaultPki.path=pki_int/sign/mlplatform",
        "onprem.vaultPki.role=cert-manager",
        f"onprem.vaultPki.caBundle={PEM!r}".replace("'", '"'),
    )
    issuers = [
        r.inputs
        for r in plan.synthesis.resources
        if r.type.endswith(":ClusterIssuer") and r.inputs["metadata"]["name"] == "mlplatform-ca"
    ]
    assert issuers and issuers[0]["spec"]["vault"]["server"] == "https://vault.dc1.example.ae"
    assert "ca" not in issuers[0]["spec"]
    # cert-manager's egress is closed but for its controller → Vault's port, declared (13.3)
    policies = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in plan.synthesis.resources
        if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
        and r.inputs["metadata"]["namespace"] == "cert-manager"
    }
    assert policies["default-deny-egress"]["spec"] == {"podSelector": {}, "policyTypes": ["Egress"]}
    vault = policies["allow-vault-pki"]
    assert vault["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert (
        vault["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "controller"
    )
    assert (
        "onprem.vaultPki.server"
        in vault["metadata"]["annotations"]["mlplatform.io/egress-exception"]
    )


def test_postgres_backups_go_to_the_backup_bucket(stack_plan):
    clusters = [
        r.inputs
        for r in stack_plan("uae-onprem").synthesis.resources
        if r.type == "kubernetes:postgresql.cnpg.io/v1:Cluster"
    ]
    (cluster,) = clusters
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"] == (
        "s3://platform-backups/postgres"
    )


def test_contract_names_the_gpu_nodes_per_pool(stack_plan):
    cluster = stack_plan("uae-onprem").synthesis.outputs["stack"]["cluster"]
    assert cluster["gpuNodes"] == {
        "h100": ["gpu-h100-01", "gpu-h100-02"],
        "l40s": ["gpu-l40s-01", "gpu-l40s-02", "gpu-l40s-03"],
    }

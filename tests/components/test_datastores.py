"""On-prem Postgres (CloudNativePG) and Redis (redis-operator): TLS only, secret, protected.

The CNPG and redis-operator CRDs are not in the reference set: these tests assert the fields
that carry the security and durability properties; the CRs are not schema-validated here.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from components import conventions as c
from components.api_server import ApiServer, egress_rule
from components.datastores import (
    DataStoresArgs,
    OnPremDataStores,
    PostgresBackup,
)
from components.endpoints import EgressRule
from infra.synth import manifests
from infra.synth.recording import unwrap
from stacks import artifacts
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds
from version_catalogue import CHARTS, IMAGES

API = ApiServer(("10.10.0.11/32",))  # the API server's endpoint (components.api_server)
STORE_EGRESS = EgressRule("object-store", "10.20.0.0/24", (443,), why="the site store")

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {"owner": "ml-platform-team", "residency": "uae"}
BACKUP = PostgresBackup(
    destination="s3://mlflow-artifacts/platform-backups/postgres",
    endpoint="https://s3.dc1.example.ae",
    credentials_secret="object-store-credentials",
)


def _synth(run_program, postgres=True, redis=True, protect=True, backup=BACKUP):
    stores: dict[str, OnPremDataStores] = {}

    def program() -> None:
        stores["data"] = OnPremDataStores(
            "data",
            DataStoresArgs(
                mirror=MIRROR,
                labels=LABELS,
                storage_class="encrypted-ssd",
                postgres=artifacts.postgres_spec(instances=3, storage_gi=100, backup=backup)
                if postgres
                else None,
                redis=artifacts.redis_spec(replicas=3, storage_gi=20) if redis else None,
                pull_secret="harbor-pull",
                api_server=API,
                object_store_egress=(STORE_EGRESS,),
                protect=protect,
            ),
            opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}")),
        )

    return run_program(program), stores["data"]


@pytest.fixture
def synthesis(run_program):
    return _synth(run_program)


def _one(result, kind, name):
    return next(
        r
        for r in result.resources
        if r.type.endswith(f":{kind}") and (r.inputs.get("metadata") or {}).get("name") == name
    )


def test_postgres_cluster_is_sized_from_config_and_protected(synthesis):
    result, _ = synthesis
    cluster = _one(result, "Cluster", "mlplatform-pg")
    spec = cluster.inputs["spec"]
    assert spec["instances"] == 3
    assert spec["storage"] == {"size": "100Gi", "storageClass": "encrypted-ssd"}
    assert spec["imageName"] == IMAGES["postgresql"].ref(MIRROR)
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    assert cluster.options["protect"] is True
    assert cluster.inputs["metadata"]["namespace"] == c.NS_DATA


def test_postgres_accepts_only_tls_and_has_no_superuser_access(synthesis):
    spec = _one(synthesis[0], "Cluster", "mlplatform-pg").inputs["spec"]
    hba = spec["postgresql"]["pg_hba"]
    assert hba[0] == "hostnossl all all all reject"
    assert spec["postgresql"]["parameters"]["ssl_min_protocol_version"] == "TLSv1.2"
    assert spec["certificates"] == {
        "serverTLSSecret": "mlplatform-pg-server",
        "serverCASecret": "mlplatform-pg-server",
    }
    assert spec["enableSuperuserAccess"] is False
    cert = _one(synthesis[0], "Certificate", "mlplatform-pg-server").inputs["spec"]
    assert "mlplatform-pg-rw.mlplatform-data.svc" in cert["dnsNames"]
    assert cert["issuerRef"]["name"] == c.CLUSTER_ISSUER


def test_postgres_backups_stay_on_the_site_object_store_encrypted(synthesis):
    result, _ = synthesis
    backup = _one(result, "Cluster", "mlplatform-pg").inputs["spec"]["backup"]
    store = backup["barmanObjectStore"]
    assert store["endpointURL"] == "https://s3.dc1.example.ae"
    assert store["destinationPath"].startswith("s3://")
    assert store["wal"]["encryption"] == store["data"]["encryption"] == "AES256"
    assert store["s3Credentials"]["accessKeyId"]["name"] == "object-store-credentials"
    nightly = _one(result, "ScheduledBackup", "mlplatform-pg-nightly").inputs["spec"]
    assert nightly["cluster"] == {"name": "mlplatform-pg"}


def test_backups_verify_a_site_store_with_an_internal_ca_against_that_ca(run_program, synthesis):
    store = _one(synthesis[0], "Cluster", "mlplatform-pg").inputs["spec"]["backup"]
    assert "endpointCA" not in store["barmanObjectStore"]  # a public CA: the OS trust store
    result, _ = _synth(run_program, backup=replace(BACKUP, ca_secret="object-store-ca"))
    store = _one(result, "Cluster", "mlplatform-pg").inputs["spec"]["backup"]
    assert store["barmanObjectStore"]["endpointCA"] == {"name": "object-store-ca", "key": "ca.crt"}


def test_postgres_creates_both_platform_databases(synthesis):
    result, stores = synthesis
    bootstrap = _one(result, "Cluster", "mlplatform-pg").inputs["spec"]["bootstrap"]["initdb"]
    assert bootstrap["database"] == "mlflow" and bootstrap["owner"] == "mlplatform"
    database = _one(result, "Database", "feast-registry")
    assert database.inputs["spec"]["name"] == "feast_registry"
    assert database.inputs["spec"]["databaseReclaimPolicy"] == "retain"
    assert stores.postgres_host == "mlplatform-pg-rw.mlplatform-data.svc"


def test_store_passwords_are_generated_and_secret(synthesis):
    result, _ = synthesis
    for name in ("mlplatform-pg-app", "mlplatform-redis-auth"):
        secret = _one(result, "Secret", name)
        assert rpc.is_rpc_secret(secret.inputs["stringData"])
        assert len(unwrap(secret.inputs["stringData"])["password"]) == 40
        assert core_object_errors(manifests.prune(unwrap(secret.inputs)), "1.34") == []
    passwords = result.of_type("random:index/randomPassword:RandomPassword")
    assert len(passwords) == 2 and all(p.provider for p in passwords)


def test_redis_serves_tls_with_auth_and_sentinel_failover(synthesis):
    result, stores = synthesis
    redis = _one(result, "RedisReplication", "mlplatform-redis")
    spec = redis.inputs["spec"]
    assert spec["clusterSize"] == 3
    assert spec["TLS"]["secret"] == {"secretName": "mlplatform-redis-tls"}
    assert spec["kubernetesConfig"]["redisSecret"] == {
        "name": "mlplatform-redis-auth",
        "key": "password",
    }
    assert spec["kubernetesConfig"]["image"] == IMAGES["redis"].ref(MIRROR)
    assert spec["sentinel"]["size"] == 3 and spec["sentinel"]["quorum"] == "2"
    pvc = spec["storage"]["volumeClaimTemplate"]["spec"]
    assert pvc["storageClassName"] == "encrypted-ssd"
    assert pvc["resources"]["requests"]["storage"] == "20Gi"
    assert spec["podSecurityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    assert redis.options["protect"] is True
    assert stores.redis_host == "mlplatform-redis-master.mlplatform-data.svc"


@pytest.mark.parametrize(
    ("release", "chart", "image_key"),
    [
        ("cloudnative-pg", "cloudnative-pg", "cloudnative-pg"),
        ("redis-operator", "redis-operator", "redis-operator"),
    ],
)
def test_operators_are_pinned_and_pulled_from_the_mirror(synthesis, release, chart, image_key):
    resource = next(
        r
        for r in synthesis[0].of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == release
    )
    assert resource.inputs["chart"] == f"oci://{MIRROR}/charts/{CHARTS[chart].name}"
    assert resource.inputs["version"] == CHARTS[chart].version
    assert f"{MIRROR}/{IMAGES[image_key].path}" in str(resource.inputs["values"])


def test_existing_stores_deploy_nothing(run_program):
    result, stores = _synth(run_program, postgres=False, redis=False)
    types = {r.type for r in result.resources if r.custom}
    assert types == {
        "pulumi:providers:kubernetes",
        "pulumi:providers:random",
        "kubernetes:core/v1:Namespace",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    assert stores.postgres_host is None and stores.redis_host is None


def test_stores_accept_connections_only_from_their_clients(synthesis):
    result, _ = synthesis
    policies = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in result.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    postgres = policies["allow-postgres-clients"]
    assert postgres["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "mlplatform-pg"}}
    (rule,) = postgres["ingress"]
    sources = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]
    ]
    assert sources == [c.NS_MLFLOW, c.NS_FEAST] and rule["ports"] == [
        {"protocol": "TCP", "port": 5432}
    ]
    (rule,) = policies["allow-redis-clients"]["ingress"]
    assert [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]
    ] == [c.NS_FEAST]
    # outside the namespace: the object store's addresses on its port, the API server; no more
    assert policies["allow-object-store"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.20.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    ]
    assert policies["allow-api-server-egress"]["egress"] == [egress_rule(API)]
    peers = [
        peer
        for spec in policies.values()
        for rule in spec.get("egress", [])
        for peer in rule.get("to", [])
    ]
    assert all(p.get("ipBlock", {}).get("cidr") not in ("0.0.0.0/0", "::/0") for p in peers)
    for resource in result.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        assert core_object_errors(manifests.to_object(resource), "1.34") == []


def test_nothing_is_protected_in_ephemeral_stacks(run_program):
    result, _ = _synth(run_program, protect=False)
    assert not any(r.options["protect"] for r in result.resources)


def test_core_objects_and_certificates_validate(synthesis):
    require_crds()
    for resource in synthesis[0].resources:
        if not manifests.is_kubernetes_object(resource):
            continue
        obj = manifests.to_object(resource)
        if obj["apiVersion"].startswith("cert-manager.io/"):
            assert custom_resource_errors(obj) == []
        elif obj["apiVersion"] in ("v1",) and obj["kind"] != "Secret":
            assert core_object_errors(obj, "1.34") == []

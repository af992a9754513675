"""FeatureStore: Feast remote servers, TLS, Kubernetes authz; tenants get no store secrets."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import conventions as c
from components.feast import (
    OFFLINE_PORT,
    ONLINE_PORT,
    READER,
    REGISTRY_PORT,
    WRITER,
    FeastClient,
    FeatureStore,
    FeatureStoreArgs,
)
from components.hardening import NetworkPeer
from infra.synth import manifests
from infra.synth.recording import synthesize
from tests.components.ml_fixtures import (
    LABELS,
    MIRROR,
    PG_PASSWORD,
    REDIS_PASSWORD,
    assert_hardened,
    by_kind,
    core_errors,
    onprem_object_store,
    onprem_postgres,
    onprem_redis,
)
from tests.support.schemas import custom_resource_errors, require_crds

IMAGE = f"{MIRROR}/feature-server:0.67.0"
SERVERS = {"registry": REGISTRY_PORT, "online": ONLINE_PORT, "offline": OFFLINE_PORT}


@pytest.fixture(scope="module")
def feast():
    components: list[FeatureStore] = []

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        components.append(
            FeatureStore(
                "feast",
                FeatureStoreArgs(
                    image=IMAGE,
                    labels=LABELS,
                    project="mlplatform",
                    postgres=onprem_postgres(),
                    redis=onprem_redis(),
                    object_store=onprem_object_store(),
                    replicas=2,
                    clients=(
                        FeastClient("tenant-risk", "workloads"),
                        FeastClient("tenant-marketing", "workloads", roles=(READER,)),
                    ),
                    store_egress=(NetworkPeer((5432, 6379), namespace="mlplatform-data"),),
                    redis_trusts_platform_ca=True,
                ),
                pulumi.ResourceOptions(provider=provider),
            )
        )

    synthesis = synthesize("test", {}, program)
    return by_kind(synthesis), components[0]


def _pod(objects, role):
    return manifests.to_object(objects[("Deployment", f"feast-{role}")])["spec"]["template"]["spec"]


def test_three_servers_serve_tls_with_the_platform_certificate(feast):
    objects, _ = feast
    cert = objects[("Certificate", "feast-tls")].inputs["spec"]
    assert cert["issuerRef"]["name"] == c.CLUSTER_ISSUER
    for role, port in SERVERS.items():
        assert f"feast-{role}.feast.svc.cluster.local" in cert["dnsNames"]
        command = _pod(objects, role)["containers"][0]["command"]
        assert command[command.index("--key") + 1] == "/etc/feast/tls/tls.key"
        assert command[command.index("--cert") + 1] == "/etc/feast/tls/tls.crt"
        service = objects[("Service", f"feast-{role}")].inputs["spec"]
        assert service["type"] == "ClusterIP" and service["ports"][0]["port"] == port
    online = _pod(objects, "online")["containers"][0]["readinessProbe"]["httpGet"]
    assert online == {"path": "/health", "port": ONLINE_PORT, "scheme": "HTTPS"}


def test_server_config_uses_verified_tls_to_every_store_and_kubernetes_auth(feast):
    objects, _ = feast
    text = objects[("ConfigMap", "feast-server-config")].inputs["data"]["feature_store.yaml"]
    config = yaml.safe_load(text)
    assert config["registry"]["registry_type"] == "sql"
    assert config["registry"]["path"] == (
        "postgresql+psycopg://mlplatform-pg-rw.mlplatform-data.svc:5432/feast_registry"
        "?sslmode=verify-full&sslrootcert=/etc/feast/postgres-ca/ca.crt"
    )
    redis = config["online_store"]["connection_string"].split(",")
    assert "ssl=true" in redis and "ssl_ca_certs=/etc/feast/tls/ca.crt" in redis
    assert "password=${REDIS_PASSWORD}" in redis  # expanded from the env, not stored
    assert config["auth"] == {"type": "kubernetes"}
    assert PG_PASSWORD not in text and REDIS_PASSWORD not in text


def test_each_server_holds_only_the_credentials_it_needs(feast):
    objects, _ = feast
    scripts = {role: _pod(objects, role)["containers"][0]["command"][2] for role in SERVERS}
    assert "PGPASSWORD" in scripts["registry"] and "REDIS" not in scripts["registry"]
    assert "REDIS_PASSWORD" in scripts["online"] and "AWS_" not in scripts["online"]
    assert "AWS_SECRET_ACCESS_KEY" in scripts["offline"] and "REDIS" not in scripts["offline"]
    offline_volumes = {v["name"]: v for v in _pod(objects, "offline")["volumes"]}
    assert offline_volumes["object-store"]["secret"]["secretName"] == "object-store-credentials"


def test_pods_are_hardened_replicated_and_pinned(feast):
    objects, _ = feast
    for role in SERVERS:
        deployment = manifests.to_object(objects[("Deployment", f"feast-{role}")])
        assert deployment["spec"]["replicas"] == 2
        pod = deployment["spec"]["template"]["spec"]
        assert_hardened(pod)
        container = pod["containers"][0]
        assert container["image"] == IMAGE
        assert container["livenessProbe"] and container["readinessProbe"]
        assert (
            objects[("PodDisruptionBudget", f"feast-{role}")].inputs["spec"]["maxUnavailable"] == 1
        )
    rendered = json.dumps([manifests.to_object(r) for r in objects.values()])
    assert PG_PASSWORD not in rendered and REDIS_PASSWORD not in rendered


def test_tenant_client_config_uses_remote_tls_servers_and_carries_no_secrets(feast):
    _, component = feast
    client = yaml.safe_load(component.feature_store_yaml)
    ca = "/etc/mlplatform/ca/ca.crt"
    assert client["registry"] == {
        "registry_type": "remote",
        "path": f"feast-registry.feast.svc.cluster.local:{REGISTRY_PORT}",
        "cert": ca,
        "is_tls": True,
    }
    assert (
        client["online_store"]["path"]
        == f"https://feast-online.feast.svc.cluster.local:{ONLINE_PORT}"
    )
    assert client["offline_store"]["scheme"] == "https" and client["offline_store"]["cert"] == ca
    assert client["auth"] == {"type": "kubernetes"}
    assert component.feature_server.startswith("https://")
    text = component.feature_store_yaml
    assert "password" not in text and "postgresql" not in text and "redis" not in text


def test_authz_rbac_is_least_privilege_and_binds_tenant_service_accounts(feast):
    objects, _ = feast
    review = objects[("ClusterRole", "mlplatform-feast-tokenreview")].inputs["rules"]
    assert review == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}
    ]
    reader = objects[("Role", "feast-authz-reader")].inputs["rules"]
    assert reader[0]["resources"] == ["rolebindings"] and "create" not in reader[0]["verbs"]
    assert objects[("Role", READER)].inputs["rules"] == []  # a name only, no API access
    subjects = {
        role: {
            (s["namespace"], s["name"]) for s in objects[("RoleBinding", role)].inputs["subjects"]
        }
        for role in (READER, WRITER)
    }
    assert subjects[READER] == {("tenant-risk", "workloads"), ("tenant-marketing", "workloads")}
    assert subjects[WRITER] == {("tenant-risk", "workloads")}


def test_network_admits_tenants_and_reaches_stores_and_api_server(feast):
    objects, _ = feast
    allow = objects[("NetworkPolicy", "allow-service")].inputs["spec"]
    ingress_ports = {p["port"] for p in allow["ingress"][0]["ports"]}
    assert ingress_ports == set(SERVERS.values())
    assert (
        allow["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["key"]
        == c.TENANT_LABEL
    )
    egress = [(e["to"][0], {p["port"] for p in e["ports"]}) for e in allow["egress"]]
    assert (
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mlplatform-data"}}},
        {5432, 6379},
    ) in egress
    assert ({"ipBlock": {"cidr": "0.0.0.0/0"}}, {443, 6443}) in egress


def test_objects_validate(feast):
    require_crds()
    objects, _ = feast
    assert core_errors(objects) == []
    assert custom_resource_errors(manifests.to_object(objects[("Certificate", "feast-tls")])) == []


def test_only_the_server_pods_mount_an_api_token_and_say_why(feast):
    objects, _ = feast
    assert objects[("ServiceAccount", c.SA_FEAST)].inputs["automountServiceAccountToken"] is False
    for role in SERVERS:
        template = manifests.to_object(objects[("Deployment", f"feast-{role}")])["spec"]["template"]
        assert template["spec"]["automountServiceAccountToken"] is True
        assert "TokenReview" in template["metadata"]["annotations"][c.TOKEN_REASON_ANNOTATION]

"""FeatureStore: Feast remote servers, TLS, Kubernetes authz, a project and an online server per
tenant; tenants get no store secrets."""

from __future__ import annotations

import json
from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import conventions as c
from components.api_server import ApiServer
from components.feast import (
    OFFLINE_PORT,
    ONLINE_PORT,
    REGISTRY_PORT,
    FeastTenant,
    FeatureStore,
    FeatureStoreArgs,
)
from components.feast_tenancy import (
    PROJECT_PIN_MARKER,
    SPEC_CONFIG_MAP,
    SPEC_KEY,
    permissions_spec,
    tenant_project,
)
from components.network_policies import NetworkPeer
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
TENANTS = (FeastTenant("risk", "tenant-risk"), FeastTenant("marketing", "tenant-marketing"))
API = ApiServer(cidrs=("10.10.0.11/32",))
STORE_PEER = NetworkPeer((443,), cidr="10.20.0.0/16", name="object-store")  # the site's S3


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
                    replicas=3,  # not the config default: must reach the Deployments
                    image_pull_secret="harbor-pull",
                    tenants=TENANTS,
                    api_server=API,
                    store_egress=(
                        NetworkPeer((5432, 6379), namespace="mlplatform-data"),
                        STORE_PEER,
                    ),
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
    assert "ssl=true" in redis and "ssl_ca_certs=/etc/feast/redis-ca/ca.crt" in redis
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
        assert deployment["spec"]["replicas"] == 3
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


def test_tenant_client_config_uses_its_own_project_and_servers_and_carries_no_secrets(feast):
    _, component = feast
    ca = "/etc/mlplatform/ca/ca.crt"
    for tenant in TENANTS:
        own = component.clients[tenant.name]
        client = yaml.safe_load(own["feature_store_yaml"])
        assert client["project"] == tenant_project(tenant.name) == f"tenant_{tenant.name}"
        assert client["registry"] == {
            "registry_type": "remote",
            "path": f"feast-registry.feast.svc.cluster.local:{REGISTRY_PORT}",
            "cert": ca,
            "is_tls": True,
        }
        online = f"https://feast-online-{tenant.name}.feast.svc.cluster.local:{ONLINE_PORT}"
        assert client["online_store"] == {"type": "remote", "path": online, "cert": ca}
        # its offline data under its own prefix, with its own identity: never the offline server
        assert client["offline_store"] == {"type": "dask"}
        assert client["auth"] == {"type": "kubernetes"}
        text = own["feature_store_yaml"]
        assert "password" not in text and "postgresql" not in text and "redis" not in text


def test_each_tenant_has_an_online_server_for_its_project_pinned_and_without_cloud_identity(
    feast,
):
    objects, _ = feast
    for tenant in TENANTS:
        deployment = manifests.to_object(objects[("Deployment", f"feast-online-{tenant.name}")])
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "feast-online"
        command = pod["containers"][0]["command"]
        assert any(PROJECT_PIN_MARKER in part for part in command)
        (config,) = [v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v]
        served = objects[("ConfigMap", config)].inputs["data"]["feature_store.yaml"]
        assert yaml.safe_load(served)["project"] == tenant_project(tenant.name)
        assert "AWS_" not in command[2] and "REDIS_PASSWORD" in command[2]
    online_sa = objects[("ServiceAccount", "feast-online")].inputs["metadata"]
    assert not online_sa.get("annotations"), "an online server never reads the object store"


def test_the_platform_applies_every_projects_permissions(feast):
    objects, _ = feast
    spec = json.loads(objects[("ConfigMap", SPEC_CONFIG_MAP)].inputs["data"][SPEC_KEY])
    assert spec == permissions_spec("mlplatform", {t.name: t.namespace for t in TENANTS})
    for tenant in TENANTS:
        own = spec["projects"][tenant_project(tenant.name)][0]
        assert own["policy"] == {"type": "namespace", "namespaces": [tenant.namespace]}
        assert "Permission" not in own["types"] and "Project" not in own["types"]
    (job,) = [
        r for key, r in objects.items() if key[0] == "Job" and key[1].startswith("feast-perm")
    ]
    pod = manifests.to_object(job)["spec"]["template"]["spec"]
    assert_hardened(pod)
    assert pod["automountServiceAccountToken"] is False
    assert any(v.get("configMap", {}).get("name") == SPEC_CONFIG_MAP for v in pod["volumes"])


def test_authz_rbac_is_least_privilege_and_binds_no_tenant(feast):
    objects, _ = feast
    review = objects[("ClusterRole", "mlplatform-feast-tokenreview")].inputs["rules"]
    assert review == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}
    ]
    reader = objects[("Role", "feast-authz-reader")].inputs["rules"]
    assert reader[0]["resources"] == ["rolebindings"] and "create" not in reader[0]["verbs"]
    # No Feast role names bound to tenants (RoleBasedPolicy trusts an unverified token in 0.67)
    bindings = [r for key, r in objects.items() if key[0] == "RoleBinding"]
    subjects = {(s["namespace"], s["name"]) for b in bindings for s in b.inputs["subjects"]}
    assert subjects == {("feast", "feast"), ("feast", "feast-online")}


def test_network_admits_tenants_and_reaches_stores_and_api_server(feast):
    objects, _ = feast
    allow = objects[("NetworkPolicy", "allow-service")].inputs["spec"]
    ingress_ports = {p["port"] for p in allow["ingress"][0]["ports"]}
    assert ingress_ports == {REGISTRY_PORT}  # every tenant: the registry only
    for tenant in TENANTS:
        online = objects[("NetworkPolicy", f"allow-feast-online-{tenant.name}")].inputs["spec"]
        assert online["podSelector"]["matchLabels"]["mlplatform.io/feast-tenant"] == tenant.name
        (rule,) = online["ingress"]
        assert rule["from"] == [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": tenant.namespace}
                }
            }
        ]
        assert [p["port"] for p in rule["ports"]] == [ONLINE_PORT]
    assert (
        allow["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["key"]
        == c.TENANT_LABEL
    )
    egress = [(e["to"][0], {p["port"] for p in e["ports"]}) for e in allow["egress"]]
    assert (
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mlplatform-data"}}},
        {5432, 6379},
    ) in egress
    api = objects[("NetworkPolicy", "allow-api-server-egress")].inputs["spec"]["egress"][0]
    assert api["to"] == [{"ipBlock": {"cidr": "10.10.0.11/32"}}]  # TokenReview, not 0.0.0.0/0


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


def _declare(**overrides):
    """A FeatureStore with the fixture's args, some replaced (callables run in the program)."""

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = {
            "image": IMAGE,
            "labels": LABELS,
            "project": "mlplatform",
            "postgres": onprem_postgres(),
            "redis": onprem_redis(),
            "object_store": onprem_object_store(),
            "replicas": 1,
            "image_pull_secret": None,
            "tenants": TENANTS[:1],
            "api_server": API,
            "store_egress": (NetworkPeer((5432, 6379), namespace="mlplatform-data"), STORE_PEER),
            **{k: v() if callable(v) else v for k, v in overrides.items()},
        }
        FeatureStore("feast", FeatureStoreArgs(**args), pulumi.ResourceOptions(provider=provider))

    return by_kind(synthesize("test", {}, program))


def _trust(pod: dict, volume: str) -> str | None:
    """Where the pod mounts the CA Secret volume `volume`, checking it carries ca.crt only."""
    spec = next((v for v in pod["volumes"] if v["name"] == volume), None)
    if spec is None:
        return None
    assert spec["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume)
    assert mount["readOnly"] is True
    return f"{spec['secret']['secretName']}@{mount['mountPath']}"


def test_redis_is_verified_with_the_ca_secret_the_foundation_names(feast):
    objects, _ = feast
    text = objects[("ConfigMap", "feast-server-config")].inputs["data"]["feature_store.yaml"]
    options = yaml.safe_load(text)["online_store"]["connection_string"].split(",")
    ca_file = next(o.split("=", 1)[1] for o in options if o.startswith("ssl_ca_certs="))
    for role in SERVERS:
        where = _trust(_pod(objects, role), "redis-ca")
        assert where == f"mlplatform-ca-bundle@{ca_file.rsplit('/', 1)[0]}"


def test_redis_with_a_public_ca_uses_the_os_trust_store():
    objects = _declare(redis=lambda: replace(onprem_redis(), ca_secret=None))
    text = objects[("ConfigMap", "feast-server-config")].inputs["data"]["feature_store.yaml"]
    assert "ssl_ca_certs" not in text and "ssl=true" in text
    assert all(_trust(_pod(objects, role), "redis-ca") is None for role in SERVERS)


def test_an_object_store_with_an_internal_ca_is_verified_by_the_offline_server():
    objects = _declare(
        object_store=lambda: replace(onprem_object_store(), ca_secret="object-store-ca")
    )
    offline = _pod(objects, "offline")
    where = _trust(offline, "object-store-ca")
    assert where is not None and where.startswith("object-store-ca@")
    env = {e["name"]: e.get("value") for e in offline["containers"][0]["env"]}
    assert env["AWS_CA_BUNDLE"] == f"{where.split('@')[1]}/ca.crt"  # botocore / s3fs
    for role in ("registry", "online"):  # they never touch the object store
        assert _trust(_pod(objects, role), "object-store-ca") is None


def test_no_database_job_where_the_foundation_creates_the_registry_database(feast):
    objects, _ = feast
    assert not [
        key for key in objects if key[0] == "Job" and (key[1] or "").startswith("create-db")
    ]


PG_PEER = NetworkPeer((5432,), cidr="10.40.0.0/16")


@pytest.fixture(scope="module")
def creates_database():
    def rds():
        return replace(
            onprem_postgres(),
            host="mlp.c1.me-central-1.rds.amazonaws.com",
            ca_secret="rds-ca",
            databases_to_create=("feast_registry",),
        )

    stores = (PG_PEER, NetworkPeer((6379,), namespace="mlplatform-data"), STORE_PEER)
    return _declare(postgres=rds, postgres_egress=(PG_PEER,), store_egress=stores)


def test_registry_database_is_created_by_a_hardened_job_before_the_servers(creates_database):
    objects = creates_database
    job = objects[("Job", "create-db-feast-registry")]
    pod = manifests.to_object(job)["spec"]["template"]["spec"]
    assert_hardened(pod)
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] != "default"
    account = objects[("ServiceAccount", pod["serviceAccountName"])]
    assert account.inputs["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["image"] == IMAGE  # the Feast image: it carries psycopg, no extra image
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLP_DATABASE"] == "feast_registry"
    assert env["PGHOST"] == "mlp.c1.me-central-1.rds.amazonaws.com" and env["PGPORT"] == "5432"
    assert env["PGSSLMODE"] == "verify-full"
    where = _trust(pod, "postgres-ca")
    assert where is not None and where.startswith("rds-ca@")
    assert env["PGSSLROOTCERT"] == f"{where.split('@')[1]}/ca.crt"
    script = container["command"]
    assert "PGPASSWORD" in script[2] and "PGUSER" in script[2]  # exported from mounted files
    assert {v["name"]: v for v in pod["volumes"]}["postgres"]["secret"]["secretName"] == (
        "feast-postgres"
    )
    code = script[script.index("-c", 3) + 1]
    compile(code, "create-database", "exec")
    assert "CREATE DATABASE" in code and "pg_database" in code  # idempotent
    for role in SERVERS:
        assert job.urn in objects[("Deployment", f"feast-{role}")].options["dependsOn"]


def test_database_job_may_reach_postgres_only(creates_database):
    objects = creates_database
    job = manifests.to_object(objects[("Job", "create-db-feast-registry")])
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    # not a server pod: the servers' policy (tenant ingress, store egress) does not apply
    assert pod_labels.get("app.kubernetes.io/name") != "feast"
    fence = objects[("NetworkPolicy", "allow-db-bootstrap")]
    spec = fence.inputs["spec"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert "ingress" not in spec
    assert spec["egress"] == [PG_PEER.rule("to")]
    assert fence.urn in objects[("Job", "create-db-feast-registry")].options["dependsOn"]
    assert core_errors(objects) == []


def test_creating_the_database_needs_to_know_where_postgres_is():
    def rds():
        return replace(onprem_postgres(), databases_to_create=("feast_registry",))

    with pytest.raises(ValueError, match="postgres_egress"):
        _declare(postgres=rds)

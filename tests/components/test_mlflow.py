"""ModelRegistry: MLflow over HTTPS with basic auth, artifacts proxied, hardened and fenced."""

from __future__ import annotations

import configparser
import json
from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.mlflow import PORT, ModelRegistry, ModelRegistryArgs
from components.network_policies import NetworkPeer
from infra.synth import manifests
from infra.synth.recording import synthesize, unwrap
from tests.components.ml_fixtures import (
    LABELS,
    MIRROR,
    PG_PASSWORD,
    assert_hardened,
    assert_redacted,
    azure_object_store,
    by_kind,
    cloud_postgres,
    core_errors,
    onprem_object_store,
    onprem_postgres,
)
from tests.support.schemas import custom_resource_errors, require_crds

IMAGE = f"{MIRROR}/mlflow-server:3.17.2"


def _synth(**overrides):
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = {
            "image": IMAGE,
            "labels": LABELS,
            "postgres": onprem_postgres(),
            "object_store": onprem_object_store(),
            "replicas": 3,
            "users": ("risk", "marketing"),
            "store_egress": (
                NetworkPeer((5432,), namespace="mlplatform-data"),
                NetworkPeer((443,), cidr="0.0.0.0/0"),
            ),
            "image_pull_secret": "harbor-pull",
            # callables build their Outputs inside the program's event loop
            **{k: v() if callable(v) else v for k, v in overrides.items()},
        }
        ModelRegistry(
            "mlflow", ModelRegistryArgs(**args), pulumi.ResourceOptions(provider=provider)
        )

    synthesis = synthesize("test", {}, program)
    return by_kind(synthesis), synthesis


@pytest.fixture(scope="module")
def mlflow():
    return _synth()


def _pod(objects):
    return manifests.to_object(objects[("Deployment", "mlflow")])["spec"]["template"]["spec"]


def _command(objects) -> list[str]:
    return _pod(objects)["containers"][0]["command"]


def test_serves_https_with_a_platform_ca_certificate(mlflow):
    objects, _ = mlflow
    cert = objects[("Certificate", "mlflow-tls")].inputs["spec"]
    assert cert["issuerRef"] == {
        "name": c.CLUSTER_ISSUER,
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    assert "mlflow.mlflow.svc.cluster.local" in cert["dnsNames"]
    command = " ".join(_command(objects))
    assert "--ssl-keyfile /etc/mlflow/tls/tls.key --ssl-certfile /etc/mlflow/tls/tls.crt" in command
    container = _pod(objects)["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": PORT, "scheme": "HTTPS"}


def test_certificate_validates_against_cert_manager_crd(mlflow):
    require_crds()
    objects, _ = mlflow
    assert custom_resource_errors(manifests.to_object(objects[("Certificate", "mlflow-tls")])) == []


def test_basic_auth_is_on_with_a_generated_admin_password_and_no_default_access(mlflow):
    objects, synthesis = mlflow
    command = _command(objects)
    assert command[command.index("--app-name") + 1] == "basic-auth"
    ini = configparser.ConfigParser()
    ini.read_string(objects[("ConfigMap", "mlflow-auth-config")].inputs["data"]["basic_auth.ini"])
    assert ini["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert ini["mlflow"]["database_uri"].startswith(
        "postgresql://mlplatform-pg-rw.mlplatform-data.svc:5432/mlflow"
    )
    passwords = {r.name for r in synthesis.of_type("random:index/randomPassword:RandomPassword")}
    assert {"mlflow-admin", "mlflow-csrf", "mlflow-user-risk", "mlflow-user-marketing"} <= passwords
    auth = objects[("Secret", "mlflow-auth")].inputs["stringData"]
    assert_redacted(objects[("Secret", "mlflow-auth")], "admin-password", "flask-secret-key")
    assert set(unwrap(auth)) == {"admin-username", "admin-password", "flask-secret-key"}


def test_no_credential_reaches_args_env_or_config_maps(mlflow):
    objects, _ = mlflow
    rendered = json.dumps([manifests.to_object(r) for r in objects.values()])
    assert PG_PASSWORD not in rendered
    assert_hardened(_pod(objects))  # also: no secretKeyRef env, no envFrom
    script = _command(objects)[2]
    assert 'PGPASSWORD="$(cat /var/run/secrets/mlflow/postgres/password)"' in script
    assert "set -eu" in script and script.endswith('exec "$@"')


def test_postgres_is_verified_against_the_foundations_ca(mlflow):
    objects, _ = mlflow
    command = _command(objects)
    uri = command[command.index("--backend-store-uri") + 1]
    assert uri == (
        "postgresql://mlplatform-pg-rw.mlplatform-data.svc:5432/mlflow"
        "?sslmode=verify-full&sslrootcert=/etc/mlflow/postgres-ca/ca.crt"
    )
    volumes = {v["name"]: v for v in _pod(objects)["volumes"]}
    assert volumes["postgres-ca"]["secret"]["secretName"] == "mlplatform-ca-bundle"


def test_artifacts_are_proxied_to_the_object_store(mlflow):
    objects, _ = mlflow
    command = _command(objects)
    assert "--serve-artifacts" in command
    assert command[command.index("--artifacts-destination") + 1] == "s3://mlflow-artifacts/mlflow"
    env = {e["name"]: e.get("value") for e in _pod(objects)["containers"][0]["env"]}
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "https://s3.dc1.example.ae"
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    # The site's existing Secret is used as is: no new object-store Secret.
    assert ("Secret", "mlflow-object-store") not in objects
    volumes = {v["name"]: v for v in _pod(objects)["volumes"]}
    assert volumes["object-store"]["secret"]["secretName"] == "object-store-credentials"


def test_pod_is_hardened_pinned_and_replicated(mlflow):
    objects, _ = mlflow
    deployment = manifests.to_object(objects[("Deployment", "mlflow")])
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    assert_hardened(pod)
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["image"] == IMAGE and IMAGE.startswith(MIRROR)
    assert pod["imagePullSecrets"] == [{"name": "harbor-pull"}]
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp


def test_service_is_cluster_internal_and_pdb_keeps_replicas_up(mlflow):
    objects, _ = mlflow
    spec = objects[("Service", "mlflow")].inputs["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"][0]["port"] == 443 and spec["ports"][0]["targetPort"] == PORT
    assert objects[("PodDisruptionBudget", "mlflow")].inputs["spec"]["maxUnavailable"] == 1


def test_network_admits_tenants_only_and_egresses_to_stores_only(mlflow):
    objects, _ = mlflow
    deny = objects[("NetworkPolicy", "default-deny")].inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allow = objects[("NetworkPolicy", "allow-service")].inputs["spec"]
    assert allow["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": PORT}],
        }
    ]
    assert [e["ports"] for e in allow["egress"]] == [
        [{"protocol": "TCP", "port": 5432}],
        [{"protocol": "TCP", "port": 443}],
    ]


def test_each_tenant_gets_a_user_provisioned_by_a_job(mlflow):
    objects, _ = mlflow
    users = objects[("Secret", "mlflow-users")]
    assert_redacted(users, "risk", "marketing")
    assert set(unwrap(users.inputs["stringData"])) == {"risk", "marketing"}
    job = next(r for (kind, _), r in objects.items() if kind == "Job")
    pod = manifests.to_object(job)["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    ca = next(v for v in pod["volumes"] if v["name"] == "ca")
    assert ca["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]  # not the server key
    assert "create_user" in pod["containers"][0]["command"][-1]
    fence = objects[("NetworkPolicy", "allow-bootstrap")].inputs["spec"]
    assert fence["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "mlflow-bootstrap"}}
    assert "ingress" not in fence  # nothing may call the Job
    assert fence["egress"][0]["ports"] == [{"protocol": "TCP", "port": PORT}]


def test_core_objects_are_valid_kubernetes(mlflow):
    objects, _ = mlflow
    assert core_errors(objects) == []


# Azure's managed PostgreSQL sits behind a private endpoint in the VNet's endpoints subnet.
AZURE_STORE_EGRESS = (
    NetworkPeer((5432,), cidr="10.50.16.0/24", name="postgres"),
    NetworkPeer((443,), cidr="0.0.0.0/0", name="object-store"),
)


def test_azure_uses_workload_identity_and_no_keys():
    objects, _ = _synth(
        object_store=azure_object_store(c.SA_MLFLOW),
        postgres=cloud_postgres,
        store_egress=AZURE_STORE_EGRESS,
        service_account_annotations={"azure.workload.identity/client-id": "abc"},
        pod_labels={"azure.workload.identity/use": "true"},
    )
    allow = objects[("NetworkPolicy", "allow-service")].inputs["spec"]
    egress = [(e["to"][0], [p["port"] for p in e["ports"]]) for e in allow["egress"]]
    assert ({"ipBlock": {"cidr": "10.50.16.0/24"}}, [5432]) in egress  # Postgres's endpoint
    sa = objects[("ServiceAccount", c.SA_MLFLOW)].inputs["metadata"]["annotations"]
    assert sa == {"azure.workload.identity/client-id": "abc"}
    template = manifests.to_object(objects[("Deployment", "mlflow")])["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    script = template["spec"]["containers"][0]["command"][2]
    assert "AWS_" not in script and "AZURE_STORAGE" not in script
    command = template["spec"]["containers"][0]["command"]
    uri = command[command.index("--backend-store-uri") + 1]
    assert uri.startswith("postgresql://mlplatform.postgres.database.azure.com:5432/mlflow")
    assert uri.endswith("sslmode=verify-full&sslrootcert=system")  # cloud CA in the OS store


def test_a_store_outside_the_cluster_without_an_egress_rule_to_its_port_is_refused():
    """The on-prem peers (Postgres by namespace) cannot reach a cloud database's address."""
    with pytest.raises(ValueError, match="no egress rule reaches postgres on port 5432"):
        _synth(object_store=azure_object_store(c.SA_MLFLOW), postgres=cloud_postgres)


def test_an_object_store_with_an_internal_ca_is_verified_with_it():
    def store():
        return replace(onprem_object_store(), ca_secret="object-store-ca")

    objects, _ = _synth(object_store=store)
    pod = _pod(objects)
    volume = next(v for v in pod["volumes"] if v["name"] == "object-store-ca")
    assert volume["secret"]["secretName"] == "object-store-ca"
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    container = pod["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "object-store-ca")
    env = {e["name"]: e.get("value") for e in container["env"]}
    # boto3, which proxies the artifacts, reads the bundle from AWS_CA_BUNDLE
    assert env["AWS_CA_BUNDLE"] == f"{mount['mountPath']}/ca.crt"
    assert mount["readOnly"] is True


def test_without_an_object_store_ca_the_os_trust_store_verifies_it(mlflow):
    objects, _ = mlflow
    pod = _pod(objects)
    assert "object-store-ca" not in {v["name"] for v in pod["volumes"]}
    assert "AWS_CA_BUNDLE" not in {e["name"] for e in pod["containers"][0]["env"]}

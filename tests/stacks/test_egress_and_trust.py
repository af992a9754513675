"""What default-deny namespaces still need, and which CA verifies each store, per shipped stack.

- Workload identity: pods with a cloud identity reach where its credentials come from (EKS Pod
  Identity agent on AWS, Entra ID on Azure), and on Azure carry the webhook's label.
- Tenants on a cloud reach their data prefix in the object store and where their workload
  identity's credentials come from; the sample tenant's retraining controller (its pods only)
  the API server; with a managed Kafka also the MSK brokers / the Event Hubs private endpoint.
- The Feast registry database exists on every target (created by a Job where RDS does not).
- On-prem stores signed by the platform CA or a site's internal CA are verified with it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import yaml

from components import conventions as c
from components.aws.network import plan_subnets
from components.azure.network import subnet_prefixes
from infra.synth import manifests
from infra.synth.recording import unwrap
from stacks.targets.aws import S3_EGRESS
from stacks.targets.aws import api_server as eks_api_server
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds

AGENT = ({"ipBlock": {"cidr": "169.254.170.23/32"}}, {80})
PUBLIC_ONLY = {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(S3_EGRESS.except_cidrs)}}
S3 = (PUBLIC_ONLY, {443})  # S3's own addresses through the VPC's gateway endpoint
# Entra ID's published sign-in ranges (Microsoft 365 endpoint set 56), one policy each: never
# "any public address" (issue 13.3); the egress firewall then admits login.microsoftonline.com
ENTRA_RANGES = ("20.20.32.0/19", "20.190.128.0/18", "20.231.128.0/19", "40.126.0.0/18")
ENTRA = {
    f"allow-entra-id-{n}": [({"ipBlock": {"cidr": cidr}}, {443})]
    for n, cidr in enumerate(ENTRA_RANGES, start=1)
}
WI_LABEL = {"azure.workload.identity/use": "true"}
ALIAS_LABEL = "mlplatform.io/model-alias"  # the canary guard selects predictors by it
AZURE_EVENT_HUBS = ("uae-cloud-azure", "kafka.mode=managed")
SITE_STORES = (
    "uae-onprem",
    "onprem.redis.mode=existing",
    "onprem.redis.existing={host: redis.dc1.example.ae, port: 6380, "
    "credentialsSecret: site-redis, caSecret: site-redis-ca}",
    "onprem.objectStore.caSecret=site-s3-ca",
)


def _objects(plan, kind: str) -> list[dict[str, Any]]:
    return [
        manifests.to_object(r)
        for r in plan.synthesis.resources
        if manifests.is_kubernetes_object(r) and r.type.split(":")[-1] == kind
    ]


def _named(plan, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    return next(
        o
        for o in _objects(plan, kind)
        if o["metadata"]["name"] == name and namespace in (None, o["metadata"]["namespace"])
    )


def _policies(plan, namespace: str) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["name"]: p
        for p in _objects(plan, "NetworkPolicy")
        if p["metadata"]["namespace"] == namespace
    }


def _egress(policy: dict[str, Any]) -> list[tuple[dict[str, Any], set[int]]]:
    return [
        (peer, {p["port"] for p in rule.get("ports", [])})
        for rule in policy["spec"].get("egress", [])
        for peer in rule["to"]
    ]


def _tenant_egress(plan, tenant: str) -> dict[str, list[tuple[dict[str, Any], set[int]]]]:
    """Tenant policies that admit an address block: name → (peer, ports)."""
    found = {}
    for name, policy in _policies(plan, c.tenant_namespace(tenant)).items():
        blocks = [(peer, ports) for peer, ports in _egress(policy) if "ipBlock" in peer]
        if blocks:
            found[name] = blocks
    return found


def _contract(plan) -> dict[str, Any]:
    return unwrap(plan.synthesis.outputs)


def _azure_subnet(plan, subnet: str) -> str:
    return subnet_prefixes(plan.config.azure.vnet_cidr)[subnet]


def _every_tenant_egress(plan) -> dict[str, list[tuple[dict[str, Any], set[int]]]]:
    """What any tenant reaches outside the cluster on a cloud, whatever its Kafka: its data
    prefix in the object store, with its own workload identity (its credentials' source)."""
    if plan.config.platform == "aws":
        return {"allow-object-store": [S3], "allow-eks-pod-identity": [AGENT]}
    endpoints = _azure_subnet(plan, "endpoints")  # the storage account's private endpoint
    return {"allow-object-store": [({"ipBlock": {"cidr": endpoints}}, {443})], **ENTRA}


def _api_server_cidrs(plan) -> tuple[str, ...]:
    if plan.config.platform == "aws":
        aws = plan.config.aws
        return eks_api_server(aws.vpc_cidr, len(aws.zone_ids)).cidrs
    return (_azure_subnet(plan, "apiserver"),)


def _loop_egress(plan, tenant: str) -> dict[str, list[tuple[dict[str, Any], set[int]]]]:
    """The sample tenant's retraining controller and stream scaler reach the API server; no
    other tenant does."""
    sample = plan.config.sample_workloads
    if tenant != sample.tenant:
        return {}
    to_api = [({"ipBlock": {"cidr": cidr}}, {443, 6443}) for cidr in _api_server_cidrs(plan)]
    return {
        f"allow-{sample.model_name}-{workload}-api-server": to_api
        for workload in ("retraining", "stream-scaler")
    }


def _assert_only_the_controller_reaches_the_api_server(plan) -> None:
    sample = plan.config.sample_workloads
    policies = _policies(plan, c.tenant_namespace(sample.tenant))
    for workload, app in (
        ("retraining", "retraining-controller"),
        ("stream-scaler", "stream-scaler"),
    ):
        selector = policies[f"allow-{sample.model_name}-{workload}-api-server"]["spec"][
            "podSelector"
        ]
        assert selector == {
            "matchLabels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/instance": sample.model_name,
            }
        }


# ----------------------------------------------------------------- workload identity egress


@pytest.mark.parametrize("namespace", [c.NS_MLFLOW, c.NS_FEAST])
def test_aws_services_reach_the_pod_identity_agent(stack_plan, namespace):
    plan = stack_plan("uae-cloud")
    allow = _policies(plan, namespace)["allow-service"]
    assert AGENT in _egress(allow)
    # the policy selects the pods that run as the service account with the IAM role
    selector = allow["spec"]["podSelector"]["matchLabels"]
    account = c.SA_MLFLOW if namespace == c.NS_MLFLOW else c.SA_FEAST
    servers = [
        d
        for d in _objects(plan, "Deployment")
        if d["metadata"]["namespace"] == namespace
        and d["spec"]["template"]["spec"]["serviceAccountName"] == account
    ]
    assert servers
    for deployment in servers:
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("namespace", [c.NS_MLFLOW, c.NS_FEAST])
def test_azure_services_reach_entra_id_and_carry_the_webhook_label(stack_plan, namespace):
    """Pods that run as the service's identity carry the label; Feast's online servers run as
    `feast-online`, which has no cloud identity (4b298c7), and carry none."""
    plan = stack_plan("uae-cloud-azure")
    reached = _egress(_policies(plan, namespace)["allow-service"])
    for (entra,) in ENTRA.values():
        assert entra in reached
    # nothing else outside the VNet: no public range, let alone 0.0.0.0/0
    outside = {
        peer["ipBlock"]["cidr"]
        for peer, _ in reached
        if "ipBlock" in peer
        and not ipaddress.ip_network(peer["ipBlock"]["cidr"]).subnet_of(
            ipaddress.ip_network(plan.config.azure.vnet_cidr)
        )
    }
    assert outside == set(ENTRA_RANGES)
    identity = c.SA_MLFLOW if namespace == c.NS_MLFLOW else c.SA_FEAST
    accounts = {
        a["metadata"]["name"]: a.get("metadata", {}).get("annotations") or {}
        for a in _objects(plan, "ServiceAccount")
        if a["metadata"]["namespace"] == namespace
    }
    assert "azure.workload.identity/client-id" in accounts[identity]
    with_identity = []
    for deployment in _objects(plan, "Deployment"):
        if deployment["metadata"]["namespace"] != namespace:
            continue
        template = deployment["spec"]["template"]
        account = template["spec"]["serviceAccountName"]
        labelled = WI_LABEL.items() <= template["metadata"]["labels"].items()
        assert labelled == (account == identity), deployment["metadata"]["name"]
        if account != identity:  # no identity to label for
            assert "azure.workload.identity/client-id" not in accounts[account]
        with_identity += [deployment["metadata"]["name"]] if labelled else []
    assert with_identity


def test_onprem_services_get_no_cloud_identity_egress(stack_plan):
    plan = stack_plan("uae-onprem")
    for namespace in (c.NS_MLFLOW, c.NS_FEAST):
        peers = [peer for peer, _ in _egress(_policies(plan, namespace)["allow-service"])]
        assert not [p for p in peers if "169.254" in str(p) or "except" in str(p)]


# ----------------------------------------------------------------- tenants and managed Kafka


@pytest.mark.parametrize("overrides", [("uae-cloud",), ("uae-cloud-azure",)], ids=["aws", "azure"])
def test_with_strimzi_tenants_reach_outside_the_cluster_only_their_data_and_identity(
    stack_plan, overrides
):
    plan = stack_plan(*overrides)
    labels = {} if plan.config.platform == "aws" else WI_LABEL  # Azure's webhook needs it
    for tenant in plan.config.tenants:
        assert _tenant_egress(plan, tenant.name) == {
            **_every_tenant_egress(plan),
            **_loop_egress(plan, tenant.name),
        }
        assert _contract(plan)["tenants"][tenant.name]["kafka"]["podLabels"] == labels
    _assert_only_the_controller_reaches_the_api_server(plan)


def test_msk_tenants_reach_the_brokers_and_the_pod_identity_agent(stack_plan):
    plan = stack_plan("uae-cloud", "kafka.mode=managed")
    aws = plan.config.aws
    subnets = plan_subnets(aws.vpc_cidr, len(aws.zone_ids))
    brokers = "10.40.192.0/22"  # the data subnets, where the brokers' ENIs are: not the VPC
    assert all(
        ipaddress.ip_network(d).subnet_of(ipaddress.ip_network(brokers)) for d in subnets.data
    )
    assert not any(
        ipaddress.ip_network(brokers).overlaps(ipaddress.ip_network(n)) for n in subnets.nodes
    )
    for tenant in plan.config.tenants:
        assert _tenant_egress(plan, tenant.name) == {
            **_every_tenant_egress(plan),
            **_loop_egress(plan, tenant.name),
            "allow-msk-brokers": [({"ipBlock": {"cidr": brokers}}, {9098})],
        }
        assert _contract(plan)["tenants"][tenant.name]["kafka"]["podLabels"] == {}
    _assert_only_the_controller_reaches_the_api_server(plan)
    for policy in _policies(plan, c.tenant_namespace(plan.config.tenants[0].name)).values():
        assert core_object_errors(policy, "1.34") == []


def test_event_hubs_tenants_reach_the_private_endpoint_and_entra_id(stack_plan):
    plan = stack_plan(*AZURE_EVENT_HUBS)
    contract = _contract(plan)
    endpoint = contract["stack"]["cluster"]["kafka_egress"]  # the endpoints subnet, 9093
    assert endpoint["cidr"] == _azure_subnet(plan, "endpoints")
    for tenant in plan.config.tenants:
        assert _tenant_egress(plan, tenant.name) == {
            **_every_tenant_egress(plan),
            **_loop_egress(plan, tenant.name),
            "allow-event-hubs": [({"ipBlock": {"cidr": endpoint["cidr"]}}, {endpoint["port"]})],
        }
        assert contract["tenants"][tenant.name]["kafka"]["podLabels"] == WI_LABEL
    _assert_only_the_controller_reaches_the_api_server(plan)
    for policy in _policies(plan, c.tenant_namespace(plan.config.tenants[0].name)).values():
        assert core_object_errors(policy, "1.34") == []


def test_event_hubs_sample_workload_pods_carry_the_workload_identity_label(stack_plan):
    require_crds()
    plan = stack_plan(*AZURE_EVENT_HUBS)
    sample = plan.config.sample_workloads
    job = _named(plan, "TrainJob", f"{sample.model_name}-train")
    isvc = _named(plan, "InferenceService", sample.model_name)
    assert custom_resource_errors(job) == [] and custom_resource_errors(isvc) == []
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]
    pod_template = patch["replicatedJobs"][0]["template"]["spec"]["template"]
    assert pod_template["metadata"]["labels"] == WI_LABEL
    # the alias the canary guard selects by (333fd3d), beside the webhook's label
    assert isvc["spec"]["predictor"]["labels"] == {**WI_LABEL, ALIAS_LABEL: "champion"}
    # their service account carries the client ID of the tenant's Event Hubs identity
    account = _named(plan, "ServiceAccount", "workloads", f"tenant-{sample.tenant}")
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]


# ----------------------------------------------------------------- Feast registry database


def test_on_aws_feast_creates_its_registry_database_before_starting(stack_plan):
    plan = stack_plan("uae-cloud")
    rds = plan.synthesis.of_type("aws:rds/instance:Instance")
    assert [r.inputs["dbName"] for r in rds] == ["mlflow"]  # RDS creates MLflow's only
    [job] = [
        r
        for r in plan.synthesis.of_type("kubernetes:batch/v1:Job")
        if r.inputs["metadata"]["name"] == "create-db-feast-registry"
    ]
    assert job.inputs["metadata"]["namespace"] == c.NS_FEAST
    container = manifests.to_object(job)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLP_DATABASE"] == "feast_registry"
    assert env["PGHOST"] == unwrap(rds[0].outputs["address"])
    text = _named(plan, "ConfigMap", "feast-server-config")["data"]["feature_store.yaml"]
    assert f"/{env['MLP_DATABASE']}?" in text  # the database the registry connects to
    feast = {
        r.inputs["metadata"]["name"]: r
        for r in plan.synthesis.of_type("kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["namespace"] == c.NS_FEAST
    }
    # the registry, online and offline servers, and each tenant's online server (4b298c7)
    tenants = {f"feast-online-{t.name}" for t in plan.config.tenants}
    assert set(feast) == {"feast-registry", "feast-online", "feast-offline", *tenants}
    assert all(job.urn in d.options["dependsOn"] for d in feast.values())
    fence = _policies(plan, c.NS_FEAST)["allow-db-bootstrap"]
    assert _egress(fence) == [({"ipBlock": {"cidr": plan.config.aws.vpc_cidr}}, {5432})]


def test_without_the_rds_bundle_no_client_pairs_sslmode_require_with_the_os_store(stack_plan):
    """libpq >= 16 refuses `sslrootcert=system` below verify-full: nothing would connect."""
    plan = stack_plan("uae-cloud")
    assert plan.config.aws.database_ca_bundle is None  # the declared-exception case
    server = _named(plan, "Deployment", "mlflow")["spec"]["template"]["spec"]["containers"][0]
    command = server["command"]
    mlflow = command[command.index("--backend-store-uri") + 1]
    text = _named(plan, "ConfigMap", "feast-server-config")["data"]["feature_store.yaml"]
    feast = yaml.safe_load(text)["registry"]["path"]
    for uri in (mlflow, feast):
        assert uri.endswith("?sslmode=require"), uri
    job = _named(plan, "Job", "create-db-feast-registry")["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in job["containers"][0]["env"]}
    assert env["PGSSLMODE"] == "require" and "PGSSLROOTCERT" not in env


@pytest.mark.parametrize("overrides", [("uae-onprem",), ("uae-cloud-azure",)])
def test_elsewhere_the_foundation_creates_both_databases(stack_plan, overrides):
    plan = stack_plan(*overrides)
    jobs = [j["metadata"]["name"] for j in _objects(plan, "Job")]
    assert not [name for name in jobs if name.startswith("create-db")]
    if overrides == ("uae-onprem",):
        databases = [d["spec"]["name"] for d in _objects(plan, "Database")]
    else:
        databases = [
            r.inputs["databaseName"]
            for r in plan.synthesis.resources
            if r.type.startswith("azure-native:dbforpostgresql") and r.type.endswith(":Database")
        ]
    assert "feast_registry" in databases


# ----------------------------------------------------------------- on-prem store trust


def _ca_mounts(pod: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """volume name → (Secret, mount path) for the pod's CA volumes."""
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    return {
        v["name"]: (v["secret"]["secretName"], mounts[v["name"]])
        for v in pod["volumes"]
        if v["name"].endswith("-ca") and "secret" in v
    }


def _redis_ca_file(plan) -> str | None:
    text = _named(plan, "ConfigMap", "feast-server-config")["data"]["feature_store.yaml"]
    connection = yaml.safe_load(text)["online_store"]["connection_string"].split(",")
    options = [o for o in connection if o.startswith("ssl_ca_certs=")]
    return options[0].split("=", 1)[1] if options else None


def test_in_cluster_redis_is_verified_with_the_platform_ca_bundle(stack_plan):
    plan = stack_plan("uae-onprem")
    ca_file = _redis_ca_file(plan)
    for role in ("registry", "online", "offline"):
        pod = _named(plan, "Deployment", f"feast-{role}")["spec"]["template"]["spec"]
        secret, path = _ca_mounts(pod)["redis-ca"]
        assert secret == "mlplatform-ca-bundle" and ca_file == f"{path}/ca.crt"


def test_site_stores_are_verified_with_the_site_ca_secrets(stack_plan):
    plan = stack_plan(*SITE_STORES)
    online = _named(plan, "Deployment", "feast-online")["spec"]["template"]["spec"]
    secret, path = _ca_mounts(online)["redis-ca"]
    assert secret == "site-redis-ca" and _redis_ca_file(plan) == f"{path}/ca.crt"
    for name in ("mlflow", "feast-offline"):
        pod = _named(plan, "Deployment", name)["spec"]["template"]["spec"]
        secret, path = _ca_mounts(pod)["object-store-ca"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert secret == "site-s3-ca" and env["AWS_CA_BUNDLE"] == f"{path}/ca.crt"
    cluster = _named(plan, "Cluster", "mlplatform-pg")  # backups go to the same store
    endpoint_ca = cluster["spec"]["backup"]["barmanObjectStore"]["endpointCA"]
    assert endpoint_ca == {"name": "site-s3-ca", "key": "ca.crt"}


def test_without_a_site_ca_the_object_store_is_verified_by_the_os_trust_store(stack_plan):
    plan = stack_plan("uae-onprem")
    for name in ("mlflow", "feast-offline"):
        pod = _named(plan, "Deployment", name)["spec"]["template"]["spec"]
        assert "object-store-ca" not in _ca_mounts(pod)
        assert "AWS_CA_BUNDLE" not in {e["name"] for e in pod["containers"][0]["env"]}

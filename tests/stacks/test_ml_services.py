"""The ML services and sample workloads as the shipped stacks declare them (on-prem and cloud)."""

from __future__ import annotations

import pytest

from components import conventions as c
from infra.synth import manifests
from stacks.composition.ml import store_peer
from tests.support.schemas import custom_resource_errors, require_crds

STACKS = [("uae-onprem",), ("uae-cloud",), ("uae-cloud-azure",)]


@pytest.fixture(params=STACKS, ids=["onprem", "aws", "azure"])
def plan(request, stack_plan):
    return stack_plan(*request.param)


def _objects(plan, kind: str) -> list[dict]:
    return [
        manifests.to_object(r)
        for r in plan.synthesis.resources
        if manifests.is_kubernetes_object(r) and r.type.split(":")[-1] == kind
    ]


def _named(plan, kind: str, name: str) -> dict:
    return next(o for o in _objects(plan, kind) if o["metadata"]["name"] == name)


def test_sample_workloads_follow_the_stack_config_and_validate(plan):
    require_crds()
    sample = plan.config.sample_workloads
    job = _named(plan, "TrainJob", f"{sample.model_name}-train")
    isvc = _named(plan, "InferenceService", sample.model_name)
    assert custom_resource_errors(job) == [] and custom_resource_errors(isvc) == []
    assert (
        job["metadata"]["namespace"] == isvc["metadata"]["namespace"] == f"tenant-{sample.tenant}"
    )
    assert job["metadata"]["labels"][c.KUEUE_QUEUE_LABEL] == c.LOCAL_QUEUE
    requests = job["spec"]["trainer"]["resourcesPerNode"]["requests"]
    assert requests.get(c.GPU_RESOURCE, "0") == str(sample.gpus)
    assert job["spec"]["runtimeRef"]["name"] == c.TRAINING_RUNTIME
    predictor = isvc["spec"]["predictor"]
    assert predictor["minReplicas"] == sample.min_replicas
    assert predictor["maxReplicas"] == sample.max_replicas
    canary = isvc["spec"].get("canary", [{}])[0].get("trafficPercent")
    assert canary == sample.canary_traffic_percent


def test_runtimes_the_workloads_reference_exist(plan):
    assert _named(plan, "ClusterTrainingRuntime", c.TRAINING_RUNTIME)
    assert _named(plan, "ClusterServingRuntime", c.SERVING_RUNTIME)


def test_ml_images_and_charts_come_from_the_stack_registry(plan):
    registry = plan.config.image_registry
    ml_namespaces = {c.NS_MLFLOW, c.NS_FEAST}
    for deployment in _objects(plan, "Deployment"):
        if deployment["metadata"]["namespace"] in ml_namespaces:
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                assert container["image"].startswith(f"{registry}/"), container["image"]
    runtime = _named(plan, "ClusterServingRuntime", c.SERVING_RUNTIME)
    assert runtime["spec"]["containers"][0]["image"].startswith(f"{registry}/")
    releases = {
        r.inputs["name"]: r.inputs
        for r in plan.synthesis.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] in ("kserve", "kserve-crd")
    }
    assert {name: rel["chart"] for name, rel in releases.items()} == {
        "kserve": f"oci://{registry}/charts/kserve-resources",
        "kserve-crd": f"oci://{registry}/charts/kserve-crd",
    }


def test_replicas_follow_the_config(plan):
    assert _named(plan, "Deployment", "mlflow")["spec"]["replicas"] == plan.config.mlflow.replicas
    for role in ("registry", "online", "offline"):
        deployment = _named(plan, "Deployment", f"feast-{role}")
        assert deployment["spec"]["replicas"] == plan.config.feast.replicas


def test_tenants_may_reach_mlflow_and_feast_and_get_client_access(plan):
    for tenant in plan.config.tenants:
        namespace = c.tenant_namespace(tenant.name)
        policies = {
            p["metadata"]["name"]: p
            for p in _objects(plan, "NetworkPolicy")
            if p["metadata"]["namespace"] == namespace
        }
        to_mlflow = policies[f"allow-to-{c.NS_MLFLOW}"]["spec"]["egress"][0]["ports"]
        assert [p["port"] for p in to_mlflow] == [5000]
        # Feast: the shared registry, its own online server; never the offline server
        to_registry = policies["allow-to-feast-registry"]["spec"]["egress"][0]
        assert [p["port"] for p in to_registry["ports"]] == [6570]
        to_online = policies[f"allow-to-feast-online-{tenant.name}"]["spec"]["egress"][0]
        assert [p["port"] for p in to_online["ports"]] == [6566]
        selector = to_online["to"][0]["podSelector"]["matchLabels"]
        assert selector["mlplatform.io/feast-tenant"] == tenant.name
        assert not any(
            name.startswith("allow-to-feast-online-") and tenant.name not in name
            for name in policies
        )
        names = {
            (o["metadata"]["namespace"], o["kind"], o["metadata"]["name"])
            for kind in ("Secret", "ConfigMap")
            for o in _objects(plan, kind)
        }
        assert (namespace, "Secret", c.MLFLOW_CREDENTIALS_SECRET) in names
        assert (namespace, "ConfigMap", c.FEAST_CLIENT_CONFIG) in names


def test_store_egress_targets_the_data_namespace_or_the_network_range(stack_plan):
    onprem = stack_plan("uae-onprem").config
    aws = stack_plan("uae-cloud").config
    peer = store_peer("mlplatform-pg-rw.mlplatform-data.svc", 5432, onprem)
    assert (peer.namespace, peer.ports, peer.cidr) == ("mlplatform-data", (5432,), None)
    peer = store_peer("db.c1.me-central-1.rds.amazonaws.com", 5432, aws)
    assert (peer.namespace, peer.cidr) == (None, aws.aws.vpc_cidr)
    assert store_peer("pg.dc1.example.ae", 5432, onprem).cidr == "0.0.0.0/0"


@pytest.mark.parametrize("namespace", [c.NS_MLFLOW, c.NS_FEAST])
def test_object_store_egress_is_the_stores_addresses_on_its_port(stack_plan, namespace):
    """The services reach the object store where the site says it is (onprem.objectStore
    .addresses), as tenants do: no longer any address on 443 (issue 13.3)."""
    plan = stack_plan("uae-onprem")
    policy = next(
        p
        for p in _objects(plan, "NetworkPolicy")
        if p["metadata"]["namespace"] == namespace and p["metadata"]["name"] == "allow-service"
    )
    egress = policy["spec"]["egress"]
    store = plan.config.onprem.object_store
    assert store.addresses == ["10.20.30.0/28"] and store.endpoint == "https://s3.dc1.example.ae"
    assert {
        "to": [{"ipBlock": {"cidr": "10.20.30.0/28"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    } in egress
    to_anywhere = [
        rule
        for rule in egress
        if any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in rule["to"])
        and {"protocol": "TCP", "port": 443} in rule["ports"]
    ]
    assert to_anywhere == []
    assert all(rule["ports"] for rule in egress)  # never "any port"

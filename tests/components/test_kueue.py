"""Kueue: GPU quota = pool capacity, CPU-only work stays off GPU nodes, tenants share fairly."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import conventions as c
from components.api_server import ApiServer, egress_rule
from components.kueue import CPU_FLAVOR, GpuFlavor, GpuQueueing, GpuQueueingArgs
from infra.synth import manifests
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds
from version_catalogue import CHARTS, IMAGES

API = ApiServer(("10.10.0.11/32",))  # the API server's endpoint (components.api_server)

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {"owner": "ml-platform-team", "residency": "uae"}
H100 = {c.GPU_POOL_LABEL: "h100", c.GPU_PRODUCT_LABEL: "nvidia-h100-80gb"}
L40S = {c.GPU_POOL_LABEL: "l40s", c.GPU_PRODUCT_LABEL: "nvidia-l40s"}


@pytest.fixture
def synthesis(run_program):
    def program() -> None:
        GpuQueueing(
            "kueue",
            GpuQueueingArgs(
                mirror=MIRROR,
                labels=LABELS,
                chart=CHARTS["kueue"],
                image=IMAGES["kueue"],
                flavors=(GpuFlavor("h100", H100, 16), GpuFlavor("l40s", L40S, 12)),
                cpu="96",
                memory="384Gi",
                pull_secret="harbor-pull",
                api_server=API,
            ),
            opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}")),
        )

    return run_program(program)


def _objects(synthesis, kind):
    return {
        r.inputs["metadata"]["name"]: r
        for r in synthesis.resources
        if r.type.endswith(f":{kind}") and r.type.startswith("kubernetes:")
    }


def test_gpu_quota_per_flavor_is_the_pool_capacity(synthesis):
    queue = _objects(synthesis, "ClusterQueue")[c.CLUSTER_QUEUE].inputs["spec"]
    (group,) = queue["resourceGroups"]
    assert group["coveredResources"] == ["cpu", "memory", c.GPU_RESOURCE]
    quotas = {
        f["name"]: {r["name"]: r["nominalQuota"] for r in f["resources"]} for f in group["flavors"]
    }
    assert quotas["h100"][c.GPU_RESOURCE] == "16"
    assert quotas["l40s"][c.GPU_RESOURCE] == "12"
    assert quotas["h100"]["cpu"] == "96" and quotas["h100"]["memory"] == "384Gi"


def test_cpu_only_flavor_comes_first_and_offers_no_gpus(synthesis):
    queue = _objects(synthesis, "ClusterQueue")[c.CLUSTER_QUEUE].inputs["spec"]
    first = queue["resourceGroups"][0]["flavors"][0]
    assert first["name"] == CPU_FLAVOR
    assert {r["name"]: r["nominalQuota"] for r in first["resources"]}[c.GPU_RESOURCE] == "0"
    assert _objects(synthesis, "ResourceFlavor")[CPU_FLAVOR].inputs["spec"] == {}


def test_gpu_flavors_select_their_pool_and_tolerate_its_taint(synthesis):
    flavors = _objects(synthesis, "ResourceFlavor")
    spec = flavors["h100"].inputs["spec"]
    assert spec["nodeLabels"] == H100
    assert spec["tolerations"] == [c.GPU_TOLERATION]
    assert flavors["l40s"].inputs["spec"]["nodeLabels"] == L40S


def test_only_tenant_namespaces_use_the_queue_and_share_it_fairly(synthesis):
    spec = _objects(synthesis, "ClusterQueue")[c.CLUSTER_QUEUE].inputs["spec"]
    assert spec["namespaceSelector"] == {
        "matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]
    }
    assert spec["admissionScope"] == {"admissionMode": "UsageBasedAdmissionFairSharing"}
    assert spec["preemption"]["withinClusterQueue"] == "LowerPriority"


def test_kueue_is_pinned_from_the_mirror_and_manages_tenant_jobs(synthesis):
    release = next(r for r in synthesis.resources if r.type == "kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == f"oci://{MIRROR}/charts/kueue"
    assert release.inputs["version"] == CHARTS["kueue"].version
    manager = release.inputs["values"]["controllerManager"]
    assert manager["manager"]["image"]["repository"] == f"{MIRROR}/{IMAGES['kueue'].path}"
    assert manager["imagePullSecrets"] == [{"name": "harbor-pull"}]
    config = yaml.safe_load(
        release.inputs["values"]["managerConfig"]["controllerManagerConfigYaml"]
    )
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert config["manageJobsWithoutQueueName"] is True
    assert config["managedJobsNamespaceSelector"]["matchExpressions"][0]["key"] == c.TENANT_LABEL
    assert "trainer.kubeflow.org/trainjob" in config["integrations"]["frameworks"]
    assert config["admissionFairSharing"]["resourceWeights"] == {
        c.GPU_RESOURCE: 1.0,
        "cpu": 0.0,
        "memory": 0.0,
    }


def test_namespace_admits_only_the_api_server_ports(synthesis):
    policies = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in synthesis.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    ports = {p["port"] for p in policies["allow-api-server"]["ingress"][0]["ports"]}
    assert ports == {9443, 8082}


def test_namespace_egress_is_default_deny_then_dns_itself_and_the_api_server(synthesis):
    """Issue 13.3: an operator namespace's egress is closed but for the flows it needs."""
    policies = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in synthesis.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny-egress"] == {"podSelector": {}, "policyTypes": ["Egress"]}
    dns, own = policies["allow-dns-and-namespace-egress"]["egress"]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert {p["port"] for p in dns["ports"]} == {53} and own == {"to": [{"podSelector": {}}]}
    assert policies["allow-api-server-egress"]["egress"] == [egress_rule(API)]
    assert not synthesis.of_type("kubernetes:cilium.io/v2:CiliumNetworkPolicy")


def test_every_object_validates(synthesis):
    require_crds()
    checked = 0
    for resource in synthesis.resources:
        if not manifests.is_kubernetes_object(resource):
            continue
        obj = manifests.to_object(resource)
        if obj["apiVersion"].startswith("kueue.x-k8s.io/"):
            assert custom_resource_errors(obj) == []
        else:
            assert core_object_errors(obj, "1.34") == []
        checked += 1
    assert checked == 10  # namespace, 5 network policies (2 ingress, 3 egress), 3 flavors, queue

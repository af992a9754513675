"""Tenant: an isolated, quota-bounded, PSS-restricted namespace with least-privilege RBAC."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.endpoints import EgressRule
from components.tenant import PlatformPeer, Tenant, TenantArgs
from infra.synth import manifests
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds

LABELS = {"owner": "ml-platform-team", "data-classification": "restricted", "residency": "uae"}
EGRESS = (
    EgressRule("msk-brokers", "10.40.0.0/16", (9098,)),
    EgressRule("entra-id", "0.0.0.0/0", (443,), except_cidrs=("10.0.0.0/8", "169.254.0.0/16")),
)


@pytest.fixture
def tenant(run_program):
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        Tenant(
            "tenant-risk",
            TenantArgs(
                name="risk",
                idp_group="ml-risk-engineers",
                cpu="64",
                memory="256Gi",
                gpus=8,
                labels=LABELS,
                image_pull_secret=None,
                peers=(
                    PlatformPeer("mlflow", (443,)),
                    PlatformPeer("kafka", (9093,), {"app": "kafka"}),
                ),
                egress=EGRESS,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    synthesis = run_program(program)
    return {
        (r.type.split(":")[-1], (r.inputs.get("metadata") or {}).get("name")): r
        for r in synthesis.resources
        if r.type.startswith("kubernetes:")
    }, synthesis


def test_namespace_enforces_restricted_pod_security(tenant):
    objects, _ = tenant
    ns = objects[("Namespace", "tenant-risk")].inputs["metadata"]["labels"]
    assert ns[c.PSS_ENFORCE] == ns[c.PSS_AUDIT] == ns[c.PSS_WARN] == "restricted"
    assert ns[c.TENANT_LABEL] == "risk"
    assert ns["data-classification"] == "restricted" and ns["residency"] == "uae"


def test_quota_bounds_cpu_memory_and_gpus_and_forbids_load_balancers(tenant):
    objects, _ = tenant
    hard = objects[("ResourceQuota", "tenant-quota")].inputs["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "8"
    assert hard["requests.cpu"] == "64" and hard["limits.memory"] == "256Gi"
    assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"


def test_network_is_default_deny_with_explicit_allows(tenant):
    objects, _ = tenant
    deny = objects[("NetworkPolicy", "default-deny")].inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    to_kafka = objects[("NetworkPolicy", "allow-to-kafka")].inputs["spec"]["egress"][0]
    assert to_kafka["ports"] == [{"protocol": "TCP", "port": 9093}]
    assert to_kafka["to"][0]["podSelector"] == {"matchLabels": {"app": "kafka"}}


def test_destinations_outside_the_cluster_are_allowed_by_address_and_port_only(tenant):
    objects, _ = tenant
    msk = objects[("NetworkPolicy", "allow-msk-brokers")].inputs["spec"]
    assert msk == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
                "ports": [{"protocol": "TCP", "port": 9098}],
            }
        ],
    }
    entra = objects[("NetworkPolicy", "allow-entra-id")].inputs["spec"]["egress"]
    assert entra == [
        {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.0.0/16"]}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ]


def test_service_account_does_not_automount_tokens(tenant):
    objects, _ = tenant
    assert objects[("ServiceAccount", "workloads")].inputs["automountServiceAccountToken"] is False


def test_rbac_binds_the_idp_group_to_a_role_without_wildcards(tenant):
    objects, _ = tenant
    binding = objects[("RoleBinding", "tenant-developer")].inputs
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-risk-engineers"}
    ]
    assert binding["roleRef"]["kind"] == "Role"
    for rule in objects[("Role", "tenant-developer")].inputs["rules"]:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field]
    secrets = [
        r
        for r in objects[("Role", "tenant-developer")].inputs["rules"]
        if "secrets" in r["resources"]
    ]
    assert secrets[0]["verbs"] == ["get", "list", "watch"]


def test_local_queue_points_at_the_platform_cluster_queue(tenant):
    objects, _ = tenant
    queue = objects[("LocalQueue", "default")]
    assert queue.inputs["spec"] == {"clusterQueue": c.CLUSTER_QUEUE}
    assert queue.inputs["metadata"]["namespace"] == "tenant-risk"


def test_every_object_validates_against_its_schema(tenant):
    _, synthesis = tenant
    errors = []
    for obj in manifests.objects(synthesis.resources):
        if obj["apiVersion"].startswith("kueue.x-k8s.io"):
            require_crds()
            errors += custom_resource_errors(obj)
        else:
            errors += core_object_errors(obj, "1.34")
    assert errors == []

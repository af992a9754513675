"""What the cluster simulation needs from each target: the site's cluster facts (on-prem config
→ contract), where the API server is, and the site prerequisites the contract lists."""

from __future__ import annotations

from typing import Any

import pytest

from components import conventions as c
from infra.synth.recording import unwrap
from stacks.config.errors import ConfigError
from stacks.config.loader import stack_config

ONPREM_PULLERS = {
    c.NS_CERT_MANAGER,
    c.NS_GPU_OPERATOR,
    c.NS_KUEUE,
    c.NS_TRAINER,
    c.NS_KSERVE,
    c.NS_MLFLOW,
    c.NS_FEAST,
    c.NS_KAFKA,
    c.NS_DATA,
    "mlplatform-monitoring",  # the observability stack (2a2612a)
    "mlplatform-logging",  # Fluent Bit to the site's SIEM
    "tenant-risk",
    "tenant-marketing",
}


def stack(stack_plan, *args: str) -> dict[str, Any]:
    return dict(unwrap(stack_plan(*args).synthesis.outputs)["stack"])


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in items}


def test_on_prem_contract_states_the_site_cluster(stack_plan) -> None:
    cluster = stack(stack_plan, "uae-onprem")["cluster"]
    assert cluster["cni"] == "calico"
    assert cluster["apiServerCidrs"] == ["10.10.0.11/32", "10.10.0.12/32", "10.10.0.13/32"]
    pools = by_name(cluster["nodePools"])
    assert pools["workers"] == {"name": "workers", "cpu": "15", "memory": "58Gi"}
    assert pools["h100"]["gpusPerNode"] == 8 and pools["h100"]["nodes"] == [
        "gpu-h100-01",
        "gpu-h100-02",
    ]
    assert pools["l40s"]["memory"] == "500Gi"


def test_on_prem_lists_what_the_site_creates_before_pulumi_up(stack_plan) -> None:
    facts = stack(stack_plan, "uae-onprem")
    assert facts["registryPullSecret"] == "harbor-pull"
    found = by_name(facts["prerequisites"])
    pull = found["harbor-pull"]
    assert pull["kind"] == "Secret" and pull["keys"] == [".dockerconfigjson"]
    assert set(pull["namespaces"]) == ONPREM_PULLERS
    assert (
        "create secret docker-registry harbor-pull --docker-server=harbor.dc1.example.ae"
        in pull["howToCreate"]
    )
    # the platform's object-store user, and apart from it the sample tenant's own (its
    # TrainJob reads its labelled data with it: b62b8c4), never one Secret for both
    platform, tenant = [
        p for p in facts["prerequisites"] if p["name"] == "object-store-credentials"
    ]
    assert set(platform["namespaces"]) == {c.NS_MLFLOW, c.NS_FEAST, c.NS_DATA}
    assert tenant["namespaces"] == ["tenant-risk"] and "tenant's own user" in tenant["purpose"]
    assert platform["keys"] == tenant["keys"] == ["username", "password"]
    storage = found["encrypted-ssd"]
    assert storage["kind"] == "StorageClass" and storage["namespaces"] == []


@pytest.mark.parametrize(
    "overrides", [("uae-cloud",), ("uae-cloud-azure",), ("uae-cloud", "kafka.mode=managed")]
)
def test_cloud_stacks_need_nothing_from_a_site(stack_plan, overrides: tuple[str, ...]) -> None:
    facts = stack(stack_plan, *overrides)
    assert facts["prerequisites"] == [] and facts.get("registryPullSecret") is None


def test_each_target_says_where_its_api_server_is(stack_plan) -> None:
    import ipaddress

    from components.aws.network import plan_subnets
    from stacks.targets.aws import api_server

    # EKS: the endpoint ENIs' control-plane subnets (the VPC's last quarter), never the node
    # subnets where the VPC CNI gives pods their addresses (c283415)
    cidrs = api_server("10.40.0.0/16", 3).cidrs
    assert cidrs == ("10.40.208.0/24", "10.40.209.0/24", "10.40.210.0/24")
    pods = [ipaddress.ip_network(n) for n in plan_subnets("10.40.0.0/16", 3).nodes]
    assert not any(ipaddress.ip_network(a).overlaps(p) for a in cidrs for p in pods)
    azure = stack_plan("uae-cloud-azure").synthesis
    (cluster,) = azure.of_type("azure-native:containerservice:ManagedCluster")
    assert cluster.inputs["networkProfile"]["networkPolicy"] == "cilium"


def test_msk_listener_egress_is_the_data_subnets_not_the_vpc(stack_plan) -> None:
    """With the VPC CNI pods have VPC addresses: a VPC-wide rule reaches other tenants' pods."""
    msk = stack_plan("uae-cloud", "kafka.mode=managed").synthesis
    rules = [
        peer["ipBlock"]["cidr"]
        for r in msk.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "allow-msk-brokers"
        for rule in r.inputs["spec"]["egress"]
        for peer in rule["to"]
    ]
    assert rules and set(rules) == {"10.40.192.0/22"}


def test_a_gpu_pool_without_its_node_size_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        stack_config("uae-onprem", ("onprem.cluster.gpuNodes={}",))
    assert "mlplatform:onprem.cluster.gpuNodes.h100" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        stack_config("uae-onprem", ('onprem.cluster.cni="weave"',))
    assert "onprem.cluster.cni" in str(caught.value)

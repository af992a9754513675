"""GPU nodes: claimed by label + NoSchedule taint; the GPU operator runs under an exemption."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.api_server import ApiServer, egress_rule
from components.gpu import GpuNodePool, GpuNodePoolArgs, GpuOperator, GpuOperatorArgs
from components.namespace import EXEMPTION_ANNOTATION, PSS_EXEMPTIONS, platform_namespace
from infra.synth import manifests
from stacks import artifacts
from tests.support.schemas import core_object_errors
from version_catalogue import CHARTS

API = ApiServer(("10.10.0.11/32",))  # the API server's endpoint (components.api_server)

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {"owner": "ml-platform-team", "residency": "uae"}


def _synth(run_program, install_driver: bool = True):
    pools: dict[str, GpuNodePool] = {}

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        opts = pulumi.ResourceOptions(provider=provider)
        pools["h100"] = GpuNodePool(
            "gpu-pool-h100",
            GpuNodePoolArgs("h100", "nvidia-h100-80gb", ("gpu-h100-01", "gpu-h100-02"), 8, LABELS),
            opts=opts,
        )
        GpuOperator(
            "gpu-operator",
            GpuOperatorArgs(
                mirror=MIRROR,
                labels=LABELS,
                chart=CHARTS["gpu-operator"],
                images=artifacts.gpu_operator_images(),
                install_driver=install_driver,
                pull_secret="harbor-pull",
                api_server=API,
            ),
            opts=opts,
        )

    return run_program(program), pools


def values_under(value, key):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from values_under(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from values_under(v, key)


@pytest.fixture
def synthesis(run_program):
    return _synth(run_program)


def _release(synthesis):
    return next(r for r in synthesis.resources if r.type == "kubernetes:helm.sh/v3:Release")


def test_every_named_node_gets_pool_labels_and_the_gpu_taint(synthesis):
    result, pools = synthesis
    patches = {
        r.inputs["metadata"]["name"]: r for r in result.of_type("kubernetes:core/v1:NodePatch")
    }
    assert set(patches) == {"gpu-h100-01", "gpu-h100-02"}
    for patch in patches.values():
        labels = patch.inputs["metadata"]["labels"]
        assert labels[c.GPU_POOL_LABEL] == "h100"
        assert labels[c.GPU_PRODUCT_LABEL] == "nvidia-h100-80gb"
        assert labels["residency"] == "uae"
        assert patch.inputs["spec"]["taints"] == [
            {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
        ]
        assert core_object_errors(manifests.to_object(patch), "1.34") == []
    assert pools["h100"].capacity == 16
    assert pools["h100"].node_labels == {
        c.GPU_POOL_LABEL: "h100",
        c.GPU_PRODUCT_LABEL: "nvidia-h100-80gb",
    }


def test_a_pool_without_nodes_is_refused(run_program):
    def program() -> None:
        GpuNodePool("empty", GpuNodePoolArgs("empty", "nvidia-l40s", (), 4, LABELS))

    with pytest.raises(Exception, match="names no nodes"):
        run_program(program)


def test_operator_namespace_is_privileged_only_through_the_recorded_exemption(synthesis):
    result, _ = synthesis
    ns = next(r for r in result.of_type("kubernetes:core/v1:Namespace"))
    meta = ns.inputs["metadata"]
    assert meta["name"] == c.NS_GPU_OPERATOR
    assert meta["labels"][c.PSS_ENFORCE] == "privileged"
    # Violations are still audited and warned about at the restricted level.
    assert meta["labels"][c.PSS_AUDIT] == meta["labels"][c.PSS_WARN] == "restricted"
    exemption = next(e for e in PSS_EXEMPTIONS if e.namespace == c.NS_GPU_OPERATOR)
    assert meta["annotations"][EXEMPTION_ANNOTATION] == exemption.reason
    assert core_object_errors(manifests.to_object(ns), "1.34") == []


def test_operator_namespace_accepts_no_ingress_and_reaches_only_dns_itself_the_api_server(
    synthesis,
):
    result, _ = synthesis
    policies = result.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    specs = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in policies}
    assert {p.inputs["metadata"]["namespace"] for p in policies} == {c.NS_GPU_OPERATOR}
    assert [s for s in specs.values() if "Ingress" in s["policyTypes"]] == [
        {"podSelector": {}, "policyTypes": ["Ingress"]}
    ]
    assert specs["default-deny-egress"] == {"podSelector": {}, "policyTypes": ["Egress"]}
    dns, own = specs["allow-dns-and-namespace-egress"]["egress"]
    assert [p["port"] for p in dns["ports"]] == [53, 53] and own == {"to": [{"podSelector": {}}]}
    assert specs["allow-api-server-egress"]["egress"] == [egress_rule(API)]
    assert len(specs) == 4


def test_privileged_namespaces_need_an_exemption(run_program):
    def program() -> None:
        platform_namespace("x", "not-exempt", LABELS, pulumi.ResourceOptions(), privileged=True)

    with pytest.raises(Exception, match="PSS_EXEMPTIONS"):
        run_program(program)


def test_operator_chart_is_pinned_and_every_image_comes_from_the_mirror(synthesis):
    result, _ = synthesis
    release = _release(result).inputs
    assert release["chart"] == f"oci://{MIRROR}/charts/gpu-operator"
    assert release["version"] == CHARTS["gpu-operator"].version
    values = release["values"]
    repositories = list(values_under(values, "repository"))
    assert len(repositories) >= 8
    assert all(r.startswith(f"{MIRROR}/") for r in repositories), repositories
    assert values["driver"]["repository"] == f"{MIRROR}/nvidia"
    assert values["node-feature-discovery"]["image"]["repository"].startswith(MIRROR)


def test_operator_daemonsets_tolerate_the_gpu_taint(synthesis):
    values = _release(synthesis[0]).inputs["values"]
    assert c.GPU_TOLERATION in values["daemonsets"]["tolerations"]


def test_driver_and_toolkit_are_installed_on_prem(synthesis):
    values = _release(synthesis[0]).inputs["values"]
    assert values["driver"]["enabled"] is True and values["toolkit"]["enabled"] is True


def test_driver_and_toolkit_are_skipped_where_nodes_ship_them(run_program):
    result, _ = _synth(run_program, install_driver=False)
    values = _release(result).inputs["values"]
    assert values["driver"]["enabled"] is False and values["toolkit"]["enabled"] is False
    assert values["devicePlugin"]["repository"].startswith(MIRROR)

"""Deployed-suite host discovery: from each stack's synthesized outputs to testinfra URLs.

No cluster here: kubectl is a recording fake, and the URLs are parsed back by testinfra itself.
The selectors, containers and ports the suite expects are checked against what the components
declare in the same synthesized stack, so verification cannot drift from the program.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
import testinfra

from components import conventions as c
from infra.synth.manifests import objects
from infra.verify.contract import ContractError, expectations, load_outputs
from infra.verify.discovery import (
    Kubectl,
    KubectlError,
    VerifySettings,
    kubectl_url,
    ssh_url,
)
from infra.verify.suites.deployed import conftest as deployed

pytestmark = pytest.mark.verify


def _expected(stack_plan, stack, *overrides):
    return expectations(stack_plan(stack, *overrides).synthesis.outputs)


def _targets(expected):
    return {t.service: t for t in expected.services}


def test_onprem_targets_come_from_the_contract(stack_plan):
    expected = _expected(stack_plan, "uae-onprem")
    assert expected.stack == "uae-onprem"
    assert expected.kube_context == "auh-dc1-prod"  # stack.cluster.kubeContext
    assert expected.gpu_pools == ("h100", "l40s")
    assert expected.disk_encryption == "dm-crypt"
    targets = _targets(expected)
    assert sorted(targets) == [
        "feast-offline",
        "feast-online",
        "feast-registry",
        "kafka-broker",
        "mlflow",
        "model-server/risk",
    ]
    mlflow = targets["mlflow"]
    assert (mlflow.namespace, mlflow.container, mlflow.ports) == ("mlflow", "mlflow", (5000,))
    assert (
        mlflow.label_selector == "app.kubernetes.io/component=server,app.kubernetes.io/name=mlflow"
    )
    assert mlflow.health.path == "/health" and mlflow.health.tls
    assert targets["feast-online"].ports == (6566,) and targets["feast-online"].health.tls
    assert targets["feast-registry"].ports == (6570,)
    assert targets["feast-offline"].ports == (8815,)
    kafka = targets["kafka-broker"]
    assert (kafka.namespace, kafka.container, kafka.ports) == ("kafka", "kafka", (9093,))
    assert kafka.selector == {"strimzi.io/cluster": "mlplatform", "strimzi.io/broker-role": "true"}
    model = targets["model-server/risk"]
    assert model.namespace == "tenant-risk"
    assert model.selector == {"serving.kserve.io/inferenceservice": "fraud-risk"}
    assert expected.probes == (model,)
    assert {e.name: e.url for e in expected.endpoints} == {
        "kafka": "tls://mlplatform-kafka-bootstrap.kafka.svc:9093",
        "mlflow": "https://mlflow.mlflow.svc.cluster.local/health",
        "feast-online": "https://feast-online.feast.svc.cluster.local:6566/health",
    }


def test_aws_targets_have_no_context_and_provider_encryption(stack_plan):
    expected = _expected(stack_plan, "uae-cloud")
    assert expected.platform == "aws"
    assert expected.kube_context is None  # the engineer's --kube-context or current context
    assert expected.disk_encryption == "provider"
    assert set(expected.gpu_pools) == {"train", "infer"}
    assert "kafka-broker" in _targets(expected)  # Strimzi on EKS by default


@pytest.mark.parametrize(
    ("stack", "broker"),
    [("uae-cloud", "b-1.mlplatform-prod-kafka."), ("uae-cloud-azure", "evhns-mlp-prod-")],
)
def test_managed_kafka_is_checked_from_tenants_only(stack_plan, stack, broker):
    expected = _expected(stack_plan, stack, "kafka.mode=managed")
    assert "kafka-broker" not in _targets(expected)
    kafka = next(e for e in expected.endpoints if e.name == "kafka")
    assert kafka.url.startswith(f"tls://{broker}") and "," not in kafka.url


def _deployment_for(resources, target):
    for obj in objects(resources):
        if obj["kind"] != "Deployment" or obj["metadata"].get("namespace") != target.namespace:
            continue
        template = obj["spec"]["template"]
        if target.selector.items() <= template["metadata"]["labels"].items():
            return template["spec"]
    return None


@pytest.mark.parametrize("stack", ["uae-onprem", "uae-cloud"])
def test_selectors_containers_and_ports_match_the_components(stack_plan, stack):
    plan = stack_plan(stack)
    expected = expectations(plan.synthesis.outputs)
    for target in expected.services:
        if target.service.startswith(("mlflow", "feast")):
            pod = _deployment_for(plan.synthesis.resources, target)
            assert pod, f"no Deployment in {target.namespace} has pod labels {target.selector}"
            container = next(k for k in pod["containers"] if k["name"] == target.container)
            assert [p["containerPort"] for p in container["ports"]] == list(target.ports)
            if target.health:
                probe = container["readinessProbe"]["httpGet"]
                assert probe["path"] == target.health.path
                assert (probe.get("scheme") == "HTTPS") == target.health.tls
    kinds = {(o["kind"], o["metadata"]["name"]): o for o in objects(plan.synthesis.resources)}
    kafka = kinds[("Kafka", "mlplatform")]
    listener = kafka["spec"]["kafka"]["listeners"][0]
    assert listener["tls"] and listener["port"] == _targets(expected)["kafka-broker"].ports[0]
    assert kinds[("KafkaNodePool", "brokers")]["spec"]["roles"] == ["broker"]
    isvc = kinds[("InferenceService", "fraud-risk")]
    assert isvc["metadata"]["namespace"] == _targets(expected)["model-server/risk"].namespace
    runtime = kinds[("ClusterServingRuntime", c.SERVING_RUNTIME)]["spec"]["containers"][0]
    assert runtime["name"] == "kserve-container"
    assert runtime["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    # the predictor answers HTTPS only: verify probes it so, and plain HTTP must not answer
    assert runtime["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert _targets(expected)["model-server/risk"].health.tls


def test_offline_outputs_file_reads_like_pulumi_stack_output(stack_plan, tmp_path):
    """outputs.json of a plan (floats for ints, secrets redacted) gives the same targets."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack_plan("uae-onprem").synthesis.outputs, default=str))
    assert expectations(load_outputs(path)) == _expected(stack_plan, "uae-onprem")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "contract_version"),
        ({"contract_version": "1.0", "stack": {}}, "no `platform`"),
        (
            {
                "contract_version": "1.0",
                "stack": {"name": "s", "platform": "onprem"},
                "platform": {"mlflow": {"trackingUri": "https://mlflow.example.ae"}},
            },
            "not an in-cluster service name",
        ),
    ],
)
def test_not_a_contract_is_refused(document, message):
    with pytest.raises(ContractError, match=message):
        expectations(document)


class FakeKubectl:
    """Records each argv; answers from a table keyed by the `get` arguments."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, argv):
        self.calls.append(argv)
        for key, answer in self.answers.items():
            if key in " ".join(argv):
                return json.dumps(answer)
        raise KubectlError(f"unexpected call {argv}")


def _pod(name, phase="Running", ready="True", deleting=False):
    meta = {"name": name, **({"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {})}
    return {
        "metadata": meta,
        "spec": {"nodeName": "node-1"},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


def test_pods_are_selected_by_label_with_the_given_context(stack_plan):
    target = _targets(_expected(stack_plan, "uae-onprem"))["mlflow"]
    fake = FakeKubectl(
        {
            "get pods": {
                "items": [
                    _pod("mlflow-7d9-b"),
                    _pod("mlflow-7d9-a", ready="False"),
                    _pod("mlflow-7d9-pending", phase="Pending"),
                    _pod("mlflow-7d9-old", deleting=True),
                ]
            }
        }
    )
    kubectl = Kubectl("auh-dc1-prod", "/etc/kube/config", runner=fake)
    pods = kubectl.running_pods(target)
    assert [(p.name, p.ready) for p in pods] == [("mlflow-7d9-a", False), ("mlflow-7d9-b", True)]
    assert fake.calls == [
        [
            "kubectl",
            "--kubeconfig",
            "/etc/kube/config",
            "--context",
            "auh-dc1-prod",
            "get",
            "pods",
            "--namespace",
            "mlflow",
            "-l",
            "app.kubernetes.io/component=server,app.kubernetes.io/name=mlflow",
            "-o",
            "json",
        ]
    ]


def _node(name, pool, ready="True", gpus="8", tainted=True):
    taints = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    return {
        "metadata": {"name": name, "labels": {c.GPU_POOL_LABEL: pool}},
        "spec": {"taints": taints if tainted else []},
        "status": {
            "allocatable": {c.GPU_RESOURCE: gpus},
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def test_gpu_nodes_are_selected_by_the_contract_pools(stack_plan):
    expected = _expected(stack_plan, "uae-onprem")
    fake = FakeKubectl(
        {
            "get nodes": {
                "items": [
                    _node("gpu-l40s-01", "l40s", gpus="0", tainted=False),
                    _node("gpu-h100-01", "h100", ready="False"),
                ]
            }
        }
    )
    nodes = Kubectl(expected.kube_context, runner=fake).gpu_nodes(expected.gpu_pools)
    assert fake.calls[0][:4] == ["kubectl", "--context", "auh-dc1-prod", "get"]
    assert fake.calls[0][5:7] == ["-l", f"{c.GPU_POOL_LABEL} in (h100,l40s)"]
    assert [(n.name, n.pool, n.ready, n.gpus, n.tainted) for n in nodes] == [
        ("gpu-h100-01", "h100", False, 8, True),
        ("gpu-l40s-01", "l40s", True, 0, False),
    ]


def test_kubectl_url_is_what_testinfra_execs_with(monkeypatch):
    url = kubectl_url("mlflow-7d9-b", "mlflow", "mlflow", "auh-dc1-prod", None)
    assert url == "kubectl://mlflow-7d9-b?namespace=mlflow&container=mlflow&context=auh-dc1-prod"
    host = testinfra.get_host(url)
    commands = []
    monkeypatch.setattr(
        host.backend,
        "run_local",
        lambda cmd, *args: commands.append(host.backend.get_command(cmd, *args)),
    )
    host.backend.run("id -u")
    assert commands == [
        'kubectl --context="auh-dc1-prod" -n mlflow -c mlflow '
        "exec mlflow-7d9-b -- /bin/sh -c 'id -u'"
    ]


def test_ssh_url_carries_config_and_identity():
    url = ssh_url("gpu-h100-01", "/home/ops/.ssh/config", "/home/ops/.ssh/id_ed25519")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith("ssh://gpu-h100-01?")
    assert query == {
        "ssh_config": ["/home/ops/.ssh/config"],
        "ssh_identity_file": ["/home/ops/.ssh/id_ed25519"],
    }
    backend = testinfra.get_host(url).backend
    assert (backend.host.name, backend.ssh_config, backend.ssh_identity_file) == (
        "gpu-h100-01",
        "/home/ops/.ssh/config",
        "/home/ops/.ssh/id_ed25519",
    )
    assert ssh_url("gpu-h100-01", None, None) == "ssh://gpu-h100-01"


def test_settings_travel_through_the_environment(tmp_path):
    settings = VerifySettings(
        outputs=tmp_path / "outputs.json", kube_context="ctx", ssh_config="/s", skip_nodes=True
    )
    assert VerifySettings.from_env(settings.env()) == settings
    assert VerifySettings.from_env({}) == VerifySettings()


# -- the deployed suite's cases: skip when unconfigured, fail when configured but broken --------
def _discovery(stack_plan, **settings):
    found = deployed.Discovery(VerifySettings(**settings))
    found.expected = _expected(stack_plan, "uae-onprem")
    found.context = found.expected.kube_context
    return found


def test_unconfigured_cases_skip_with_the_reason():
    found = deployed.Discovery(VerifySettings(), problem=deployed.UNCONFIGURED)
    for cases in (deployed.pod_cases(found), deployed.node_cases(found, over_ssh=True)):
        assert [(c.skip, c.fail, c.url) for c in cases] == [(deployed.UNCONFIGURED, None, None)]
    assert "mlplatform verify --stack" in deployed.UNCONFIGURED


def test_service_without_pods_fails_and_pods_become_kubectl_hosts(stack_plan):
    found = _discovery(stack_plan)
    for target in found.expected.services:
        found.pods[target.service] = []
    found.pods["mlflow"] = [deployed.Pod("mlflow-7d9-b", True, "node-1")]
    found.pods["feast-online"] = "`kubectl get pods` failed: forbidden"
    cases = {case.id: case for case in deployed.pod_cases(found)}
    assert cases["mlflow/mlflow-7d9-b"].url == (
        "kubectl://mlflow-7d9-b?namespace=mlflow&container=mlflow&context=auh-dc1-prod"
    )
    assert cases["feast-online"].fail == "`kubectl get pods` failed: forbidden"
    assert cases["kafka-broker"].fail == (
        "kafka-broker: no running pod matches strimzi.io/broker-role=true,"
        "strimzi.io/cluster=mlplatform in namespace kafka, context auh-dc1-prod"
    )
    assert all(not case.skip for case in cases.values())


def test_gpu_node_cases(stack_plan):
    found = _discovery(stack_plan, ssh_config="/ssh/config")
    found.nodes = [deployed.GpuNode("gpu-h100-01", "h100", True, 8, True)]
    [case] = deployed.node_cases(found, over_ssh=True)
    assert case.url == "ssh://gpu-h100-01?ssh_config=%2Fssh%2Fconfig"
    pools = {case.id: case.nodes for case in deployed.node_cases(found, over_ssh=False)}
    assert pools == {"pool-h100": (found.nodes[0],), "pool-l40s": ()}
    found.nodes = []
    [case] = deployed.node_cases(found, over_ssh=True)
    assert case.fail and "no node is labelled" in case.fail
    skipping = _discovery(stack_plan, skip_nodes=True)
    [case] = deployed.node_cases(skipping, over_ssh=True)
    assert case.skip and "--skip-nodes" in case.skip


def test_onprem_gpu_node_names_come_from_the_contract(stack_plan):
    onprem = _expected(stack_plan, "uae-onprem")
    assert onprem.gpu_nodes["h100"] == ("gpu-h100-01", "gpu-h100-02")
    assert _expected(stack_plan, "uae-cloud").gpu_nodes == {}

"""The sample tenant's ML loop in every variant's plan: the stream processor, the monitor, the
retraining controller (reaching Kafka like the tenant), the canary guard, batch scoring, the
prediction log's Kafka settings and the contract's `mlLoop` block, validated as Kubernetes
receives them. (Topics, identities and config: test_ml_loop_config.py.)"""

from __future__ import annotations

import json

import pytest

from infra.synth import manifests
from infra.synth.recording import unwrap
from tests.components.ml_fixtures import core_errors

VARIANTS = {
    "strimzi-onprem": ("uae-onprem",),
    "strimzi-aws": ("uae-cloud",),
    "msk": ("uae-cloud", "kafka.mode=managed"),
    "strimzi-azure": ("uae-cloud-azure",),
    "event-hubs": ("uae-cloud-azure", "kafka.mode=managed"),
}


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def variant(request):
    return request.param


@pytest.fixture
def plan(variant, stack_plan):
    return stack_plan(*VARIANTS[variant])


def _objects(plan, kind: str) -> dict[str, dict]:
    return {
        o["metadata"]["name"]: o
        for o in (
            manifests.to_object(r)
            for r in plan.synthesis.resources
            if manifests.is_kubernetes_object(r) and r.type.split(":")[-1] == kind
        )
    }


def _resources(plan, kind: str):
    return [r for r in plan.synthesis.resources if r.type.split(":")[-1] == kind]


def _env(pod_container: dict) -> dict:
    return {e["name"]: e.get("value") for e in pod_container["env"]}


def test_every_variant_runs_the_whole_loop(plan):
    model = plan.config.sample_workloads.model_name
    ns = f"tenant-{plan.config.sample_workloads.tenant}"
    deployments, crons = _objects(plan, "Deployment"), _objects(plan, "CronJob")
    for name in (f"{model}-stream", f"{model}-retraining", f"{model}-model-metrics"):
        assert deployments[name]["metadata"]["namespace"] == ns
    for name in (f"{model}-monitor", f"{model}-batch-score", f"{model}-canary-guard"):
        assert crons[name]["metadata"]["namespace"] == ns
    assert not _objects(plan, "HorizontalPodAutoscaler")  # the lag scaler owns the replicas
    assert "replicas" not in deployments[f"{model}-stream"]["spec"]
    assert deployments[f"{model}-stream-scaler"]["metadata"]["namespace"] == ns
    assert f"{model}-stream" in _objects(plan, "PodDisruptionBudget")
    assert _objects(plan, "Role")["retraining-controller"]["rules"][0]["verbs"] == [
        "create",
        "get",
        "list",
    ]


def test_loop_objects_validate_against_kubernetes(plan):
    loop = {
        (r.type.split(":")[-1], r.inputs["metadata"]["name"]): r
        for r in plan.synthesis.resources
        if "MlLoop" in r.urn and manifests.is_kubernetes_object(r)
    }
    assert len(loop) >= 12
    assert core_errors(loop) == []


def test_prediction_log_reaches_kafka_with_the_contracts_security(plan, variant):
    model = plan.config.sample_workloads.model_name
    isvc = _objects(plan, "InferenceService")[model]
    predictor = isvc["spec"]["predictor"]
    env = _env(predictor["model"])
    tenant = plan.config.sample_workloads.tenant
    assert env["MLP_TOPIC_SCORED"] == f"{tenant}.transactions.scored"
    assert env["MLP_MODEL_POLL_SECONDS"] == "5"
    assert env["MLP_KAFKA_SECURITY_PROTOCOL"] in ("SSL", "SASL_SSL")
    volumes = {v["name"] for v in predictor["volumes"]}
    if variant.startswith("strimzi"):
        assert env["MLP_KAFKA_CA_FILE"] == "/etc/mlplatform/ca/ca.crt"
        assert "kafka-credentials" in volumes
    else:
        assert "MLP_KAFKA_CA_FILE" not in env and "kafka-credentials" not in volumes
        mechanism = {"msk": "AWS_MSK_IAM", "event-hubs": "OAUTHBEARER"}[variant]
        assert env["MLP_KAFKA_SASL_MECHANISM"] == mechanism


def test_retraining_controller_reaches_kafka_like_the_tenant(plan, variant):
    model = plan.config.sample_workloads.model_name
    controller = _objects(plan, "Deployment")[f"{model}-retraining"]["spec"]["template"]
    env = _env(controller["spec"]["containers"][0])
    account = _objects(plan, "ServiceAccount")["retraining-controller"]
    if variant == "event-hubs":  # Azure Workload Identity: the client ID on the SA, the label
        assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
        assert controller["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    elif variant == "msk":
        assert env["AWS_REGION"] == "me-central-1" and "MLP_KAFKA_CREDENTIALS_DIR" not in env
    else:
        assert env["MLP_KAFKA_CREDENTIALS_DIR"] == "/etc/mlplatform/kafka"


def test_stream_scaler_follows_the_lag_with_the_scale_of_one_deployment_only(plan, variant):
    model = plan.config.sample_workloads.model_name
    stream = plan.config.sample_workloads.loop.streaming
    ns = f"tenant-{plan.config.sample_workloads.tenant}"
    assert _objects(plan, "Role")["stream-scaler"]["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": [f"{model}-stream"],
            "verbs": ["get", "patch"],
        }
    ]
    binding = _objects(plan, "RoleBinding")["stream-scaler"]
    assert binding["metadata"]["namespace"] == ns
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "stream-scaler",
                                    "namespace": ns}]  # fmt: skip
    scaler = _objects(plan, "Deployment")[f"{model}-stream-scaler"]
    assert (scaler["spec"]["replicas"], scaler["spec"]["strategy"]) == (1, {"type": "Recreate"})
    template = scaler["spec"]["template"]
    command = template["spec"]["containers"][0]["command"]
    options = dict(zip(command[4::2], command[5::2], strict=True))
    assert options["--lag-per-replica"] == str(stream.lag_per_replica) == "5000"
    assert options["--scale-down-window"] == str(stream.scale_down_window_seconds) == "600"
    assert (options["--min-replicas"], options["--max-replicas"]) == (
        str(stream.replicas),
        str(stream.max_replicas),
    )
    assert int(options["--max-replicas"]) <= plan.config.kafka.partitions
    policies = _objects(plan, "NetworkPolicy")
    assert f"allow-{model}-stream-scaler-api-server" in policies
    account = _objects(plan, "ServiceAccount")["stream-scaler"]
    if variant == "event-hubs":  # the tenant's Kafka identity, as the processor's
        assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def _flow_findings(resources: list[dict]) -> list[str]:
    """SIM-FLW-001's findings over the program's own objects (the tenant namespace's flows
    need nothing the charts render)."""
    from infra.render.objects import program_objects
    from infra.simulate import simulate

    simulation = simulate(program_objects(resources), resources)
    flows = next(run for run in simulation.runs if run.check.id == "SIM-FLW-001")
    assert flows.examined
    return [f"{f.subject}: {f.message}" for f in flows.findings]


def test_the_scalers_declared_api_server_flow_is_proved_and_breaks_without_its_policy(
    stack_plan,
):
    plan = stack_plan("uae-cloud")  # Cilium-free EKS: the NetworkPolicy alone carries the flow
    model = plan.config.sample_workloads.model_name
    resources = [r.to_json() for r in plan.synthesis.resources]
    flow = f"{model}-stream-scaler→api-server"
    namespace = next(
        r["inputs"]
        for r in resources
        if r["type"] == "kubernetes:core/v1:Namespace"
        and r["inputs"]["metadata"]["name"] == f"tenant-{plan.config.sample_workloads.tenant}"
    )
    declared = json.loads(namespace["metadata"]["annotations"]["mlplatform.io/flows"])
    entry = next(f for f in declared if f["name"] == flow)
    selector = {"app.kubernetes.io/name": "stream-scaler", "app.kubernetes.io/instance": model}
    assert (entry["from"], entry["to"]) == ({"pods": selector}, {"api-server": True})
    assert not [f for f in _flow_findings(resources) if flow in f]
    policy = f"allow-{model}-stream-scaler-api-server"
    cut = [r for r in resources if (r["inputs"].get("metadata") or {}).get("name") != policy]
    assert len(cut) == len(resources) - 1
    assert [f for f in _flow_findings(cut) if flow in f], "SIM-FLW-001 missed the cut flow"


def test_contract_exports_the_loop(plan):
    outputs = unwrap(plan.synthesis.outputs)
    tenant = plan.config.sample_workloads.tenant
    loop = outputs["tenants"][tenant]["sampleWorkloads"]["mlLoop"]
    assert loop["topics"]["deadLetter"] == f"{tenant}.transactions.dlq"
    assert loop["streaming"]["consumerGroup"].startswith(f"{tenant}.")
    assert loop["streaming"]["autoscaling"] == "consumer-lag"
    scaler = [
        r for r in plan.synthesis.resources
        if r.type == "kubernetes:apps/v1:Deployment"
        and r.inputs["metadata"]["name"] == loop["streaming"]["scaler"]
    ]  # fmt: skip
    assert scaler, f"the contract names a scaler Deployment the plan lacks: {loop['streaming']}"
    assert loop["streaming"]["lagPerReplica"] == (
        plan.config.sample_workloads.loop.streaming.lag_per_replica
    )
    assert loop["batch"]["suspended"] is True
    assert "rollback" in loop["rollout"]
    json.dumps(loop)  # plain data

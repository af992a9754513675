"""A tenant's ML loop in the cluster: stream processor, monitor, retraining controller, canary
guard and batch scoring, for every Kafka variant — validated as the API server would see them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import conventions as c
from components.api_server import ApiServer
from components.endpoints import Credentials, ObjectStore
from components.ml_loop import MlLoop, MlLoopArgs, flows, manifests
from components.ml_loop.batch import BatchArgs
from components.ml_loop.kafka_client import KafkaClient
from components.ml_loop.monitoring import MonitoringArgs
from components.ml_loop.object_store import store_access
from components.ml_loop.pods import LoopContext
from components.ml_loop.retraining import RULES, RetrainingArgs
from components.ml_loop.rollout import RolloutArgs
from components.ml_loop.streaming import StreamingArgs
from components.ml_loop.topics import LoopTopics, loop_topic_names
from components.sample_workloads import SampleWorkloadsArgs, train_job
from infra.synth.recording import synthesize
from tests.components.ml_fixtures import (
    LABELS,
    MIRROR,
    assert_hardened,
    by_kind,
    core_errors,
    plain_object,
)

STRIMZI_MTLS = KafkaClient(
    bootstrap="mlplatform-kafka-bootstrap.kafka.svc:9093",
    security_protocol="SSL",
    sasl_mechanism=None,
    credentials_secret="kafka-credentials",
    ca_bundle="mlplatform-ca-bundle",
)
STRIMZI_SCRAM = replace(STRIMZI_MTLS, security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512")
MSK = KafkaClient(
    bootstrap="b-1.mlplatform.abc123.c2.kafka.me-central-1.amazonaws.com:9098",
    security_protocol="SASL_SSL",
    sasl_mechanism="AWS_MSK_IAM",
    credentials_secret=None,
    ca_bundle=None,
    aws_region="me-central-1",
)
EVENT_HUBS = KafkaClient(
    bootstrap="mlplatform-prod.servicebus.windows.net:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="OAUTHBEARER",
    credentials_secret=None,
    ca_bundle=None,
)
VARIANTS = {"mtls": STRIMZI_MTLS, "scram": STRIMZI_SCRAM, "msk": MSK, "event-hubs": EVENT_HUBS}
ONPREM_STORE = ObjectStore(
    kind="s3",
    endpoint="https://s3.dc1.example.ae",
    region="auh-dc1",
    artifact_uri="s3://mlflow-artifacts/mlflow",
    offline_store_uri="s3://feast-offline/feast",
    credentials=Credentials(existing_secret="object-store-credentials"),
    ca_secret="object-store-ca",
)
API = ApiServer(cidrs=("10.40.0.0/28",))


def _template() -> dict[str, Any]:
    return train_job(
        SampleWorkloadsArgs(
            tenant="risk",
            namespace="tenant-risk",
            labels=LABELS,
            training_image=f"{MIRROR}/training:0.1.0",
            tracking_uri="https://mlflow.mlflow.svc.cluster.local",
            model_name="fraud-risk",
            gpus=1,
            min_replicas=2,
            max_replicas=4,
            canary_traffic_percent=10,
            deployment_mode="Standard",
        )
    )


def _args(kafka: KafkaClient = STRIMZI_MTLS, **overrides: Any) -> MlLoopArgs:
    ctx = LoopContext(
        tenant="risk",
        namespace="tenant-risk",
        model_name="fraud-risk",
        labels=LABELS,
        tracking_uri="https://mlflow.mlflow.svc.cluster.local",
        kafka=kafka,
        topics=LoopTopics.for_tenant("risk", "transactions"),
        pull_secret="harbor-pull",
        identity_labels={"azure.workload.identity/use": "true"} if kafka is EVENT_HUBS else {},
    )
    values: dict[str, Any] = {
        "context": ctx,
        "streaming": StreamingArgs(
            image=f"{MIRROR}/streaming:0.1.0",
            replicas=2,
            max_replicas=6,
            partitions=6,
            cpu="1",
            memory="2Gi",
            lag_per_replica=5000,
            scale_down_window_seconds=600,
            state_size="5Gi",
            storage_class="encrypted-ssd",
            api_server=API,
        ),
        "monitoring": MonitoringArgs(
            image=f"{MIRROR}/monitoring:0.1.0",
            schedule="*/15 * * * *",
            psi_threshold=0.2,
            min_records=300,
            window_hours=24,
            label_delay_hours=72,
            min_labelled=200,
            max_auc_drop=0.05,
            max_precision_drop=0.15,
        ),
        "retraining": RetrainingArgs(
            image=f"{MIRROR}/monitoring:0.1.0",
            template=_template(),
            dedup_window_seconds=3600,
            cooldown_seconds=1800,
            max_request_age_seconds=21600,
            api_server=API,
        ),
        "rollout": RolloutArgs(
            image=f"{MIRROR}/serving:0.1.0",
            schedule="*/5 * * * *",
            window_seconds=120,
            max_error_rate=0.02,
            max_p99_ms=250,
            min_requests=50,
        ),
        "batch": BatchArgs(
            image=f"{MIRROR}/serving:0.1.0",
            schedule="0 2 * * *",
            suspended=True,
            partitions=4,
            input_uri="s3://feast-offline/feast/risk/batch/transactions/",
            output_prefix="s3://feast-offline/feast/risk/batch/scores",
            store=store_access(ONPREM_STORE),
        ),
        "exporter_image": f"{MIRROR}/monitoring:0.1.0",
    }
    values.update(overrides)
    return MlLoopArgs(**values)


def _objects(args: MlLoopArgs) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in manifests(args)}


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _workloads(args: MlLoopArgs) -> dict[tuple[str, str], dict[str, Any]]:
    return {k: o for k, o in _objects(args).items() if k[0] in ("Deployment", "CronJob")}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def declared(request):
    args = _args(VARIANTS[request.param])

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        MlLoop("loop-risk", args, pulumi.ResourceOptions(provider=provider))

    return by_kind(synthesize("test", {}, program))


# --------------------------------------------------------------------------- the whole loop


def test_every_object_validates_against_kubernetes_1_34(declared):
    kinds = {kind for kind, _ in declared}
    assert {"Deployment", "CronJob", "PodDisruptionBudget"} <= kinds
    assert "HorizontalPodAutoscaler" not in kinds  # the stream scaler owns the replicas
    assert {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "NetworkPolicy"} <= kinds
    assert core_errors(declared) == []


def test_every_pod_runs_restricted_with_requests_equal_to_limits():
    for key, obj in _workloads(_args()).items():
        pod = _pod(obj)
        assert_hardened(pod)
        for container in pod["containers"]:
            assert container["resources"]["requests"] == container["resources"]["limits"], key
            assert container["image"].startswith(MIRROR), key
        assert pod["imagePullSecrets"] == [{"name": "harbor-pull"}], key


def test_only_the_controllers_hold_an_api_token_and_say_why():
    holders = {
        "fraud-risk-retraining": ("retraining-controller", "TrainJobs"),
        "fraud-risk-stream-scaler": ("stream-scaler", "scale of the stream processor"),
    }
    for (kind, name), obj in _workloads(_args()).items():
        pod = _pod(obj)
        template = obj["spec"]["template"] if kind == "Deployment" else None
        if name in holders:
            account, reason = holders[name]
            assert pod["automountServiceAccountToken"] is True
            assert pod["serviceAccountName"] == account
            assert template is not None
            assert reason in template["metadata"]["annotations"][c.TOKEN_REASON_ANNOTATION]
        else:
            assert pod["automountServiceAccountToken"] is False, name
            assert pod["serviceAccountName"] == "workloads", name


def test_no_pod_writes_or_reads_a_platform_topic():
    for key, obj in _workloads(_args()).items():
        env = _env(_pod(obj)["containers"][0])
        topics = {k: v for k, v in env.items() if k.startswith("MLP_TOPIC_")}
        assert topics["MLP_TOPIC_MODEL_EVENTS"] == "risk.model-events", key
        assert all(v.startswith("risk.") for v in topics.values()), (key, topics)


def test_loop_topics_follow_the_workloads_naming_rule():
    from workloads.settings import dead_letter_topic  # stdlib only: importable here

    topics = LoopTopics.for_tenant("risk", "transactions")
    assert topics.dead_letter == dead_letter_topic(topics.transactions) == "risk.transactions.dlq"
    assert loop_topic_names("payments")[0] == "payments.dlq"
    assert all(t.startswith("risk.") for t in topics.all())
    assert len(set(topics.all())) == 7


# --------------------------------------------------------------------------- Kafka variants


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_kafka_client_settings_per_variant(variant):
    kafka = VARIANTS[variant]
    stream = _objects(_args(kafka))[("Deployment", "fraud-risk-stream")]
    pod = _pod(stream)
    env = _env(pod["containers"][0])
    mounted = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert env["MLP_KAFKA_BOOTSTRAP"] == kafka.bootstrap
    assert env["MLP_KAFKA_SECURITY_PROTOCOL"] == kafka.security_protocol
    if variant in ("mtls", "scram"):
        assert env["MLP_KAFKA_CA_FILE"] == f"{c.CA_BUNDLE_MOUNT}/ca.crt"
        assert env["MLP_KAFKA_CREDENTIALS_DIR"] == "/etc/mlplatform/kafka"
        assert "/etc/mlplatform/kafka" in mounted
        secret = next(v for v in pod["volumes"] if v["name"] == "kafka-credentials")
        assert secret["secret"]["secretName"] == "kafka-credentials"
    else:  # workload identity; brokers with public CAs: the OS trust store
        assert "MLP_KAFKA_CREDENTIALS_DIR" not in env and "MLP_KAFKA_CA_FILE" not in env
        assert "/etc/mlplatform/kafka" not in mounted
    assert env.get("MLP_KAFKA_SASL_MECHANISM") == kafka.sasl_mechanism
    assert (env.get("AWS_REGION") == "me-central-1") is (variant == "msk")
    labels = stream["spec"]["template"]["metadata"]["labels"]
    assert (labels.get("azure.workload.identity/use") == "true") is (variant == "event-hubs")
    assert not any("PASSWORD" in name or "SECRET" in name for name in env)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"security_protocol": "PLAINTEXT"}, "securityProtocol 'PLAINTEXT' is not allowed"),
        ({"sasl_mechanism": "PLAIN"}, "saslMechanism 'PLAIN' does not go with SASL_SSL"),
        ({"credentials_secret": None}, "credentialsSecret is required with SCRAM-SHA-512"),
    ],
)
def test_unusable_strimzi_settings_are_refused_naming_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        replace(STRIMZI_SCRAM, **change)


def test_msk_outside_the_uae_or_with_a_secret_is_refused():
    with pytest.raises(ValueError, match="awsRegion 'eu-central-1' cannot sign MSK IAM"):
        replace(MSK, aws_region="eu-central-1")
    with pytest.raises(ValueError, match="credentialsSecret must be empty with OAUTHBEARER"):
        replace(EVENT_HUBS, credentials_secret="kafka-credentials")


# --------------------------------------------------------------------------- streaming


def test_stream_processor_replicas_belong_to_the_lag_scaler_alone():
    objects = _objects(_args())
    deployment = objects[("Deployment", "fraud-risk-stream")]
    assert "replicas" not in deployment["spec"]  # a `pulumi up` never resets the scaler's count
    assert not [k for k in objects if k[0] == "HorizontalPodAutoscaler"]
    scaler = objects[("Deployment", "fraud-risk-stream-scaler")]
    assert scaler["spec"]["replicas"] == 1
    assert scaler["spec"]["strategy"] == {"type": "Recreate"}
    command = _pod(scaler)["containers"][0]["command"]
    assert command[:4] == ["python", "-m", "workloads.streaming", "scale"]
    options = dict(zip(command[4::2], command[5::2], strict=True))
    assert options == {
        "--deployment": "fraud-risk-stream",
        "--namespace": "tenant-risk",
        "--group-id": "risk.fraud-risk-features",  # the processor's group
        "--lag-per-replica": "5000",
        "--min-replicas": "2",
        "--max-replicas": "6",
        "--max-step-up": "2",
        "--scale-down-window": "600",
        "--interval": "30",
        "--metrics-port": "9100",
        "--metrics-address": "0.0.0.0",
    }
    pod = _pod(scaler)
    env = _env(pod["containers"][0])
    assert env["MLP_TOPIC_TRANSACTIONS"] == "risk.transactions"
    assert env["MLP_KAFKA_BOOTSTRAP"] == STRIMZI_MTLS.bootstrap  # the tenant's Kafka access
    assert pod["containers"][0]["image"] == f"{MIRROR}/streaming:0.1.0"
    assert pod["containers"][0]["livenessProbe"]["exec"]["command"][-2:] == ["--max-age", "120"]
    assert pod["containers"][0]["readinessProbe"]["httpGet"] == {
        "path": "/metrics",
        "port": "metrics",
    }
    labels = scaler["spec"]["template"]["metadata"]["labels"]
    assert labels["mlplatform.io/scrape"] == "true"
    pdb = objects[("PodDisruptionBudget", "fraud-risk-stream")]["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


_GRID = [
    (group, resource, verb, name)
    for group in ("apps", "", "autoscaling")
    for resource in ("deployments/scale", "deployments", "statefulsets/scale", "pods", "secrets")
    for verb in ("get", "list", "watch", "patch", "update", "create", "delete")
    for name in ("fraud-risk-stream", "fraud-risk-retraining", "fraud-risk-stream-scaler")
]


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """What Kubernetes RBAC would allow of the grid (wildcards and resourceNames included)."""

    def allows(rule: dict[str, Any], group: str, resource: str, verb: str, name: str) -> bool:
        def hit(values: list[str], value: str) -> bool:
            return "*" in values or value in values

        return (
            hit(rule.get("apiGroups", []), group)
            and hit(rule.get("resources", []), resource)
            and hit(rule.get("verbs", []), verb)
            and (not rule.get("resourceNames") or name in rule["resourceNames"])
        )

    return {key for key in _GRID if any(allows(rule, *key) for rule in rules)}


SCALE_ONLY = {("apps", "deployments/scale", v, "fraud-risk-stream") for v in ("get", "patch")}


def test_the_scaler_may_only_read_and_patch_the_processors_scale():
    objects = _objects(_args())
    role = objects[("Role", "stream-scaler")]
    assert role["metadata"]["namespace"] == "tenant-risk"
    assert _grants(role["rules"]) == SCALE_ONLY
    binding = objects[("RoleBinding", "stream-scaler")]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",  # not a ClusterRole
        "name": "stream-scaler",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "stream-scaler", "namespace": "tenant-risk"}
    ]
    account = objects[("ServiceAccount", "stream-scaler")]
    assert account["automountServiceAccountToken"] is False
    assert _pod(objects[("Deployment", "fraud-risk-stream-scaler")])["serviceAccountName"] == (
        "stream-scaler"
    )


@pytest.mark.parametrize(
    "mutation",
    [
        {"resourceNames": None},  # every Deployment's scale
        {"verbs": ["get", "patch", "update", "delete"]},
        {"verbs": ["*"]},
        {"resources": ["deployments", "deployments/scale"]},  # the pod template: any image
        {"resources": ["*"]},
        {"apiGroups": ["*"]},
        {"resourceNames": ["fraud-risk-stream", "fraud-risk-retraining"]},
    ],
)
def test_a_broader_scaler_role_is_caught(mutation: dict[str, Any]):
    """The check above is not vacuous: each way of widening the Role shows in the grants."""
    rule = {**_objects(_args())[("Role", "stream-scaler")]["rules"][0], **mutation}
    rule = {k: v for k, v in rule.items() if v is not None}
    assert _grants([rule]) > SCALE_ONLY


def test_the_scaler_reaches_the_api_server_on_every_cni_and_declares_it():
    objects = _objects(_args())
    policy = objects[("NetworkPolicy", "allow-fraud-risk-stream-scaler-api-server")]["spec"]
    assert policy["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "stream-scaler",
        "app.kubernetes.io/instance": "fraud-risk",
    }
    assert policy["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.40.0.0/28"}}],
            "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
        }
    ]
    cilium = replace(_args().streaming, api_server=replace(API, cilium=True))
    cnp = _objects(_args(streaming=cilium))[
        ("CiliumNetworkPolicy", "allow-fraud-risk-stream-scaler-api-server")
    ]
    assert cnp["spec"]["egress"][0]["toEntities"] == ["kube-apiserver"]
    declared = {f.name: f.to_json() for f in flows(_args())}
    scaler_flow = declared["fraud-risk-stream-scaler→api-server"]
    assert scaler_flow["to"] == {"api-server": True}
    assert scaler_flow["from"]["pods"] == policy["podSelector"]["matchLabels"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lag_per_replica": 0}, "lagPerReplica 0 must be at least 1"),
        ({"scale_down_window_seconds": -1}, "scaleDownWindowSeconds -1 must be 0 or more"),
    ],
)
def test_an_unusable_scaling_setting_is_refused_naming_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        replace(_args().streaming, **change)


def test_more_stream_replicas_than_partitions_is_refused():
    streaming = _args().streaming
    with pytest.raises(ValueError, match="maxReplicas 8 exceeds the input topic's 6 partitions"):
        replace(streaming, max_replicas=8)
    with pytest.raises(ValueError, match="replicas 7 must be between 1 and maxReplicas"):
        replace(streaming, replicas=7)


def test_stream_state_is_a_per_pod_volume_on_the_encrypted_class():
    deployment = _objects(_args())[("Deployment", "fraud-risk-stream")]
    pod = _pod(deployment)
    state = next(v for v in pod["volumes"] if v["name"] == "state")
    claim = state["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "encrypted-ssd"
    assert claim["resources"]["requests"]["storage"] == "5Gi"
    container = pod["containers"][0]
    assert container["command"][-2:] == ["--state-dir", "/var/lib/mlplatform/stream"]
    env = _env(container)
    assert env["MLP_STREAM_GROUP_ID"] == "risk.fraud-risk-features"  # the tenant's group prefix
    assert env["MLP_TOPIC_TRANSACTIONS"] == "risk.transactions"
    assert (env["MLP_METRICS_PORT"], env["MLP_METRICS_ADDRESS"]) == ("9100", "0.0.0.0")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["mlplatform.io/scrape"] == "true"  # the monitoring stack's tenant target


# --------------------------------------------------------------------------- monitoring


def test_monitor_cron_job_never_overlaps_and_fails_fast_on_alarm_or_bad_config():
    cron = _objects(_args())[("CronJob", "fraud-risk-monitor")]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["schedule"] == "*/15 * * * *"
    job = cron["spec"]["jobTemplate"]["spec"]
    fail, ignore = job["podFailurePolicy"]["rules"]
    assert fail["action"] == "FailJob"
    assert fail["onExitCodes"] == {"containerName": "monitor", "operator": "In", "values": [2, 3]}
    assert ignore == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert job["backoffLimit"] == 3  # exit 1 (could not check) is retried
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    command = pod["containers"][0]["command"]
    assert command[:4] == ["python", "-m", "workloads.monitoring", "job"]
    assert command[command.index("--psi-threshold") + 1] == "0.2"
    assert command[command.index("--min-records") + 1] == "300"


def test_model_events_exporter_serves_the_tenants_verdicts():
    exporter = _objects(_args())[("Deployment", "fraud-risk-model-metrics")]
    pod = _pod(exporter)
    env = _env(pod["containers"][0])
    assert pod["containers"][0]["command"][:3] == ["python", "-m", "workloads.model_metrics"]
    assert env["MLP_TOPIC_MODEL_EVENTS"] == "risk.model-events"
    assert exporter["spec"]["template"]["metadata"]["labels"]["mlplatform.io/scrape"] == "true"


# --------------------------------------------------------------------------- retraining


def test_controller_may_only_create_get_and_list_trainjobs_in_its_namespace():
    objects = _objects(_args())
    role = objects[("Role", "retraining-controller")]
    assert role["metadata"]["namespace"] == "tenant-risk"
    assert (
        role["rules"]
        == RULES
        == [
            {
                "apiGroups": ["trainer.kubeflow.org"],
                "resources": ["trainjobs"],
                "verbs": ["create", "get", "list"],
            }
        ]
    )
    binding = objects[("RoleBinding", "retraining-controller")]
    assert binding["roleRef"]["kind"] == "Role"  # not a ClusterRole
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "retraining-controller", "namespace": "tenant-risk"}
    ]
    account = objects[("ServiceAccount", "retraining-controller")]
    assert account["automountServiceAccountToken"] is False


def test_controller_is_a_single_replica_that_is_replaced_not_rolled():
    deployment = _objects(_args())[("Deployment", "fraud-risk-retraining")]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    command = _pod(deployment)["containers"][0]["command"]
    assert command[:4] == ["python", "-m", "workloads.retraining", "cluster"]
    options = dict(zip(command[4::2], command[5::2], strict=True))
    assert options["--template"] == "/etc/mlplatform/training/trainjob.yaml"
    assert options["--group-id"] == "risk.fraud-risk-retraining"
    assert (options["--dedup-window"], options["--cooldown"]) == ("3600", "1800")
    assert options["--metrics-port"] == "9100"


def test_trainjob_template_is_the_queued_sample_trainjob(declared):
    config_map = plain_object(declared[("ConfigMap", "fraud-risk-trainjob-template")])
    template = yaml.safe_load(config_map["data"]["trainjob.yaml"])
    assert template == _template()
    assert template["metadata"]["labels"][c.KUEUE_QUEUE_LABEL] == c.LOCAL_QUEUE


def test_trainjob_template_resolves_deploy_time_values(run_program):
    """The stack passes the offline store's bucket as an Output: the YAML waits for it."""

    def program() -> None:
        labelled = pulumi.Output.from_input("s3://bucket-123/feast").apply(lambda u: u + "/x")
        template = {**_template(), "spec": {**_template()["spec"], "trainer": {"args": [labelled]}}}
        retraining = replace(_args().retraining, template=template)
        provider = k8s.Provider("k8s", kubeconfig="{}")
        MlLoop("loop", _args(retraining=retraining), pulumi.ResourceOptions(provider=provider))

    config_map = by_kind(run_program(program))[("ConfigMap", "fraud-risk-trainjob-template")]
    template = yaml.safe_load(plain_object(config_map)["data"]["trainjob.yaml"])
    assert template["spec"]["trainer"]["args"] == ["s3://bucket-123/feast/x"]


def test_template_without_a_queue_is_refused():
    template = _template()
    del template["metadata"]["labels"][c.KUEUE_QUEUE_LABEL]
    with pytest.raises(ValueError, match=r"needs the label kueue\.x-k8s\.io/queue-name"):
        replace(_args().retraining, template=template)


def test_controller_reaches_the_api_server_on_every_cni():
    objects = _objects(_args())
    policy = objects[("NetworkPolicy", "allow-fraud-risk-retraining-api-server")]["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "retraining-controller"
    assert policy["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.40.0.0/28"}}]
    assert ("CiliumNetworkPolicy", "allow-fraud-risk-retraining-api-server") not in objects
    cilium = replace(_args().retraining, api_server=replace(API, cilium=True))
    with_cilium = _objects(_args(retraining=cilium))
    cnp = with_cilium[("CiliumNetworkPolicy", "allow-fraud-risk-retraining-api-server")]
    assert cnp["spec"]["egress"][0]["toEntities"] == ["kube-apiserver"]
    flow = next(f for f in flows(_args()) if f.name == "fraud-risk-retraining→api-server")
    assert flow.to_json()["to"] == {"api-server": True}


# --------------------------------------------------------------------------- rollout


def test_canary_guard_reads_the_challenger_and_rolls_back_at_the_thresholds():
    objects = _objects(_args())
    service = objects[("Service", "fraud-risk-challenger-metrics")]["spec"]
    assert service["selector"] == {
        "serving.kserve.io/inferenceservice": "fraud-risk",
        "mlplatform.io/model-alias": "challenger",
    }
    cron = objects[("CronJob", "fraud-risk-canary-guard")]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    command = _pod(cron)["containers"][0]["command"]
    options = dict(zip(command[4::2], command[5::2], strict=True))
    # the predictors serve HTTPS only: the guard verifies them with the platform CA bundle
    assert options["--metrics-url"] == (
        "https://fraud-risk-challenger-metrics.tenant-risk.svc:8080/metrics"
    )
    assert options["--ca-file"] == f"{c.CA_BUNDLE_MOUNT}/ca.crt"
    assert (options["--max-error-rate"], options["--max-p99-ms"]) == ("0.02", "250")
    assert (options["--window"], options["--min-requests"]) == ("120", "50")
    rules = cron["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["onExitCodes"]["values"] == [2, 3]  # 3: rolled back, never repeated
    mounts = {m["mountPath"] for m in _pod(cron)["containers"][0]["volumeMounts"]}
    assert "/home/mlplatform/.mlflow" in mounts  # the tenant's MLflow user moves the alias
    assert c.CA_BUNDLE_MOUNT in mounts  # where --ca-file is


def test_no_guard_without_a_canary():
    kinds = {k for k in _objects(_args(rollout=None))}
    assert ("CronJob", "fraud-risk-canary-guard") not in kinds
    assert ("Service", "fraud-risk-challenger-metrics") not in kinds


def test_error_rate_threshold_must_be_a_share():
    with pytest.raises(ValueError, match=r"maxErrorRate 2\.0 must be between 0 and 1"):
        replace(_args().rollout, max_error_rate=2.0)


# --------------------------------------------------------------------------- batch


def test_batch_scoring_is_a_suspended_indexed_job_writing_one_prefix_per_run():
    cron = _objects(_args())[("CronJob", "fraud-risk-batch-score")]
    assert cron["spec"]["suspend"] is True
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == 4
    container = job["template"]["spec"]["containers"][0]
    env = _env(container)
    assert env["JOB_COMPLETIONS"] == "4"
    assert env["MLP_BATCH_RUN"] == {
        "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
    }
    command = container["command"]
    assert command[command.index("--input") + 1].endswith("/risk/batch/transactions/")
    output = command[command.index("--output-prefix") + 1]
    # one prefix per run: Kubernetes expands $(MLP_BATCH_RUN) to the Job's name
    assert output == "s3://feast-offline/feast/risk/batch/scores/$(MLP_BATCH_RUN)/"


def test_batch_reads_the_onprem_store_with_credentials_as_files(declared):
    cron = plain_object(declared[("CronJob", "fraud-risk-batch-score")])
    container = _pod(cron)["containers"][0]
    env = _env(container)
    assert env["AWS_ENDPOINT_URL_S3"] == "https://s3.dc1.example.ae"
    assert env["AWS_CA_BUNDLE"] == "/etc/mlplatform/object-store-ca/ca.crt"
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    shell = container["command"][2]
    assert 'AWS_ACCESS_KEY_ID="$(cat /etc/mlplatform/object-store/username)"' in shell
    assert "s3://feast-offline/feast/risk/batch/scores/$(MLP_BATCH_RUN)/" in container["command"]


def test_cloud_stores_use_the_workload_identity():
    blob = ObjectStore(
        kind="azure-blob",
        endpoint=None,
        region="uaenorth",
        artifact_uri="wasbs://mlflow@acct.blob.core.windows.net/mlflow",
        offline_store_uri="abfss://feast@acct.dfs.core.windows.net/feast",
    )
    assert store_access(blob).env == {} and store_access(blob).volumes == []
    s3 = replace(blob, kind="s3", region="me-central-1")
    assert store_access(s3).env == {"AWS_REGION": "me-central-1"}
    managed = replace(ONPREM_STORE, credentials=Credentials(username="a", password="b"))
    with pytest.raises(ValueError, match=r"objectStore\.credentialsSecret"):
        store_access(managed)


def test_batch_partitions_are_bounded():
    with pytest.raises(ValueError, match="partitions 0 must be between 1 and 100"):
        replace(_args().batch, partitions=0)

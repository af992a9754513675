"""`LogShipping`: every container's log, and on-prem the API server's audit log, shipped to the
stack's in-country store by Fluent Bit (one DaemonSet from its chart), nothing dropped.

| target | output | audit log |
|---|---|---|
| AWS | CloudWatch Logs in me-central-1: the stack's log group (CMK) | EKS ships it (LOG-002) |
| on-prem | the site's syslog/SIEM over TLS (RFC 5424, verified) | tailed on control planes |

(Azure ships container logs with AKS Container Insights to the stack's Log Analytics workspace.)

Chunks are buffered on the node's disk (`storage.type filesystem`, unlimited retries): a SIEM or
CloudWatch outage delays logs, it does not lose them. Reading `/var/log` needs hostPath volumes,
which Pod Security `restricted` and `baseline` refuse: the `mlplatform-logging` namespace is a
declared privileged exemption (`components.namespace.PSS_EXEMPTIONS`); the container still runs
read-only, with no capabilities and no privilege escalation.

On-prem the site's API server must write the audit log: `audit_policy()` is the Policy to give
it (`--audit-policy-file`), published as the ConfigMap `kube-apiserver-audit-policy` (label
`mlplatform.io/audit-policy`) for the site's control-plane configuration, with the flags in
`AUDIT_FLAGS`.

| child | purpose |
|---|---|
| Namespace `mlplatform-logging` | privileged (hostPath), exemption recorded on it |
| helm Release fluent-bit | the DaemonSet, mirror image, the pipeline below |
| ConfigMap `kube-apiserver-audit-policy` | on-prem: the audit Policy the site's API server loads |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import conventions as c
from components.helm import chart_labels, helm_release
from components.namespace import platform_namespace, pull_secrets
from version_catalogue.artifacts import Chart, Image

NAMESPACE = "mlplatform-logging"
RELEASE = "fluent-bit"
AUDIT_LOG = "/var/log/kubernetes/audit/audit.log"
AUDIT_POLICY_LABEL = "mlplatform.io/audit-policy"
AUDIT_POLICY_CONFIGMAP = "kube-apiserver-audit-policy"
AUDIT_FLAGS = (
    "--audit-policy-file=/etc/kubernetes/audit/audit-policy.yaml",
    f"--audit-log-path={AUDIT_LOG}",
    "--audit-log-maxage=7",  # the node keeps a week; the SIEM keeps logging.retentionDays
    "--audit-log-maxbackup=10",
    "--audit-log-maxsize=100",
)
BUFFER = "/var/fluent-bit/buffer"
CONTROL_PLANE_TOLERATION = {
    "key": "node-role.kubernetes.io/control-plane",
    "operator": "Exists",
    "effect": "NoSchedule",
}


@dataclass(frozen=True)
class SyslogOutput:
    """The site's SIEM collector: RFC 5424 over TLS, its certificate verified."""

    host: str
    port: int
    ca_file: str  # inside the pod (the platform CA bundle or the site's CA Secret)
    syslog_format: str = "rfc5424"


@dataclass(frozen=True)
class CloudWatchOutput:
    region: str
    log_group: str


@dataclass(frozen=True)
class LogShippingArgs:
    mirror: str
    labels: dict[str, str]
    chart: Chart
    image: Image
    output: SyslogOutput | CloudWatchOutput
    ca_configmap: str | None = None  # ConfigMap holding the CA the output verifies against
    ca_secret: str | None = None  # or a Secret (key ca.crt) the site provides
    ship_audit_log: bool = False  # on-prem: tail the API server's audit log
    pull_secret: str | None = None
    service_account_annotations: dict[str, str] | None = None


def audit_policy() -> dict[str, Any]:
    """audit.k8s.io/v1 Policy: who changed what, never Secret contents, no health-check noise."""
    secrets = [{"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]}]
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version"]},
            {"level": "None", "users": ["system:kube-proxy"], "verbs": ["watch"]},
            {"level": "None", "resources": [{"group": "", "resources": ["events"]}]},
            # Secret values and tokens must never land in a log: metadata only
            {"level": "Metadata", "resources": secrets},
            {
                "level": "RequestResponse",
                "verbs": ["create", "update", "patch", "delete", "deletecollection"],
                "resources": [
                    {"group": "rbac.authorization.k8s.io"},
                    {"group": "trainer.kubeflow.org"},
                    {"group": "serving.kserve.io"},
                    {"group": "kafka.strimzi.io"},
                    {"group": "networking.k8s.io"},
                    {"group": "", "resources": ["namespaces", "resourcequotas"]},
                ],
            },
            {"level": "Request", "verbs": ["create", "update", "patch", "delete"]},
            {"level": "Metadata"},
        ],
    }


def _output(output: SyslogOutput | CloudWatchOutput) -> str:
    common = ["Match *", "Retry_Limit no_limits", "storage.total_limit_size 5G"]
    if isinstance(output, CloudWatchOutput):
        lines = [
            "Name cloudwatch_logs",
            f"region {output.region}",
            f"log_group_name {output.log_group}",
            "log_stream_prefix node-",
            "auto_create_group Off",
        ]
    else:
        lines = [
            "Name syslog",
            f"Host {output.host}",
            f"Port {output.port}",
            "Mode tls",
            "tls On",
            "tls.verify On",
            f"tls.ca_file {output.ca_file}",
            f"Syslog_Format {output.syslog_format}",
            "Syslog_Message_Key log",
            "Syslog_Hostname_Key node",
        ]
    return "[OUTPUT]\n" + "".join(f"    {line}\n" for line in lines + common)


def _inputs(args: LogShippingArgs) -> str:
    tail = (
        "[INPUT]\n    Name tail\n    Path /var/log/containers/*.log\n"
        "    multiline.parser cri, docker\n    Tag kube.*\n    storage.type filesystem\n"
        "    DB /var/fluent-bit/tail-containers.db\n    Skip_Long_Lines On\n"
    )
    if args.ship_audit_log:
        tail += (
            f"\n[INPUT]\n    Name tail\n    Path {AUDIT_LOG}\n    Parser json\n    Tag audit.*\n"
            "    storage.type filesystem\n    DB /var/fluent-bit/tail-audit.db\n"
        )
    return tail


TOKEN_REASON = "the kubernetes filter gets pod names, namespaces and labels for each log line"


def fluent_bit_values(args: LogShippingArgs) -> dict[str, Any]:
    """The fluent-bit chart's values: the pipeline, a read-only root, the node-local buffer."""
    ca_volume: list[dict[str, Any]] = []
    if args.ca_secret:
        ca_volume = [{"name": "output-ca", "secret": {"secretName": args.ca_secret}}]
    elif args.ca_configmap:
        ca_volume = [{"name": "output-ca", "configMap": {"name": args.ca_configmap}}]
    service = (
        "[SERVICE]\n    Daemon Off\n    Flush 1\n    Log_Level info\n"
        "    Parsers_File /fluent-bit/etc/parsers.conf\n"
        f"    storage.path {BUFFER}\n    storage.sync normal\n    storage.backlog.mem_limit 50M\n"
        "    HTTP_Server On\n    HTTP_Listen 0.0.0.0\n    HTTP_Port 2020\n    Health_Check On\n"
    )
    return {
        "image": {
            "repository": f"{args.mirror}/{args.image.path}",
            "tag": args.image.tag,
            "digest": args.image.digest or "",  # the chart appends `@<digest>` when set
        },
        "imagePullSecrets": pull_secrets(args.pull_secret),
        "testFramework": {"enabled": False},
        "labels": chart_labels(args.labels),
        "podLabels": chart_labels(args.labels),
        # the kubernetes filter reads each log's pod metadata from the API server (UAE-IAM-002)
        "podAnnotations": {c.TOKEN_REASON_ANNOTATION: TOKEN_REASON},
        "serviceAccount": {"annotations": dict(args.service_account_annotations or {})},
        "tolerations": [dict(c.GPU_TOLERATION), CONTROL_PLANE_TOLERATION],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsUser": 0,  # container log files are root's, mode 0640
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "daemonSetVolumes": [
            {"name": "varlog", "hostPath": {"path": "/var/log"}},
            {
                "name": "buffer",
                "hostPath": {"path": "/var/fluent-bit", "type": "DirectoryOrCreate"},
            },
            *ca_volume,
        ],
        "daemonSetVolumeMounts": [
            {"name": "varlog", "mountPath": "/var/log", "readOnly": True},
            {"name": "buffer", "mountPath": "/var/fluent-bit"},
            *(
                [{"name": "output-ca", "mountPath": "/etc/fluent-bit/ca", "readOnly": True}]
                if ca_volume
                else []
            ),
        ],
        "config": {
            "service": service,
            "inputs": _inputs(args),
            "filters": (
                "[FILTER]\n    Name kubernetes\n    Match kube.*\n    Merge_Log On\n"
                "    Keep_Log Off\n    K8S-Logging.Exclude On\n"
            ),
            "outputs": _output(args.output),
        },
    }


class LogShipping(pulumi.ComponentResource):
    namespace: str

    def __init__(
        self, name: str, args: LogShippingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:observability:LogShipping", name, None, opts)
        ns = platform_namespace(
            f"{name}-ns",
            NAMESPACE,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            privileged=True,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        deny: Any = {"name": "default-deny-ingress", "namespace": NAMESPACE, "labels": args.labels}
        deny_spec: Any = {"podSelector": {}, "policyTypes": ["Ingress"]}
        k8s.networking.v1.NetworkPolicy(
            f"{name}-np-default-deny-ingress",
            metadata=deny,
            spec=deny_spec,
            opts=in_ns,
        )
        if args.ship_audit_log:
            k8s.core.v1.ConfigMap(
                f"{name}-audit-policy",
                metadata={
                    "name": AUDIT_POLICY_CONFIGMAP,
                    "namespace": NAMESPACE,
                    "labels": {**args.labels, AUDIT_POLICY_LABEL: "true"},
                    "annotations": {"mlplatform.io/api-server-flags": " ".join(AUDIT_FLAGS)},
                },
                data={"audit-policy.yaml": yaml.safe_dump(audit_policy(), sort_keys=False)},
                opts=in_ns,
            )
        self.release = helm_release(
            f"{name}-release",
            release=RELEASE,
            chart=args.chart,
            mirror=args.mirror,
            namespace=NAMESPACE,
            values=fluent_bit_values(args),
            opts=in_ns,
        )
        self.namespace = NAMESPACE
        self.register_outputs({"namespace": NAMESPACE})

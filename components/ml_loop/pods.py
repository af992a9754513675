"""What every pod of a tenant's ML loop shares: its context, environment, volumes and container.

`LoopContext` is the tenant's side of the contract the loop's pods read (namespace, model,
MLflow, Kafka, topics, identity labels); each builder (`streaming`, `monitoring`,
`retraining`, `rollout`, `batch`) turns it and its own Args into plain manifests.

Every pod runs Pod Security `restricted` (`components.security_context`), a read-only root
filesystem with a size-limited `/tmp` (the images' HOME and heartbeat file live there), requests
equal to limits, and reads its credentials from files: MLflow's `credentials` file, the
Kafka credentials Secret (Strimzi), a projected, expiring service-account token where Feast's
Kubernetes authorization must identify the tenant. No pod automounts an API token unless it
calls the API server, and then it says why (`TOKEN_REASON_ANNOTATION`, UAE-IAM-002).

The loop's controllers that call the API server (the retraining controller, the stream scaler)
share their shape: a ServiceAccount of their own (`service_account`), a Role with only their
rules and its RoleBinding (`role`, `role_binding`), and egress to the API server on every CNI
(`api_server_policies`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import conventions as c
from components.api_server import CILIUM_API_SERVER_ENTITY, ApiServer, egress_rule
from components.credentials import SECRET_FILE_MODE
from components.ml_loop.kafka_client import KafkaClient
from components.ml_loop.topics import LoopTopics
from components.namespace import pull_secrets
from components.security_context import container_security, pod_security, tmp_volume

HOME = "/home/mlplatform"
FEAST_MOUNT = "/etc/mlplatform/feast"
SA_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
METRICS_PORT = 9100  # the port the monitoring stack scrapes on labelled tenant pods
SCRAPE_LABEL = "mlplatform.io/scrape"  # components.observability.monitors.SCRAPE_LABEL
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"


def selector(app: str, model_name: str) -> dict[str, str]:
    """The labels that select one piece (`app`) of a model's loop."""
    return {NAME_LABEL: app, INSTANCE_LABEL: model_name}


@dataclass(frozen=True)
class Needs:
    """Which shared services a pod talks to: decides what is mounted into it."""

    kafka: bool = True
    feast: bool = False  # the Feast client config and a projected token for its authz
    mlflow: bool = False  # the tenant's MLflow credentials file


@dataclass(frozen=True, kw_only=True)
class LoopContext:
    """One tenant's loop: where its pods run and the endpoints they read (the tenant contract)."""

    tenant: str
    namespace: str
    model_name: str
    labels: dict[str, str]  # governance labels of the tenant
    tracking_uri: pulumi.Input[str]
    kafka: KafkaClient
    topics: LoopTopics
    service_account: str = "workloads"  # the tenant's workload identity (Kafka, Feast, store)
    ca_bundle: str = "mlplatform-ca-bundle"
    pull_secret: str | None = None
    # Labels the tenant's pods need for their cloud identity (Azure Workload Identity's webhook)
    identity_labels: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # e.g. object store

    def selector(self, app: str) -> dict[str, str]:
        return selector(app, self.model_name)

    def pod_labels(self, app: str, scrape: bool = False) -> dict[str, str]:
        labels = {
            **self.labels,
            **self.identity_labels,  # e.g. azure.workload.identity/use (Event Hubs, Blob)
            **self.selector(app),
            COMPONENT_LABEL: "ml-loop",
            c.TENANT_LABEL: self.tenant,
        }
        if scrape:
            labels[SCRAPE_LABEL] = "true"
        return labels

    def metadata(self, name: str, app: str) -> dict[str, Any]:
        labels = {**self.labels, **self.selector(app), COMPONENT_LABEL: "ml-loop"}
        return {"name": name, "namespace": self.namespace, "labels": labels}

    def env(self, needs: Needs, **extra: pulumi.Input[str]) -> list[dict[str, Any]]:
        """The workloads' environment (`workloads/settings.py`): endpoints, topics, tenant;
        Kafka's settings only where the pod talks to Kafka."""
        values: dict[str, pulumi.Input[str]] = {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_SERVER_CERT_PATH": f"{c.CA_BUNDLE_MOUNT}/ca.crt",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "MLP_MODEL_NAME": self.model_name,
            "MLP_TENANT": self.tenant,
            "MLP_FEATURE_STORE_YAML": f"{FEAST_MOUNT}/feature_store.yaml",
            "HOME": HOME,
            "XDG_CACHE_HOME": "/tmp/.cache",
            **(self.kafka.env() if needs.kafka else {}),
            **self.topics.env(),
            **self.extra_env,
            **extra,
        }
        return [{"name": k, "value": v} for k, v in values.items()]


_SA_TOKEN_VOLUME = {
    "name": "sa-token",
    "projected": {
        "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]
    },
}


def volumes(ctx: LoopContext, needs: Needs, tmp_size: str = "1Gi") -> list[dict[str, Any]]:
    tmp, _ = tmp_volume(tmp_size)
    found: list[dict[str, Any]] = [tmp, {"name": "ca-bundle", "configMap": {"name": ctx.ca_bundle}}]
    if needs.kafka:
        found += ctx.kafka.volumes()
    if needs.feast:
        found += [
            {"name": "feast-client", "configMap": {"name": c.FEAST_CLIENT_CONFIG}},
            _SA_TOKEN_VOLUME,
        ]
    if needs.mlflow:
        found.append(
            {
                "name": "mlflow-credentials",
                "secret": {
                    "secretName": c.MLFLOW_CREDENTIALS_SECRET,
                    "defaultMode": SECRET_FILE_MODE,
                    "items": [{"key": "credentials", "path": "credentials"}],
                },
            }
        )
    return found


def mounts(ctx: LoopContext, needs: Needs) -> list[dict[str, Any]]:
    _, tmp = tmp_volume()
    found: list[dict[str, Any]] = [
        tmp,
        {"name": "ca-bundle", "mountPath": c.CA_BUNDLE_MOUNT, "readOnly": True},
    ]
    if needs.kafka:
        found += ctx.kafka.mounts()
    if needs.feast:
        found += [
            {"name": "feast-client", "mountPath": FEAST_MOUNT, "readOnly": True},
            {"name": "sa-token", "mountPath": SA_TOKEN_PATH, "readOnly": True},
        ]
    if needs.mlflow:
        found.append(
            {"name": "mlflow-credentials", "mountPath": f"{HOME}/.mlflow", "readOnly": True}
        )
    return found


def resources(cpu: str, memory: str) -> dict[str, Any]:
    amounts = {"cpu": cpu, "memory": memory}
    return {"requests": amounts, "limits": dict(amounts)}


def container(
    name: str,
    image: str,
    command: list[Any],
    env: list[dict[str, Any]],
    volume_mounts: list[dict[str, Any]],
    cpu: str,
    memory: str,
) -> dict[str, Any]:
    """A hardened container (`restricted`, read-only root, requests = limits)."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": env,
        "resources": resources(cpu, memory),
        "securityContext": container_security(),
        "volumeMounts": volume_mounts,
    }


def pod_spec(
    ctx: LoopContext,
    containers: list[dict[str, Any]],
    pod_volumes: list[dict[str, Any]],
    *,
    restart_policy: str = "Always",
    service_account: str | None = None,
    api_token: bool = False,
) -> dict[str, Any]:
    """A pod spec of the loop: the tenant's (or a given) ServiceAccount, no API token unless
    `api_token` (the caller's template then carries the reason annotation)."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account or ctx.service_account,
        "automountServiceAccountToken": api_token,
        "securityContext": pod_security(),
        "restartPolicy": restart_policy,
        "containers": containers,
        "volumes": pod_volumes,
    }
    secrets = pull_secrets(ctx.pull_secret)
    if secrets:
        spec["imagePullSecrets"] = secrets
    return spec


def has_outputs(value: Any) -> bool:
    """Whether `value` holds Pulumi Outputs anywhere (then it resolves at deploy time)."""
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, dict):
        return any(has_outputs(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_outputs(v) for v in value)
    return False


def concat(*parts: pulumi.Input[str]) -> pulumi.Input[str]:
    """Strings joined: plainly when they are plain, as an Output when one is an Output."""
    if has_outputs(parts):
        return pulumi.Output.concat(*parts)
    return "".join(str(p) for p in parts)


def heartbeat_probe(max_age_seconds: int) -> dict[str, Any]:
    """Liveness from the heartbeat file the workload touches (`workloads.health`)."""
    return {
        "exec": {
            "command": ["python", "-m", "workloads.health", "--max-age", str(max_age_seconds)]
        },
        "initialDelaySeconds": 60,
        "periodSeconds": 30,
        "timeoutSeconds": 10,
        "failureThreshold": 3,
    }


def metrics_probe(initial_delay: int = 0) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/metrics", "port": "metrics"},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 10,
    }


def metrics_port() -> dict[str, Any]:
    return {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}


def service_account(
    ctx: LoopContext, name: str, app: str, annotations: dict[str, pulumi.Input[str]]
) -> dict[str, Any]:
    """A controller's own ServiceAccount (token automount off: only its pod mounts one)."""
    metadata = ctx.metadata(name, app)
    metadata["annotations"] = dict(annotations)
    account: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,
    }
    if ctx.pull_secret:
        account["imagePullSecrets"] = [{"name": ctx.pull_secret}]
    return account


def role(ctx: LoopContext, name: str, app: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": ctx.metadata(name, app),
        "rules": rules,
    }


def role_binding(ctx: LoopContext, name: str, app: str) -> dict[str, Any]:
    """Binds the Role `name` to the ServiceAccount `name`, in the tenant namespace only."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": ctx.metadata(name, app),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ctx.namespace}],
    }


def controller_deployment(
    ctx: LoopContext, name: str, app: str, spec: dict[str, Any], token_reason: str
) -> dict[str, Any]:
    """A controller's Deployment: 1 replica, `Recreate` (never two at once, even during an
    update), scraped, its API token's reason on the pod (UAE-IAM-002)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ctx.metadata(name, app),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": ctx.selector(app)},
            "template": {
                "metadata": {
                    "labels": ctx.pod_labels(app, scrape=True),
                    "annotations": {c.TOKEN_REASON_ANNOTATION: token_reason},
                },
                "spec": spec,
            },
        },
    }


def api_server_policies(
    ctx: LoopContext, workload: str, app: str, api_server: ApiServer
) -> list[dict[str, Any]]:
    """Egress from the `app` pods to the API server, on every CNI (`components.api_server`)."""
    selector = {"matchLabels": ctx.selector(app)}
    policy_name = f"allow-{workload}-api-server"
    policies: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": ctx.metadata(policy_name, app),
            "spec": {
                "podSelector": selector,
                "policyTypes": ["Egress"],
                "egress": [egress_rule(api_server)],
            },
        }
    ]
    if api_server.cilium:
        ports = [{"port": str(p), "protocol": "TCP"} for p in api_server.ports]
        policies.append(
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": ctx.metadata(policy_name, app),
                "spec": {
                    "endpointSelector": selector,
                    "egress": [
                        {"toEntities": [CILIUM_API_SERVER_ENTITY], "toPorts": [{"ports": ports}]}
                    ],
                },
            }
        )
    return policies

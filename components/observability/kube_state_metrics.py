"""kube-state-metrics, declared by the platform (the pinned kube-prometheus-stack tree in the
chart cache lacks its sub-chart): the Job, Pod, Deployment and Namespace metrics the training
alerts and dashboards read (`kube_job_failed`, `kube_job_owner`...).

Read-only RBAC limited to those resources; Pod Security `restricted`; no API token other than
its own (it lists objects, which is its job: the reason is on the pod).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.namespace import pull_secrets

NAME = "kube-state-metrics"
PORT = 8080
RESOURCES = {
    "batch": ["jobs", "cronjobs"],
    "": ["pods", "namespaces"],
    "apps": ["deployments", "statefulsets", "daemonsets"],
}
POD_LABELS = {"app.kubernetes.io/name": NAME}


def _container(image: str) -> dict[str, Any]:
    return {
        "name": NAME,
        "image": image,
        "args": [
            f"--port={PORT}",
            "--resources=" + ",".join(sorted(r for rs in RESOURCES.values() for r in rs)),
        ],
        "ports": [{"name": "http-metrics", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8081}},
        "livenessProbe": {"httpGet": {"path": "/livez", "port": PORT}},
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def kube_state_metrics(
    name: str,
    namespace: str,
    image: str,
    labels: dict[str, str],
    pull_secret: str | None,
    tolerations: tuple[dict[str, str], ...],
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    """ServiceAccount, read-only ClusterRole and binding, and the Deployment."""
    meta: Any = {"name": NAME, "namespace": namespace, "labels": {**labels, **POD_LABELS}}
    cluster_meta: Any = {"name": f"mlplatform-{NAME}", "labels": labels}
    # the token is mounted by the pod that needs it (reason annotated), never by default
    account = k8s.core.v1.ServiceAccount(
        f"{name}-ksm-sa", metadata=meta, automount_service_account_token=False, opts=opts
    )
    rules: Any = [
        {"apiGroups": [group], "resources": resources, "verbs": ["list", "watch"]}
        for group, resources in RESOURCES.items()
    ]
    role = k8s.rbac.v1.ClusterRole(
        f"{name}-ksm-role", metadata=cluster_meta, rules=rules, opts=opts
    )
    role_ref: Any = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role.metadata.name,
    }
    subjects: Any = [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}]
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-ksm-binding",
        metadata=cluster_meta,
        role_ref=role_ref,
        subjects=subjects,
        opts=opts,
    )
    pod_meta = {
        "labels": {**labels, **POD_LABELS},
        "annotations": {c.TOKEN_REASON_ANNOTATION: "lists Jobs, Pods and Deployments to export"},
    }
    spec: Any = {
        "replicas": 1,
        "selector": {"matchLabels": POD_LABELS},
        "template": {
            "metadata": pod_meta,
            "spec": {
                "serviceAccountName": NAME,
                "automountServiceAccountToken": True,
                "imagePullSecrets": pull_secrets(pull_secret),
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "runAsGroup": 65534,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "tolerations": [dict(t) for t in tolerations],
                "containers": [_container(image)],
            },
        },
    }
    return k8s.apps.v1.Deployment(
        f"{name}-ksm",
        metadata=meta,
        spec=spec,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[account])),
    )

"""Helm values of the monitoring stack's charts: kube-prometheus-stack and Grafana.

Pure functions of `MonitoringStackArgs` (no Pulumi), so tests can render them with the real
charts. What is switched off, and why:

- node exporter (hostNetwork, hostPID, hostPath: not admissible under Pod Security
  `restricted`): node metrics come from the kubelet's cAdvisor;
- kube-state-metrics sub-chart: absent from the pinned chart tree (the release is rendered from
  the chart cache, and the cache's kube-prometheus-stack carries only its `crds` sub-chart);
  the stack runs kube-state-metrics itself (`components.observability.kube_state_metrics`);
- the bundled Grafana: Grafana is its own release (its own chart, OIDC sign-in);
- etcd, scheduler, controller-manager, kube-proxy scraping: managed control planes (EKS, AKS)
  do not expose them, and the on-prem site's control plane is the site's to monitor.

Prometheus and Alertmanager keep their data on the stack's encrypted StorageClass; they only
pick up ServiceMonitors, PodMonitors and PrometheusRules from the monitoring namespace
(tenants cannot add scrape jobs or rules to the platform's Prometheus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.helm import chart_labels
from components.namespace import pull_secrets
from components.observability.alerting import AlertRouting
from version_catalogue.artifacts import Chart, Image

RELEASE = "kube-prometheus-stack"
NAMESPACE = "mlplatform-monitoring"
PROMETHEUS_SERVICE = f"{RELEASE}-prometheus"
ALERTMANAGER_SERVICE = f"{RELEASE}-alertmanager"
PROMETHEUS_URL = f"http://{PROMETHEUS_SERVICE}.{NAMESPACE}.svc:9090"
GRAFANA_RELEASE = "grafana"
OIDC_SECRET_MOUNT = "/etc/grafana/oidc"
GRAFANA_ADMIN_SECRET = "grafana-admin"  # break-glass admin, a generated Pulumi secret
ADMIN_SECRET_MOUNT = "/etc/grafana/admin"  # read as files (GF_*__FILE), never env values
ALERTMANAGER_SECRET = "alertmanager-mlplatform"  # alertmanager.yaml (receivers may hold tokens)


@dataclass(frozen=True)
class MonitoringImages:
    operator: Image
    prometheus: Image
    alertmanager: Image
    config_reloader: Image
    thanos: Image  # the operator's default sidecar base (not run: no Thanos configured)
    kube_state_metrics: Image
    grafana: Image


@dataclass(frozen=True)
class GrafanaOidc:
    """Grafana's generic OAuth sign-in against the bank's IdP (OpenID Connect)."""

    issuer_url: str
    client_id: str
    client_secret: str  # Secret in the monitoring namespace, key `client-secret`
    admin_group: str
    editor_group: str | None = None
    groups_claim: str = "groups"
    scopes: tuple[str, ...] = ("openid", "profile", "email", "groups")
    # OpenID endpoints; default: the issuer's Keycloak / Red Hat SSO paths
    auth_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None


@dataclass(frozen=True)
class StackCharts:
    prometheus_stack: Chart
    grafana: Chart


@dataclass(frozen=True)
class Retention:
    days: int
    prometheus_gi: int
    alertmanager_gi: int


@dataclass(frozen=True)
class MonitoringValuesArgs:
    mirror: str
    labels: dict[str, str]
    images: MonitoringImages
    storage_class: str
    retention: Retention
    routing: AlertRouting
    cluster_issuer: str
    pull_secret: str | None = None
    external_labels: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, str], ...] = ()


def stack_labels(labels: dict[str, str]) -> dict[str, str]:
    """Governance labels for kube-prometheus-stack: it sets managed-by and part-of itself."""
    return {k: v for k, v in chart_labels(labels).items() if k != "app.kubernetes.io/part-of"}


def _image(image: Image, mirror: str) -> dict[str, Any]:
    """The charts' image block; `sha` (hex, no algorithm) pins the digest where there is one."""
    block = {"registry": mirror, "repository": image.path, "tag": image.tag}
    if image.digest:
        block["sha"] = image.digest.removeprefix("sha256:")
    return block


def _volume(storage_class: str, gi: int) -> dict[str, Any]:
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": storage_class,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{gi}Gi"}},
            }
        }
    }


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    limit = f"{int(cpu.rstrip('m')) * 4}m" if cpu.endswith("m") else str(int(cpu) * 4)
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": limit, "memory": memory}}


def _own_namespace() -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}


def _prometheus_spec(args: MonitoringValuesArgs) -> dict[str, Any]:
    return {
        "image": _image(args.images.prometheus, args.mirror),
        "retention": f"{args.retention.days}d",
        "storageSpec": _volume(args.storage_class, args.retention.prometheus_gi),
        "externalLabels": dict(args.external_labels),
        "podMetadata": {"labels": dict(args.labels)},
        "resources": _resources("500m", "4Gi"),
        "tolerations": [dict(t) for t in args.tolerations],
        # only the platform's monitors and rules (the monitoring namespace), not tenants'
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "probeSelectorNilUsesHelmValues": False,
        "serviceMonitorNamespaceSelector": _own_namespace(),
        "podMonitorNamespaceSelector": _own_namespace(),
        "ruleNamespaceSelector": _own_namespace(),
        "probeNamespaceSelector": _own_namespace(),
    }


def _alertmanager(args: MonitoringValuesArgs) -> dict[str, Any]:
    return {
        "alertmanagerSpec": {
            "useExistingSecret": True,
            "configSecret": ALERTMANAGER_SECRET,
            "image": _image(args.images.alertmanager, args.mirror),
            "storage": _volume(args.storage_class, args.retention.alertmanager_gi),
            "podMetadata": {"labels": dict(args.labels)},
            "resources": _resources("50m", "256Mi"),
            "tolerations": [dict(t) for t in args.tolerations],
            "secrets": list(args.routing.secrets),
        },
    }


def _operator(args: MonitoringValuesArgs) -> dict[str, Any]:
    return {
        "image": _image(args.images.operator, args.mirror),
        "prometheusConfigReloader": {"image": _image(args.images.config_reloader, args.mirror)},
        "thanosImage": _image(args.images.thanos, args.mirror),
        "resources": _resources("100m", "256Mi"),
        "tolerations": [dict(t) for t in args.tolerations],
        # the webhook's certificate from the platform CA (no certgen Job, no extra image)
        "admissionWebhooks": {
            "certManager": {
                "enabled": True,
                "issuerRef": {"name": args.cluster_issuer, "kind": "ClusterIssuer"},
            },
            "patch": {"enabled": False},
        },
    }


def prometheus_stack_values(args: MonitoringValuesArgs) -> dict[str, Any]:
    """kube-prometheus-stack: the operator, Prometheus and Alertmanager; the rest off."""
    return {
        "global": {"imagePullSecrets": pull_secrets(args.pull_secret)},
        "commonLabels": stack_labels(args.labels),
        "crds": {"enabled": True},
        "defaultRules": {
            "rules": {
                "etcd": False,
                "kubeSchedulerAlerting": False,
                "kubeSchedulerRecording": False,
                "kubeControllerManager": False,
                "kubeProxy": False,
                "node": False,
                "nodeExporterAlerting": False,
                "nodeExporterRecording": False,
                "windows": False,
            },
        },
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "nodeExporter": {"enabled": False},
        "kubeStateMetrics": {"enabled": False},
        "windowsMonitoring": {"enabled": False},
        "grafana": {"enabled": False},
        "prometheusOperator": _operator(args),
        "prometheus": {"prometheusSpec": _prometheus_spec(args)},
        "alertmanager": _alertmanager(args),
    }


def _oidc_ini(oidc: GrafanaOidc) -> dict[str, Any]:
    base = f"{oidc.issuer_url}/protocol/openid-connect"
    roles = f"contains({oidc.groups_claim}[*], '{oidc.admin_group}') && 'Admin'"
    if oidc.editor_group:
        roles += f" || contains({oidc.groups_claim}[*], '{oidc.editor_group}') && 'Editor'"
    return {
        "enabled": True,
        "name": "Bank SSO",
        "client_id": oidc.client_id,
        "client_secret": f"$__file{{{OIDC_SECRET_MOUNT}/client-secret}}",
        "scopes": " ".join(oidc.scopes),
        "auth_url": oidc.auth_url or f"{base}/auth",
        "token_url": oidc.token_url or f"{base}/token",
        "api_url": oidc.userinfo_url or f"{base}/userinfo",
        "use_pkce": True,
        "use_refresh_token": True,
        "role_attribute_path": f"{roles} || 'Viewer'",
        "role_attribute_strict": False,
        "allow_sign_up": True,
        "tls_client_ca": "/etc/ssl/certs/ca-certificates.crt",
    }


DASHBOARD_PROVIDER = "mlplatform"
DASHBOARDS_CONFIGMAP = "mlplatform-dashboards"


def grafana_values(
    args: MonitoringValuesArgs, oidc: GrafanaOidc, replicas: int = 1
) -> dict[str, Any]:
    """Grafana: sign-in only through the IdP, Prometheus as its data source, the dashboards
    (ConfigMap `mlplatform-dashboards`, made by the component: no download init container)."""
    provider = DASHBOARD_PROVIDER
    return {
        "global": {"imagePullSecrets": pull_secrets(args.pull_secret)},
        "image": _image(args.images.grafana, args.mirror),
        "replicas": replicas,
        "automountServiceAccountToken": False,  # no sidecar: Grafana never calls the API
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET},
        # the break-glass admin from files: the chart then puts no secretKeyRef in the env
        "env": {
            "GF_SECURITY_ADMIN_USER__FILE": f"{ADMIN_SECRET_MOUNT}/admin-user",
            "GF_SECURITY_ADMIN_PASSWORD__FILE": f"{ADMIN_SECRET_MOUNT}/admin-password",
        },
        "extraLabels": chart_labels(args.labels),
        "resources": _resources("100m", "512Mi"),
        "tolerations": [dict(t) for t in args.tolerations],
        "testFramework": {"enabled": False},
        "initChownData": {"enabled": False},
        "persistence": {"enabled": False},  # dashboards are code; users come from the IdP
        "extraSecretMounts": [
            {
                "name": "admin",
                "secretName": GRAFANA_ADMIN_SECRET,
                "mountPath": ADMIN_SECRET_MOUNT,
                "readOnly": True,
            },
            {
                "name": "oidc",
                "secretName": oidc.client_secret,
                "mountPath": OIDC_SECRET_MOUNT,
                "readOnly": True,
            },
        ],
        "grafana.ini": {
            "auth": {"disable_login_form": True, "oauth_auto_login": True},
            "auth.basic": {"enabled": False},
            "auth.anonymous": {"enabled": False},
            "auth.generic_oauth": _oidc_ini(oidc),
            "users": {"allow_sign_up": False},
            "analytics": {"check_for_updates": False},
            "security": {"cookie_secure": True, "disable_gravatar": True},
        },
        "datasources": {
            "datasources.yaml": {
                "apiVersion": 1,
                "datasources": [
                    {
                        "name": "Prometheus",
                        "uid": "prometheus",
                        "type": "prometheus",
                        "url": PROMETHEUS_URL,
                        "access": "proxy",
                        "isDefault": True,
                    }
                ],
            }
        },
        "dashboardProviders": {
            "dashboardproviders.yaml": {
                "apiVersion": 1,
                "providers": [
                    {
                        "name": provider,
                        "folder": "mlplatform",
                        "type": "file",
                        "disableDeletion": True,
                        "editable": False,
                        "options": {"path": f"/var/lib/grafana/dashboards/{provider}"},
                    }
                ],
            }
        },
        "dashboardsConfigMaps": {provider: DASHBOARDS_CONFIGMAP},
    }

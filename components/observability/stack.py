"""`MonitoringStack`: metrics, alerts and dashboards of the platform, in-cluster and in-country.

| child | purpose |
|---|---|
| Namespace `mlplatform-monitoring` | PSS restricted; default-deny ingress + the paths below |
| helm Release kube-prometheus-stack | operator, Prometheus, Alertmanager (`values`) |
| PrometheusRule `mlplatform-alerts` | the platform's alert and recording rules (`rules`) |
| a Pod/ServiceMonitor per target | `monitors`; `allow-prometheus-*` in each target namespace |
| kube-state-metrics | Job/Pod metrics of the training alerts (`kube_state_metrics`) |
| Secret `alertmanager-mlplatform` | alertmanager.yaml: receivers (URLs may hold tokens) |
| ConfigMap `mlplatform-dashboards` | the dashboards (`dashboards`) |
| helm Release grafana | sign-in through the bank's IdP; only when `grafana_oidc` is set |
| Secret `grafana-admin` | a generated break-glass admin (the login form is off) |

Prometheus' and Alertmanager's volumes use the stack's encrypted StorageClass; retention, the
receivers and routes come from the stack config. Ingress in the namespace: Grafana → Prometheus
(9090), Prometheus → Alertmanager (9093/9094 between replicas), the API server → the operator's
admission webhook (10250), users → Grafana (3000, behind the IdP).

Outputs: `prometheus_url`, `namespace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.helm import helm_release
from components.namespace import platform_namespace
from components.observability.alerting import alertmanager_config
from components.observability.dashboards import Dashboard
from components.observability.kube_state_metrics import kube_state_metrics
from components.observability.monitors import PROMETHEUS_POD, ScrapeTarget
from components.observability.values import (
    ALERTMANAGER_SECRET,
    DASHBOARDS_CONFIGMAP,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_RELEASE,
    NAMESPACE,
    PROMETHEUS_URL,
    RELEASE,
    GrafanaOidc,
    MonitoringValuesArgs,
    StackCharts,
    grafana_values,
    prometheus_stack_values,
)


@dataclass(frozen=True)
class MonitoringStackArgs:
    values: MonitoringValuesArgs
    charts: StackCharts
    rule_groups: tuple[dict[str, Any], ...]
    dashboards: tuple[Dashboard, ...]
    targets: tuple[ScrapeTarget, ...]
    grafana_oidc: GrafanaOidc | None = None
    grafana_replicas: int = 1


def _policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "spec": spec}


def _ingress_rules() -> list[dict[str, Any]]:
    """Who may connect to what inside the monitoring namespace."""

    def pods(labels: dict[str, str]) -> dict[str, Any]:
        return {"podSelector": {"matchLabels": labels}}

    def port(*numbers: int) -> list[dict[str, Any]]:
        return [{"protocol": "TCP", "port": n} for n in numbers]

    grafana = {"app.kubernetes.io/name": "grafana"}
    alertmanager = {"app.kubernetes.io/name": "alertmanager"}
    return [
        _policy("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}),
        _policy(
            "allow-prometheus",
            {
                "podSelector": {"matchLabels": dict(PROMETHEUS_POD)},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [pods(grafana), pods(PROMETHEUS_POD)], "ports": port(9090)}],
            },
        ),
        _policy(
            "allow-alertmanager",
            {
                "podSelector": {"matchLabels": alertmanager},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [pods(PROMETHEUS_POD), pods(alertmanager), pods(grafana)],
                        "ports": port(9093, 9094),
                    }
                ],
            },
        ),
        # the API server calls the operator's admission webhook (source differs per cluster)
        _policy(
            "allow-api-server",
            {
                "podSelector": {"matchLabels": {"app": "kube-prometheus-stack-operator"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": port(10250)}],
            },
        ),
        _policy(
            "allow-grafana-users",
            {
                "podSelector": {"matchLabels": grafana},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": port(3000)}],
            },
        ),
        _policy(
            "allow-scrape-exporters",
            {
                "podSelector": {
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "In",
                            "values": ["kube-state-metrics"],
                        }
                    ]
                },
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [pods(PROMETHEUS_POD)], "ports": port(8080)}],
            },
        ),
    ]


class MonitoringStack(pulumi.ComponentResource):
    prometheus_url: str
    namespace: str

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:observability:MonitoringStack", name, None, opts)
        labels = args.values.labels
        ns = platform_namespace(
            f"{name}-ns", NAMESPACE, labels, pulumi.ResourceOptions(parent=self)
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        for policy in _ingress_rules():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-np-{policy['name']}",
                metadata={"name": policy["name"], "namespace": NAMESPACE, "labels": labels},
                spec=policy["spec"],
                opts=in_ns,
            )
        alertmanager_secret = k8s.core.v1.Secret(
            f"{name}-alertmanager-config",
            metadata={"name": ALERTMANAGER_SECRET, "namespace": NAMESPACE, "labels": labels},
            string_data={
                "alertmanager.yaml": pulumi.Output.secret(
                    yaml.safe_dump(alertmanager_config(args.values.routing), sort_keys=False)
                )
            },
            opts=in_ns,
        )
        self.release = helm_release(
            f"{name}-release",
            release=RELEASE,
            chart=args.charts.prometheus_stack,
            mirror=args.values.mirror,
            namespace=NAMESPACE,
            values=prometheus_stack_values(args.values),
            timeout=900,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, alertmanager_secret]),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        self._rules(name, args, after)
        self._monitors(name, args, after)
        kube_state_metrics(
            name,
            NAMESPACE,
            args.values.images.kube_state_metrics.ref(args.values.mirror),
            labels,
            args.values.pull_secret,
            args.values.tolerations,
            in_ns,
        )
        if args.grafana_oidc is not None:
            self._grafana(name, args, args.grafana_oidc, in_ns)
        self.prometheus_url = PROMETHEUS_URL
        self.namespace = NAMESPACE
        self.register_outputs({"prometheusUrl": self.prometheus_url, "namespace": NAMESPACE})

    def _rules(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions) -> None:
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": "mlplatform-alerts",
                "namespace": NAMESPACE,
                "labels": args.values.labels,
            },
            spec={"groups": [dict(g) for g in args.rule_groups]},
            opts=opts,
        )

    def _monitors(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions) -> None:
        """A monitor per target, and in each target namespace the ingress Prometheus needs."""
        labels = args.values.labels
        for target in args.targets:
            body = target.monitor(NAMESPACE, labels)
            k8s.apiextensions.CustomResource(
                f"{name}-monitor-{target.name}",
                api_version=body["apiVersion"],
                kind=body["kind"],
                metadata=body["metadata"],
                spec=body["spec"],
                opts=opts,
            )
            for namespace in target.namespaces:
                metadata: Any = {
                    "name": f"allow-prometheus-{target.name}",
                    "namespace": namespace,
                    "labels": labels,
                }
                ingress: Any = target.ingress(namespace, NAMESPACE)
                k8s.networking.v1.NetworkPolicy(
                    f"{name}-np-{target.name}-{namespace}",
                    metadata=metadata,
                    spec=ingress,
                    opts=opts,
                )

    def _grafana(
        self,
        name: str,
        args: MonitoringStackArgs,
        oidc: GrafanaOidc,
        opts: pulumi.ResourceOptions,
    ) -> None:
        password = random.RandomPassword(
            f"{name}-grafana-admin-password", length=32, special=False, opts=opts
        )
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={
                "name": GRAFANA_ADMIN_SECRET,
                "namespace": NAMESPACE,
                "labels": args.values.labels,
            },
            string_data={"admin-user": "break-glass-admin", "admin-password": password.result},
            opts=opts,
        )
        dashboards = k8s.core.v1.ConfigMap(
            f"{name}-dashboards",
            metadata={
                "name": DASHBOARDS_CONFIGMAP,
                "namespace": NAMESPACE,
                "labels": args.values.labels,
            },
            data={f"{d.uid}.json": d.json() for d in args.dashboards},
            opts=opts,
        )
        helm_release(
            f"{name}-grafana",
            release=GRAFANA_RELEASE,
            chart=args.charts.grafana,
            mirror=args.values.mirror,
            namespace=NAMESPACE,
            values=grafana_values(args.values, oidc, args.grafana_replicas),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[dashboards, admin])
            ),
        )

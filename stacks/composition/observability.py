"""Observability, the same on every target: metrics, alerts and dashboards (`MonitoringStack`),
and container/audit log shipping where the platform ships them (`LogShipping`).

`build_observability(config, foundation, services, tenancy)` runs after the tenants (the
monitors open ingress in their namespaces) and declares, from `config.observability`:

| target | metrics | logs |
|---|---|---|
| on-prem | kube-prometheus-stack | Fluent Bit → `observability.siem` (TLS) + the audit log |
| AWS | the same | Fluent Bit → CloudWatch Logs in me-central-1 (the foundation's group) |
| Azure | the same | AKS Container Insights → the stack's Log Analytics workspace |

Why the in-cluster Prometheus rather than Amazon Managed Service for Prometheus or an Azure
Monitor workspace: one set of rules, routes and dashboards on every target (tested once with
promtool), data on the stack's CMK-encrypted volumes in the cluster's own region, no extra
service or endpoint to keep in-country; a site can still remote-write to a managed in-country
service later without changing the rules.
"""

from __future__ import annotations

import pulumi

from components import conventions as c
from components.observability.alerting import (
    AlertRoute,
    AlertRouting,
    EmailReceiver,
    WebhookReceiver,
)
from components.observability.dashboards import DASHBOARDS
from components.observability.logs import (
    CloudWatchOutput,
    LogShipping,
    LogShippingArgs,
    SyslogOutput,
)
from components.observability.monitors import platform_targets
from components.observability.rules import AlertThresholds, rule_groups
from components.observability.stack import MonitoringStack, MonitoringStackArgs
from components.observability.values import (
    GrafanaOidc,
    MonitoringValuesArgs,
    Retention,
    StackCharts,
)
from stacks import artifacts, governance
from stacks.composition.kafka import KAFKA_CLUSTER
from stacks.composition.results import PlatformServices
from stacks.config import StackConfig
from stacks.config.observability import Observability
from stacks.foundation import Foundation
from version_catalogue import CHARTS

RELAY_CA_DIR = "/etc/alertmanager/secrets"


def routing(obs: Observability) -> AlertRouting:
    receivers: list[WebhookReceiver | EmailReceiver] = []
    secrets: list[str] = []
    for r in obs.receivers:
        if r.webhook is not None:
            receivers.append(WebhookReceiver(r.name, r.webhook.url))
        elif r.email is not None:
            ca = r.email.ca_secret
            secrets += [ca] if ca else []
            receivers.append(
                EmailReceiver(
                    r.name,
                    tuple(r.email.to),
                    r.email.smarthost,
                    r.email.from_,
                    f"{RELAY_CA_DIR}/{ca}/ca.crt" if ca else None,
                )
            )
    routes = tuple(AlertRoute(r.receiver, dict(r.matchers), r.continue_) for r in obs.routes)
    return AlertRouting(tuple(receivers), routes, obs.default_receiver, tuple(secrets))


def thresholds(obs: Observability) -> AlertThresholds:
    return AlertThresholds(**obs.alerts.model_dump())


def _grafana_oidc(obs: Observability) -> GrafanaOidc | None:
    oidc = obs.grafana.oidc
    if oidc is None:
        return None
    return GrafanaOidc(
        issuer_url=oidc.issuer_url,
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        admin_group=oidc.admin_group,
        editor_group=oidc.editor_group,
        groups_claim=oidc.groups_claim,
        scopes=tuple(oidc.scopes),
    )


# AKS's system pool carries CriticalAddonsOnly=true:NoSchedule: the platform's pods tolerate it
CRITICAL_ADDONS_ONLY = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}


def platform_tolerations(foundation: Foundation) -> tuple[dict[str, str], ...]:
    """What the monitoring pods tolerate to run on the pool meant for platform services."""
    if foundation.platform_tolerations:
        return foundation.platform_tolerations
    return (CRITICAL_ADDONS_ONLY,) if foundation.platform == "azure" else ()


def monitoring_args(
    config: StackConfig, foundation: Foundation, services: PlatformServices
) -> MonitoringStackArgs:
    obs = config.observability
    values = MonitoringValuesArgs(
        mirror=config.image_registry,
        labels=governance.platform_labels(config),
        images=artifacts.monitoring_images(artifacts.pin_for(config)),
        storage_class=foundation.storage_class,
        retention=Retention(obs.retention_days, obs.storage_gi, obs.alertmanager_storage_gi),
        routing=routing(obs),
        cluster_issuer=services.core.cluster_issuer,
        pull_secret=config.registry.pull_secret,
        external_labels={"cluster": f"{config.environment}-{foundation.location}"},
        tolerations=platform_tolerations(foundation),
    )
    strimzi = (c.NS_KAFKA, KAFKA_CLUSTER) if foundation.kafka is None else None
    return MonitoringStackArgs(
        values=values,
        charts=StackCharts(CHARTS["kube-prometheus-stack"], CHARTS["grafana"]),
        rule_groups=tuple(rule_groups(thresholds(obs), obs.runbook_base_url)),
        dashboards=DASHBOARDS,
        targets=platform_targets(
            tuple(c.tenant_namespace(t.name) for t in config.tenants),
            strimzi,
            bool(foundation.gpu_pools),
        ),
        grafana_oidc=_grafana_oidc(obs),
        grafana_replicas=obs.grafana.replicas,
    )


def _log_output(
    config: StackConfig, foundation: Foundation
) -> SyslogOutput | CloudWatchOutput | None:
    siem = config.observability.siem
    if foundation.platform == "onprem" and siem is not None:
        ca = "/etc/fluent-bit/ca/ca.crt"
        return SyslogOutput(siem.host, siem.port, ca, siem.format)
    if foundation.platform == "aws" and foundation.log_shipping is not None:
        return CloudWatchOutput(foundation.location, foundation.log_shipping.log_group)
    return None


def build_observability(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    waits_for: list[pulumi.Resource],
) -> MonitoringStack:
    """The monitoring stack, and log shipping where this target ships with Fluent Bit."""
    opts = pulumi.ResourceOptions(
        provider=foundation.k8s_provider, depends_on=[*foundation.ready, *waits_for]
    )
    monitoring = MonitoringStack(
        "monitoring", monitoring_args(config, foundation, services), opts=opts
    )
    output = _log_output(config, foundation)
    if output is not None:
        siem = config.observability.siem
        LogShipping(
            "logs",
            LogShippingArgs(
                mirror=config.image_registry,
                labels=governance.platform_labels(config),
                chart=CHARTS["fluent-bit"],
                image=artifacts.image(config, "fluent-bit"),
                output=output,
                ca_configmap=services.core.ca_bundle,
                ca_secret=siem.ca_secret if siem is not None else None,
                ship_audit_log=foundation.platform == "onprem",
                pull_secret=config.registry.pull_secret,
            ),
            opts=opts,
        )
    return monitoring

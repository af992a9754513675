"""The monitoring stack: kube-prometheus-stack and Grafana rendered with their real charts, the
platform's rules, monitors validated against the prometheus-operator CRDs, scrape paths opened
in exactly the target namespaces, Grafana only behind the bank's IdP."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.observability.alerting import AlertRoute, AlertRouting, WebhookReceiver
from components.observability.dashboards import DASHBOARDS
from components.observability.monitors import platform_targets
from components.observability.rules import AlertThresholds, rule_groups
from components.observability.stack import MonitoringStack, MonitoringStackArgs
from components.observability.values import (
    GrafanaOidc,
    MonitoringImages,
    MonitoringValuesArgs,
    Retention,
    StackCharts,
)
from components.serving import predictor_dns_names
from infra.plan import policy_config
from infra.render import ChartCache, render_plan
from infra.render.cache import REFERENCE_CHARTS
from infra.render.evaluate import check_plan
from infra.render.images import images
from stacks.config.loader import stack_config
from tests.components.ml_fixtures import assert_hardened, by_kind, core_errors, plain_object
from tests.support.charts import requires_reference_charts
from tests.support.schemas import custom_resource_errors, require_crds
from version_catalogue import CHARTS, IMAGES

CONFIG, _ = stack_config("uae-onprem")
MIRROR = CONFIG.image_registry
LABELS = {
    "owner": "ml-platform-team",
    "data-classification": "confidential",
    "residency": "uae",
    "system": "mlplatform",
    "pii": "false",
    "cost-centre": "cc-1",
}
ROUTING = AlertRouting(
    (WebhookReceiver("oncall", "https://alerts.bank.ae/hook"),),
    (AlertRoute("oncall", {"namespace": "tenant-risk"}),),
    "oncall",
)
OIDC = GrafanaOidc("https://idp.bank.ae/realms/bank", "grafana", "grafana-oidc", "ml-admins")
TENANTS = ("tenant-risk", "tenant-marketing")


def _args(oidc: GrafanaOidc | None = OIDC) -> MonitoringStackArgs:
    images = MonitoringImages(
        operator=IMAGES["prometheus-operator"],
        prometheus=IMAGES["prometheus"],
        alertmanager=IMAGES["alertmanager"],
        config_reloader=IMAGES["prometheus-config-reloader"],
        thanos=IMAGES["thanos"],
        kube_state_metrics=IMAGES["kube-state-metrics"],
        grafana=IMAGES["grafana"],
    )
    values = MonitoringValuesArgs(
        mirror=MIRROR,
        labels=LABELS,
        images=images,
        storage_class="encrypted-ssd",
        retention=Retention(days=45, prometheus_gi=200, alertmanager_gi=5),
        routing=ROUTING,
        cluster_issuer="mlplatform-ca",
        pull_secret="harbor-pull",
    )
    return MonitoringStackArgs(
        values=values,
        charts=StackCharts(CHARTS["kube-prometheus-stack"], CHARTS["grafana"]),
        rule_groups=tuple(rule_groups(AlertThresholds(error_ratio=0.05), "docs/runbooks.md")),
        dashboards=DASHBOARDS,
        targets=platform_targets(TENANTS, ("kafka", "mlplatform"), True),
        grafana_oidc=oidc,
    )


def _synthesize(run_program, args: MonitoringStackArgs):
    def program() -> None:
        MonitoringStack(
            "monitoring",
            args,
            opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}")),
        )

    return run_program(program)


@pytest.fixture
def synthesis(run_program):
    return _synthesize(run_program, _args())


def _release(synthesis, name: str) -> dict:
    (release,) = [
        r for r in synthesis.resources if r.type.endswith("Release") and r.inputs["name"] == name
    ]
    return release.inputs


def test_storage_is_encrypted_and_retention_and_routes_come_from_the_args(synthesis) -> None:
    values = _release(synthesis, "kube-prometheus-stack")["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "45d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "encrypted-ssd"
    assert claim["resources"]["requests"]["storage"] == "200Gi"
    am = values["alertmanager"]
    assert (
        am["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"]
        == "encrypted-ssd"
    )
    assert am["alertmanagerSpec"]["configSecret"] == "alertmanager-mlplatform"
    secret = plain_object(by_kind(synthesis)[("Secret", "alertmanager-mlplatform")])
    config = yaml.safe_load(secret["stringData"]["alertmanager.yaml"])
    assert config["receivers"][0]["webhook_configs"][0]["url"] == "https://alerts.bank.ae/hook"
    assert config["route"]["routes"][1]["matchers"] == ['namespace="tenant-risk"']


def test_the_platform_rules_and_monitors_are_valid_prometheus_operator_resources(
    synthesis,
) -> None:
    require_crds()
    objects = by_kind(synthesis)
    rule = plain_object(objects[("PrometheusRule", "mlplatform-alerts")])
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) == 11
    assert "> 0.05" in next(a["expr"] for a in alerts if a["alert"] == "PredictorErrorRateHigh")
    custom = [plain_object(r) for (kind, _), r in objects.items() if kind.endswith("Monitor")]
    assert {o["metadata"]["name"] for o in custom} >= {
        "predictor", "tenant-workloads", "kueue", "cert-manager", "kafka-exporter", "dcgm-exporter"
    }  # fmt: skip
    errors = [e for o in [rule, *custom] for e in custom_resource_errors(o)]
    assert errors == []
    assert core_errors(objects) == []


def test_prometheus_scrapes_the_predictors_over_https_verified_with_the_platform_ca(
    synthesis,
) -> None:
    monitor = plain_object(by_kind(synthesis)[("PodMonitor", "predictor")])
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["scheme"] == "https"
    tls = endpoint["tlsConfig"]
    assert "insecureSkipVerify" not in tls
    assert tls["ca"] == {"configMap": {"name": "mlplatform-ca-bundle", "key": "ca.crt"}}
    # pods are scraped by address: the name checked is one every predictor certificate carries
    assert tls["serverName"] in predictor_dns_names("tenant-risk")


def test_prometheus_may_scrape_each_target_on_its_port_only(synthesis) -> None:
    policies = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["spec"]
        for r in synthesis.resources
        if r.type.endswith(":NetworkPolicy")
        and r.inputs["metadata"]["name"].startswith("allow-prometheus-")
    }
    for tenant in TENANTS:
        spec = policies[(tenant, "allow-prometheus-predictor")]
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
        peer = rule["from"][0]
        assert peer["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "mlplatform-monitoring"
        }
    assert ("kueue-system", "allow-prometheus-kueue") in policies
    assert not any(ns == "tenant-risk" and "kueue" in name for ns, name in policies)


def test_kube_state_metrics_is_hardened(synthesis) -> None:
    deployment = plain_object(by_kind(synthesis)[("Deployment", "kube-state-metrics")])
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"].startswith(f"{MIRROR}/")
    assert_hardened(pod)


def test_grafana_only_with_the_bank_s_idp(run_program) -> None:
    without = _synthesize(run_program, _args(oidc=None))
    assert not [r for r in without.resources if r.inputs.get("name") == "grafana"]
    values = _release(_synthesize(run_program, _args()), "grafana")["values"]
    ini = values["grafana.ini"]
    assert ini["auth"]["disable_login_form"] is True
    assert ini["auth.basic"]["enabled"] is False
    oauth = ini["auth.generic_oauth"]
    assert oauth["auth_url"] == "https://idp.bank.ae/realms/bank/protocol/openid-connect/auth"
    assert oauth["client_secret"].startswith("$__file{")  # never the secret itself
    assert "'ml-admins') && 'Admin'" in oauth["role_attribute_path"]


@requires_reference_charts
def test_both_releases_render_with_their_charts_and_pass_the_render_checks(synthesis) -> None:
    objects = render_plan(synthesis.resources, ChartCache.resolve(REFERENCE_CHARTS))
    assert sorted(r.spec.release for r in objects.releases) == [
        "grafana", "kube-prometheus-stack"
    ]  # fmt: skip
    assert [r.error for r in objects.releases] == [None, None]
    report = check_plan(objects, policy_config(CONFIG), "1.34")
    assert [f.message for f in report.mandatory] == []
    public = sorted({u.ref for u in images(objects.objects) if not u.ref.startswith(f"{MIRROR}/")})
    assert public == []
    kinds = {o.kind for o in objects.objects}
    assert {"Prometheus", "Alertmanager", "Deployment"} <= kinds
    rendered_rules = [o for o in objects.objects if o.kind == "PrometheusRule"]
    assert rendered_rules and all(
        yaml.safe_dump(o.body) for o in rendered_rules
    )  # the chart's default rules render too
    # Grafana reads its break-glass admin from files: no Secret value in any env (CKV_K8S_35)
    (grafana,) = [o for o in objects.objects if (o.kind, o.name) == ("Deployment", "grafana")]
    pod = grafana.body["spec"]["template"]["spec"]
    env = [e for c in pod["containers"] for e in c.get("env", [])]
    assert not [e["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {})]
    files = {e["name"]: e["value"] for e in env if e["name"].endswith("__FILE")}
    assert files == {
        "GF_SECURITY_ADMIN_USER__FILE": "/etc/grafana/admin/admin-user",
        "GF_SECURITY_ADMIN_PASSWORD__FILE": "/etc/grafana/admin/admin-password",
    }
    mounts = {v["name"]: v.get("secret", {}).get("secretName") for v in pod["volumes"]}
    assert mounts.get("admin") == "grafana-admin"

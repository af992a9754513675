"""Every variant's plan holds the monitoring stack, its rules and monitors (valid against the
prometheus-operator CRDs), and ships container logs to its in-country store; the config's
receivers and routes reach Alertmanager."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.observability.rules import AlertThresholds, alerts
from infra.synth import manifests
from infra.synth.recording import unwrap
from policies.rules.logging import config_sections
from stacks.composition.observability import routing, thresholds
from stacks.config.observability import Observability
from tests.support.schemas import custom_resource_errors, require_crds

VARIANTS = {
    "uae-onprem": ("uae-onprem",),
    "uae-cloud": ("uae-cloud",),
    "uae-cloud-azure": ("uae-cloud-azure",),
}
ALERTS = {a.name for a in alerts(AlertThresholds())}


def _objects(plan) -> list[dict[str, Any]]:
    return [
        manifests.to_object(r)
        for r in plan.synthesis.resources
        if manifests.is_kubernetes_object(r)
    ]


def _release(plan, name: str) -> dict[str, Any] | None:
    found = [
        unwrap(r.inputs)
        for r in plan.synthesis.resources
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("name") == name
    ]
    return found[0] if found else None


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_holds_the_monitoring_stack_rules_and_monitors(stack_plan, variant):
    require_crds()
    plan = stack_plan(*VARIANTS[variant])
    release = _release(plan, "kube-prometheus-stack")
    assert release is not None and release["namespace"] == "mlplatform-monitoring"
    spec = release["values"]["prometheus"]["prometheusSpec"]
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"]
    objects = _objects(plan)
    (rule,) = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert {
        r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r
    } == ALERTS
    monitors = [o for o in objects if o["kind"] in ("PodMonitor", "ServiceMonitor")]
    assert {m["metadata"]["name"] for m in monitors} >= {"predictor", "tenant-workloads", "kueue"}
    assert [e for o in [rule, *monitors] for e in custom_resource_errors(o)] == []


def test_on_prem_ships_container_and_audit_logs_to_the_site_siem(stack_plan):
    plan = stack_plan("uae-onprem")
    release = _release(plan, "fluent-bit")
    assert release is not None
    ((_, output),) = config_sections(release["values"]["config"]["outputs"])
    assert (output["name"], output["host"], output["tls.verify"]) == (
        "syslog",
        "siem.dc1.example.ae",
        "On",
    )
    audit = [
        o
        for o in _objects(plan)
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "kube-apiserver-audit-policy"
    ]
    assert yaml.safe_load(audit[0]["data"]["audit-policy.yaml"])["kind"] == "Policy"


def test_aws_ships_container_logs_to_its_cmk_encrypted_log_group(stack_plan):
    plan = stack_plan("uae-cloud")
    release = _release(plan, "fluent-bit")
    ((_, output),) = config_sections(release["values"]["config"]["outputs"])
    assert (output["name"], output["region"]) == ("cloudwatch_logs", "me-central-1")
    (group,) = [
        unwrap(r.inputs)
        for r in plan.synthesis.resources
        if r.type == "aws:cloudwatch/logGroup:LogGroup"
        and unwrap(r.inputs).get("name") == output["log_group_name"]
    ]
    assert group["kmsKeyId"] and group["retentionInDays"] >= 400


def test_azure_ships_container_logs_with_container_insights(stack_plan):
    plan = stack_plan("uae-cloud-azure")
    assert _release(plan, "fluent-bit") is None
    (cluster,) = [
        unwrap(r.inputs)
        for r in plan.synthesis.resources
        if r.type == "azure-native:containerservice:ManagedCluster"
    ]
    assert cluster["addonProfiles"]["omsagent"]["enabled"] is True


def test_the_stack_s_receivers_and_routes_reach_alertmanager(stack_plan):
    plan = stack_plan("uae-onprem")
    (secret,) = [
        o
        for o in _objects(plan)
        if o["kind"] == "Secret" and o["metadata"]["name"] == "alertmanager-mlplatform"
    ]
    assert secret["stringData"] or secret.get("data")


def test_config_becomes_routing_and_thresholds() -> None:
    obs = Observability.model_validate(
        {
            "inCountryDomains": ["bank.ae"],
            "receivers": [
                {"name": "oncall", "webhook": {"url": "https://alerts.bank.ae/x"}},
                {
                    "name": "risk",
                    "email": {
                        "to": ["a@bank.ae"],
                        "smarthost": "smtp.bank.ae:587",
                        "from": "m@bank.ae",
                        "caSecret": "smtp-ca",
                    },
                },
            ],
            "routes": [{"receiver": "risk", "matchers": {"namespace": "tenant-risk"}}],
            "defaultReceiver": "oncall",
            "alerts": {"errorRatio": 0.1},
        }
    )
    got = routing(obs)
    assert got.default == "oncall" and got.secrets == ("smtp-ca",)
    assert got.receivers[1].ca_file == "/etc/alertmanager/secrets/smtp-ca/ca.crt"
    assert got.routes[0].matchers == {"namespace": "tenant-risk"}
    assert thresholds(obs).error_ratio == 0.1

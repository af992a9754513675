"""Log shipping: Fluent Bit from its chart to the in-country store, the audit Policy for the
site's API server, nothing dropped on an outage, the pods as locked down as hostPath allows."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.observability.logs import (
    AUDIT_LOG,
    AUDIT_POLICY_LABEL,
    CloudWatchOutput,
    LogShipping,
    LogShippingArgs,
    SyslogOutput,
    audit_policy,
    fluent_bit_values,
)
from infra.render.cache import REFERENCE_CHARTS
from policies.rules.logging import config_sections
from tests.support.charts import requires_reference_charts
from version_catalogue import CHARTS, IMAGES

MIRROR = "harbor.dc1.bank.ae/mlplatform"
LABELS = {"owner": "ml-platform-team", "residency": "uae"}
SIEM = SyslogOutput("siem.dc1.bank.ae", 6514, "/etc/fluent-bit/ca/ca.crt")


def _args(output=SIEM, audit: bool = True) -> LogShippingArgs:
    return LogShippingArgs(
        mirror=MIRROR,
        labels=LABELS,
        chart=CHARTS["fluent-bit"],
        image=IMAGES["fluent-bit"],
        output=output,
        ca_configmap="mlplatform-ca-bundle",
        ship_audit_log=audit,
    )


def _sections(values: dict, part: str) -> list[tuple[str, dict[str, str]]]:
    return config_sections(values["config"][part])


def test_on_prem_ships_containers_and_the_audit_log_to_the_siem_over_verified_tls() -> None:
    values = fluent_bit_values(_args())
    paths = [body["path"] for kind, body in _sections(values, "inputs") if kind == "INPUT"]
    assert paths == ["/var/log/containers/*.log", AUDIT_LOG]
    ((_, output),) = _sections(values, "outputs")
    assert output["name"] == "syslog" and output["host"] == "siem.dc1.bank.ae"
    assert (output["tls"], output["tls.verify"]) == ("On", "On")
    assert output["retry_limit"] == "no_limits"  # an outage delays, never drops
    assert all(
        body.get("storage.type") == "filesystem"
        for kind, body in _sections(values, "inputs")
        if kind == "INPUT"
    )


def test_aws_ships_to_cloudwatch_in_me_central_1() -> None:
    values = fluent_bit_values(_args(CloudWatchOutput("me-central-1", "/mlplatform/prod/c"), False))
    ((_, output),) = _sections(values, "outputs")
    assert output["name"] == "cloudwatch_logs" and output["region"] == "me-central-1"
    assert output["auto_create_group"] == "Off"  # the stack's CMK-encrypted group, not a new one
    assert len(_sections(values, "inputs")) == 1  # EKS exports the audit log itself


def test_the_audit_policy_never_records_secret_contents() -> None:
    policy = audit_policy()
    assert policy["apiVersion"] == "audit.k8s.io/v1"
    secret_rules = [
        r
        for r in policy["rules"]
        if any("secrets" in res.get("resources", []) for res in r.get("resources", []))
    ]
    assert secret_rules and all(r["level"] == "Metadata" for r in secret_rules)
    assert policy["rules"].index(secret_rules[0]) < next(
        i for i, r in enumerate(policy["rules"]) if r["level"] in ("Request", "RequestResponse")
    )


def test_the_container_is_read_only_without_capabilities() -> None:
    ctx = fluent_bit_values(_args())["securityContext"]
    assert ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"]
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["name"]: m for m in fluent_bit_values(_args())["daemonSetVolumeMounts"]}
    assert mounts["varlog"]["readOnly"] is True


@pytest.fixture
def synthesis(run_program):
    def program() -> None:
        LogShipping(
            "logs",
            _args(),
            opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}")),
        )

    return run_program(program)


def test_the_component_publishes_the_audit_policy_for_the_site(synthesis) -> None:
    (cm,) = [r for r in synthesis.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    assert cm.inputs["metadata"]["labels"][AUDIT_POLICY_LABEL] == "true"
    assert yaml.safe_load(cm.inputs["data"]["audit-policy.yaml"]) == audit_policy()
    assert (
        "--audit-policy-file="
        in cm.inputs["metadata"]["annotations"]["mlplatform.io/api-server-flags"]
    )


@requires_reference_charts
def test_fluent_bit_renders_from_its_chart_with_the_mirror_image() -> None:
    import helm_python

    chart = helm_python.Chart.load(str(REFERENCE_CHARTS / "fluent-bit"))
    try:
        out = chart.render(
            fluent_bit_values(_args()), name="fluent-bit", namespace="x", is_install=True
        )
    finally:
        chart.close()
    docs = [
        d
        for path, text in out.items()
        if not path.endswith("NOTES.txt")
        for d in yaml.safe_load_all(text)
        if d
    ]
    (daemonset,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (container,) = daemonset["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{MIRROR}/fluent/fluent-bit:5.1.1"
    # the token the kubernetes filter uses is declared, with its reason (UAE-IAM-002)
    annotations = daemonset["spec"]["template"]["metadata"]["annotations"]
    assert "pod names" in annotations["mlplatform.io/service-account-token"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert "Name syslog" in config["data"]["fluent-bit.conf"]

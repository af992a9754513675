"""Offline evaluation: the Report's shape and ordering, config files, exemptions, fail-closed."""

from __future__ import annotations

import json
from pathlib import Path

from policy_fixtures import aws, check, k8s, provider

from policies.config_file import policy_config_file
from policies.core import Policy, Severity, types
from policies.evaluate import evaluate, load_config
from policies.pack_config import (
    AWS_REGIONS,
    AZURE_LOCATIONS,
    DEFAULT_REGIONS,
    Exemption,
    PackConfig,
)
from policies.registry import ALL_POLICIES, CATALOGUE_ORDER
from stacks.config import residency


def stack() -> list[dict]:
    unprotected_key = aws("aws:kms/key:Key", "data", {"enableKeyRotation": False})
    ns = k8s("kubernetes:core/v1:Namespace", "gpu-operator", None)
    ns["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    return [provider("aws"), unprotected_key, ns]


def test_defaults_equal_the_program_residency_lists() -> None:
    assert AWS_REGIONS == residency.AWS_REGIONS
    assert AZURE_LOCATIONS == residency.AZURE_LOCATIONS
    assert (
        PackConfig().allowed_regions
        == DEFAULT_REGIONS
        == ("me-central-1", "uaenorth", "uaecentral")
    )
    assert PackConfig().restricted_data_classes == ("restricted",)


def test_report_is_json_serialisable_in_catalogue_order_with_statuses() -> None:
    report = evaluate(stack())
    ids = [r.id for r in report.results]
    assert ids == [i for i in CATALOGUE_ORDER if i in ids] and len(ids) == len(ALL_POLICIES)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False and data["summary"]["mandatoryViolations"] == len(
        report.mandatory
    )
    rotation = report.result("UAE-KEY-002")
    assert rotation.status == "fail" and rotation.examined == [stack()[1]["urn"]]
    [finding] = rotation.findings
    assert (
        finding.urn == stack()[1]["urn"]
        and finding.severity == "high"
        and finding.enforcement == "mandatory"
    )
    assert finding.resource_type == "aws:kms/key:Key" and finding.resource_name == "data"
    assert report.result("UAE-NET-003").status == "not-applicable"
    assert report.result("UAE-KEY-003").status == "pass"
    assert data["notInPack"]["UAE-DKR-001"].startswith("Dockerfile")
    # stable: the same input gives the same document
    assert json.dumps(evaluate(stack()).to_dict()) == json.dumps(report.to_dict())


def test_exemptions_are_reported_and_unused_ones_listed() -> None:
    unused = Exemption("UAE-NET-003", "bastion", "temporary bastion until the VPN is in place")
    config = PackConfig(exemptions=(*PackConfig().exemptions, unused))
    report = evaluate(stack(), config)
    pss = report.result("UAE-K8S-001")
    assert pss.status == "pass" and pss.exemptions[0].match == "gpu-operator"
    assert report.to_dict()["summary"]["exemptionsApplied"] == 1
    assert report.unused_exemptions == [
        {
            "policy": "UAE-NET-003",
            "match": "bastion",
            "reason": "temporary bastion until the VPN is in place",
        }
    ]


def test_a_rule_that_raises_fails_closed() -> None:
    def broken(r, cfg):
        raise KeyError("oops")

    policy = Policy(
        id="UAE-CHG-001",
        name="broken",
        description="d",
        severity=Severity.HIGH,
        iso_controls=("8.32",),
        uae_refs=(),
        remediation="fix the rule",
        domain="change",
        applies=types("aws:kms/key:Key"),
        check=broken,
    )
    report = evaluate(stack(), policies=[policy])
    [finding] = report.findings
    assert "failed to evaluate" in finding.message and "KeyError" in finding.message
    assert not report.passed


def test_config_file_round_trips_and_honours_enforcement_levels(tmp_path: Path) -> None:
    config = PackConfig(
        log_retention_days=400, allowed_registries=("harbor.dc1.example.ae/mlplatform",)
    )
    document = policy_config_file(config)
    assert document["UAE-LOG-003"] == {"log_retention_days": 400, "exemptions": []}
    assert document["UAE-K8S-001"]["exemptions"][0]["match"] == "gpu-operator"
    assert "UAE-KEY-001-stack" in document and "UAE-LOG-004" in document
    document["UAE-KEY-002"] = {**document.get("UAE-KEY-002", {}), "enforcementLevel": "advisory"}
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(document))
    loaded, levels = load_config(path)
    assert (
        loaded.log_retention_days == 400 and loaded.allowed_registries == config.allowed_registries
    )
    assert loaded.exemptions == config.exemptions
    assert levels == {"UAE-KEY-002": "advisory"}
    report = evaluate(stack(), loaded, levels)
    assert report.result("UAE-KEY-002").enforcement == "advisory"
    assert all(f.policy_id != "UAE-KEY-002" for f in report.mandatory)


def test_flat_config_file(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps({"allowed_regions": ["me-central-1"], "exemptions": []}))
    loaded, levels = load_config(path)
    assert loaded.allowed_regions == ("me-central-1",) and loaded.exemptions == () and levels == {}
    assert (
        check(
            "UAE-RES-001", aws("aws:s3/bucket:Bucket", "b", {"region": "uaenorth"}), config=loaded
        ).status
        == "fail"
    )


def test_readme_lists_every_policy() -> None:
    readme = (Path(__file__).resolve().parents[2] / "policies" / "README.md").read_text()
    for policy_id in CATALOGUE_ORDER:
        assert f"| {policy_id} |" in readme, policy_id
